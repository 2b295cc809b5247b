package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/netns"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// On a full disk (a small tmpfs, filled up, in a private mount namespace) the cycle still removes
// nodes for hd_remove: the database write that fails first releases the disk reserve, and the
// removal frees the space. It used to abort at the survey record, before any action, for ever.
func TestFullDiskStillRemovesNodes(t *testing.T) {
	if !netns.InChild(t) {
		netns.Require(t)
		netns.Reexec(t, netns.Config{})
		return
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64m"); err != nil {
		t.Fatalf("mount a small tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	f := newFleetAt(t, dir, func(c *config.Config) { c.NodeCap = 2; c.MaxStarts, c.MaxOperations = 2, 2 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	f.grow()
	f.cycle(61*time.Second, nil) // writes the reserve
	if _, err := os.Stat(filepath.Join(dir, reserveName)); err != nil {
		t.Fatalf("no disk reserve after a cycle: %v", err)
	}
	pid2 := f.pid(2)

	// Fill the disk to the last byte.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for {
		if _, err := filler.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for _, n := range []int{4096, 1} {
		for {
			if _, err := filler.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	filler.Close()
	if err := f.st.Write(context.Background(), func(w *store.Writer) error { return w.SetState("probe", make([]byte, 1<<16)) }); err == nil {
		t.Fatal("the database still takes writes: the disk is not full")
	}

	// The real disk figure (100 %), everything else idle.
	realDisk := func(ctx context.Context, o survey.Options) survey.Observation {
		disk := survey.Survey(ctx, o).Host.DiskPercent
		obs := f.pinned(ctx, o)
		obs.Host.DiskPercent = disk
		return obs
	}
	f.now = f.now.Add(61 * time.Second)
	r, err := Run(context.Background(), Options{Store: f.st, Config: f.cfg, Platform: f.plat, Logger: f.log,
		Now: func() time.Time { return f.now }, Survey: realDisk})
	if err != nil {
		t.Fatalf("cycle on a full disk: %v", err)
	}
	if !r.Plan.Features.RemoveHD {
		t.Fatalf("disk at %v: no hd_remove pressure; plan %v", r.Obs.Host.DiskPercent, r.Plan.Actions)
	}
	removed := false
	for _, a := range r.Results {
		if a.Kind == decide.Remove && a.OK {
			removed = true
		}
		if !a.OK {
			t.Errorf("action %v failed: %s", a.Action, a.Error)
		}
	}
	if !removed || alive(pid2) {
		t.Fatalf("no node removed on a full disk (node 2 alive: %v): %+v", alive(pid2), r.Results)
	}
	if _, err := os.Stat(filepath.Join(f.cfg.NodeStorage, "antnode0002")); !os.IsNotExist(err) {
		t.Errorf("node 2's directory is still there (%v)", err)
	}
	if cycles, err := f.st.Cycles(context.Background(), 10); err != nil || len(cycles) == 0 || cycles[0].StartedAt != f.now.UnixMilli() {
		t.Errorf("the full-disk cycle is not recorded: %v", err)
	}
}
