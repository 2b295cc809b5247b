package decide_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/worker/decide"
)

// fuzzBytes hands out fuzz input a byte at a time, then zeros.
type fuzzBytes []byte

func (b *fuzzBytes) next() byte {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return c
}

// intn returns a number in [0, n).
func (b *fuzzBytes) intn(n int) int { return int(b.next()) % n }

// reading returns an unknown, non-finite or known reading up to scale.
func (b *fuzzBytes) reading(scale float64) decide.Reading {
	switch c := b.next(); c % 8 {
	case 0:
		return decide.Reading{}
	case 1:
		return k(math.NaN())
	default:
		return k(float64(b.next()) / 255 * scale)
	}
}

// threshold returns an I/O threshold: off, negative or a rate.
func (b *fuzzBytes) threshold() int64 {
	return []int64{0, 0, -1, 500, 1000, 1500}[b.intn(6)]
}

// fuzzInput decodes an Input. Node ids are unique unless the first byte
// says otherwise; unique reports which.
func fuzzInput(data []byte) (in decide.Input, unique bool) {
	b := fuzzBytes(data)
	unique = b.next()%4 != 0
	c := decide.Config{
		NodeCap:                 b.intn(14) - 1,
		CPULessThan:             float64(b.intn(101)),
		CPURemove:               float64(b.intn(101)),
		MemLessThan:             float64(b.intn(101)),
		MemRemove:               float64(b.intn(101)),
		HDLessThan:              float64(b.intn(101)),
		HDRemove:                float64(b.intn(101)),
		HDIOReadLessThan:        b.threshold(),
		HDIOReadRemove:          b.threshold(),
		HDIOWriteLessThan:       b.threshold(),
		HDIOWriteRemove:         b.threshold(),
		NetIOReadLessThan:       b.threshold(),
		NetIOReadRemove:         b.threshold(),
		NetIOWriteLessThan:      b.threshold(),
		NetIOWriteRemove:        b.threshold(),
		MaxLoadAverageAllowed:   float64(b.intn(9)),
		DesiredLoadAverage:      float64(b.intn(9)),
		DelayStart:              time.Duration(b.intn(4)) * 2 * time.Minute,
		DelayUpgrade:            time.Duration(b.intn(4)) * 2 * time.Minute,
		DelayRemove:             time.Duration(b.intn(4)) * 2 * time.Minute,
		MaxConcurrentUpgrades:   b.intn(6) - 1,
		MaxConcurrentStarts:     b.intn(6) - 1,
		MaxConcurrentRemovals:   b.intn(6) - 1,
		MaxConcurrentOperations: b.intn(7) - 1,
		LastBoot:                []time.Time{{}, boot, boot.Add(3 * time.Second), boot.Add(time.Hour)}[b.intn(4)],
	}
	h := decide.Host{
		CPU: b.reading(100), Mem: b.reading(100), HD: b.reading(100),
		HDIORead: b.reading(2000), HDIOWrite: b.reading(2000), NetIORead: b.reading(2000), NetIOWrite: b.reading(2000),
		Load1: b.reading(8), Load5: b.reading(8), Load15: b.reading(8),
		Boot: []time.Time{{}, boot, boot.Add(4 * time.Second), boot.Add(time.Hour)}[b.intn(4)],
	}
	statuses := []decide.Status{running, running, running, stopped, stopped, restarting, upgrading,
		removing, dead, disabled, migrating, "BOGUS", ""}
	versions := []string{latest, latest, "0.4.9", "0.4.10-rc.1", "0.5.0", "", "0", "garbage"}
	count := b.intn(24)
	used := map[int]bool{}
	nodes := make([]decide.Node, 0, count)
	for range count {
		id := b.intn(30)
		if unique {
			for used[id] {
				id++
			}
			used[id] = true
		}
		n := decide.Node{
			ID:       id,
			Status:   statuses[b.intn(len(statuses))],
			Changed:  t0.Add(-time.Duration(b.intn(12)-1) * time.Minute),
			Born:     t0.Add(-time.Duration(b.intn(8)) * time.Hour),
			Version:  versions[b.intn(len(versions))],
			Observed: b.next()%5 != 0,
			Up:       b.next()%2 == 0,
			Gone:     b.next()%9 == 0,
		}
		if b.next()%10 == 0 {
			n.Changed = time.Time{}
		}
		nodes = append(nodes, n)
	}
	in = decide.Input{
		Config: c, Host: h, Nodes: nodes, Now: t0,
		Latest: []string{latest, "", "0.4.9", "nonsense", "0.4.11-rc.1"}[b.intn(5)],
	}
	// Ids outside the table come last, so that older corpus entries keep their meaning.
	for range b.intn(4) {
		in.Held = append(in.Held, b.intn(40))
	}
	for range b.intn(4) {
		in.Reserved = append(in.Reserved, b.intn(40))
	}
	in.MaxID = []int{0, 0, 8, 30, 40}[b.intn(5)]
	return in, unique
}

func FuzzNext(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 10, 50, 70, 60, 75, 75, 90, 0, 0, 0, 0, 0, 0, 0, 0, 4, 2, 1, 1, 1, 2, 2, 2, 2, 1, 1,
		2, 20, 2, 40, 2, 60, 2, 100, 2, 100, 2, 100, 2, 100, 2, 2, 2, 2, 2, 2, 1, 12,
		1, 0, 3, 2, 0, 1, 1, 0, 1, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3, 1, 1, 1, 1, 4, 1, 5, 2, 1, 0, 1})
	f.Add([]byte("the quick brown fox jumps over the lazy dog, repeatedly, to make some nodes"))
	f.Add(slices.Repeat([]byte{7, 3, 200, 9, 1}, 60))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, unique := fuzzInput(data)
		p := decide.Next(in)
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		_ = p.String()
		if diff := cmp.Diff(p, decide.Next(in)); diff != "" {
			t.Fatalf("Next is not deterministic (-first +second):\n%s", diff)
		}
		if unique {
			rev := slices.Clone(in.Nodes)
			slices.Reverse(rev)
			in2 := in
			in2.Nodes = rev
			if diff := cmp.Diff(p, decide.Next(in2)); diff != "" {
				t.Fatalf("Next depends on node order (-forward +reversed):\n%s", diff)
			}
		}
		checkPlan(t, in, p, unique)
	})
}

// checkPlan asserts the invariants every plan must keep.
func checkPlan(t *testing.T, in decide.Input, p decide.Plan, unique bool) {
	t.Helper()
	c, n := in.Config, p.Counts
	if len(p.Actions) == 0 {
		t.Fatalf("plan has no actions:\n%s", p)
	}
	if p.Features.Rebooted {
		if diff := cmp.Diff([]decide.Action{resurvey}, p.Actions); diff != "" {
			t.Fatalf("reboot plan is not a lone resurvey (-want +got):\n%s", diff)
		}
	}

	// Transitions: sorted, real changes, DISABLED untouched.
	if !slices.IsSortedFunc(p.Transitions, func(a, b decide.Transition) int { return a.Node - b.Node }) {
		t.Errorf("transitions not sorted by node:\n%s", p)
	}
	for _, tr := range p.Transitions {
		if tr.From == tr.To || tr.From == disabled || tr.To == disabled || tr.From == removing || tr.Reason == "" {
			t.Errorf("bad transition %s", tr)
		}
	}

	// Counts are those of the nodes after the plan's transitions and forgets.
	if unique {
		after := apply(in, p)
		want := decide.Counts{Total: len(after.Nodes), Outdated: n.Outdated}
		for _, node := range after.Nodes {
			switch node.Status {
			case running:
				want.Running++
			case stopped:
				want.Stopped++
			case restarting:
				want.Restarting++
			case upgrading:
				want.Upgrading++
			case migrating:
				want.Migrating++
			case removing:
				want.Removing++
			case dead:
				want.Dead++
			case disabled:
				want.Disabled++
			}
		}
		if diff := cmp.Diff(want, n); diff != "" {
			t.Errorf("Counts mismatch (-recount +plan):\n%s\nplan:\n%s", diff, p)
		}
	}
	if n.Outdated > n.Running {
		t.Errorf("Outdated %d > Running %d", n.Outdated, n.Running)
	}

	// Tally the actions; forgets come first.
	kinds := map[decide.Kind]int{}
	var deadRemovals, stoppedRemovals, runningRemovals int
	seenOther := false
	ids := map[int]bool{}
	inputIDs := map[int]bool{}
	top := slices.Max(append([]int{0}, in.Held...))
	for _, node := range in.Nodes {
		inputIDs[node.ID] = true
		top = max(top, node.ID)
	}
	for _, a := range p.Actions {
		if a.Reason == "" {
			t.Errorf("action without a reason: %s", a)
		}
		kinds[a.Kind]++
		switch a.Kind {
		case decide.Forget:
			if seenOther {
				t.Errorf("forget after another action:\n%s", p)
			}
		case decide.Remove:
			switch a.Priority {
			case 90:
				deadRemovals++
			case 80:
				stoppedRemovals++
			case 75:
				runningRemovals++
				if !a.Cooldown {
					t.Errorf("running node removal without cooldown: %s", a)
				}
			}
		case decide.Add:
			if a.Node < 1 || inputIDs[a.Node] || slices.Contains(in.Held, a.Node) || slices.Contains(in.Reserved, a.Node) {
				t.Errorf("add uses id %d, which is invalid or taken", a.Node)
			}
			if in.MaxID > 0 && a.Node > in.MaxID {
				t.Errorf("add uses id %d, above MaxID %d", a.Node, in.MaxID)
			}
			// Below the known ids only once the ids above them up to MaxID are used up.
			if a.Node <= top && (in.MaxID <= 0 || freeAbove(in, top, p)) {
				t.Errorf("add uses id %d, not above the known ids (top %d):\n%s", a.Node, top, p)
			}
		}
		if a.Kind != decide.Forget {
			seenOther = true
		}
		if a.Kind == decide.Survey || a.Kind == decide.Resurvey {
			if a.Node != 0 {
				t.Errorf("%s names node %d", a, a.Node)
			}
			continue
		}
		if unique && ids[a.Node] {
			t.Errorf("node %d acted on twice:\n%s", a.Node, p)
		}
		ids[a.Node] = true
	}

	// Exactly one rule's actions (besides forgets).
	rule := 0
	for _, group := range [][]decide.Kind{{decide.Resurvey}, {decide.Survey}, {decide.Remove, decide.Stop}, {decide.Upgrade}, {decide.Start, decide.Add}} {
		for _, kind := range group {
			if kinds[kind] > 0 {
				rule++
				break
			}
		}
	}
	if rule != 1 {
		t.Errorf("plan mixes rules:\n%s", p)
	}

	// Limits.
	ops := n.Operations()
	if n.Dead > 0 && !p.Features.Rebooted && deadRemovals != n.Dead {
		t.Errorf("%d dead node removals for %d dead nodes", deadRemovals, n.Dead)
	}
	if n.Dead == 0 && deadRemovals > 0 {
		t.Errorf("dead node removals without dead nodes")
	}
	removalCap := max(0, min(c.MaxConcurrentRemovals-n.Removing, c.MaxConcurrentOperations-ops))
	if stoppedRemovals+runningRemovals > removalCap || kinds[decide.Stop] > removalCap {
		t.Errorf("removals/stops exceed the removal capacity %d:\n%s", removalCap, p)
	}
	if stoppedRemovals > n.Stopped || runningRemovals+kinds[decide.Stop] > n.Running {
		t.Errorf("more removals/stops than nodes:\n%s", p)
	}
	if kinds[decide.Stop] > 0 && (n.Removing > 0 || p.Features.StopCooldown) {
		t.Errorf("stop while removing or in cooldown:\n%s", p)
	}
	upgradeCap := max(0, min(c.MaxConcurrentUpgrades-n.Upgrading, c.MaxConcurrentOperations-ops, n.Outdated))
	if kinds[decide.Upgrade] > upgradeCap {
		t.Errorf("%d upgrades exceed the capacity %d:\n%s", kinds[decide.Upgrade], upgradeCap, p)
	}
	startCap := max(0, min(c.MaxConcurrentStarts-n.Restarting, c.MaxConcurrentOperations-ops))
	if kinds[decide.Start]+kinds[decide.Add] > startCap {
		t.Errorf("starts and adds exceed the capacity %d:\n%s", startCap, p)
	}
	if kinds[decide.Start] > max(0, c.NodeCap-n.Running) || kinds[decide.Start] > n.Stopped {
		t.Errorf("too many starts:\n%s", p)
	}
	if kinds[decide.Add] > max(0, c.NodeCap-n.Total) {
		t.Errorf("adds beyond node_cap:\n%s", p)
	}
	if kinds[decide.Start]+kinds[decide.Add] > 0 && !p.Features.Grow {
		t.Errorf("growth without the grow feature:\n%s", p)
	}
	newOps := runningRemovals + kinds[decide.Upgrade] + kinds[decide.Start] + kinds[decide.Add]
	if newOps > 0 && ops+newOps > c.MaxConcurrentOperations {
		t.Errorf("%d operations + %d new exceed max_concurrent_operations %d:\n%s", ops, newOps, c.MaxConcurrentOperations, p)
	}
}

// freeAbove reports whether an id in (top, in.MaxID] is held by nothing and not added by p.
func freeAbove(in decide.Input, top int, p decide.Plan) bool {
	for id := top + 1; id <= in.MaxID; id++ {
		taken := slices.Contains(in.Held, id) || slices.Contains(in.Reserved, id) ||
			slices.ContainsFunc(p.Actions, func(a decide.Action) bool { return a.Kind == decide.Add && a.Node == id })
		if !taken {
			return true
		}
	}
	return false
}
