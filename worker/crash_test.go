package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
)

// nodeProcs returns the live processes whose command line passes a --root-dir inside storage, by
// pid: what an operator would find with ps, whatever wnm's pid files say.
func nodeProcs(storage string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || !alive(pid) {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
		for i, a := range argv {
			if a == "--root-dir" && i+1 < len(argv) && filepath.Dir(argv[i+1]) == filepath.Clean(storage) {
				out[pid] = argv[i+1]
			}
		}
	}
	return out
}

// untracked returns the node processes in storage whose root dir no row names, and the RUNNING or
// RESTARTING rows with no process.
func untracked(t *testing.T, st *store.Store, storage string) (procs []string, rows []string) {
	t.Helper()
	ns, err := st.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byRoot := map[string]store.Node{}
	for _, n := range ns {
		byRoot[filepath.Clean(n.RootDir)] = n
	}
	live := map[string]bool{}
	for pid, root := range nodeProcs(storage) {
		live[root] = true
		if _, ok := byRoot[root]; !ok {
			procs = append(procs, fmt.Sprintf("pid %d (%s)", pid, root))
		}
	}
	for root, n := range byRoot {
		if n.Status == store.StatusRunning && !live[root] {
			rows = append(rows, fmt.Sprintf("node %d %s", n.ID, n.Status))
		}
	}
	return procs, rows
}

func killStorage(storage string) {
	for pid := range nodeProcs(storage) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// A cycle killed after it started a node but before it recorded the end of the add leaves a row
// with the add intent and, with the old code, no pid file. The next cycle must find the node by its
// command line and keep it, not delete its row and directory and leave it running.
func TestInterruptedAddWithoutPIDFileKeepsTheNode(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	f.cycle(time.Second, nil)
	f.waitUp(1)
	pid := f.pid(1)
	ctx := context.Background()
	err := f.st.Write(ctx, func(w *store.Writer) error {
		n, err := w.Node(1)
		if err != nil {
			return err
		}
		n.WNMIntent, n.WNMIntentAt, n.Status = "add", f.now.UnixMilli(), store.StatusStopped
		return w.UpdateNode(n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.cfg.NodeStorage, "antnode0001", "node.pid")); err != nil {
		t.Fatal(err)
	}
	f.cycle(61*time.Second, nil)
	if procs, rows := untracked(t, f.st, f.cfg.NodeStorage); len(procs)+len(rows) > 0 {
		t.Fatalf("untracked processes %v, rows without a process %v", procs, rows)
	}
	if n, ok := f.nodes()[1]; !ok || n.WNMIntent != "" {
		t.Fatalf("node 1 after reconcile: %+v (present %v)", n, ok)
	}
	if !alive(pid) {
		t.Error("the node that was running was stopped")
	}
	// Growth goes on: no second copy fails on the ports.
	f.cycle(61*time.Second, func(c *config.Config) { c.NodeCap = 2 })
	f.waitUp(1, 2)
}

// Removing a node whose pid file is gone stops its process (it used to report success and leave
// the process running with its directory deleted).
func TestRemoveWithoutPIDFileStopsTheNode(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	f.grow()
	pid := f.pid(1)
	if err := os.Remove(filepath.Join(f.cfg.NodeStorage, "antnode0001", "node.pid")); err != nil {
		t.Fatal(err)
	}
	f.cycle(61*time.Second, func(c *config.Config) { c.NodeCap = 0 })
	if !poll.Wait(15*time.Second, poll.Interval, func() bool { return !alive(pid) }) {
		t.Fatalf("remove left pid %d running (%s)", pid, f.statuses())
	}
	if procs, rows := untracked(t, f.st, f.cfg.NodeStorage); len(procs)+len(rows) > 0 {
		t.Fatalf("untracked processes %v, rows without a process %v", procs, rows)
	}
}

// A node process that no row tracks (its record was lost) is stopped by the next cycle, so its id
// and ports can be used again.
func TestStrayNodeProcessIsStopped(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	f.grow()
	pid := f.pid(1)
	if err := f.st.Write(context.Background(), func(w *store.Writer) error { return w.DeleteNode(1) }); err != nil {
		t.Fatal(err)
	}
	f.cycle(61*time.Second, nil)
	if alive(pid) {
		t.Fatalf("stray pid %d still runs", pid)
	}
	for id := range f.nodes() {
		f.waitUp(id) // a new node starts: nothing holds the ports any more
	}
	if procs, rows := untracked(t, f.st, f.cfg.NodeStorage); len(procs)+len(rows) > 0 {
		t.Fatalf("untracked processes %v, rows without a process %v", procs, rows)
	}
}

// An upgrade killed mid-copy leaves a temporary binary in the node's dir; the next cycle removes
// it (and the temporary names of pid files), and nothing else.
func TestLeftoverTempFilesAreSwept(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	f.grow()
	root := filepath.Join(f.cfg.NodeStorage, "antnode0001")
	junk := []string{tempPrefix + "123456", ".antnode5577006791947779410", ".node.pid42"}
	keep := []string{".antnode-notes", "antnode.old", "secret-key"}
	for _, name := range append(append([]string{}, junk...), keep[:2]...) {
		if err := os.WriteFile(filepath.Join(root, name), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.cycle(61*time.Second, nil)
	for _, name := range junk {
		if _, err := os.Stat(filepath.Join(root, name)); !os.IsNotExist(err) {
			t.Errorf("%s survived the cycle (%v)", name, err)
		}
	}
	for _, name := range keep {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}
}

// installBinary writes under a recognisable temporary name, which it never leaves behind.
func TestInstallBinaryTempName(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("binary"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "antnode")
	if err := installBinary(src, dst); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("entries after install: %v", entries)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("installed binary: %v %v", fi, err)
	}
	if !leftover().MatchString(tempPrefix+"anything") || leftover().MatchString("antnode") {
		t.Error("leftover pattern")
	}
}

// failingRemove is a node manager whose first Remove fails, as a systemctl or launchctl call can.
type failingRemove struct {
	units.Manager
	fails int
}

func (m *failingRemove) Remove(ctx context.Context, n gen.Node) error {
	if m.fails > 0 {
		m.fails--
		return errors.New("systemctl disable --now antnode0003.service: Transport endpoint is not connected")
	}
	return m.Manager.Remove(ctx, n)
}

// An interrupted add whose undo fails in the manager keeps its row (and intent), so the unit or
// plist the manager may still hold is never forgotten; the next cycle finishes the undo.
func TestInterruptedAddIsForgottenOnlyOnceTheManagerRemovedIt(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	f.grow()
	ctx := context.Background()
	err := f.st.Write(ctx, func(w *store.Writer) error {
		n, err := w.Node(1)
		if err != nil {
			return err
		}
		n3 := n
		n3.ID, n3.NodeName, n3.Service = 3, "0003", "antnode0003.service"
		n3.RootDir, n3.Binary = filepath.Join(f.cfg.NodeStorage, "antnode0003"), filepath.Join(f.cfg.NodeStorage, "antnode0003", "antnode")
		n3.Port, n3.MetricsPort, n3.WNMIntent, n3.WNMIntentAt = f.cfg.PortStart*1000+3, f.cfg.MetricsPortStart*1000+3, "add", f.now.UnixMilli()
		n3.Status = store.StatusStopped
		return w.InsertNode(n3)
	})
	if err != nil {
		t.Fatal(err)
	}
	real, err := NewManager(f.cfg, f.plat, f.log)
	if err != nil {
		t.Fatal(err)
	}
	m := &failingRemove{Manager: real, fails: 2} // the reconcile's undo, then the dead-node removal
	run := func() {
		f.now = f.now.Add(61 * time.Second)
		if _, err := Run(ctx, Options{Store: f.st, Config: f.cfg, Platform: f.plat, Logger: f.log, Manager: m,
			Now: func() time.Time { return f.now }, Survey: f.pinned}); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n, ok := f.nodes()[3]; !ok || n.WNMIntent == "" {
		t.Fatalf("after failed removals node 3 is %+v (row present: %v), want its row with an intent", n, ok)
	}
	run()
	if n, ok := f.nodes()[3]; ok && (n.WNMIntent != "" || n.Status != store.StatusRemoving) {
		t.Fatalf("after the manager removed it node 3 is %s with intent %q", n.Status, n.WNMIntent)
	}
}
