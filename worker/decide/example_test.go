package decide_test

import (
	"fmt"
	"time"

	"github.com/wnm-project/wnm/worker/decide"
)

// A cluster of two nodes with room to grow: one node answers, the other
// has just stopped answering, so it is recorded STOPPED and started again.
func ExampleNext() {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	booted := now.Add(-48 * time.Hour)
	cfg := decide.DefaultConfig(4)
	cfg.LastBoot = booted
	p := decide.Next(decide.Input{
		Config: cfg,
		Host: decide.Host{
			CPU: decide.Known(12), Mem: decide.Known(40), HD: decide.Known(35),
			Load1: decide.Known(0.8), Load5: decide.Known(0.7), Load15: decide.Known(0.6),
			Boot: booted,
		},
		Nodes: []decide.Node{
			{ID: 1, Status: decide.Running, Born: booted, Changed: booted, Version: "0.4.10", Observed: true, Up: true},
			{ID: 2, Status: decide.Running, Born: booted, Changed: booted, Version: "0.4.10", Observed: true},
		},
		Latest: "0.4.10",
		Now:    now,
	})
	fmt.Print(p)
	// Output:
	// counts: total=2 running=1 stopped=1 restarting=0 upgrading=0 migrating=0 removing=0 dead=0 disabled=0 outdated=0
	// features: allow_cpu allow_mem allow_hd allow_hdio allow_netio load_allow allow_node_cap allow_total_cap stop_cooldown grow start_node add_new_node
	// transitions:
	//   node 2 RUNNING -> STOPPED: metrics endpoint not answering
	// actions:
	//   1. start node 2 [priority 50]: start stopped node (1/1)
	// not taken:
	//   no add: max_concurrent_starts 1 used by this cycle's starts
}
