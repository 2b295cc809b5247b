package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"github.com/wnm-project/wnm/testenv/upstreamdb"
)

// rawValues reads every column of every row of table on a fresh connection,
// as quote(value) || typeof(value), by "row id/column": the stored value and
// its storage class, so a change of type (a big number held as text becoming
// a real, NULL becoming ”) shows.
func rawValues(t *testing.T, path, table string) map[string]string {
	t.Helper()
	conn, err := openReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var cols []string
	err = sqlitex.ExecuteTransient(conn, "SELECT name FROM pragma_table_info('"+table+"');", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { cols = append(cols, s.ColumnText(0)); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cols {
		q := fmt.Sprintf("SELECT rowid, quote(%q) || ' ' || typeof(%q) FROM %s;", c, c, table)
		err := sqlitex.ExecuteTransient(conn, q, &sqlitex.ExecOptions{
			ResultFunc: func(s *sqlite.Stmt) error {
				out[fmt.Sprintf("%d/%s", s.ColumnInt64(0), c)] = s.ColumnText(1)
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// dumpDB renders a database's schema and every row of every table, values
// with their storage class.
func dumpDB(t *testing.T, path string) string {
	t.Helper()
	conn, err := openReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	var tables []string
	err = sqlitex.ExecuteTransient(conn, "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY name;", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error {
			fmt.Fprintf(&b, "%s %s: %s\n", s.ColumnText(0), s.ColumnText(1), s.ColumnText(2))
			if s.ColumnText(0) == "table" {
				tables = append(tables, s.ColumnText(1))
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		fmt.Fprintf(&b, "-- %s\n", tb)
		for k, v := range rawValuesSorted(t, path, tb) {
			fmt.Fprintf(&b, "%s = %s\n", k, v)
		}
	}
	return b.String()
}

func rawValuesSorted(t *testing.T, path, table string) iter.Seq2[string, string] {
	m := rawValues(t, path, table)
	return func(yield func(string, string) bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

type revCase struct {
	name string
	rev  string
	opts upstreamdb.Options
	wal  bool
}

func revCases() []revCase {
	var cases []revCase
	for _, rev := range upstreamdb.Revisions {
		cases = append(cases, revCase{"created-" + rev, rev, upstreamdb.Options{}, false})
		cases = append(cases, revCase{"migrated-" + rev, rev, upstreamdb.Options{Migrated: true}, false})
	}
	return append(cases,
		revCase{"unversioned-baseline", upstreamdb.Revisions[0], upstreamdb.Options{Unversioned: true, NoAntctlDebug: true}, false},
		revCase{"migrated-head-without-antctl_debug", upstreamdb.Head, upstreamdb.Options{Migrated: true, NoAntctlDebug: true}, false},
		revCase{"baseline-without-connected_peers", upstreamdb.Revisions[0], upstreamdb.Options{Drop: []string{"node.connected_peers"}}, false},
		revCase{"wal-mode-" + upstreamdb.Revisions[3], upstreamdb.Revisions[3], upstreamdb.Options{Migrated: true}, true},
	)
}

// upstreamDefaults are the values an adopted database has in a column its
// revision lacked.
var upstreamDefaults = map[string]string{
	"machine.no_upnp": "1 integer", "machine.rpc_port_start": "30 integer",
	"machine.antnode_path": "'~/.local/bin/antnode' text", "machine.delay_restart": "600 integer",
	"machine.survey_delay": "0 integer", "machine.max_concurrent_operations": "1 integer",
	"machine.action_delay": "0 integer", "machine.antctl_path": "'~/.local/bin/antctl' text",
	"machine.antctl_version": "NULL null", "machine.highest_node_id_used": "3 integer",
	"machine.antctl_debug": "0 integer", "node.rpc_port": "0 integer", "node.log_dir": "NULL null",
	"node.rewards": "'0' text", "node.connected_peers": "0 integer",
	"machine.wnm_boot_time": "0 integer", "machine.survey_timeout_ms": "2000 integer",
	"machine.survey_concurrency": "32 integer", "node.wnm_intent": "'' text", "node.wnm_intent_at": "0 integer",
	"node.wnm_no_upnp": "NULL null",
}

func defaultFor(table, col string) (string, bool) {
	v, ok := upstreamDefaults[table+"."+col]
	if !ok && table == "node" {
		switch col {
		case "gets", "puts", "mem", "cpu", "open_connections", "total_peers", "bad_peers", "rel_records",
			"max_records", "payment_count", "live_time", "network_size":
			return "0 integer", true
		}
	}
	return v, ok
}

// TestAdoptEveryRevision adopts a wnm-python database of every revision and
// layout: each stored value keeps its value and storage class, each added
// column holds upstream's default, the stamp is the head, a backup identical
// to the original lies beside it, the adoption is logged with both revisions,
// and a read-only open of the original reads the same rows.
func TestAdoptEveryRevision(t *testing.T) {
	ctx := context.Background()
	for _, tc := range revCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "colony.db")
			if err := upstreamdb.Build(path, tc.rev, tc.opts); err != nil {
				t.Fatal(err)
			}
			if tc.wal {
				conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite)
				if err != nil {
					t.Fatal(err)
				}
				if err := sqlitex.ExecuteTransient(conn, "PRAGMA journal_mode = WAL;", nil); err != nil {
					t.Fatal(err)
				}
				conn.Close()
			}
			original := dumpDB(t, path)
			originalBytes := readFile(t, path)
			before := map[string]map[string]string{"machine": rawValues(t, path, "machine"), "node": rawValues(t, path, "node")}

			// Read-only first: same rows as after adoption, no byte changed, no file added.
			ro, err := OpenReadOnly(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			roMachine, err := ro.Machine(ctx)
			if err != nil {
				t.Fatal(err)
			}
			roNodes, err := ro.Nodes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := ro.Write(ctx, func(*Writer) error { return nil }); !errors.Is(err, ErrReadOnly) {
				t.Errorf("Write on a read-only store = %v, want ErrReadOnly", err)
			}
			ro.Close()
			if !bytes.Equal(originalBytes, readFile(t, path)) {
				t.Fatal("a read-only open changed the file")
			}
			if got := files(t, dir); !cmp.Equal(got, []string{"colony.db"}) {
				t.Fatalf("a read-only open left files: %v", got)
			}

			var logBuf bytes.Buffer
			s, err := Open(ctx, path, WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			from := tc.rev
			if tc.opts.Unversioned {
				from = Unversioned
			}
			if !strings.Contains(logBuf.String(), "level=INFO msg=\"adopted wnm-python database\" path="+path+" from_revision="+from+" to_revision="+AlembicHead) {
				t.Errorf("log = %s, want the adoption at INFO with both revisions", logBuf.String())
			}
			bak := path + ".backup-" + from
			if diff := cmp.Diff(original, dumpDB(t, bak)); diff != "" {
				t.Errorf("backup %s differs from the original:\n%s", bak, diff)
			}
			if !tc.wal && !bytes.Equal(originalBytes, readFile(t, bak)) {
				t.Errorf("backup %s is not a byte copy of the original", bak)
			}
			if got := rows(t, s, "SELECT version_num FROM alembic_version;"); !cmp.Equal(got, [][]string{{AlembicHead}}) {
				t.Errorf("alembic_version = %v, want %s", got, AlembicHead)
			}

			check := func(when string) {
				t.Helper()
				for _, table := range []string{"machine", "node"} {
					after := rawValues(t, path, table)
					for k, v := range before[table] {
						if after[k] != v {
							t.Errorf("%s: %s.%s = %s, was %s", when, table, k, after[k], v)
						}
					}
					for k, v := range after {
						if _, ok := before[table][k]; ok {
							continue
						}
						col := k[strings.Index(k, "/")+1:]
						want, ok := defaultFor(table, col)
						if !ok {
							t.Errorf("%s: %s.%s = %s was added without a known default", when, table, k, v)
						} else if v != want {
							t.Errorf("%s: added %s.%s = %s, want %s", when, table, k, v, want)
						}
					}
				}
			}
			check("after adoption")

			m, err := s.Machine(ctx)
			if err != nil {
				t.Fatal(err)
			}
			nodes, err := s.Nodes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(roMachine, m, cmpopts.IgnoreFields(Machine{}, "HighestNodeIDUsed")); diff != "" {
				t.Errorf("read-only machine differs from the adopted one (-ro +adopted):\n%s", diff)
			}
			if diff := cmp.Diff(roNodes, nodes); diff != "" {
				t.Errorf("read-only nodes differ from the adopted ones (-ro +adopted):\n%s", diff)
			}
			if m.RewardsAddress != "0x00455d78f850b0358E8cea5be24d415E01E107CF:3,faucet:1" {
				t.Errorf("rewards spec %q: not verbatim", m.RewardsAddress)
			}
			if _, had := before["node"]["1/rewards"]; had && nodes[0].Rewards != "123456789012345678901234567890" {
				t.Errorf("rewards %q: not verbatim", nodes[0].Rewards)
			}

			// A cycle rewrites every row with what it read: nothing may change.
			err = s.Write(ctx, func(w *Writer) error {
				if err := w.UpdateMachine(m); err != nil {
					return err
				}
				for _, n := range nodes {
					if err := w.UpdateNode(n); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			check("after rewriting the rows")

			// Reopening an adopted file changes nothing and writes no second backup.
			s.Close()
			adopted := readFile(t, path)
			s2, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			s2.Close()
			if !bytes.Equal(adopted, readFile(t, path)) {
				t.Error("reopening the adopted file changed it")
			}
			if got := files(t, dir); !cmp.Equal(got, []string{"colony.db", "colony.db.backup-" + from}) && !tc.wal {
				t.Errorf("files after adoption: %v", got)
			}
		})
	}
}

// TestAdoptionFailureLeavesFileIdentical breaks the adoption after its changes
// and checks that the original is byte-identical and the error names the
// backup; a file that lacks a column without a default is refused, naming it,
// before anything is written.
func TestAdoptionFailureLeavesFileIdentical(t *testing.T) {
	ctx := context.Background()
	for _, rev := range []string{upstreamdb.Revisions[0], upstreamdb.Revisions[6], upstreamdb.Head} {
		t.Run(rev, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "colony.db")
			if err := upstreamdb.Build(path, rev, upstreamdb.Options{Migrated: true}); err != nil {
				t.Fatal(err)
			}
			original := readFile(t, path)
			boom := errors.New("disk on fire")
			_, err := Open(ctx, path, withHook(func(stage string) error {
				if stage == "adopt" {
					return boom
				}
				return nil
			}))
			var ae *AdoptionError
			if !errors.As(err, &ae) || !errors.Is(err, boom) {
				t.Fatalf("Open = %v, want an AdoptionError wrapping the failure", err)
			}
			bak := path + ".backup-" + rev
			if !strings.Contains(err.Error(), "backup taken before the attempt is at "+bak) || !strings.Contains(err.Error(), "revision "+rev) {
				t.Errorf("error %q does not name the backup and revision", err)
			}
			if !bytes.Equal(original, readFile(t, path)) {
				t.Error("a failed adoption changed the file")
			}
			if !bytes.Equal(original, readFile(t, bak)) {
				t.Error("the backup is not a byte copy of the original")
			}
			// A second failed attempt reuses the identical backup.
			if _, err := Open(ctx, path, withHook(func(s string) error {
				if s == "adopt" {
					return boom
				}
				return nil
			})); err == nil {
				t.Fatal("second attempt succeeded")
			}
			if got := files(t, dir); !cmp.Equal(got, []string{"colony.db", "colony.db.backup-" + rev}) {
				t.Errorf("files after two failed attempts: %v", got)
			}
		})
	}

	t.Run("missing required columns", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "colony.db")
		if err := upstreamdb.Build(path, upstreamdb.Head, upstreamdb.Options{Drop: []string{"node.port", "machine.node_cap"}}); err != nil {
			t.Fatal(err)
		}
		original := readFile(t, path)
		_, err := Open(ctx, path)
		if err == nil || !strings.Contains(err.Error(), "missing column(s) machine.node_cap, node.port") || !strings.Contains(err.Error(), "the file is unchanged") {
			t.Fatalf("Open = %v, want it to name machine.node_cap and node.port", err)
		}
		if !bytes.Equal(original, readFile(t, path)) {
			t.Error("refusing changed the file")
		}
		if _, err := OpenReadOnly(ctx, path); err == nil || !strings.Contains(err.Error(), "machine.node_cap") {
			t.Errorf("OpenReadOnly = %v, want it to name machine.node_cap", err)
		}
		if got := files(t, dir); !cmp.Equal(got, []string{"colony.db"}) {
			t.Errorf("files after refusing: %v", got)
		}
	})

	t.Run("unknown revision", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "colony.db")
		if err := upstreamdb.Build(path, upstreamdb.Head, upstreamdb.Options{}); err != nil {
			t.Fatal(err)
		}
		execRaw(t, path, "UPDATE alembic_version SET version_num = 'ffff00000000';")
		original := readFile(t, path)
		if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), `alembic revision "ffff00000000" is not one wnm knows`) {
			t.Fatalf("Open = %v, want the unknown revision named", err)
		}
		if !bytes.Equal(original, readFile(t, path)) {
			t.Error("refusing changed the file")
		}
	})

	t.Run("original camel-case layout", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "colony.db")
		execRaw(t, path, "CREATE TABLE machine (id INTEGER PRIMARY KEY, CpuCount INTEGER, NodeCap INTEGER);\nCREATE TABLE node (id INTEGER PRIMARY KEY, nodename TEXT);\nINSERT INTO machine VALUES (1, 4, 20);")
		original := readFile(t, path)
		if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "migrate_v0_to_v1.py") {
			t.Fatalf("Open = %v, want the v0 layout explained", err)
		}
		if !bytes.Equal(original, readFile(t, path)) {
			t.Error("refusing changed the file")
		}
	})
}

// TestReadOnlyOnWNMDatabase reads a wnm database without changing it, and
// refuses writes.
func TestReadOnlyOnWNMDatabase(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	n := testNode(4)
	n.ContainerID = nil
	if err := s.Write(ctx, func(w *Writer) error { return w.InsertNode(n) }); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	before := readFile(t, path)
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Node(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Cycles(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ro.State(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := ro.SetState(ctx, "x", nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SetState on a read-only store = %v, want ErrReadOnly", err)
	}
	ro.Close()
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("read-only use changed the file")
	}
	if _, err := os.Stat(path + "-journal"); err == nil {
		t.Error("read-only use left a journal")
	}
}

// TestCreateWithNodes: the machine and the adopted rows appear together, or no file does.
func TestCreateWithNodes(t *testing.T) {
	ctx := context.Background()
	n1, n13 := testNode(1), testNode(13)
	n1.ContainerID, n13.ContainerID = nil, nil
	n13.Service = "antnode013.service"
	path := filepath.Join(t.TempDir(), "colony.db")
	s, err := Create(ctx, path, testMachine(), WithNodes(n1, n13))
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := s.Nodes(ctx)
	s.Close()
	if err != nil || len(nodes) != 2 || nodes[1].Service != "antnode013.service" {
		t.Fatalf("nodes = %+v, %v; want 1 and 13", nodes, err)
	}

	dir := t.TempDir()
	bad := testNode(2)
	bad.ContainerID, bad.Status = nil, "LOST"
	if _, err := Create(ctx, filepath.Join(dir, "colony.db"), testMachine(), WithNodes(n1, bad)); err == nil || !strings.Contains(err.Error(), "insert node 2") {
		t.Fatalf("Create with a bad row = %v, want it to name node 2", err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Errorf("a failed Create left %v", got)
	}
}
