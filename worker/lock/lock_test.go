//go:build linux || darwin

package lock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/poll"
)

// helperEnv, when set in the environment, makes the test binary act as a lock holder: it
// takes the lock at the named path, prints "locked" and keeps the lock until its stdin
// closes (or it is killed).
const helperEnv = "WNM_LOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		os.Exit(holdLock(path))
	}
	os.Exit(m.Run())
}

func holdLock(path string) int {
	l, err := TryLock(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin) // returns when the parent closes stdin or dies
	if err := l.Unlock(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// setClock makes the lock's "started" stamp read t for the duration of the test.
func setClock(t *testing.T, at time.Time) {
	t.Helper()
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}

func mustLock(t *testing.T, path string) *Lock {
	t.Helper()
	l, err := TryLock(path)
	if err != nil {
		t.Fatalf("TryLock(%q) error: %v", path, err)
	}
	t.Cleanup(func() { l.Unlock() })
	return l
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTryLockWritesHolder(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	setClock(t, at)
	path := filepath.Join(t.TempDir(), FileName)

	l := mustLock(t, path)
	want := fmt.Sprintf("pid=%d started=2026-03-04T05:06:07Z\n", os.Getpid())
	if got := readFile(t, path); got != want {
		t.Errorf("lock file contents = %q, want %q", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o644 != 0 {
		t.Errorf("lock file mode = %v, want at most 0644", perm)
	}

	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock() error: %v", err)
	}
	if got := readFile(t, path); got != "" {
		t.Errorf("lock file contents after Unlock = %q, want empty", got)
	}
	if err := l.Unlock(); err != nil {
		t.Errorf("second Unlock() error: %v, want nil", err)
	}
	var nilLock *Lock
	if err := nilLock.Unlock(); err != nil {
		t.Errorf("(*Lock)(nil).Unlock() error: %v, want nil", err)
	}
}

func TestTryLockOverwritesStaleContents(t *testing.T) {
	setClock(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	path := filepath.Join(t.TempDir(), FileName)
	// A leftover from wnm-python (epoch seconds) or a SIGKILLed wnm must not block us.
	if err := os.WriteFile(path, []byte("pid=99999999 started=2020-01-01T00:00:00Z and a long tail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustLock(t, path)
	want := fmt.Sprintf("pid=%d started=2026-01-02T03:04:05Z\n", os.Getpid())
	if got := readFile(t, path); got != want {
		t.Errorf("lock file contents = %q, want %q", got, want)
	}
}

func TestSecondTryLockIsBusy(t *testing.T) {
	setClock(t, time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	path := filepath.Join(t.TempDir(), FileName)
	l := mustLock(t, path)

	// Same process, separate open file description: flock(2) still refuses.
	got, err := TryLock(path)
	if !errors.Is(err, ErrBusy) {
		got.Unlock()
		t.Fatalf("second TryLock(%q) error = %v, want %v", path, err, ErrBusy)
	}
	want := fmt.Sprintf("lock %s: another cycle is running (pid %d, started 2026-03-04T05:06:07Z)", path, os.Getpid())
	if err.Error() != want {
		t.Errorf("second TryLock error:\n got %q\nwant %q", err, want)
	}

	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock() error: %v", err)
	}
	mustLock(t, path)
}

func TestTryLockOpenError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", FileName)
	l, err := TryLock(path)
	if err == nil {
		l.Unlock()
		t.Fatalf("TryLock(%q) succeeded in a missing directory", path)
	}
	if errors.Is(err, ErrBusy) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("TryLock(%q) error = %v, want a not-exist error that is not ErrBusy", path, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("TryLock(%q) error = %q, want it to name the path", path, err)
	}
}

// TestSubprocessHolder checks the cross-process behaviour: a live holder's pid is reported,
// and a SIGKILLed holder leaves nothing that blocks the next run.
func TestSubprocessHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-exited
	})

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if s != "locked\n" {
			t.Fatalf("helper printed %q, want %q", s, "locked\n")
		}
	case <-exited:
		t.Fatalf("helper exited before taking the lock: %v", waitErr)
	case <-time.After(30 * time.Second):
		t.Fatal("helper did not take the lock within 30s")
	}

	_, err = TryLock(path)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("TryLock(%q) while the helper holds it: error = %v, want %v", path, err, ErrBusy)
	}
	if want := fmt.Sprintf("another cycle is running (pid %d, started ", cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("TryLock error = %q, want it to contain %q", err, want)
	}
	if err := Remove(path); !errors.Is(err, ErrBusy) {
		t.Errorf("Remove(%q) while the helper holds it: error = %v, want %v", path, err, ErrBusy)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited

	// The kernel released the lock when the helper died; nothing needs cleaning up.
	poll.UntilErr(t, 10*time.Second, func() error {
		l, err := TryLock(path)
		if err == nil {
			l.Unlock()
			return nil
		}
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("TryLock(%q) after SIGKILL of the holder: %v", path, err)
		}
		return fmt.Errorf("TryLock(%q) after SIGKILL of the holder: %w", path, err)
	})
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, path string)
		wantBusy bool
		wantFile bool
	}{
		{
			name:  "absent",
			setup: func(t *testing.T, path string) {},
		},
		{
			name: "free",
			setup: func(t *testing.T, path string) {
				l := mustLock(t, path)
				if err := l.Unlock(); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "leftover from wnm-python",
			setup: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("1767225600"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:     "held",
			setup:    func(t *testing.T, path string) { mustLock(t, path) },
			wantBusy: true,
			wantFile: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			tt.setup(t, path)
			err := Remove(path)
			if tt.wantBusy {
				if !errors.Is(err, ErrBusy) {
					t.Errorf("Remove(%q) error = %v, want %v", path, err, ErrBusy)
				}
			} else if err != nil {
				t.Errorf("Remove(%q) error = %v, want nil", path, err)
			}
			_, serr := os.Stat(path)
			if exists := serr == nil; exists != tt.wantFile {
				t.Errorf("after Remove(%q): file exists = %v, want %v (stat: %v)", path, exists, tt.wantFile, serr)
			}
		})
	}
}

func TestRemoveThenLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l := mustLock(t, path)
	if err := Remove(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("Remove(%q) while held: error = %v, want %v", path, err, ErrBusy)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("Remove(%q) when free: %v", path, err)
	}
	mustLock(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("TryLock did not recreate %q: %v", path, err)
	}
}

// TestTryLockStartsOverWhenFileReplaced covers the unlink race: the file is replaced
// between TryLock's open and its flock, so the lock it got is on an orphaned inode.
func TestTryLockStartsOverWhenFileReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	calls := 0
	testHookLocked = func() {
		calls++
		if calls == 1 {
			if err := os.Remove(path); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { testHookLocked = nil })

	mustLock(t, path)
	if calls != 2 {
		t.Errorf("TryLock locked %d times, want 2 (once on the unlinked file, once on the new one)", calls)
	}
	// The lock we hold must be the one on the file now at path.
	testHookLocked = nil
	if _, err := TryLock(path); !errors.Is(err, ErrBusy) {
		t.Errorf("TryLock(%q) after the retried lock: error = %v, want %v", path, err, ErrBusy)
	}
}

func TestTryLockGivesUpWhenFileKeepsChanging(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	testHookLocked = func() { os.Remove(path) }
	t.Cleanup(func() { testHookLocked = nil })
	l, err := TryLock(path)
	if err == nil {
		l.Unlock()
		t.Fatalf("TryLock(%q) succeeded although the file vanished every time", path)
	}
	want := fmt.Sprintf("lock %s: the file was replaced %d times while locking it", path, maxAttempts)
	if err.Error() != want {
		t.Errorf("TryLock error:\n got %q\nwant %q", err, want)
	}
}

func TestContention(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	for round := range 100 {
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			locks [2]*Lock
			errs  [2]error
		)
		for i := range 2 {
			wg.Go(func() {
				<-start
				locks[i], errs[i] = TryLock(path)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range 2 {
			switch {
			case errs[i] == nil:
				winners++
			case !errors.Is(errs[i], ErrBusy):
				t.Errorf("round %d: TryLock error = %v, want nil or %v", round, errs[i], ErrBusy)
			}
		}
		for _, l := range locks {
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d goroutines got the lock, want exactly 1", round, winners)
		}
	}
}

func TestDescribeHolder(t *testing.T) {
	tests := []struct {
		contents string
		want     string
	}{
		{"pid=1234 started=2026-03-04T05:06:07+01:00\n", "pid 1234, started 2026-03-04T05:06:07+01:00"},
		{"  pid=1 started=x  ", "pid 1, started x"},
		{"", "holder unknown"},
		{" \n", "holder unknown"},
		{"1767225600", `holder unknown, lock file says "1767225600"`},
		{"pid=abc started=now", `holder unknown, lock file says "pid=abc started=now"`},
		{strings.Repeat("x", 100), `holder unknown, lock file says "` + strings.Repeat("x", 80) + `…"`},
	}
	for _, tt := range tests {
		if got := describeHolder(tt.contents); got != tt.want {
			t.Errorf("describeHolder(%q) = %q, want %q", tt.contents, got, tt.want)
		}
	}
}

func TestPath(t *testing.T) {
	got := []string{Path("/var/lib/wnm/colony.db"), Path("colony.db"), Path("/colony.db")}
	want := []string{"/var/lib/wnm/wnm_active", "wnm_active", "/wnm_active"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Path mismatch (-want +got):\n%s", diff)
	}
}
