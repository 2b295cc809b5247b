package setsid

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/poll"
)

// idleScript is a node that idles in the shell, one process with the node's command line
// (/bin/sh <binary> --root-dir <dir>), as an antnode is: it waits for a line on its stdin, which
// startIdle holds open and never writes.
const idleScript = "#!/bin/sh\nread line\n"

// startIdle runs idleScript at bin with --root-dir root in its own process group, without the
// launcher, and stops it at cleanup. It returns the shell's pid once its command line passes root
// as --root-dir, read as the scan reads it, so the process is a node by the time the caller scans.
func startIdle(tb testing.TB, bin, root string, stdin *os.File) int {
	tb.Helper()
	cmd := exec.Command(bin, "--root-dir", root)
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	pid := cmd.Process.Pid
	tb.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	started := poll.Wait(10*time.Second, 5*time.Millisecond, func() bool {
		b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		dir, ok := rootDirIn(b)
		return ok && dir == filepath.Clean(root)
	})
	if !started {
		tb.Fatalf("pid %d did not run %s in time", pid, bin)
	}
	return pid
}

// fleet lays out a node storage with tracked nodes whose pid files name their live processes,
// kept nodes that lost their pid files, and nodes of another storage (not this manager's). Every
// node is a real idle process.
type fleet struct {
	storage string
	kept    map[string]bool
	pids    map[string]int // root dir -> pid
}

func startFleet(tb testing.TB, tracked, unfiled, elsewhere int) fleet {
	tb.Helper()
	f := fleet{storage: tb.TempDir(), kept: map[string]bool{}, pids: map[string]int{}}
	other := tb.TempDir()
	bin := filepath.Join(tb.TempDir(), "antnode")
	if err := os.WriteFile(bin, []byte(idleScript), 0o755); err != nil {
		tb.Fatal(err)
	}
	stdin, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	// Registered before the nodes' cleanups, so it runs after them: the nodes never read EOF.
	tb.Cleanup(func() { stdin.Close(); w.Close() })
	add := func(dir string, id int, pidFile, keep bool) {
		root := filepath.Join(dir, fmt.Sprintf("antnode%d", id))
		if err := os.MkdirAll(root, 0o755); err != nil {
			tb.Fatal(err)
		}
		pid := startIdle(tb, bin, root, stdin)
		f.pids[root] = pid
		if keep {
			f.kept[root] = true
		}
		if !pidFile {
			return
		}
		start, err := createTime(context.Background(), pid)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, PIDFile), formatPIDFile(pidRecord{PID: pid, StartMS: start}), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	id := 1
	for range tracked {
		add(f.storage, id, true, true)
		id++
	}
	for range unfiled {
		add(f.storage, id, false, true)
		id++
	}
	for range elsewhere {
		add(other, id, false, false)
		id++
	}
	return f
}

// BenchmarkStopStrays is one steady-state StopStrays over a fleet of real processes: 150 nodes
// tracked through their pid files, 10 kept nodes without one, 10 nodes of another storage, and
// whatever else runs on the machine. Run as root, every process passes the owner check; run as
// another account (setpriv --reuid on the test binary), root's processes are dropped unread. Nothing is a stray, so every iteration does the same work.
func BenchmarkStopStrays(b *testing.B) {
	f := startFleet(b, 150, 10, 10)
	m, err := New(Options{Mode: "user", NodeStorage: f.storage})
	if err != nil {
		b.Fatal(err)
	}
	keep := func(root string) bool { return f.kept[root] }
	b.ReportAllocs()
	before := cpuTime(b)
	b.ResetTimer()
	for range b.N {
		pids, err := m.StopStrays(context.Background(), keep)
		if err != nil || len(pids) != 0 {
			b.Fatalf("StopStrays = %v, %v; want nothing stopped", pids, err)
		}
	}
	b.StopTimer()
	// The CPU time this process spent, user and system, tells more than ns/op on a shared
	// machine, where the wall clock also counts the time other programs held the CPU.
	b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
