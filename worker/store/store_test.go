package store

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

func TestOpenMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "colony.db")
	_, err := Open(context.Background(), path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("Open(missing) error %q does not name the path", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) created the file")
	}
}

func TestOpenForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	want := []byte(strings.Repeat("not a database\n", 100))
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open(text file) = %v, want an error naming the path", err)
	}
	if got := readFile(t, path); string(got) != string(want) {
		t.Errorf("Open(text file) changed the file")
	}
	if diff := cmp.Diff([]string{"notes.txt"}, files(t, filepath.Dir(path))); diff != "" {
		t.Errorf("files after Open(text file) (-want +got):\n%s", diff)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	nan := testMachine()
	nan.MaxLoadAverageAllowed = math.NaN() // SQLite stores NaN as NULL
	boom := errors.New("boom")
	failAt := func(stage string) Option {
		return withHook(func(s string) error {
			if s == stage {
				return boom
			}
			return nil
		})
	}
	broken := func(t *testing.T) Option {
		return withMigrations(append(append([]migration(nil), builtin(t)...), migration{name: "0003_broken.sql", sql: "SELEC 1;"}))
	}

	tests := []struct {
		name    string
		sub     string // path of the database below the temp dir
		machine Machine
		opt     func(t *testing.T) Option
		wantErr string
	}{
		{"machine violates NOT NULL", "colony.db", nan, nil, "NOT NULL constraint failed: machine.max_load_average_allowed"},
		{"machine id is not 1", "colony.db", Machine{ID: 2}, nil, "machine id is 2"},
		{"broken migration", "colony.db", testMachine(), broken, "0003_broken.sql"},
		{"hook while building", "colony.db", testMachine(), func(*testing.T) Option { return failAt("build") }, "boom"},
		{"hook before linking", "colony.db", testMachine(), func(*testing.T) Option { return failAt("link") }, "boom"},
		{"hook before reopening", "colony.db", testMachine(), func(*testing.T) Option { return failAt("open") }, "boom"},
		{"made parents are removed", "a/b/colony.db", testMachine(), func(*testing.T) Option { return failAt("open") }, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			var opts []Option
			if tt.opt != nil {
				opts = append(opts, tt.opt(t))
			}
			s, err := Create(context.Background(), filepath.Join(root, tt.sub), tt.machine, opts...)
			if err == nil {
				s.Close()
				t.Fatal("Create succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Create error = %q, want it to contain %q", err, tt.wantErr)
			}
			if left := files(t, root); len(left) != 0 {
				t.Errorf("Create left %v behind", left)
			}
		})
	}
}

func TestCreateUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write to any directory")
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(root, 0o755) })
	for _, sub := range []string{"colony.db", "sub/colony.db"} {
		if _, err := Create(context.Background(), filepath.Join(root, sub), testMachine()); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Create(%s in a read-only dir) = %v, want fs.ErrPermission", sub, err)
		}
		if left := files(t, root); len(left) != 0 {
			t.Errorf("Create left %v behind", left)
		}
	}
}

func TestCreateRefusesExistingPath(t *testing.T) {
	tests := []struct {
		name string
		race bool // the file appears between the check and the link
	}{{"exists before", false}, {"appears while building", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "colony.db")
			var opts []Option
			if tt.race {
				opts = append(opts, withHook(func(stage string) error {
					if stage == "link" {
						return os.WriteFile(path, []byte("theirs"), 0o644)
					}
					return nil
				}))
			} else if err := os.WriteFile(path, []byte("theirs"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Create(context.Background(), path, testMachine(), opts...)
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("Create(existing) = %v, want fs.ErrExist", err)
			}
			if got := string(readFile(t, path)); got != "theirs" {
				t.Errorf("existing file now holds %q", got)
			}
			if diff := cmp.Diff([]string{"colony.db"}, files(t, root)); diff != "" {
				t.Errorf("files after refusing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateMakesParents(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "colony.db")
	s, err := Create(context.Background(), path, testMachine())
	if err != nil {
		t.Fatal(err)
	}
	if got := rows(t, s, "PRAGMA journal_mode;")[0][0]; got != "wal" {
		t.Errorf("journal_mode after Create = %s, want wal", got)
	}
	s.Close()
	fi, err := os.Stat(filepath.Join(root, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o755 != 0 {
		t.Errorf("parent mode = %v, want at most 0755", perm)
	}
	if diff := cmp.Diff([]string{"a", "a/b", "a/b/colony.db"}, files(t, root)); diff != "" {
		t.Errorf("files after Create (-want +got):\n%s", diff)
	}
}

func TestMachineRoundTrip(t *testing.T) {
	ctx := context.Background()
	want := testMachine()
	requireAllSet(t, want)
	s := newStore(t)
	got, err := s.Machine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Machine() after Create (-want +got):\n%s", diff)
	}

	// Every column changes, including NULL and false.
	changed := Machine{ID: 1, NodeStorage: "/srv", RewardsAddress: "0xabc", DonateAddress: "0xdef",
		Host: "10.0.0.1", NodeRemovalStrategy: "youngest", SurveyTimeoutMS: 500}
	if err := s.Write(ctx, func(w *Writer) error { return w.UpdateMachine(changed) }); err != nil {
		t.Fatal(err)
	}
	got, err = s.Machine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(changed, got); diff != "" {
		t.Errorf("Machine() after UpdateMachine (-want +got):\n%s", diff)
	}
}

func TestNodeRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	// Node.ContainerID is a foreign key; the store has no container API.
	rows(t, s, "INSERT INTO container (id, machine_id, container_id, name, image, status, created_at) VALUES (7, 1, 'c7', 'antnode0007', 'img', 'running', 1);")

	full := testNode(3)
	requireAllSet(t, full)
	bare := Node{ID: 1, Status: StatusStopped} // zero MachineID is written as 1
	if err := s.Write(ctx, func(w *Writer) error {
		if err := w.InsertNode(full); err != nil {
			return err
		}
		return w.InsertNode(bare)
	}); err != nil {
		t.Fatal(err)
	}
	bare.MachineID = 1

	got, err := s.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Node{bare, full}, got); diff != "" {
		t.Errorf("Nodes() (-want +got):\n%s", diff)
	}
	one, err := s.Node(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full, one); diff != "" {
		t.Errorf("Node(3) (-want +got):\n%s", diff)
	}

	upd := full
	upd.ContainerID = nil
	upd.Status = StatusRemoving
	upd.Records = 99
	upd.WNMIntent = ""
	if err := s.Write(ctx, func(w *Writer) error { return w.UpdateNode(upd) }); err != nil {
		t.Fatal(err)
	}
	if one, _ = s.Node(ctx, 3); !cmp.Equal(upd, one) {
		t.Errorf("Node(3) after UpdateNode = %+v, want %+v", one, upd)
	}
}

func TestNodeErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.Write(ctx, func(w *Writer) error { return w.InsertNode(Node{ID: 1, Status: StatusRunning}) }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		fn      func(w *Writer) error
		wantIs  error
		wantErr string
	}{
		{"update missing", func(w *Writer) error { return w.UpdateNode(Node{ID: 9, Status: StatusRunning}) }, ErrNoNode, "update node 9"},
		{"delete missing", func(w *Writer) error { return w.DeleteNode(9) }, ErrNoNode, "delete node 9"},
		{"insert duplicate", func(w *Writer) error { return w.InsertNode(Node{ID: 1, Status: StatusRunning}) }, nil, "UNIQUE constraint failed: node.id"},
		{"insert id 0", func(w *Writer) error { return w.InsertNode(Node{Status: StatusRunning}) }, nil, "node id must be positive"},
		{"unknown status", func(w *Writer) error { return w.InsertNode(Node{ID: 2, Status: "running"}) }, nil, `unknown status "running"`},
		{"missing container", func(w *Writer) error { return w.InsertNode(Node{ID: 2, Status: StatusRunning, ContainerID: intPtr(5)}) }, nil, "FOREIGN KEY constraint failed"},
		{"update to a missing machine", func(w *Writer) error { return w.UpdateNode(Node{ID: 1, MachineID: 3, Status: StatusRunning}) }, nil, "FOREIGN KEY constraint failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Write(ctx, tt.fn)
			if err == nil {
				t.Fatal("Write succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
	// A failed UpdateNode changes nothing even when fn goes on and commits.
	if err := s.Write(ctx, func(w *Writer) error {
		if err := w.UpdateNode(Node{ID: 1, Status: StatusDead, ContainerID: intPtr(5)}); err == nil {
			t.Error("UpdateNode to a missing container succeeded")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Node(ctx, 1); err != nil || n.Status != StatusRunning || n.ContainerID != nil {
		t.Errorf("Node(1) after a failed UpdateNode = %+v, %v; want it unchanged", n, err)
	}
	if _, err := s.Node(ctx, 9); !errors.Is(err, ErrNoNode) {
		t.Errorf("Node(9) = %v, want ErrNoNode", err)
	}
	if err := s.Write(ctx, func(w *Writer) error { return w.DeleteNode(1) }); err != nil {
		t.Errorf("DeleteNode(1) = %v", err)
	}
	if nodes, _ := s.Nodes(ctx); len(nodes) != 0 {
		t.Errorf("Nodes() after delete = %v, want none", nodes)
	}
}

func TestMachineMissing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "colony.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Machine(ctx); !errors.Is(err, ErrNoMachine) {
		t.Errorf("Machine() = %v, want ErrNoMachine", err)
	}
	if err := s.Write(ctx, func(w *Writer) error { return w.UpdateMachine(testMachine()) }); !errors.Is(err, ErrNoMachine) {
		t.Errorf("UpdateMachine() = %v, want ErrNoMachine", err)
	}
}

// snapshot is everything a Write can change.
type snapshot struct {
	Machine Machine
	Nodes   []Node
	State   []byte
	Cycles  []Cycle
}

func takeSnapshot(t *testing.T, s *Store) snapshot {
	t.Helper()
	ctx := context.Background()
	var snap snapshot
	var err error
	if snap.Machine, err = s.Machine(ctx); err != nil {
		t.Fatal(err)
	}
	if snap.Nodes, err = s.Nodes(ctx); err != nil {
		t.Fatal(err)
	}
	if snap.State, _, err = s.State(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if snap.Cycles, err = s.Cycles(ctx, 0); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestWriteRollsBack(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	tests := []struct {
		name  string
		fail  func() error
		panic bool
	}{
		{"error", func() error { return boom }, false},
		{"panic", func() error { panic(boom) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if err := s.Write(ctx, func(w *Writer) error {
				if err := w.InsertNode(Node{ID: 1, Status: StatusRunning}); err != nil {
					return err
				}
				if err := w.SetState("k", []byte("v1")); err != nil {
					return err
				}
				_, err := w.RecordCycle(Cycle{StartedAt: 1})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			before := takeSnapshot(t, s)

			var kept *Writer
			var err error
			func() {
				defer func() {
					if p := recover(); (p != nil) != tt.panic {
						t.Errorf("recovered %v, want a panic: %v", p, tt.panic)
					}
				}()
				err = s.Write(ctx, func(w *Writer) error {
					kept = w
					m := testMachine()
					m.NodeCap = 99
					n := testNode(2)
					n.ContainerID = nil
					for _, step := range []func() error{
						func() error { return w.UpdateMachine(m) },
						func() error { return w.InsertNode(n) },
						func() error { return w.UpdateNode(Node{ID: 1, Status: StatusDead}) },
						func() error { return w.SetState("k", []byte("v2")) },
						func() error { _, err := w.RecordCycle(Cycle{StartedAt: 2}); return err },
						func() error { return w.DeleteNode(2) },
					} {
						if err := step(); err != nil {
							t.Errorf("step failed: %v", err)
						}
					}
					return tt.fail()
				})
			}()
			if !tt.panic && !errors.Is(err, boom) {
				t.Errorf("Write() = %v, want fn's error", err)
			}
			if diff := cmp.Diff(before, takeSnapshot(t, s)); diff != "" {
				t.Errorf("state changed despite the rollback (-before +after):\n%s", diff)
			}
			if err := kept.SetState("k", nil); !errors.Is(err, errWriterDone) {
				t.Errorf("Writer used after Write = %v, want errWriterDone", err)
			}
			// The store is still usable (its lock was released).
			if err := s.SetState(ctx, "k", []byte("v3")); err != nil {
				t.Errorf("SetState after the rollback: %v", err)
			}
		})
	}
}

func TestState(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, ok, err := s.State(ctx, "missing"); ok || err != nil {
		t.Errorf("State(missing) = _, %v, %v; want false, nil", ok, err)
	}
	tests := []struct {
		key   string
		value []byte
	}{
		{"counters", []byte{0, 1, 2, 0xff}},
		{"counters", []byte("replaced")},
		{"empty", nil},
	}
	for _, tt := range tests {
		if err := s.SetState(ctx, tt.key, tt.value); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.State(ctx, tt.key)
		if err != nil || !ok {
			t.Fatalf("State(%q) = _, %v, %v", tt.key, ok, err)
		}
		if string(got) != string(tt.value) {
			t.Errorf("State(%q) = %q, want %q", tt.key, got, tt.value)
		}
	}
}

func TestClosed(t *testing.T) {
	s := newStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if _, err := s.Nodes(context.Background()); !errors.Is(err, errClosed) {
		t.Errorf("Nodes() after Close = %v, want errClosed", err)
	}
}

func TestCanceledContext(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, func(*Writer) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Write(canceled) = %v, want context.Canceled", err)
	}
}

// TestTwoStoresShareTheFile checks that a second connection waits for the
// first one's write lock (busy_timeout) instead of failing with SQLITE_BUSY.
func TestTwoStoresShareTheFile(t *testing.T) {
	ctx := context.Background()
	a := newStore(t)
	b, err := Open(ctx, a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	holding, release := make(chan struct{}), make(chan struct{})
	errA := make(chan error, 1)
	go func() {
		errA <- a.Write(ctx, func(w *Writer) error {
			close(holding)
			<-release
			return w.SetState("a", []byte("1"))
		})
	}()
	<-holding
	errB := make(chan error, 1)
	go func() { errB <- b.SetState(ctx, "b", []byte("2")) }()
	close(release)
	if err := <-errA; err != nil {
		t.Errorf("first writer: %v", err)
	}
	if err := <-errB; err != nil {
		t.Errorf("second writer: %v", err)
	}
	for _, key := range []string{"a", "b"} {
		if _, ok, err := a.State(ctx, key); !ok || err != nil {
			t.Errorf("State(%q) = %v, %v; want it stored", key, ok, err)
		}
	}
}

// checkpoint truncates the WAL (used by the benchmark to measure growth).
func checkpoint(tb testing.TB, s *Store) {
	tb.Helper()
	err := s.do(context.Background(), func(conn *sqlite.Conn) error {
		return sqlitex.ExecuteTransient(conn, "PRAGMA wal_checkpoint(TRUNCATE);", nil)
	})
	if err != nil {
		tb.Fatal(err)
	}
}
