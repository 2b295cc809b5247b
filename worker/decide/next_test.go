package decide_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wnm-project/wnm/worker/decide"
)

const (
	running    = decide.Running
	stopped    = decide.Stopped
	restarting = decide.Restarting
	upgrading  = decide.Upgrading
	removing   = decide.Removing
	disabled   = decide.Disabled
	dead       = decide.Dead
	migrating  = decide.Migrating
)

func TestNext(t *testing.T) {
	tests := []struct {
		name  string
		in    decide.Input
		want  []decide.Action
		trans []decide.Transition
	}{
		// Rule 1: transitions.
		{
			name: "transitions/DISABLED never changes even when gone or up",
			in: input(node(1, running),
				node(2, disabled, func(n *decide.Node) { n.Observed, n.Up, n.Gone = true, true, true })),
			want: []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name:  "transitions/gone node becomes DEAD and is removed",
			in:    input(node(1, running), node(2, running, gone)),
			trans: []decide.Transition{tr(2, running, dead, "root directory missing")},
			want:  []decide.Action{removeDead(2)},
		},
		{
			name: "transitions/gone REMOVING node stays REMOVING",
			in:   input(node(1, running), node(2, removing, ago(time.Minute), gone)),
			want: []decide.Action{atCapacity},
		},
		{
			name:  "transitions/gone RESTARTING node becomes DEAD before its delay",
			in:    input(node(1, running), node(2, restarting, ago(time.Minute), gone)),
			trans: []decide.Transition{tr(2, restarting, dead, "root directory missing")},
			want:  []decide.Action{removeDead(2)},
		},
		{
			name: "transitions/fix-5 RESTARTING is kept before delay_start",
			in:   input(node(1, running), node(2, restarting, ago(4*time.Minute), down)),
			want: []decide.Action{atCapacity},
		},
		{
			name:  "transitions/fix-5 RESTARTING follows the observation after delay_start",
			in:    input(node(1, running), node(2, restarting, ago(6*time.Minute), down)),
			trans: []decide.Transition{tr(2, restarting, stopped, "start delay expired, metrics endpoint not answering")},
			want:  []decide.Action{start(2, "start stopped node (1/1)")},
		},
		{
			name: "transitions/fix-5 UPGRADING is kept before delay_upgrade",
			in:   input(node(1, running), node(2, upgrading, ago(4*time.Minute), up)),
			want: []decide.Action{atCapacity},
		},
		{
			name:  "transitions/fix-5 UPGRADING follows the observation once delay_upgrade has passed",
			in:    input(node(1, running), node(2, upgrading, ago(5*time.Minute), up)),
			trans: []decide.Transition{tr(2, upgrading, running, "upgrade delay expired, metrics endpoint answering")},
			want:  []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name: "transitions/RUNNING and STOPPED follow the observation",
			in:   input(node(1, running, down), node(2, stopped, up)),
			trans: []decide.Transition{
				tr(1, running, stopped, "metrics endpoint not answering"),
				tr(2, stopped, running, "metrics endpoint answering"),
			},
			want: []decide.Action{start(1, "start stopped node (1/1)")},
		},
		{
			name: "transitions/unobserved nodes keep their status",
			in: input(node(1, running, unobserved, down, gone),
				node(2, restarting, ago(time.Hour), unobserved)),
			want: []decide.Action{atCapacity},
		},
		{
			name: "transitions/REMOVING is kept before delay_remove",
			in: with(input(node(1, running), node(2, removing, ago(4*time.Minute), up)),
				limits(1, 1, 1, 2)),
			want: []decide.Action{idle},
		},
		{
			name: "transitions/fix-18 expired REMOVING is forgotten and counts are recomputed",
			in: with(input(node(1, running), node(2, running), node(3, removing, ago(6*time.Minute))),
				nodeCap(3)),
			want: []decide.Action{forget(3), add(4, "add new node (1/1)")},
		},
		{
			name:  "transitions/unknown stored status follows the observation",
			in:    input(node(1, "BOGUS", up)),
			trans: []decide.Transition{tr(1, "BOGUS", running, "metrics endpoint answering")},
			want:  []decide.Action{add(2, "add new node (1/1)")},
		},
		{
			name: "transitions/MIGRATING stays and blocks growth",
			in:   input(node(1, migrating, up), node(2, running)),
			want: []decide.Action{idle},
		},

		// Rule 2: reboot.
		{
			name: "reboot/fix-19 single resurvey; delays ignored; DISABLED untouched",
			in: with(input(
				node(1, running, down),
				node(2, restarting, ago(time.Minute), down),
				node(3, upgrading, ago(time.Minute), up),
				node(4, disabled),
				node(5, dead),
				node(6, removing, ago(time.Hour)),
				node(7, stopped, gone),
			), func(in *decide.Input) { in.Host.Boot = t0.Add(-10 * time.Minute) }),
			trans: []decide.Transition{
				tr(1, running, stopped, "metrics endpoint not answering"),
				tr(2, restarting, stopped, "system rebooted, metrics endpoint not answering"),
				tr(3, upgrading, running, "system rebooted, metrics endpoint answering"),
				tr(7, stopped, dead, "root directory missing"),
			},
			want: []decide.Action{resurvey},
		},
		{
			name: "reboot/fix-19 boot time jitter within the tolerance is no reboot",
			in: with(input(node(1, running), node(2, running), node(3, running), node(4, running), node(5, running)),
				func(in *decide.Input) { in.Host.Boot = boot.Add(decide.RebootTolerance) }),
			want: []decide.Action{idle},
		},
		{
			name: "reboot/fix-19 boot time just past the tolerance is a reboot",
			in: with(input(node(1, running)),
				func(in *decide.Input) { in.Host.Boot = boot.Add(decide.RebootTolerance + time.Second) }),
			want: []decide.Action{resurvey},
		},
		{
			name: "reboot/zero LastBoot is unknown, not a reboot",
			in: with(input(node(1, running), node(2, restarting, ago(time.Minute))),
				func(in *decide.Input) { in.Config.LastBoot = time.Time{} }),
			want: []decide.Action{atCapacity},
		},
		{
			name: "reboot/unknown host boot time is no reboot",
			in: with(input(node(1, running), node(2, restarting, ago(time.Minute))),
				func(in *decide.Input) { in.Host.Boot = time.Time{} }),
			want: []decide.Action{atCapacity},
		},

		// Rule 3: dead nodes.
		{
			name: "dead/one remove per DEAD node, ignoring every limit",
			in: input(node(1, restarting, ago(time.Minute)), node(4, dead), node(2, dead),
				node(3, running, gone)),
			trans: []decide.Transition{tr(3, running, dead, "root directory missing")},
			want:  []decide.Action{removeDead(2), removeDead(3), removeDead(4)},
		},
		{
			name: "priority/forget comes before dead node cleanup",
			in:   input(node(1, removing, ago(time.Hour)), node(2, dead)),
			want: []decide.Action{forget(1), removeDead(2)},
		},

		// Rule 4: global capacity.
		{
			name: "capacity/one operation below max_concurrent_operations is not at capacity",
			in: with(input(node(1, running), node(2, stopped), node(3, upgrading, ago(time.Minute))),
				limits(1, 1, 1, 2)),
			want: []decide.Action{idle},
		},
		{
			name: "capacity/max_concurrent_operations 0 is always at capacity",
			in:   with(input(node(1, running)), limits(1, 1, 1, 0)),
			want: []decide.Action{atCapacity},
		},
		{
			name: "priority/global capacity beats pressure",
			in: with(input(node(1, running), node(2, restarting, ago(time.Minute))),
				cpu(k(95))),
			want: []decide.Action{atCapacity},
		},

		// Rule 5: resource pressure.
		{
			name: "pressure/hard remove_hd removes the youngest stopped then the youngest running",
			in: with(input(node(1, running), node(2, stopped), node(3, running), node(4, running)),
				nodeCap(10), limits(1, 1, 2, 2), func(in *decide.Input) { in.Host.HD = k(95) }),
			want: []decide.Action{
				removeStopped(2, "remove stopped node (1/1)"),
				removeRunning(4, "remove running node (1/1)"),
			},
		},
		{
			name: "pressure/hard removals of stopped nodes are limited by max_concurrent_removals",
			in: with(input(node(1, stopped), node(2, stopped), node(3, stopped), node(4, running)),
				limits(1, 1, 2, 3), func(in *decide.Input) { in.Host.HD = k(95) }),
			want: []decide.Action{
				removeStopped(3, "remove stopped node (1/2)"),
				removeStopped(2, "remove stopped node (2/2)"),
			},
		},
		{
			name: "pressure/hard removals are limited by max_concurrent_operations minus operations",
			in: with(input(node(1, running), node(2, running), node(3, running), node(4, upgrading, ago(time.Minute))),
				limits(1, 1, 5, 2), func(in *decide.Input) { in.Host.HD = k(95) }),
			want: []decide.Action{removeRunning(3, "remove running node (1/1)")},
		},
		{
			name: "pressure/hard total above node_cap removes the youngest running",
			in:   with(input(node(1, running), node(2, running), node(3, running)), nodeCap(2)),
			want: []decide.Action{removeRunning(3, "remove running node (1/1)")},
		},
		{
			name: "pressure/hard DISABLED nodes count towards total above node_cap",
			in:   with(input(node(1, running), node(2, disabled), node(3, disabled)), nodeCap(2)),
			want: []decide.Action{removeRunning(1, "remove running node (1/1)")},
		},
		{
			name: "pressure/hard when outdated nodes exist and nothing is removing",
			in:   with(input(node(1, running, ver("0.4.9")), node(2, running)), cpu(k(80))),
			want: []decide.Action{removeRunning(2, "remove running node (1/1)")},
		},
		{
			name: "pressure/soft CPU pressure stops the youngest running node",
			in:   with(input(node(1, running), node(2, running), node(3, running)), cpu(k(80))),
			want: []decide.Action{stop(3, "stop node (1/1)")},
		},
		{
			name: "pressure/soft youngest is the latest born",
			in: with(input(node(1, running), node(2, running, bornAt(t0.Add(-time.Minute))), node(3, running)),
				cpu(k(80))),
			want: []decide.Action{stop(2, "stop node (1/1)")},
		},
		{
			name: "pressure/soft youngest tie is broken by the higher id",
			in: with(input(node(1, running, bornAt(boot)), node(3, running, bornAt(boot)), node(2, running, bornAt(boot))),
				cpu(k(80))),
			want: []decide.Action{stop(3, "stop node (1/1)")},
		},
		{
			name: "pressure/soft stops up to the removal capacity",
			in: with(input(node(1, running), node(2, running), node(3, running)),
				cpu(k(80)), limits(1, 1, 2, 4)),
			want: []decide.Action{stop(3, "stop node (1/2)"), stop(2, "stop node (2/2)")},
		},
		{
			name: "pressure/soft no stop while a node is REMOVING",
			in: with(input(node(1, running), node(2, removing, ago(time.Minute))),
				cpu(k(80)), limits(1, 1, 2, 2)),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/fix-23 soft no stop within delay_remove of the last stop",
			in:   with(input(node(1, running), node(2, stopped, ago(time.Minute))), cpu(k(80))),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/fix-23 soft a node that just went down starts the cooldown",
			in:   with(input(node(1, running), node(2, running, down)), cpu(k(80))),
			trans: []decide.Transition{
				tr(2, running, stopped, "metrics endpoint not answering"),
			},
			want: []decide.Action{idle},
		},
		{
			name: "pressure/fix-23 soft stops again once the cooldown is over",
			in:   with(input(node(1, running), node(2, stopped, ago(5*time.Minute))), cpu(k(80))),
			want: []decide.Action{stop(1, "stop node (1/1)")},
		},
		{
			name: "pressure/zero removal capacity falls through to idle",
			in:   with(input(node(1, running), node(2, stopped)), cpu(k(80)), limits(1, 1, 0, 1)),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/a load average above the maximum",
			in: with(input(node(1, running), node(2, running)),
				func(in *decide.Input) { in.Host.Load5 = k(4.5) }),
			want: []decide.Action{stop(2, "stop node (1/1)")},
		},
		{
			name: "pressure/memory above mem_remove",
			in: with(input(node(1, running), node(2, running)),
				func(in *decide.Input) { in.Host.Mem = k(76) }),
			want: []decide.Action{stop(2, "stop node (1/1)")},
		},
		{
			name: "pressure/disk writes above hdio_write_remove",
			in: with(input(node(1, running), node(2, running)),
				func(in *decide.Input) { in.Config.HDIOWriteRemove = 999 }),
			want: []decide.Action{stop(2, "stop node (1/1)")},
		},
		{
			name: "pressure/network receive above netio_read_remove",
			in: with(input(node(1, running), node(2, running)),
				func(in *decide.Input) { in.Config.NetIOReadRemove = 999 }),
			want: []decide.Action{stop(2, "stop node (1/1)")},
		},
		{
			name: "pressure/thresholds: a lone netio_read_less_than does not block adds",
			in: with(input(node(1, running)),
				func(in *decide.Input) { in.Config.NetIOReadLessThan = 5000 }),
			want: []decide.Action{add(2, "add new node (1/1)")},
		},
		{
			name: "pressure/thresholds: a lone hdio_read_remove below the reading forces nothing",
			in: with(input(node(1, running)),
				func(in *decide.Input) { in.Config.HDIOReadRemove = 5000 }),
			want: []decide.Action{add(2, "add new node (1/1)")},
		},
		{
			name: "pressure/a lone netio_write_less_than below the reading blocks adds",
			in: with(input(node(1, running)),
				func(in *decide.Input) { in.Config.NetIOWriteLessThan = 500 }),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/unknown CPU neither allows growth nor forces removal",
			in:   with(input(node(1, running), node(2, stopped)), cpu(decide.Reading{})),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/unknown CPU with known memory pressure still stops",
			in: with(input(node(1, running), node(2, running)), cpu(decide.Reading{}),
				func(in *decide.Input) { in.Host.Mem = k(90) }),
			want: []decide.Action{stop(2, "stop node (1/1)")},
		},
		{
			name: "pressure/NaN CPU counts as unknown",
			in:   with(input(node(1, running)), cpu(k(math.NaN()))),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/unknown disk reads with thresholds set block adds and force nothing",
			in: with(input(node(1, running)), func(in *decide.Input) {
				in.Host.HDIORead = decide.Reading{}
				in.Config.HDIOReadLessThan, in.Config.HDIOReadRemove = 5000, 6000
			}),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/unknown host neither grows nor shrinks",
			in: with(input(node(1, running), node(2, stopped)),
				func(in *decide.Input) { in.Host = decide.Host{Boot: boot} }),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/CPU equal to cpu_less_than does not allow growth",
			in:   with(input(node(1, running)), cpu(k(50))),
			want: []decide.Action{idle},
		},
		{
			name: "pressure/CPU equal to cpu_remove does not force removal",
			in:   with(input(node(1, running)), cpu(k(70))),
			want: []decide.Action{idle},
		},

		// Rule 6: upgrades.
		{
			name: "upgrade/fix-7 oldest outdated running node first; upgrade beats growth",
			in: input(node(1, running), node(2, running, ver("0.4.9")),
				node(3, running, ver("0.4.9"))),
			want: []decide.Action{upgrade(2, "upgrade outdated node (1/1)")},
		},
		{
			name: "upgrade/oldest by Born, not by id",
			in: input(node(2, running, ver("0.4.9")),
				node(3, running, ver("0.4.9"), bornAt(ancient))),
			want: []decide.Action{upgrade(3, "upgrade outdated node (1/1)")},
		},
		{
			name: "upgrade/limited by max_concurrent_upgrades minus upgrading",
			in: with(input(node(1, upgrading, ago(time.Minute)), node(2, running, ver("0.4.9")),
				node(3, running, ver("0.4.9")), node(4, running, ver("0.4.9"))), limits(2, 1, 1, 3)),
			want: []decide.Action{upgrade(2, "upgrade outdated node (1/1)")},
		},
		{
			name: "upgrade/limited by max_concurrent_operations minus operations",
			in: with(input(node(1, restarting, ago(time.Minute)), node(2, running, ver("0.4.9")),
				node(3, running, ver("0.4.9"))), limits(5, 1, 1, 2)),
			want: []decide.Action{upgrade(2, "upgrade outdated node (1/1)")},
		},
		{
			name: "upgrade/two at once when the limits allow",
			in: with(input(node(1, running, ver("0.4.9")), node(2, running, ver("0.4.8")),
				node(3, running, ver("0.4.9"))), limits(2, 1, 1, 2)),
			want: []decide.Action{
				upgrade(1, "upgrade outdated node (1/2)"),
				upgrade(2, "upgrade outdated node (2/2)"),
			},
		},
		{
			name: "upgrade/fix-7 a newer node is never downgraded",
			in: with(input(node(1, running, ver("0.4.10"))),
				func(in *decide.Input) { in.Latest = "0.4.9" }),
			want: []decide.Action{
				{Kind: decide.Add, Node: 2, Reason: "add new node (1/1)", Priority: 40, Version: "0.4.9"},
			},
		},
		{
			name: "upgrade/fix-7 a pre-release is lower than its release",
			in:   input(node(1, running, ver("0.4.10-rc.1"))),
			want: []decide.Action{upgrade(1, "upgrade outdated node (1/1)")},
		},
		{
			name: "upgrade/fix-7 an outdated STOPPED node does not block growth; it is upgraded as it starts",
			in:   input(node(1, running), node(2, stopped, ver("0.4.9"))),
			want: []decide.Action{
				{Kind: decide.Start, Node: 2, Reason: "start stopped node (1/1)", Priority: 50, Version: latest},
			},
		},
		{
			name: "upgrade/fix-7 an outdated DISABLED node does not block growth",
			in:   input(node(1, running), node(2, disabled, ver("0.4.9"))),
			want: []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name: "upgrade/fix-8 unknown node versions never upgrade",
			in: with(input(node(1, running, ver("")), node(2, running, ver("garbage")),
				node(3, running, ver("0")), node(4, running, ver("v"))), nodeCap(10)),
			want: []decide.Action{add(5, "add new node (1/1)")},
		},
		{
			name: "upgrade/fix-8 an empty Latest never upgrades",
			in: with(input(node(1, running, ver("0.4.9"))),
				func(in *decide.Input) { in.Latest = "" }),
			// Nor adds: a new node would have no binary to run, and act would refuse it.
			want: []decide.Action{{Kind: decide.Survey, Reason: "idle monitoring"}},
		},
		{
			name: "upgrade/fix-8 a garbage Latest never upgrades",
			in: with(input(node(1, running, ver("0.4.9"))),
				func(in *decide.Input) { in.Latest = "latest" }),
			want: []decide.Action{{Kind: decide.Survey, Reason: "idle monitoring"}},
		},
		{
			name: "upgrade/zero upgrade capacity falls through to idle, not growth",
			in: with(input(node(1, running, ver("0.4.9")), node(2, upgrading, ago(time.Minute))),
				limits(1, 1, 1, 2)),
			want: []decide.Action{idle},
		},

		// Rule 7: growth.
		{
			name: "growth/fix-6 stopped nodes start while running < node_cap even when total == node_cap",
			in:   with(input(node(1, running), node(2, stopped), node(3, stopped)), nodeCap(3)),
			want: []decide.Action{start(2, "start stopped node (1/1)")},
		},
		{
			name: "growth/oldest stopped node starts first",
			in: input(node(1, stopped), node(2, stopped, bornAt(ancient)),
				node(3, stopped)),
			want: []decide.Action{start(2, "start stopped node (1/1)")},
		},
		{
			name: "growth/starts first, then adds",
			in:   with(input(node(1, running), node(2, stopped)), limits(1, 3, 1, 3)),
			want: []decide.Action{
				start(2, "start stopped node (1/1)"),
				add(3, "add new node (1/2)"),
				add(4, "add new node (2/2)"),
			},
		},
		{
			name: "growth/added ids go above every row, gaps stay unfilled",
			in: with(input(node(2, running), node(4, running), node(5, running)),
				nodeCap(10), limits(1, 3, 1, 3)),
			want: []decide.Action{
				add(6, "add new node (1/3)"),
				add(7, "add new node (2/3)"),
				add(8, "add new node (3/3)"),
			},
		},
		{
			name: "growth/added ids go above ids held outside the table",
			in: with(input(node(2, running), node(4, running)), nodeCap(10), limits(1, 3, 1, 3),
				func(in *decide.Input) { in.Held = []int{13} }),
			want: []decide.Action{
				add(14, "add new node (1/3)"),
				add(15, "add new node (2/3)"),
				add(16, "add new node (3/3)"),
			},
		},
		{
			// Gap filling would give 3: anm's antnode003 directory (or a unit wnm refused)
			// holds it.
			name: "growth/a gap among the rows held by a unit or directory is not filled",
			in: with(input(node(1, running), node(2, running), node(4, running)), nodeCap(10), limits(1, 1, 1, 1),
				func(in *decide.Input) { in.Held = []int{3} }),
			want: []decide.Action{add(5, "add new node (1/1)")},
		},
		{
			name: "growth/added ids skip ids whose ports are held",
			in: with(input(node(2, running)), nodeCap(10), limits(1, 3, 1, 3),
				func(in *decide.Input) { in.Reserved = []int{3, 4, 6} }),
			want: []decide.Action{
				add(5, "add new node (1/3)"),
				add(7, "add new node (2/3)"),
				add(8, "add new node (3/3)"),
			},
		},
		{
			// Gap filling would give 1, whose port an unknown listener holds.
			name: "growth/a gap whose port an unknown process holds is not filled",
			in: with(input(node(2, running)), nodeCap(10), limits(1, 1, 1, 1),
				func(in *decide.Input) { in.Reserved = []int{1, 3} }),
			want: []decide.Action{add(4, "add new node (1/1)")},
		},
		{
			name: "growth/added ids skip DISABLED nodes and go above high ids",
			in: with(input(node(1, disabled), node(2, running), node(1000, running)),
				nodeCap(10), limits(1, 2, 1, 2)),
			want: []decide.Action{add(1001, "add new node (1/2)"), add(1002, "add new node (2/2)")},
		},
		{
			name: "growth/past max id, the lowest ids nothing holds are filled",
			in: with(input(node(2, running), node(5, running)), nodeCap(10), limits(1, 4, 1, 4),
				func(in *decide.Input) { in.MaxID, in.Held, in.Reserved = 6, []int{1}, []int{3} }),
			want: []decide.Action{add(6, "add new node (1/2)"), add(4, "add new node (2/2)")},
		},
		{
			name: "growth/no add when every id up to max id is taken",
			in: with(input(node(1, running), node(2, running)), nodeCap(10), limits(1, 4, 1, 4),
				func(in *decide.Input) { in.MaxID, in.Held, in.Reserved = 4, []int{4}, []int{3} }),
			want: []decide.Action{{Kind: decide.Survey, Reason: "idle monitoring"}},
		},
		{
			name: "growth/adds are limited by node_cap minus total",
			in:   with(input(node(1, running), node(2, disabled)), nodeCap(3), limits(1, 5, 1, 5)),
			want: []decide.Action{add(3, "add new node (1/1)")},
		},
		{
			name: "growth/limited by max_concurrent_starts",
			in:   with(input(node(1, stopped), node(2, stopped)), limits(1, 1, 1, 5)),
			want: []decide.Action{start(1, "start stopped node (1/1)")},
		},
		{
			name: "growth/limited by max_concurrent_operations",
			in:   with(input(node(1, stopped), node(2, stopped)), limits(1, 5, 1, 1)),
			want: []decide.Action{start(1, "start stopped node (1/1)")},
		},
		{
			name: "growth/max_concurrent_starts 0 is idle",
			in:   with(input(node(1, stopped)), limits(1, 0, 1, 1)),
			want: []decide.Action{idle},
		},
		{
			name: "growth/blocked while a node is restarting",
			in:   with(input(node(1, running), node(2, restarting, ago(time.Minute))), limits(1, 5, 1, 5)),
			want: []decide.Action{idle},
		},
		{
			name: "growth/blocked by CPU above cpu_less_than",
			in:   with(input(node(1, running)), cpu(k(55))),
			want: []decide.Action{idle},
		},
		{
			name: "growth/blocked by memory above mem_less_than",
			in:   with(input(node(1, running)), func(in *decide.Input) { in.Host.Mem = k(65) }),
			want: []decide.Action{idle},
		},
		{
			name: "growth/blocked by disk above hd_less_than",
			in:   with(input(node(1, running)), func(in *decide.Input) { in.Host.HD = k(80) }),
			want: []decide.Action{idle},
		},
		{
			name: "growth/blocked by disk reads above hdio_read_less_than",
			in:   with(input(node(1, running)), func(in *decide.Input) { in.Config.HDIOReadLessThan = 500 }),
			want: []decide.Action{idle},
		},
		{
			name: "growth/blocked by a load average above desired_load_average",
			in:   with(input(node(1, running)), func(in *decide.Input) { in.Host.Load15 = k(3) }),
			want: []decide.Action{idle},
		},

		// Rule 8: idle.
		{
			name: "idle/cluster full and healthy",
			in:   input(node(1, running), node(2, running), node(3, running), node(4, running), node(5, running)),
			want: []decide.Action{idle},
		},
		{
			name: "idle/no nodes and node_cap 0",
			in:   with(input(), nodeCap(0)),
			want: []decide.Action{idle},
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

// TestRebootThenStart runs two cycles: after a reboot the whole (full)
// cluster is recorded STOPPED, and on the following cycle the stopped nodes
// are started although total == node_cap (docs/compatibility.md fix-6 and fix-19).
func TestRebootThenStart(t *testing.T) {
	nodes := []decide.Node{node(1, running, down), node(2, running, down), node(3, restarting, ago(time.Minute), down)}
	in := with(input(nodes...), nodeCap(3), limits(1, 2, 1, 2),
		func(in *decide.Input) { in.Host.Boot = t0.Add(-2 * time.Minute) })

	p := decide.Next(in)
	if diff := cmp.Diff([]decide.Action{resurvey}, p.Actions); diff != "" {
		t.Fatalf("cycle 1 actions mismatch (-want +got):\n%s", diff)
	}
	if !p.RecordBoot.Equal(in.Host.Boot) {
		t.Fatalf("cycle 1 RecordBoot = %v, want %v", p.RecordBoot, in.Host.Boot)
	}
	in = apply(in, p)
	in.Now = in.Now.Add(time.Minute)

	p = decide.Next(in)
	want := []decide.Action{start(1, "start stopped node (1/2)"), start(2, "start stopped node (2/2)")}
	if diff := cmp.Diff(want, p.Actions); diff != "" {
		t.Errorf("cycle 2 actions mismatch (-want +got):\n%s\nplan:\n%s", diff, p)
	}
	if !p.RecordBoot.IsZero() {
		t.Errorf("cycle 2 RecordBoot = %v, want zero", p.RecordBoot)
	}
}

// apply records a plan's transitions, forgets and boot time the way the
// worker would, for the next cycle (observations are left unchanged).
func apply(in decide.Input, p decide.Plan) decide.Input {
	to := map[int]decide.Status{}
	for _, t := range p.Transitions {
		to[t.Node] = t.To
	}
	forgotten := map[int]bool{}
	for _, a := range p.Actions {
		if a.Kind == decide.Forget {
			forgotten[a.Node] = true
		}
	}
	var nodes []decide.Node
	for _, n := range in.Nodes {
		if forgotten[n.ID] {
			continue
		}
		if s, ok := to[n.ID]; ok {
			n.Status, n.Changed = s, in.Now
		}
		nodes = append(nodes, n)
	}
	in.Nodes = nodes
	if !p.RecordBoot.IsZero() {
		in.Config.LastBoot = p.RecordBoot
	}
	return in
}

func TestRecordBoot(t *testing.T) {
	tests := []struct {
		name       string
		last, host time.Time
		want       time.Time
	}{
		{"same boot", boot, boot, time.Time{}},
		{"jitter within tolerance", boot, boot.Add(time.Second), time.Time{}},
		{"fix-19 reboot", boot, boot.Add(time.Hour), boot.Add(time.Hour)},
		{"nothing recorded yet", time.Time{}, boot, boot},
		{"host boot unknown", boot, time.Time{}, time.Time{}},
		{"both unknown", time.Time{}, time.Time{}, time.Time{}},
		{"recorded boot later than the host's is healed", boot.Add(time.Hour), boot, boot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := with(input(node(1, running)), func(in *decide.Input) {
				in.Config.LastBoot, in.Host.Boot = tt.last, tt.host
			})
			if got := decide.Next(in).RecordBoot; !got.Equal(tt.want) {
				t.Errorf("RecordBoot = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	in := with(input(
		node(1, running),
		node(2, running, ver("0.4.9")),
		node(3, stopped, ver("0.4.9")),
		node(4, restarting, ago(time.Minute)),
		node(5, restarting, ago(time.Hour), up),
		node(6, upgrading, ago(time.Minute)),
		node(7, migrating),
		node(8, removing, ago(time.Minute)),
		node(9, removing, ago(time.Hour)),
		node(10, dead),
		node(11, disabled),
		node(12, "BOGUS", unobserved),
	), nodeCap(20))
	want := decide.Counts{
		Total: 11, Running: 3, Stopped: 1, Restarting: 1, Upgrading: 1, Migrating: 1,
		Removing: 1, Dead: 1, Disabled: 1, Outdated: 1,
	}
	p := decide.Next(in)
	if diff := cmp.Diff(want, p.Counts); diff != "" {
		t.Errorf("Counts mismatch (-want +got):\n%s", diff)
	}
	if got, want := p.Counts.Operations(), 3; got != want {
		t.Errorf("Operations() = %d, want %d", got, want)
	}
}

func TestFeatures(t *testing.T) {
	tests := []struct {
		name string
		in   decide.Input
		want decide.Features
	}{
		{
			name: "calm host with room",
			in:   input(node(1, running)),
			want: decide.Features{
				AllowCPU: true, AllowMem: true, AllowHD: true, AllowHDIO: true, AllowNetIO: true,
				LoadAllow: true, AllowNodeCap: true, AllowTotalCap: true,
				Grow: true, StartNode: true, AddNewNode: true,
			},
		},
		{
			name: "everything over the limits",
			in: with(input(node(1, running), node(2, removing, ago(time.Minute)), node(3, stopped, ago(time.Minute))),
				nodeCap(1), func(in *decide.Input) {
					in.Host = decide.Host{
						CPU: k(99), Mem: k(99), HD: k(99),
						HDIORead: k(9e9), HDIOWrite: k(9e9), NetIORead: k(9e9), NetIOWrite: k(9e9),
						Load1: k(99), Load5: k(99), Load15: k(99), Boot: t0,
					}
					in.Config.HDIOReadRemove, in.Config.NetIOWriteRemove = 1, 1
					in.Config.HDIOWriteLessThan, in.Config.NetIOReadLessThan = 1, 1
				}),
			want: decide.Features{
				Rebooted:  true,
				RemoveCPU: true, RemoveMem: true, RemoveHD: true, RemoveHDIO: true, RemoveNetIO: true,
				LoadNotAllow: true, Transitional: true, Remove: true, HardRemove: true, StopCooldown: true,
			},
		},
		{
			name: "outdated running node without pressure",
			in:   input(node(1, running, ver("0.4.9"))),
			want: decide.Features{
				AllowCPU: true, AllowMem: true, AllowHD: true, AllowHDIO: true, AllowNetIO: true,
				LoadAllow: true, AllowNodeCap: true, AllowTotalCap: true, Upgrade: true,
				Grow: true, StartNode: true, AddNewNode: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, decide.Next(tt.in).Features); diff != "" {
				t.Errorf("Features mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNextIgnoresNodeOrder checks that the plan does not depend on the
// order of the input nodes.
func TestNextIgnoresNodeOrder(t *testing.T) {
	nodes := []decide.Node{
		node(1, running), node(2, stopped), node(3, stopped, bornAt(ancient)), node(4, running, down),
		node(5, removing, ago(time.Hour)), node(6, restarting, ago(time.Hour)), node(8, running),
	}
	in := with(input(nodes...), nodeCap(10), limits(3, 3, 3, 3))
	want := decide.Next(in)
	for i := range len(nodes) {
		rotated := append(append([]decide.Node{}, nodes[i:]...), nodes[:i]...)
		reversed := make([]decide.Node, 0, len(nodes))
		for j := len(rotated) - 1; j >= 0; j-- {
			reversed = append(reversed, rotated[j])
		}
		for _, order := range [][]decide.Node{rotated, reversed} {
			in.Nodes = order
			if diff := cmp.Diff(want, decide.Next(in)); diff != "" {
				t.Fatalf("Next depends on node order (-want +got):\n%s", diff)
			}
		}
	}
}
