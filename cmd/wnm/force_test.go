package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/testenv/ports"
	"github.com/wnm-project/wnm/worker/store"
)

// A forced action started while a timer cycle holds the lock waits for it, then runs: the two
// never overlap, and both are recorded.
func TestForcedActionWaitsForCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wnm and runs real processes")
	}
	bin := buildWnm(t)
	env, home := slowMachine(t, bin, 3*time.Second)
	// The process manager is explicit, so that no database elsewhere on the host decides the mode.
	env = append(env, "WNM_PROCESS_MANAGER=setsid+user")
	cycle := make(chan run)
	go func() { cycle <- runWnm(bin, env, "run") }()
	lockFile := filepath.Join(home, ".local/share/autonomi/wnm_active")
	poll.Until(t, 10*time.Second, "the cycle to take the lock", func() bool {
		b, _ := os.ReadFile(lockFile)
		return strings.HasPrefix(string(b), "pid=")
	})
	forced := runWnm(bin, env, "node", "survey")
	c := <-cycle
	if c.code != 0 || forced.code != 0 {
		t.Fatalf("cycle exit %d (%s), forced survey exit %d (%s)", c.code, c.stderr, forced.code, forced.stderr)
	}
	if !strings.Contains(forced.stderr, "waiting for the running cycle to finish") {
		t.Errorf("the forced action did not wait: %s", forced.stderr)
	}
	st, err := store.Open(context.Background(), filepath.Join(home, ".local/share/autonomi/colony.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Cycles(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d cycle rows, want the cycle's and the forced survey's", len(rows))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].StartedAt < rows[j].StartedAt })
	if end := rows[0].StartedAt + rows[0].DurationMS; end > rows[1].StartedAt {
		t.Errorf("overlap: the first ran %d..%d ms, the second started at %d", rows[0].StartedAt, end, rows[1].StartedAt)
	}
	if !strings.Contains(string(rows[1].Plan), `"forced":"survey"`) {
		t.Errorf("the second row is not the forced survey: %s", rows[1].Plan)
	}
}

// fleetHome initialises wnm with the fake antnode in a scratch HOME and returns its environment.
func fleetHome(t *testing.T, bin string, extra ...string) (env []string, home string) {
	t.Helper()
	home = t.TempDir()
	antnode := filepath.Join(home, "release", "antnode")
	if err := os.MkdirAll(filepath.Dir(antnode), 0o755); err != nil {
		t.Fatal(err)
	}
	fakeantnode.Release(t, fakeantnode.Build(t), "0.4.17", antnode)
	ranges := ports.Thousands(t, 3, 20)
	env = append(os.Environ(), "HOME="+home, "WNM_PROCESS_MANAGER=setsid+user")
	args := append([]string{"init", "--rewards_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"--process_manager", "setsid+user", "--antnode_path", antnode,
		"--port_start", fmt.Sprint(ranges[0]), "--metrics_port_start", fmt.Sprint(ranges[1]), "--rpc_port_start", fmt.Sprint(ranges[2])}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	nodes := filepath.Join(home, ".local/share/autonomi/node")
	t.Cleanup(func() { killNodes(nodes) })
	return env, home
}

// nodeProcesses returns the pids of running processes whose executable lives under dir.
func nodeProcesses(dir string) map[int]string {
	out := map[int]string{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		var pid int
		if _, err := fmt.Sscanf(p.Name(), "%d", &pid); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", p.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+string(filepath.Separator)) {
			out[pid] = exe
		}
	}
	return out
}

// A forced add killed with SIGKILL in the middle of creating a node leaves an intent row; the next
// cycle finishes or undoes it, so that no process, directory or row is left untracked.
func TestKilledForcedAddIsReconciled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wnm and runs real processes")
	}
	bin := buildWnm(t)
	env, home := fleetHome(t, bin)
	db := filepath.Join(home, ".local/share/autonomi/colony.db")
	nodes := filepath.Join(home, ".local/share/autonomi/node")
	cmd := exec.Command(bin, "node", "add", "--count", "3")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Kill it as soon as the second node's row carries its intent: node 1 is complete, node 2 is
	// half made.
	if !poll.Wait(20*time.Second, 2*time.Millisecond, func() bool {
		n, err := st.Node(context.Background(), 2)
		return err == nil && n.WNMIntent == "add"
	}) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("never saw node 2's add intent")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	if r := runWnm(bin, env, "run", "--node_cap", "2"); r.code != 0 {
		t.Fatalf("cycle after the kill: exit %d\n%s", r.code, r.stderr)
	} else if !strings.Contains(r.stderr, "finishing an interrupted action") {
		t.Errorf("the cycle did not reconcile: %s", r.stderr)
	}
	rows, err := st.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tracked := map[string]bool{}
	for _, n := range rows {
		if n.WNMIntent != "" {
			t.Errorf("node %d still carries intent %q", n.ID, n.WNMIntent)
		}
		tracked[n.Binary] = true
	}
	if len(rows) < 1 || rows[0].ID != 1 {
		t.Errorf("node 1, complete before the kill, is gone: %+v", rows)
	}
	// Every node process and every node directory belongs to a row.
	time.Sleep(100 * time.Millisecond)
	for pid, exe := range nodeProcesses(nodes) {
		if !tracked[exe] {
			t.Errorf("untracked node process %d (%s)", pid, exe)
		}
	}
	dirs, _ := os.ReadDir(nodes)
	for _, d := range dirs {
		if !tracked[filepath.Join(nodes, d.Name(), "antnode")] {
			t.Errorf("untracked node directory %s", d.Name())
		}
	}
}
