package decide_test

import (
	"time"

	"github.com/wnm-project/wnm/worker/decide"
)

// t0 is the cycle's Now in every test; boot is the recorded boot time.
var (
	t0   = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	boot = t0.Add(-24 * time.Hour)
)

// ancient is older than every default node's Born.
var ancient = t0.Add(-5000 * time.Hour)

// latest is the version of the binary upgrades install.
const latest = "0.4.10"

// k is a short name for a known reading.
func k(v float64) decide.Reading { return decide.Known(v) }

// baseConfig is upstream's default configuration for 4 CPUs (load limits
// 4 and 2.4) with node_cap 5, booted at boot.
func baseConfig() decide.Config {
	c := decide.DefaultConfig(4)
	c.NodeCap = 5
	c.LastBoot = boot
	return c
}

// calmHost is a host far below every threshold.
func calmHost() decide.Host {
	return decide.Host{
		CPU: k(10), Mem: k(20), HD: k(30),
		HDIORead: k(1000), HDIOWrite: k(1000), NetIORead: k(1000), NetIOWrite: k(1000),
		Load1: k(0.5), Load5: k(0.5), Load15: k(0.5),
		Boot: boot,
	}
}

// nodeOpt adjusts a test node.
type nodeOpt func(*decide.Node)

// node returns node id with status st, as the survey would see it when
// nothing changed: observed (except DISABLED), up iff RUNNING, born id
// hours before t0 (a lower id is older), changed an hour ago, running the
// latest version.
func node(id int, st decide.Status, opts ...nodeOpt) decide.Node {
	n := decide.Node{
		ID:       id,
		Status:   st,
		Changed:  t0.Add(-time.Hour),
		Born:     t0.Add(-time.Duration(1000-id) * time.Hour),
		Version:  latest,
		Observed: st != decide.Disabled,
		Up:       st == decide.Running,
	}
	for _, o := range opts {
		o(&n)
	}
	return n
}

func up(n *decide.Node)         { n.Up = true }
func down(n *decide.Node)       { n.Up = false }
func gone(n *decide.Node)       { n.Gone = true }
func unobserved(n *decide.Node) { n.Observed = false }

// ago sets the time of the last status change.
func ago(d time.Duration) nodeOpt { return func(n *decide.Node) { n.Changed = t0.Add(-d) } }

// ver sets the node's version.
func ver(v string) nodeOpt { return func(n *decide.Node) { n.Version = v } }

// bornAt sets the node's creation time.
func bornAt(t time.Time) nodeOpt { return func(n *decide.Node) { n.Born = t } }

// input builds the standard input around nodes.
func input(nodes ...decide.Node) decide.Input {
	return decide.Input{Config: baseConfig(), Host: calmHost(), Nodes: nodes, Latest: latest, Now: t0}
}

// with applies fns to in and returns it.
func with(in decide.Input, fns ...func(*decide.Input)) decide.Input {
	for _, f := range fns {
		f(&in)
	}
	return in
}

// limits sets the four concurrency limits.
func limits(upgrades, starts, removals, ops int) func(*decide.Input) {
	return func(in *decide.Input) {
		in.Config.MaxConcurrentUpgrades = upgrades
		in.Config.MaxConcurrentStarts = starts
		in.Config.MaxConcurrentRemovals = removals
		in.Config.MaxConcurrentOperations = ops
	}
}

// nodeCap sets node_cap.
func nodeCap(n int) func(*decide.Input) { return func(in *decide.Input) { in.Config.NodeCap = n } }

// cpu sets the used CPU reading.
func cpu(r decide.Reading) func(*decide.Input) { return func(in *decide.Input) { in.Host.CPU = r } }

// Actions with upstream's reasons and priorities.
var (
	idle       = decide.Action{Kind: decide.Survey, Reason: "idle monitoring"}
	atCapacity = decide.Action{Kind: decide.Survey, Reason: "at global capacity"}
	resurvey   = decide.Action{Kind: decide.Resurvey, Reason: "system rebooted", Priority: 100}
)

func forget(id int) decide.Action {
	return decide.Action{Kind: decide.Forget, Node: id, Reason: "removal delay expired", Priority: 95}
}

func removeDead(id int) decide.Action {
	return decide.Action{Kind: decide.Remove, Node: id, Reason: "dead node cleanup", Priority: 90}
}

func removeStopped(id int, reason string) decide.Action {
	return decide.Action{Kind: decide.Remove, Node: id, Reason: reason, Priority: 80}
}

func removeRunning(id int, reason string) decide.Action {
	return decide.Action{Kind: decide.Remove, Node: id, Reason: reason, Priority: 75, Cooldown: true}
}

func stop(id int, reason string) decide.Action {
	return decide.Action{Kind: decide.Stop, Node: id, Reason: reason, Priority: 70}
}

func upgrade(id int, reason string) decide.Action {
	return decide.Action{Kind: decide.Upgrade, Node: id, Reason: reason, Priority: 60, Version: latest}
}

func start(id int, reason string) decide.Action {
	return decide.Action{Kind: decide.Start, Node: id, Reason: reason, Priority: 50}
}

func add(id int, reason string) decide.Action {
	return decide.Action{Kind: decide.Add, Node: id, Reason: reason, Priority: 40, Version: latest}
}

// tr is a transition.
func tr(id int, from, to decide.Status, reason string) decide.Transition {
	return decide.Transition{Node: id, From: from, To: to, Reason: reason}
}
