package setsid

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/units"
)

// pidCheckScript records, as its very first act, what node.pid says and its own pid ($$, which
// execve keeps from the launcher): a node must never run before its pid is on disk.
const pidCheckScript = "#!/bin/sh\nhead -n 1 node.pid > seen.tmp 2>/dev/null; echo $$ >> seen.tmp; mv seen.tmp seen.txt\nwhile :; do sleep 0.05; done\n"

func TestPIDRecordedBeforeTheNodeRuns(t *testing.T) {
	for i := range 5 {
		storage := t.TempDir()
		n := newNode(t, storage, i+1, "", pidCheckScript)
		m, _ := newManager(t, storage, 0)
		if err := m.Start(t.Context(), n); err != nil {
			t.Fatalf("Start: %v", err)
		}
		seen := filepath.Join(n.RootDir, "seen.txt")
		poll.Until(t, 10*time.Second, "the node to report", func() bool { _, err := os.Stat(seen); return err == nil })
		b, err := os.ReadFile(seen)
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b))
		if len(f) != 2 || f[0] != f[1] {
			t.Fatalf("the node saw node.pid %q at its first instruction, want its own pid (fields %q)", b, f)
		}
		if err := m.Stop(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNodeFoundWithoutPIDFile: a node whose pid file is lost (or stale) is still running, still
// stopped by Stop and Remove, and never started a second time.
func TestNodeFoundWithoutPIDFile(t *testing.T) {
	for _, how := range []string{"missing", "stale", "garbage", "root dir deleted"} {
		t.Run(how, func(t *testing.T) {
			storage := t.TempDir()
			n := newNode(t, storage, 4, "", loopScript)
			m, _ := newManager(t, storage, 2*time.Second)
			if err := m.Start(t.Context(), n); err != nil {
				t.Fatalf("Start: %v", err)
			}
			st := wantStatus(t, m, n, units.Running)
			pid := st.PID
			pidPath := filepath.Join(n.RootDir, PIDFile)
			switch how {
			case "missing":
				err := os.Remove(pidPath)
				must(t, err)
			case "stale":
				err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n1\n"), 0o644)
				must(t, err)
			case "garbage":
				err := os.WriteFile(pidPath, []byte("not a pid"), 0o644)
				must(t, err)
			case "root dir deleted":
				// What wnm-python's remove did, and wnm's did when the pid file was missing.
				err := os.Rename(n.RootDir, n.RootDir+".gone")
				must(t, err)
				t.Cleanup(func() { killPID(pid) })
			}
			got := wantStatus(t, m, n, units.Running)
			if got.PID != pid {
				t.Errorf("Status found pid %d, want %d", got.PID, pid)
			}
			if how != "root dir deleted" {
				// A second Start must not run a second copy on the same ports.
				if err := m.Start(t.Context(), n); err != nil {
					t.Fatalf("Start again: %v", err)
				}
				if procs, _ := m.findNode(t.Context(), n); len(procs) != 1 {
					t.Errorf("after a second Start %d processes run the node, want 1", len(procs))
				}
			}
			if err := m.Remove(t.Context(), n); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			poll.Until(t, 5*time.Second, "the node to exit", func() bool { return gone(pid) })
			wantStatus(t, m, n, units.Stopped)
		})
	}
}

func TestStopStrays(t *testing.T) {
	storage := t.TempDir()
	kept := newNode(t, storage, 1, "", loopScript)
	stray := newNode(t, storage, 2, "", loopScript)
	m, _ := newManager(t, storage, 2*time.Second)
	must(t, m.Start(t.Context(), kept))
	must(t, m.Start(t.Context(), stray))
	strayPID := wantStatus(t, m, stray, units.Running).PID
	keptPID := wantStatus(t, m, kept, units.Running).PID
	must(t, os.Remove(filepath.Join(stray.RootDir, PIDFile)))

	pids, err := m.StopStrays(t.Context(), func(root string) bool { return root == kept.RootDir })
	if err != nil {
		t.Fatal(err)
	}
	// A script node's forked children carry its command line until they exec, so more than one
	// pid may be stopped; the stray must be among them, the kept node's not.
	if !slices.Contains(pids, strayPID) || slices.Contains(pids, keptPID) {
		t.Fatalf("StopStrays stopped %v, want %d and not %d", pids, strayPID, keptPID)
	}
	if !gone(strayPID) {
		t.Errorf("stray pid %d still runs", strayPID)
	}
	if gone(keptPID) {
		t.Errorf("kept pid %d was stopped", keptPID)
	}
	must(t, m.Stop(t.Context(), kept))
}

func TestLaunchArgs(t *testing.T) {
	for _, c := range []*credential{nil, {uid: 7, gid: 8}, {uid: 1000, gid: 1000, groups: []uint32{4, 27, 1000}}} {
		args := launchArgs("/usr/bin/wnm", "/n/antnode0001/node.pid", c, []string{"/n/antnode0001/antnode", "--root-dir", "/n/antnode0001"})
		if args[1] != LaunchVerb || args[4] != "--" {
			t.Fatalf("launchArgs = %q", args)
		}
		got, err := parseAccount(args[3])
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (c == nil) || got != nil && (got.uid != c.uid || got.gid != c.gid || len(got.groups) != len(c.groups)) {
			t.Errorf("account %q parsed as %+v, want %+v", args[3], got, c)
		}
	}
	for _, bad := range []string{"", "1", "1:2", "a:2:", "1:2:x", "1:2:3:4"} {
		if _, err := parseAccount(bad); err == nil {
			t.Errorf("parseAccount(%q) succeeded", bad)
		}
	}
	if err := launch([]string{"relative", "-", "--", "/bin/true"}); err == nil {
		t.Error("launch accepted a relative pid file")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func killPID(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
