package decide_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wnm-project/wnm/worker/decide"
)

// alive marks a node whose process runs although its metrics endpoint does not answer.
func alive(n *decide.Node) { n.Up, n.Alive = false, true }

// restarts sets how often the node was restarted while unresponsive.
func restarts(k int) nodeOpt { return func(n *decide.Node) { n.Restarts = k } }

func restart(id int, reason string) decide.Action {
	return decide.Action{Kind: decide.Start, Node: id, Reason: reason, Priority: 50, Restart: true}
}

func TestUnresponsiveNodes(t *testing.T) {
	tests := []struct {
		name  string
		in    decide.Input
		want  []decide.Action
		trans []decide.Transition
	}{
		{
			name:  "RESTARTING node alive but silent for delay_start is restarted",
			in:    input(node(1, running), node(2, restarting, ago(6*time.Minute), alive)),
			trans: []decide.Transition{tr(2, restarting, stopped, "start delay expired, metrics endpoint not answering")},
			want:  []decide.Action{restart(2, "restart node alive but not answering for delay_start (1/1), restart 1 of 3")},
		},
		{
			name:  "UPGRADING node alive but silent for delay_upgrade is restarted",
			in:    input(node(1, running), node(2, upgrading, ago(6*time.Minute), alive, restarts(1))),
			trans: []decide.Transition{tr(2, upgrading, stopped, "upgrade delay expired, metrics endpoint not answering")},
			want:  []decide.Action{restart(2, "restart node alive but not answering for delay_start (1/1), restart 2 of 3")},
		},
		{
			name:  "RUNNING node that just stopped answering is not restarted at once, and blocks no add",
			in:    input(node(1, running), node(2, running, alive)),
			trans: []decide.Transition{tr(2, running, stopped, "metrics endpoint not answering")},
			want:  []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name: "STOPPED node silent for less than delay_start waits without a start slot",
			in:   input(node(1, running), node(2, stopped, ago(time.Minute), alive)),
			want: []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name: "STOPPED node silent for delay_start is restarted",
			in:   input(node(1, running), node(2, stopped, ago(5*time.Minute), alive, restarts(2))),
			want: []decide.Action{restart(2, "restart node alive but not answering for delay_start (1/1), restart 3 of 3")},
		},
		{
			name:  "given up after max restarts: no restart, growth goes on",
			in:    input(node(1, running), node(2, restarting, ago(6*time.Minute), alive, restarts(3))),
			trans: []decide.Transition{tr(2, restarting, stopped, "start delay expired, metrics endpoint not answering")},
			want:  []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name: "given up nodes do not stop growth to node_cap",
			in: with(input(node(1, running), node(2, stopped, alive, restarts(3)), node(3, stopped, alive, restarts(5)),
				node(4, running)), nodeCap(5)),
			want: []decide.Action{add(5, "add new node (1/1)")},
		},
		{
			name: "given up nodes count towards node_cap",
			in: with(input(node(1, running), node(2, stopped, alive, restarts(3)), node(3, running)),
				nodeCap(3)),
			want: []decide.Action{idle},
		},
		{
			name: "a dead process is started as before, whatever its restart count",
			in:   input(node(1, running), node(2, stopped, restarts(3))),
			want: []decide.Action{start(2, "start stopped node (1/1)")},
		},
		{
			name: "MaxRestarts 0 never restarts",
			in: with(input(node(1, running), node(2, stopped, alive)),
				func(in *decide.Input) { in.Config.MaxRestarts = 0 }),
			want: []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name: "hard removal takes a given-up node first",
			in: with(input(node(1, running), node(2, stopped, alive, restarts(3)), node(3, running)),
				nodeCap(2)),
			want: []decide.Action{removeStopped(2, "remove stopped node (1/1)")},
		},
		{
			name: "restart stays within the start limit",
			in: with(input(node(1, running), node(2, stopped, ago(6*time.Minute), alive), node(3, stopped, ago(6*time.Minute), alive)),
				limits(1, 1, 1, 1)),
			want: []decide.Action{restart(2, "restart node alive but not answering for delay_start (1/1), restart 1 of 3")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decide.Next(tt.in)
			if diff := cmp.Diff(tt.want, p.Actions); diff != "" {
				t.Errorf("Next actions mismatch (-want +got):\n%s\nplan:\n%s", diff, p)
			}
			if diff := cmp.Diff(tt.trans, p.Transitions, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Next transitions mismatch (-want +got):\n%s\nplan:\n%s", diff, p)
			}
		})
	}
}

// TestHungNodeIsRestartedBoundedly runs cycles over a node that never answers: it is restarted
// MaxRestarts times, once per delay_start, and then holds no start slot.
func TestHungNodeIsRestartedBoundedly(t *testing.T) {
	now := t0
	n := node(1, restarting, alive, func(n *decide.Node) { n.Changed = now })
	other := 2
	restartsSeen, adds := 0, 0
	var live []decide.Node
	for cycle := 0; cycle < 40; cycle++ {
		now = now.Add(time.Minute)
		in := with(input(append([]decide.Node{n}, live...)...), nodeCap(6))
		in.Now = now
		p := decide.Next(in)
		for _, tr := range p.Transitions {
			if tr.Node == 1 {
				n.Status, n.Changed = tr.To, now
			}
		}
		for _, a := range p.Actions {
			switch {
			case a.Kind == decide.Start && a.Node == 1:
				if !a.Restart {
					t.Fatalf("cycle %d: start without restart for a live node: %v", cycle, a)
				}
				restartsSeen++
				n.Restarts++
				n.Status, n.Changed = restarting, now
			case a.Kind == decide.Add:
				adds++
				live = append(live, node(a.Node, running, bornAt(now)))
				other++
			}
		}
	}
	if restartsSeen != decide.DefaultMaxRestarts {
		t.Errorf("restarts = %d, want %d", restartsSeen, decide.DefaultMaxRestarts)
	}
	if got := len(live) + 1; got != 6 {
		t.Errorf("fleet size = %d, want node_cap 6 (adds %d)", got, adds)
	}
}
