package decide_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/worker/decide"
)

// Every decision a plan does not take is explained with the measured figure beside its threshold,
// or the limit in use and by which node.
func TestNotTaken(t *testing.T) {
	var (
		running    = decide.Running
		stopped    = decide.Stopped
		restarting = decide.Restarting
		upgrading  = decide.Upgrading
	)
	tests := []struct {
		name string
		in   decide.Input
		want []string // reasons, in order
		kind decide.Kind
		meas float64 // Measured of the first skip, when kind is set
		thr  float64
	}{
		{
			name: "CPU above cpu_less_than",
			in:   with(input(node(1, running)), cpu(k(97.43)), func(in *decide.Input) { in.Config.CPURemove = 99 }),
			want: []string{"no add: CPU 97.4 % ≥ cpu_less_than 50 %"},
			kind: decide.Add, meas: 97.43, thr: 50,
		},
		{
			name: "unknown CPU",
			in:   with(input(node(1, running)), cpu(decide.Reading{})),
			want: []string{"no add: CPU unknown (the survey could not read it; cpu_less_than 50 %)"},
		},
		{
			name: "no free id",
			in: with(input(node(1, running), node(2, running)), limits(1, 4, 1, 4),
				func(in *decide.Input) { in.MaxID, in.Held, in.Reserved = 4, []int{4}, []int{3} }),
			want: []string{"no add: no free node id: every id up to 4 is a node's, held by a unit or node directory, or has a port in use"},
		},
		{
			name: "ids run out after one add",
			in: with(input(node(1, running), node(2, running)), limits(1, 4, 1, 4),
				func(in *decide.Input) { in.MaxID, in.Reserved = 4, []int{3} }),
			want: []string{"no add: no free node id: every id up to 4 is a node's, held by a unit or node directory, or has a port in use"},
		},
		{
			name: "start slot in use",
			in: with(input(node(1, running), node(2, restarting, ago(time.Minute)), node(5, stopped)),
				limits(1, 1, 1, 3)),
			want: []string{
				"stopped node 5 not started: waiting for node 2 (RESTARTING until 12:04:00)",
				"no add: waiting for node 2 (RESTARTING until 12:04:00)",
			},
		},
		{
			name: "upgrade waits for another upgrade",
			in: with(input(node(1, running, ver("0.4.9")), node(3, upgrading, ago(time.Minute), ver("0.4.9"))),
				limits(1, 1, 1, 3)),
			want: []string{
				"outdated node 1 (0.4.9 < 0.4.10) not upgraded: max_concurrent_upgrades 1 in use by node 3 (UPGRADING until 12:04:00)",
				"no add: waiting for node 3 (UPGRADING until 12:04:00)",
			},
		},
		{
			name: "global capacity",
			in:   with(input(node(1, running), node(2, restarting, ago(time.Minute)), node(5, stopped))),
			want: []string{
				"stopped node 5 not started: max_concurrent_operations 1 in use by node 2 (RESTARTING until 12:04:00)",
				"no add: max_concurrent_operations 1 in use by node 2 (RESTARTING until 12:04:00)",
			},
		},
		{
			name: "latest version unknown: no add planned",
			in:   with(input(node(1, running)), func(in *decide.Input) { in.Latest = "" }),
			want: []string{"no add: the version of antnode_path is unknown (a new node would have no binary to run)"},
		},
		{
			name: "cap reached",
			in:   with(input(node(1, running), node(2, running)), nodeCap(2)),
			want: []string{"no add: 2 nodes ≥ node_cap 2"},
			kind: decide.Add, meas: 2, thr: 2,
		},
		{
			name: "load above desired",
			in: with(input(node(1, running)), func(in *decide.Input) {
				in.Host.Load5 = k(3.456)
			}),
			want: []string{"no add: load average 5m 3.46 ≥ desired_load_average 2.4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decide.Next(tt.in)
			var got []string
			for _, s := range p.NotTaken {
				got = append(got, s.Reason)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("not taken:\n%s\nwant:\n%s\nplan:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), p)
			}
			if tt.kind != 0 {
				s := p.NotTaken[0]
				if s.Kind != tt.kind || s.Measured == nil || *s.Measured != tt.meas || s.Threshold == nil || *s.Threshold != tt.thr {
					t.Errorf("first skip %+v, want kind %v measured %v threshold %v", s, tt.kind, tt.meas, tt.thr)
				}
			}
			for _, a := range p.Actions {
				if a.Kind == decide.Add && a.Version == "" {
					t.Errorf("plan adds node %d with no version to install", a.Node)
				}
			}
		})
	}
}
