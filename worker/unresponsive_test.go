package worker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
)

// A fleet whose first three nodes are alive but never answer (hung metrics, garbage metrics, HTTP
// 500) still grows to node_cap with max_concurrent_starts 1: each bad node is really restarted (a
// new process) once per delay_start, at most MaxRestarts times, and then holds no start slot.
func TestUnresponsiveNodesAreRestartedBoundedlyAndGrowthGoesOn(t *testing.T) {
	const capN = 5
	bad := map[int]string{1: "FAKEANTNODE_HANG_METRICS=1", 2: "FAKEANTNODE_GARBAGE_METRICS=1", 3: "FAKEANTNODE_HTTP_STATUS=500"}
	f := newFleet(t, func(c *config.Config) { c.NodeCap = capN; c.SurveyTimeout = 500 })
	t.Cleanup(func() { killStorage(f.cfg.NodeStorage) })
	restarts := map[int]int{}
	pids := map[int]map[int]bool{}
	for cycle := 0; cycle < 40; cycle++ {
		next := len(f.nodes()) + 1
		r := f.cycle(61*time.Second, func(c *config.Config) { c.Environment = bad[next] })
		for _, a := range r.Results {
			if a.Kind == decide.Start && a.Restart {
				restarts[a.Node]++
				if bad[a.Node] == "" {
					t.Errorf("cycle %d restarted healthy node %d", cycle, a.Node)
				}
			}
		}
		for id := range bad {
			if p := f.pid(id); p > 0 {
				if pids[id] == nil {
					pids[id] = map[int]bool{}
				}
				pids[id][p] = true
			}
		}
		up := 0
		for id, n := range f.nodes() {
			if bad[id] == "" && n.Status == store.StatusRestarting {
				f.waitUp(id)
			}
			if n.Status == store.StatusRunning {
				up++
			}
		}
		if len(f.nodes()) == capN && up == capN-len(bad) && r.Plan.Counts.Restarting == 0 {
			break
		}
	}
	nodes := f.nodes()
	if len(nodes) != capN {
		t.Fatalf("fleet has %d nodes, want node_cap %d: %s", len(nodes), capN, f.statuses())
	}
	for id := range bad {
		if restarts[id] != decide.DefaultMaxRestarts {
			t.Errorf("node %d restarted %d times, want %d", id, restarts[id], decide.DefaultMaxRestarts)
		}
		// A real restart: a new process each time (a start of a live node used to do nothing).
		if len(pids[id]) != decide.DefaultMaxRestarts+1 {
			t.Errorf("node %d ran as %d distinct processes, want %d", id, len(pids[id]), decide.DefaultMaxRestarts+1)
		}
		if n := nodes[id]; n.Status != store.StatusStopped {
			t.Errorf("given-up node %d is %s, want STOPPED", id, n.Status)
		}
	}
	for id := 4; id <= capN; id++ {
		if n := nodes[id]; n.Status != store.StatusRunning {
			t.Errorf("healthy node %d is %s", id, n.Status)
		}
	}
	if b, ok, err := f.st.State(context.Background(), stateRestarts); err != nil || !ok || len(b) < 3 {
		t.Errorf("restart counts not recorded: %q %v %v", b, ok, err)
	}
	if !containsAll(f.logBuf.String(), "restarting a node that is alive but has not answered", "last restart of an unresponsive node") {
		t.Error("restarts are not logged with their reason")
	}
	// Further cycles restart nothing more.
	for range 3 {
		r := f.cycle(61*time.Second, nil)
		for _, a := range r.Plan.Actions {
			if a.Kind == decide.Start {
				t.Errorf("a given-up node is started again: %v", a)
			}
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
