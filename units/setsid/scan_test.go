package setsid

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/units"
)

// waitScript is a node that idles until SIGTERM, then ends its sleep child too, so no process of
// it outlives a Stop. It forks once, at once: later scans see no short-lived copy of its
// command line.
const waitScript = "#!/bin/sh\ntrap 'kill $! 2>/dev/null; exit 0' TERM\nsleep 3600 &\nwait\n"

// countingProcs is the real process table with a record of whose command lines were read, and
// owners made up for chosen pids.
type countingProcs struct {
	procTable
	mu     sync.Mutex
	reads  map[int]int
	owners map[int]uint32
}

func (c *countingProcs) owner(pid int) (uint32, error) {
	c.mu.Lock()
	uid, ok := c.owners[pid]
	c.mu.Unlock()
	if ok {
		return uid, nil
	}
	return c.procTable.owner(pid)
}

func (c *countingProcs) cmdline(ctx context.Context, pid int, buf []byte) ([]byte, error) {
	c.mu.Lock()
	c.reads[pid]++
	c.mu.Unlock()
	return c.procTable.cmdline(ctx, pid, buf)
}

func (c *countingProcs) readsOf(pid int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[pid]
}

// startLost starts node n and deletes its pid file, as a lost record leaves it, and stops its
// process group at cleanup. It returns the node's pid.
func startLost(t *testing.T, m *Manager, n gen.Node) int {
	t.Helper()
	must(t, m.Start(t.Context(), n))
	pid := wantStatus(t, m, n, units.Running).PID
	t.Cleanup(func() { killPID(pid) })
	must(t, os.Remove(filepath.Join(n.RootDir, PIDFile)))
	return pid
}

// TestStopStraysReadsOnlyCandidates: the scan for strays reads no command line of a process that
// a tracked node's pid file names, nor of a process of another account, and still finds and
// stops the stray that runs next to the tracked node.
func TestStopStraysReadsOnlyCandidates(t *testing.T) {
	storage := t.TempDir()
	kept := newNode(t, storage, 1, "", waitScript)
	stray := newNode(t, storage, 2, "", waitScript)
	foreign := newNode(t, storage, 3, "", waitScript)
	m, _ := newManager(t, storage, 2*time.Second)
	must(t, m.Start(t.Context(), kept))
	keptPID := wantStatus(t, m, kept, units.Running).PID
	strayPID := startLost(t, m, stray)
	foreignPID := startLost(t, m, foreign)

	// The foreign node runs, for the scan, as an account that is neither wnm's nor the nodes'.
	procs := &countingProcs{procTable: osProcs{}, reads: map[int]int{},
		owners: map[int]uint32{foreignPID: uint32(os.Getuid()) + 4242}}
	m.procs = procs
	pids, err := m.StopStrays(t.Context(), func(root string) bool { return root == kept.RootDir })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids, []int{strayPID}) {
		t.Errorf("StopStrays stopped %v, want [%d] (kept %d, foreign %d)", pids, strayPID, keptPID, foreignPID)
	}
	if n := procs.readsOf(keptPID); n != 0 {
		t.Errorf("the tracked node's command line was read %d times, want 0", n)
	}
	if n := procs.readsOf(foreignPID); n != 0 {
		t.Errorf("the other account's process had its command line read %d times, want 0", n)
	}
	if n := procs.readsOf(strayPID); n != 1 {
		t.Errorf("the stray's command line was read %d times, want 1", n)
	}
	if !gone(strayPID) {
		t.Errorf("stray pid %d still runs", strayPID)
	}
	for _, pid := range []int{keptPID, foreignPID} {
		if gone(pid) {
			t.Errorf("pid %d was stopped", pid)
		}
	}

	// Without its made-up owner the foreign node is a stray like any other.
	m.procs = osProcs{}
	pids, err = m.StopStrays(t.Context(), func(root string) bool { return root == kept.RootDir })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids, []int{foreignPID}) {
		t.Errorf("second StopStrays stopped %v, want [%d]", pids, foreignPID)
	}
	must(t, m.Stop(t.Context(), kept))
}

// TestStopStraysPIDFileOfAnotherProcess: a tracked node's pid file that names some other live
// process spares that process's command line, and hides nothing else.
func TestStopStraysPIDFileOfAnotherProcess(t *testing.T) {
	storage := t.TempDir()
	kept := newNode(t, storage, 1, "", waitScript)
	stray := newNode(t, storage, 2, "", waitScript)
	m, _ := newManager(t, storage, 2*time.Second)
	strayPID := startLost(t, m, stray)
	// The kept node is not running; its stale pid file names this test process's parent.
	must(t, os.WriteFile(filepath.Join(kept.RootDir, PIDFile), formatPIDFile(pidRecord{PID: os.Getppid(), StartMS: 1}), 0o644))
	procs := &countingProcs{procTable: osProcs{}, reads: map[int]int{}}
	m.procs = procs
	pids, err := m.StopStrays(t.Context(), func(root string) bool { return root == kept.RootDir })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids, []int{strayPID}) {
		t.Errorf("StopStrays stopped %v, want [%d]", pids, strayPID)
	}
	if n := procs.readsOf(os.Getppid()); n != 0 {
		t.Errorf("the process the pid file names had its command line read %d times, want 0", n)
	}
}

func TestRootDirIn(t *testing.T) {
	for _, c := range []struct {
		cmdline string
		root    string
		ok      bool
	}{
		{"/n/antnode\x00--root-dir\x00/n/antnode0001/\x00--port\x0012000\x00", "/n/antnode0001", true},
		{"/n/antnode\x00--root-dir=/n/antnode0002\x00", "/n/antnode0002", true},
		{"/bin/sh\x00/n/antnode\x00--rewards-address\x000xaa\x00--root-dir\x00/n/a b\x00", "/n/a b", true},
		{"/n/antnode\x00--root-dir\x00", "", false},            // no value
		{"/n/antnode\x00--root-dir\x00\x00\x00", "", false},    // trailing NULs dropped first
		{"/n/antnode\x00--root-dir\x00\x00--x\x00", ".", true}, // an empty value
		{"/n/antnode\x00--root-dir=\x00", ".", true},           // an empty value
		{"/n/antnode\x00--root-dirs\x00/n/antnode0001\x00", "", false},
		{"antnode --root-dir /n/antnode0001", "", false},                             // a rewritten title is one argument
		{"/n/antnode\x00--root-dir\x00/n/x\x00--root-dir\x00/n/y\x00", "/n/x", true}, // the first counts
		{"", "", false},
	} {
		root, ok := rootDirIn([]byte(c.cmdline))
		if root != c.root || ok != c.ok {
			t.Errorf("rootDirIn(%q) = %q, %v; want %q, %v", c.cmdline, root, ok, c.root, c.ok)
		}
	}
}

// TestOSProcs: the process table reads what gopsutil reads.
func TestOSProcs(t *testing.T) {
	long := strings.Repeat("x", 10000) // more than the scan's first buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSleep$", "--", "a b", "", long, "--root-dir", "/n/antnode0007")
	cmd.Env = append(os.Environ(), "SETSID_TEST_SLEEP=1")
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	// The kernel shows the new command line a moment after the exec that Start waited for.
	var want []string
	poll.Until(t, 10*time.Second, "the helper's command line", func() bool {
		want, _ = (&process.Process{Pid: int32(pid)}).CmdlineSlice()
		return slices.Contains(want, "/n/antnode0007")
	})

	var p procTable = osProcs{}
	pids, err := p.pids(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, os.Getpid()) || !slices.Contains(pids, pid) {
		t.Errorf("pids lacks this process %d or its child %d", os.Getpid(), pid)
	}
	uid, err := p.owner(pid)
	if runtime.GOOS == "linux" {
		if err != nil || uid != uint32(os.Geteuid()) {
			t.Errorf("owner(%d) = %d, %v; want %d", pid, uid, err, os.Geteuid())
		}
	}
	buf, err := p.cmdline(t.Context(), pid, make([]byte, 0, 16))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(string(bytes.TrimRight(buf, "\x00")), "\x00")
	if !slices.Equal(got, want) {
		t.Errorf("cmdline(%d) = %q, gopsutil reads %q", pid, got, want)
	}
	if root, ok := rootDirIn(buf); !ok || root != "/n/antnode0007" {
		t.Errorf("rootDirIn(cmdline) = %q, %v", root, ok)
	}

	must(t, cmd.Process.Kill())
	_ = cmd.Wait()
	if _, err := p.cmdline(t.Context(), pid, buf); err == nil {
		t.Errorf("cmdline of the reaped pid %d succeeded", pid)
	}
	if _, err := p.owner(pid); err == nil {
		t.Errorf("owner of the reaped pid %d succeeded", pid)
	}
}

// TestHelperSleep is the process TestOSProcs reads: it waits to be killed.
func TestHelperSleep(t *testing.T) {
	if os.Getenv("SETSID_TEST_SLEEP") != "1" {
		t.Skip("helper process")
	}
	time.Sleep(time.Hour)
}
