package decide_test

import (
	"testing"
	"time"

	"github.com/wnm-project/wnm/worker/decide"
)

// bench1000 is a 1,000-node cluster with mixed statuses: mostly running
// (a quarter of them outdated), some stopped, restarting (half of them
// past delay_start), upgrading, removing (some expired), disabled and
// unobserved, with generous limits so that the upgrade rule has to sort
// and pick 100 nodes.
func bench1000() decide.Input {
	nodes := make([]decide.Node, 0, 1000)
	for id := 1; id <= 1000; id++ {
		var n decide.Node
		switch id % 20 {
		case 0:
			n = node(id, stopped)
		case 1:
			n = node(id, restarting, ago(time.Duration(id%10)*time.Minute), up)
		case 2:
			n = node(id, upgrading, ago(time.Minute))
		case 3:
			n = node(id, removing, ago(time.Duration(id%10)*time.Minute))
		case 4:
			n = node(id, disabled)
		case 5:
			n = node(id, running, unobserved)
		case 6:
			n = node(id, running, down)
		default:
			n = node(id, running)
		}
		if id%4 == 0 {
			n.Version = "0.4.9"
		}
		n.Born = t0.Add(-time.Duration(id*7919%1000) * time.Hour)
		nodes = append(nodes, n)
	}
	return with(input(nodes...), nodeCap(1200), limits(300, 100, 100, 500))
}

func BenchmarkNext1000(b *testing.B) {
	in := bench1000()
	p := decide.Next(in)
	if len(p.Actions) < 100 || p.Actions[len(p.Actions)-1].Kind != decide.Upgrade {
		b.Fatalf("benchmark plan is not the intended upgrade plan:\n%s", p)
	}
	b.ReportAllocs()
	for b.Loop() {
		decide.Next(in)
	}
}
