package setsid

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/units"
)

const testWallet = "0x00000000000000000000000000000000000000aa"

// Shell-script nodes. Each has its own path as argv[1], so the same-process check sees the
// node's binary path in the command line, as it does for a real binary.
const (
	loopScript = "#!/bin/sh\nwhile :; do sleep 0.05; done\n"
	// trapScript ignores SIGTERM, as does its long sleep child (an ignored disposition is
	// inherited), which only a SIGKILL to the whole process group ends.
	trapScript = "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 30; done\n"
	// envScript records its environment and working directory, renaming so readers never see
	// half a file.
	envScript   = "#!/bin/sh\nenv > env.tmp && mv env.tmp env.txt\npwd > cwd.tmp && mv cwd.tmp cwd.txt\nwhile :; do sleep 0.05; done\n"
	failScript  = "#!/bin/sh\necho 'bye from node'\necho 'to stderr' >&2\nexit 3\n"
	quickScript = "#!/bin/sh\nexit 0\n"
	// laterScript exits 0 after a while, as antnode does after a self-upgrade with
	// --stop-on-upgrade.
	laterScript = "#!/bin/sh\nsleep 1\nexit 0\n"
	// uidScript writes the uid it runs as into its log dir.
	uidScript = "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = --log-output-dest ] && logdir=$2; shift; done\nid -u > \"$logdir/uid.tmp\" && mv \"$logdir/uid.tmp\" \"$logdir/uid.txt\"\nwhile :; do sleep 0.05; done\n"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newManager returns a user-mode manager over storage whose debug log goes to the returned buffer.
func newManager(t *testing.T, storage string, stopTimeout time.Duration) (*Manager, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	m, err := New(Options{
		Mode:        "user",
		NodeStorage: storage,
		StopTimeout: stopTimeout,
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, logs
}

// newNode lays out node id under storage as wnm does (antnode<id>/antnode) with the given binary
// (a file to copy) or script text, and kills whatever the node left running at cleanup.
func newNode(t *testing.T, storage string, id int, binary, script string) gen.Node {
	t.Helper()
	root := filepath.Join(storage, fmt.Sprintf("antnode%04d", id))
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	data := []byte(script)
	if binary != "" {
		var err error
		if data, err = os.ReadFile(binary); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(root, "antnode")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	n := gen.Node{
		ID:          id,
		RootDir:     root,
		Binary:      bin,
		LogDir:      filepath.Join(root, "logs"),
		Port:        fakeantnode.FreePort(t),
		MetricsPort: fakeantnode.FreePort(t),
		Host:        "127.0.0.1",
		Wallet:      testWallet,
	}
	t.Cleanup(func() { killNode(t, n) })
	return n
}

// killNode SIGKILLs the node's process group if its pid file still names the node's process.
func killNode(t *testing.T, n gen.Node) {
	b, err := os.ReadFile(filepath.Join(n.RootDir, PIDFile))
	if err != nil {
		return
	}
	rec, err := parsePIDFile(b)
	if err != nil {
		return
	}
	p := probe(context.Background(), rec.PID)
	if !p.alive || p.zombie || !containsArg(p.argv, n.Binary) {
		return
	}
	t.Logf("cleanup: killing stray node %d, pid %d", n.ID, rec.PID)
	_ = syscall.Kill(-rec.PID, syscall.SIGKILL)
	_ = syscall.Kill(rec.PID, syscall.SIGKILL)
}

func containsArg(argv []string, s string) bool {
	for _, a := range argv {
		if a == s {
			return true
		}
	}
	return false
}

// gone reports whether pid has exited (a zombie counts: its parent has yet to reap it).
func gone(pid int) bool {
	p := probe(context.Background(), pid)
	return !p.alive || p.zombie
}

// groupMembers returns the live, non-zombie processes in process group pgid.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	pids, err := process.Pids()
	if err != nil {
		t.Fatal(err)
	}
	var live []int
	for _, p := range pids {
		if g, err := syscall.Getpgid(int(p)); err == nil && g == pgid && !gone(int(p)) {
			live = append(live, int(p))
		}
	}
	return live
}

func wantStatus(t *testing.T, m *Manager, n gen.Node, want units.State) units.Status {
	t.Helper()
	st, err := m.Status(t.Context(), n)
	if err != nil {
		t.Fatalf("Status(node %d): %v", n.ID, err)
	}
	if st.State != want {
		t.Fatalf("Status(node %d) = %+v, want state %v", n.ID, st, want)
	}
	return st
}

func pidFileExists(n gen.Node) bool {
	_, err := os.Stat(filepath.Join(n.RootDir, PIDFile))
	return err == nil
}

func TestLifecycleWithFakeAntnode(t *testing.T) {
	bin := fakeantnode.Build(t)
	storage := t.TempDir()
	n := newNode(t, storage, 1, bin, "")
	m, logs := newManager(t, storage, 0)
	ctx := t.Context()

	if err := m.Start(ctx, n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	st := wantStatus(t, m, n, units.Running)
	if st.PID <= 0 || st.PID == os.Getpid() {
		t.Fatalf("Status PID = %d, want the node's pid", st.PID)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", n.MetricsPort)
	client := &http.Client{Timeout: time.Second}
	poll.Until(t, 15*time.Second, url+" to answer 200", func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "ant_node")
	})

	if err := m.Start(ctx, n); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if again := wantStatus(t, m, n, units.Running); again.PID != st.PID {
		t.Fatalf("after a second Start the pid is %d, want the first %d", again.PID, st.PID)
	}
	if !strings.Contains(logs.String(), "node already running") {
		t.Errorf("second Start did not log that the node was already running; log:\n%s", logs)
	}

	if err := m.Stop(ctx, n); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	wantStatus(t, m, n, units.Stopped)
	if !gone(st.PID) {
		t.Fatalf("pid %d still runs after Stop", st.PID)
	}
	if pidFileExists(n) {
		t.Errorf("pid file remains after Stop")
	}
	if strings.Contains(logs.String(), "ignored SIGTERM") {
		t.Errorf("fake antnode needed SIGKILL; log:\n%s", logs)
	}
	if err := m.Stop(ctx, n); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(n.LogDir, StdoutLog)); err != nil {
		t.Errorf("stdout.log: %v", err)
	}
}

func TestStartFailsWhenNodeExits(t *testing.T) {
	bin := fakeantnode.Build(t)
	tests := []struct {
		name   string
		binary string // file to copy, or "" for script
		script string
		wallet string
		env    [][2]string
		want   []string // substrings of the error
	}{
		{
			name:   "fake antnode crashes",
			binary: bin,
			wallet: testWallet,
			env:    [][2]string{{"FAKEANTNODE_CRASH_AFTER", "50ms"}},
			want:   []string{"exited with exit status 1"},
		},
		{
			name:   "fake antnode without rewards address",
			binary: bin,
			want:   []string{"exited with exit status 1", "rewards"},
		},
		{
			name:   "script exits 3",
			script: failScript,
			wallet: testWallet,
			want:   []string{"exited with exit status 3", "bye from node", "to stderr", "--rewards-address " + testWallet},
		},
		{
			name:   "script exits 0",
			script: quickScript,
			wallet: testWallet,
			want:   []string{"exited with exit status 0", "(no output)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storage := t.TempDir()
			n := newNode(t, storage, 3, tt.binary, tt.script)
			n.Wallet, n.Env = tt.wallet, tt.env
			m, _ := newManager(t, storage, 0)
			m.startWatch = 10 * time.Second // the exit ends the watch; a long one cannot flake
			// Output of an earlier run must not be quoted.
			if err := os.MkdirAll(n.LogDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(n.LogDir, StdoutLog), []byte("old run output\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			err := m.Start(t.Context(), n)
			if err == nil {
				t.Fatal("Start succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "old run output") {
				t.Errorf("Start error %q quotes output of an earlier run", err)
			}
			wantStatus(t, m, n, units.Stopped)
			if pidFileExists(n) {
				t.Errorf("pid file remains after a failed start")
			}
		})
	}
}

func TestStartRefuses(t *testing.T) {
	storage := t.TempDir()
	tests := []struct {
		name string
		edit func(n *gen.Node)
		want string
	}{
		{"relative root dir", func(n *gen.Node) { n.RootDir = "antnode0004" }, `root dir "antnode0004" is not an absolute path`},
		{"port out of range", func(n *gen.Node) { n.MetricsPort = 70000 }, "port 70000"},
		{"bad environment name", func(n *gen.Node) { n.Env = [][2]string{{"A-B", "1"}} }, `"A-B"`},
		{"empty environment name", func(n *gen.Node) { n.Env = [][2]string{{"", "1"}} }, `name ""`},
		{"control character in environment", func(n *gen.Node) { n.Env = [][2]string{{"A", "x\ny"}} }, "control character"},
		{"missing binary", func(n *gen.Node) { n.Binary = filepath.Join(n.RootDir, "nope") }, filepath.Join(storage, "antnode0004", "nope")},
		{"binary is a directory", func(n *gen.Node) { n.Binary = n.LogDir; _ = os.MkdirAll(n.LogDir, 0o755) }, "not a regular file"},
		{"missing root dir", func(n *gen.Node) { n.RootDir = filepath.Join(storage, "gone") }, filepath.Join(storage, "gone")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, storage, 4, "", loopScript)
			tt.edit(&n)
			m, _ := newManager(t, storage, 0)
			err := m.Start(t.Context(), n)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start = %v, want an error containing %q", err, tt.want)
			}
			if pidFileExists(n) {
				t.Errorf("Start wrote a pid file although it refused the node")
			}
		})
	}
}

func TestEnvironmentAndWorkingDir(t *testing.T) {
	t.Setenv("WNM_SETSID_TEST_LEAK", "leaked")
	storage := t.TempDir()
	n := newNode(t, storage, 5, "", envScript)
	n.Env = [][2]string{{"ANT_LOG", "all"}, {"FOO", "bar baz=qux"}, {"PATH", "/usr/bin:/bin:/custom"}}
	m, _ := newManager(t, storage, 0)
	if err := m.Start(t.Context(), n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	envFile := filepath.Join(n.RootDir, "env.txt")
	cwdFile := filepath.Join(n.RootDir, "cwd.txt")
	poll.Until(t, 10*time.Second, "the node to write env.txt and cwd.txt", func() bool {
		_, err1 := os.Stat(envFile)
		_, err2 := os.Stat(cwdFile)
		return err1 == nil && err2 == nil
	})
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	want := map[string]string{
		"ANT_LOG": "all",
		"FOO":     "bar baz=qux",
		"PATH":    "/usr/bin:/bin:/custom",
		"LANG":    "C.UTF-8",
		"HOME":    m.home,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("node env %s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"WNM_SETSID_TEST_LEAK", "CUSTOM_ENV"} {
		if v, ok := got[k]; ok {
			t.Errorf("node env has %s=%q, want it absent", k, v)
		}
	}
	cwd, err := os.ReadFile(cwdFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(cwd)); got != n.RootDir {
		t.Errorf("node working dir = %q, want the root dir %q", got, n.RootDir)
	}
	if err := m.Stop(t.Context(), n); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestEnviron(t *testing.T) {
	m := &Manager{home: "/home/ant"}
	tests := []struct {
		name string
		env  [][2]string
		want []string
	}{
		{"base only", nil, []string{"PATH=" + defaultPATH, "HOME=/home/ant", "LANG=C.UTF-8"}},
		{"pairs appended in order", [][2]string{{"B", "2"}, {"A", "1"}}, []string{"PATH=" + defaultPATH, "HOME=/home/ant", "LANG=C.UTF-8", "B=2", "A=1"}},
		{"pairs override the base in place", [][2]string{{"LANG", "en_GB.UTF-8"}, {"X", ""}}, []string{"PATH=" + defaultPATH, "HOME=/home/ant", "LANG=en_GB.UTF-8", "X="}},
		{"last pair wins", [][2]string{{"X", "1"}, {"X", "2"}}, []string{"PATH=" + defaultPATH, "HOME=/home/ant", "LANG=C.UTF-8", "X=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.environ(gen.Node{Env: tt.env})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("environ(%v) mismatch (-want +got):\n%s", tt.env, diff)
			}
		})
	}
}

func TestStopKillsNodeIgnoringSIGTERM(t *testing.T) {
	storage := t.TempDir()
	n := newNode(t, storage, 6, "", trapScript)
	const timeout = 200 * time.Millisecond
	m, logs := newManager(t, storage, timeout)
	if err := m.Start(t.Context(), n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	pid := wantStatus(t, m, n, units.Running).PID
	t.Cleanup(func() {
		for _, p := range groupMembers(t, pid) {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	})
	poll.Until(t, 5*time.Second, "the script to start a sleep child", func() bool { return len(groupMembers(t, pid)) > 1 })

	begin := time.Now()
	if err := m.Stop(t.Context(), n); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if took := time.Since(begin); took < timeout {
		t.Errorf("Stop took %v, want at least the stop timeout %v before SIGKILL", took, timeout)
	}
	if !strings.Contains(logs.String(), "node ignored SIGTERM, killing") {
		t.Errorf("Stop did not log the SIGKILL; log:\n%s", logs)
	}
	if !gone(pid) {
		t.Fatalf("pid %d still runs after Stop", pid)
	}
	poll.Until(t, 5*time.Second, "the node's process group to die", func() bool { return len(groupMembers(t, pid)) == 0 })
	wantStatus(t, m, n, units.Stopped)
	if pidFileExists(n) {
		t.Errorf("pid file remains after Stop")
	}
}

func TestPIDFileNamingAnotherProcess(t *testing.T) {
	storage := t.TempDir()
	m, _ := newManager(t, storage, time.Second)

	// An unrelated long-lived process: same start time as recorded, another command line.
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleep.Process.Kill(); _ = sleep.Wait() })
	sleepStart, err := createTime(t.Context(), sleep.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	selfStart, err := createTime(t.Context(), self)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		script   string // node binary; default loopScript
		pidFile  func(t *testing.T, n gen.Node) string
		noRoot   bool
		detail   string
		survivor int // a pid that must outlive Stop
	}{
		{name: "root dir missing", noRoot: true, detail: "root dir missing"},
		{name: "no pid file", detail: "no pid file"},
		{name: "garbage", pidFile: func(*testing.T, gen.Node) string { return "hello\n" }, detail: `pid "hello"`},
		{name: "too many fields", pidFile: func(*testing.T, gen.Node) string { return "1 2 3\n" }, detail: "want a pid and a start time"},
		{name: "negative pid", pidFile: func(*testing.T, gen.Node) string { return "-5\n1\n" }, detail: `pid "-5"`},
		{name: "bad start time", pidFile: func(*testing.T, gen.Node) string { return "5\nsoon\n" }, detail: `start time "soon"`},
		{name: "pid not running", pidFile: func(*testing.T, gen.Node) string { return fmt.Sprintf("%d\n1\n", math.MaxInt32) }, detail: "is not running"},
		{
			name:     "unrelated process, matching start time",
			pidFile:  func(*testing.T, gen.Node) string { return fmt.Sprintf("%d\n%d\n", sleep.Process.Pid, sleepStart) },
			detail:   "another process",
			survivor: sleep.Process.Pid,
		},
		{
			name:     "unrelated process, pid only",
			pidFile:  func(*testing.T, gen.Node) string { return fmt.Sprintf("%d\n", sleep.Process.Pid) },
			detail:   "another process",
			survivor: sleep.Process.Pid,
		},
		{
			name:     "test process, recycled pid",
			pidFile:  func(*testing.T, gen.Node) string { return fmt.Sprintf("%d\n%d\n", self, selfStart-60_000) },
			detail:   "not at the recorded",
			survivor: self,
		},
		{
			name:     "test process, matching start time",
			pidFile:  func(*testing.T, gen.Node) string { return fmt.Sprintf("%d\n%d\n", self, selfStart) },
			detail:   "another process",
			survivor: self,
		},
		{
			name:   "the node's binary, now a zombie",
			script: quickScript,
			pidFile: func(t *testing.T, n gen.Node) string {
				// Our own child, never waited for, so it stays a zombie until cleanup.
				c := exec.Command(n.Binary)
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.Wait() })
				start, err := createTime(t.Context(), c.Process.Pid)
				if err != nil {
					t.Fatal(err)
				}
				poll.Until(t, 5*time.Second, "the child to become a zombie", func() bool {
					st, err := (&process.Process{Pid: int32(c.Process.Pid)}).Status()
					return err == nil && slices.Contains(st, process.Zombie)
				})
				return fmt.Sprintf("%d\n%d\n", c.Process.Pid, start)
			},
			detail: "zombie",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := tt.script
			if script == "" {
				script = loopScript
			}
			n := newNode(t, storage, 100+i, "", script)
			if tt.pidFile != nil {
				if err := os.WriteFile(filepath.Join(n.RootDir, PIDFile), []byte(tt.pidFile(t, n)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.noRoot {
				if err := os.RemoveAll(n.RootDir); err != nil {
					t.Fatal(err)
				}
			}
			st := wantStatus(t, m, n, units.Stopped)
			if st.PID != 0 || !strings.Contains(st.Detail, tt.detail) {
				t.Errorf("Status = %+v, want PID 0 and a detail containing %q", st, tt.detail)
			}
			if err := m.Stop(t.Context(), n); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if tt.survivor != 0 && gone(tt.survivor) {
				t.Fatalf("Stop killed pid %d, which is not the node", tt.survivor)
			}
			if pidFileExists(n) {
				t.Errorf("stale pid file remains after Stop")
			}
		})
	}
}

func TestParsePIDFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    pidRecord
		wantErr bool
	}{
		{"pid and start", "123\n1700000000000\n", pidRecord{PID: 123, StartMS: 1700000000000}, false},
		{"round trip", string(formatPIDFile(pidRecord{PID: 7, StartMS: 99})), pidRecord{PID: 7, StartMS: 99}, false},
		{"bare pid, as wnm-python wrote", "4242", pidRecord{PID: 4242}, false},
		{"surrounding space", "  12 \n 34  ", pidRecord{PID: 12, StartMS: 34}, false},
		{"empty", "", pidRecord{}, true},
		{"zero pid", "0\n5\n", pidRecord{}, true},
		{"pid too large", "2147483648\n5\n", pidRecord{}, true},
		{"zero start", "5\n0\n", pidRecord{}, true},
		{"words", "pid 5", pidRecord{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePIDFile([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parsePIDFile(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parsePIDFile(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRemoveKeepsDirectory(t *testing.T) {
	storage := t.TempDir()
	n := newNode(t, storage, 7, "", loopScript)
	m, _ := newManager(t, storage, 0)
	if err := m.Create(t.Context(), n); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := m.Start(t.Context(), n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	pid := wantStatus(t, m, n, units.Running).PID
	if err := m.Remove(t.Context(), n); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if !gone(pid) {
		t.Fatalf("pid %d still runs after Remove", pid)
	}
	if pidFileExists(n) {
		t.Errorf("pid file remains after Remove")
	}
	for _, p := range []string{n.RootDir, n.Binary, n.LogDir} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Remove deleted %s: %v", p, err)
		}
	}
	if err := m.Remove(t.Context(), n); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}

func TestNodeExitingLaterIsStopped(t *testing.T) {
	storage := t.TempDir()
	n := newNode(t, storage, 8, "", laterScript)
	m, _ := newManager(t, storage, 0)
	m.startWatch = 50 * time.Millisecond // the script exits after 1 s, well after the watch
	if err := m.Start(t.Context(), n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	pid := wantStatus(t, m, n, units.Running).PID
	poll.Until(t, 10*time.Second, "the node to exit 0", func() bool { return gone(pid) })
	st := wantStatus(t, m, n, units.Stopped)
	if !strings.Contains(st.Detail, "not running") && !strings.Contains(st.Detail, "zombie") {
		t.Errorf("Status detail = %q, want the pid reported gone", st.Detail)
	}
	if err := m.Start(t.Context(), n); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if again := wantStatus(t, m, n, units.Running).PID; again == pid {
		t.Errorf("restart reused pid %d; want a new process", pid)
	}
	if err := m.Stop(t.Context(), n); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestCredential(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a node as another user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no nobody account: %v", err)
	}
	storage := t.TempDir()
	// nobody must reach the script: open up the test's temp dirs.
	for _, d := range []string{filepath.Dir(storage), storage} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n := newNode(t, storage, 9, "", uidScript)
	m, err := New(Options{Mode: "sudo", NodeStorage: storage, User: "nobody"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if m.home != nobody.HomeDir {
		t.Errorf("HOME for nobody = %q, want %q", m.home, nobody.HomeDir)
	}
	if err := m.Start(t.Context(), n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	uidFile := filepath.Join(n.LogDir, "uid.txt")
	poll.Until(t, 10*time.Second, "the node to write uid.txt", func() bool { _, err := os.Stat(uidFile); return err == nil })
	b, err := os.ReadFile(uidFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != nobody.Uid {
		t.Errorf("node runs as uid %s, want nobody's %s", got, nobody.Uid)
	}
	fi, err := os.Stat(n.LogDir)
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) != nobody.Uid {
		t.Errorf("log dir owned by uid %d, want nobody's %s", uid, nobody.Uid)
	}
	if err := m.Stop(t.Context(), n); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestDiscover(t *testing.T) {
	storage := t.TempDir()
	for _, d := range []string{"antnode0001", "antnode0012", "antnode1", "other", "antnodeX", "antnode", "antnode12a", "antnode-3", "Antnode0002"} {
		if err := os.Mkdir(filepath.Join(storage, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(storage, "antnode0005"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		storage string
		want    []int
	}{
		{"node dirs", storage, []int{1, 12}},
		{"missing storage", filepath.Join(storage, "absent"), nil},
		{"empty storage", t.TempDir(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newManager(t, tt.storage, 0)
			got, err := m.Discover(t.Context())
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Discover() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNew(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     Options
		wantName string
		wantErr  string
	}{
		{name: "user mode", opts: Options{Mode: "user", NodeStorage: "/var/antctl/services"}, wantName: "setsid+user"},
		{name: "sudo mode", opts: Options{Mode: "sudo", NodeStorage: "/var/antctl/services"}, wantName: "setsid+sudo"},
		{name: "current user named in user mode", opts: Options{Mode: "user", NodeStorage: "/n", User: me.Username}, wantName: "setsid+user"},
		{name: "no mode", opts: Options{NodeStorage: "/n"}, wantErr: `setsid mode ""`},
		{name: "bad mode", opts: Options{Mode: "setsid", NodeStorage: "/n"}, wantErr: `setsid mode "setsid"`},
		{name: "relative storage", opts: Options{Mode: "user", NodeStorage: "nodes"}, wantErr: `"nodes" is not an absolute path`},
		{name: "negative timeout", opts: Options{Mode: "user", NodeStorage: "/n", StopTimeout: -time.Second}, wantErr: "negative"},
		{name: "unknown user", opts: Options{Mode: "sudo", NodeStorage: "/n", User: "no-such-user-wnm"}, wantErr: `"no-such-user-wnm"`},
	}
	if other := otherUser(me); other != "" {
		tests = append(tests, struct {
			name     string
			opts     Options
			wantName string
			wantErr  string
		}{name: "other user in user mode", opts: Options{Mode: "user", NodeStorage: "/n", User: other}, wantErr: "runs nodes as the current user"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%+v) error = %v, want one containing %q", tt.opts, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v): %v", tt.opts, err)
			}
			if got := m.Name(); got != tt.wantName {
				t.Errorf("Name() = %q, want %q", got, tt.wantName)
			}
			if m.stopTimeout != DefaultStopTimeout {
				t.Errorf("stop timeout = %v, want the default %v", m.stopTimeout, DefaultStopTimeout)
			}
			if m.cred != nil {
				t.Errorf("credential = %+v, want none for the current user", m.cred)
			}
		})
	}
}

// otherUser returns an account other than me, or "".
func otherUser(me *user.User) string {
	for _, name := range []string{"nobody", "root", "daemon"} {
		if u, err := user.Lookup(name); err == nil && u.Uid != me.Uid {
			return name
		}
	}
	return ""
}

// TestStopPermissionDenied runs Stop as nobody against a node that root started: the signal
// fails with EPERM and the error names the pid.
func TestStopPermissionDenied(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("helper process")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the helper as another user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no nobody account: %v", err)
	}
	uid, _ := strconv.ParseUint(nobody.Uid, 10, 32)
	gid, _ := strconv.ParseUint(nobody.Gid, 10, 32)
	storage := t.TempDir()
	for _, d := range []string{filepath.Dir(storage), storage} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n := newNode(t, storage, 10, "", loopScript)
	m, _ := newManager(t, storage, 0)
	if err := m.Start(t.Context(), n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	pid := wantStatus(t, m, n, units.Running).PID

	// The test binary may sit in a directory nobody cannot enter; run a copy.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(storage, "setsid.test")
	if err := os.WriteFile(helper, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), helper, "-test.run=^TestHelperStop$")
	cmd.Env = []string{helperEnv + "=" + n.RootDir, "HOME=/", "PATH=" + defaultPATH}
	cmd.Dir = storage
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	want := fmt.Sprintf("stop node 10: SIGTERM to pid %d: operation not permitted", pid)
	if !strings.Contains(string(out), "helper stop error: "+want) {
		t.Errorf("helper output does not contain %q:\n%s", want, out)
	}
	if gone(pid) {
		t.Fatalf("pid %d died although Stop was refused", pid)
	}
	if !pidFileExists(n) {
		t.Errorf("refused Stop removed the pid file")
	}
	if err := m.Stop(t.Context(), n); err != nil {
		t.Fatalf("Stop as root: %v", err)
	}
}

const helperEnv = "WNM_SETSID_HELPER_ROOT"

// TestHelperStop is the body of TestStopPermissionDenied's helper process.
func TestHelperStop(t *testing.T) {
	root := os.Getenv(helperEnv)
	if root == "" {
		t.Skip("only runs as TestStopPermissionDenied's helper")
	}
	m, err := New(Options{Mode: "user", NodeStorage: filepath.Dir(root)})
	if err != nil {
		t.Fatal(err)
	}
	n := gen.Node{ID: 10, RootDir: root, Binary: filepath.Join(root, "antnode"), LogDir: filepath.Join(root, "logs"), Port: 1, MetricsPort: 2}
	err = m.Stop(context.Background(), n)
	fmt.Printf("helper stop error: %v\n", err)
}

// TestUnreadablePIDFile: when the pid file cannot be read, the manager cannot tell, so it
// reports Unknown and neither starts a second node nor stops anything.
func TestUnreadablePIDFile(t *testing.T) {
	storage := t.TempDir()
	n := newNode(t, storage, 11, "", loopScript)
	if err := os.Mkdir(filepath.Join(n.RootDir, PIDFile), 0o755); err != nil {
		t.Fatal(err)
	}
	m, _ := newManager(t, storage, 0)
	st, err := m.Status(t.Context(), n)
	if err == nil || st.State != units.Unknown {
		t.Errorf("Status = %+v, %v; want Unknown and an error", st, err)
	}
	if err := m.Start(t.Context(), n); err == nil || !strings.Contains(err.Error(), PIDFile) {
		t.Errorf("Start = %v, want an error naming the pid file", err)
	}
	if err := m.Stop(t.Context(), n); err == nil || !strings.Contains(err.Error(), PIDFile) {
		t.Errorf("Stop = %v, want an error naming the pid file", err)
	}
	if _, err := os.Stat(filepath.Join(n.LogDir, StdoutLog)); !os.IsNotExist(err) {
		t.Errorf("Start spawned a node although the pid file was unreadable (stdout.log: %v)", err)
	}
}
