package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
)

// cancelOnStart is a node manager that cancels the cycle's context (as SIGTERM does) while it
// starts the first node.
type cancelOnStart struct {
	units.Manager
	cancel context.CancelCauseFunc
	starts int
}

func (m *cancelOnStart) Start(ctx context.Context, n gen.Node) error {
	m.starts++
	if m.starts == 1 {
		m.cancel(errors.New("received terminated"))
	}
	return m.Manager.Start(ctx, n)
}

// SIGTERM in the middle of a cycle: the action under way finishes, no other starts, the cycle is
// recorded, and Run says it was interrupted.
func TestInterruptedCycleFinishesTheCurrentActionAndIsRecorded(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 3; c.MaxStarts, c.MaxOperations = 3, 3 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	real, err := NewManager(f.cfg, f.plat, f.log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	m := &cancelOnStart{Manager: real, cancel: cancel}
	f.now = f.now.Add(time.Second)
	r, err := Run(ctx, Options{Store: f.st, Config: f.cfg, Platform: f.plat, Logger: f.log, Manager: m,
		Now: func() time.Time { return f.now }, Survey: f.pinned})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run error = %v, want ErrInterrupted", err)
	}
	if r == nil || len(r.Plan.Actions) != 3 || len(r.Results) != 1 || !r.Results[0].OK || r.Results[0].Kind != decide.Add {
		t.Fatalf("result %+v, want the first of 3 adds done", r)
	}
	if m.starts != 1 {
		t.Errorf("%d starts after the signal, want none", m.starts-1)
	}
	nodes := f.nodes()
	if len(nodes) != 1 || nodes[1].WNMIntent != "" {
		t.Errorf("rows after an interrupted cycle: %+v", nodes)
	}
	f.waitUp(1)
	cycles, err := f.st.Cycles(context.Background(), 5)
	if err != nil || len(cycles) != 1 {
		t.Fatalf("cycle rows: %v %v, want the interrupted cycle recorded", cycles, err)
	}
}
