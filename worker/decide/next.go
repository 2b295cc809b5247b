package decide

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Upstream's priorities, plus Forget's.
const (
	priorityResurvey      = 100
	priorityForget        = 95
	priorityDead          = 90
	priorityRemoveStopped = 80
	priorityRemoveRunning = 75
	priorityStop          = 70
	priorityUpgrade       = 60
	priorityStart         = 50
	priorityAdd           = 40
	prioritySurvey        = 0
)

// state is a node as the rules see it, after its transition. It holds no
// pointers (the node is an index into the input), which keeps a
// thousand-node decision cheap for the garbage collector.
type state struct {
	i        int32 // index into Input.Nodes
	st       code  // status after the transition
	fresh    bool  // status changed this cycle (Changed is now Now)
	outdated bool  // version strictly lower than Latest
	hung     hung  // STOPPED with a live process: what to do about it
}

// hung classifies a STOPPED node whose process is alive but does not answer.
type hung uint8

const (
	notHung  hung = iota // not alive, or answering: a start would help
	hungWait             // not answering for less than delay_start yet
	hungDue              // not answering for delay_start: restart it
	hungGone             // restarted MaxRestarts times in vain: given up
)

// code is a compact form of [Status] for the rules.
type code uint8

const (
	other code = iota // an unknown status string
	cStopped
	cRunning
	cUpgrading
	cDisabled
	cRestarting
	cMigrating
	cRemoving
	cDead
)

// codeOf returns the code of st.
func codeOf(st Status) code {
	switch st {
	case Stopped:
		return cStopped
	case Running:
		return cRunning
	case Upgrading:
		return cUpgrading
	case Disabled:
		return cDisabled
	case Restarting:
		return cRestarting
	case Migrating:
		return cMigrating
	case Removing:
		return cRemoving
	case Dead:
		return cDead
	}
	return other
}

// Next decides what to do in one cycle; see the package documentation for
// the rules. Next never fails and never panics: nonsensical input (unknown
// statuses, duplicate ids, negative limits, garbage versions) yields a
// conservative plan.
func Next(in Input) Plan {
	c := in.Config
	rebooted := isReboot(c.LastBoot, in.Host.Boot)
	latest, latestOK := knownVersion(in.Latest)

	var p Plan
	p.RecordBoot = recordBoot(c.LastBoot, in.Host.Boot)
	nodes := make([]state, 0, len(in.Nodes))
	var forget []int
	var versions versionCache
	for i, n := range in.Nodes {
		to, reason, drop := transition(n, c, in.Now, rebooted)
		if drop {
			forget = append(forget, n.ID)
			continue
		}
		s := state{i: int32(i), st: codeOf(to)}
		if to != n.Status {
			p.Transitions = append(p.Transitions, Transition{Node: n.ID, From: n.Status, To: to, Reason: reason})
			s.fresh = true
		}
		if latestOK && (s.st == cRunning || s.st == cStopped) {
			s.outdated = versions.older(n.Version, latest)
		}
		if s.st == cStopped && n.Observed && !n.Up && n.Alive {
			s.hung = classifyHung(n, s.fresh, c, in.Now)
		}
		nodes = append(nodes, s)
	}
	slices.SortStableFunc(p.Transitions, func(a, b Transition) int { return cmp.Compare(a.Node, b.Node) })
	slices.Sort(forget)

	p.Counts = count(nodes)
	p.Features = features(c, in.Host, p.Counts, nodes, in.Nodes, in.Now, rebooted)

	if rebooted {
		p.Actions = []Action{{Kind: Resurvey, Reason: "system rebooted", Priority: priorityResurvey}}
		p.NotTaken = []Skip{{Kind: Survey, Reason: "nothing else this cycle: the host rebooted, so every node is surveyed first"}}
		return p
	}
	for _, id := range forget {
		p.Actions = append(p.Actions, Action{Kind: Forget, Node: id, Reason: "removal delay expired", Priority: priorityForget})
	}
	d := decider{cfg: c, counts: p.Counts, f: p.Features, nodes: nodes, all: in.Nodes, latest: in.Latest, latestOK: latestOK, held: in.Held, reserved: in.Reserved, maxID: in.MaxID}
	rules := d.rules()
	p.Actions = append(p.Actions, rules...)
	p.NotTaken = d.explain(in, rules)
	return p
}

// knownVersion parses a node or binary version. Besides unparsable text,
// an all-zero version ("0", "0.0.0") is unknown: it is what upstream stores
// when "antnode --version" fails, and no antnode release carries it.
func knownVersion(s string) (version, bool) {
	v, ok := splitVersion(s)
	if !ok || strings.Trim(v.core, "0.") == "" {
		return version{}, false
	}
	return v, true
}

// versionCache remembers the last few node versions compared with the
// latest one: a cluster runs a handful of distinct versions, and parsing
// each node's would dominate the cost of a large decision.
type versionCache struct {
	n    int
	keys [4]string
	vals [4]bool
}

// older reports whether s is a known version strictly lower than latest.
func (vc *versionCache) older(s string, latest version) bool {
	for j := range min(vc.n, len(vc.keys)) {
		if vc.keys[j] == s {
			return vc.vals[j]
		}
	}
	v, ok := knownVersion(s)
	res := ok && v.compare(latest) < 0
	slot := vc.n % len(vc.keys)
	vc.keys[slot], vc.vals[slot] = s, res
	vc.n++
	return res
}

// isReboot reports whether the host booted after the recorded boot time;
// an unknown time on either side is no reboot.
func isReboot(last, boot time.Time) bool {
	return !last.IsZero() && !boot.IsZero() && boot.Sub(last) > RebootTolerance
}

// recordBoot returns the boot time to record: the current one after a
// reboot, when none was recorded, or when the recorded one is later than
// the current one (a bad stored value or a clock change, healed without a
// resurvey); otherwise zero.
func recordBoot(last, boot time.Time) time.Time {
	switch {
	case boot.IsZero():
		return time.Time{}
	case last.IsZero(), isReboot(last, boot), last.Sub(boot) > RebootTolerance:
		return boot
	}
	return time.Time{}
}

// expired reports whether delay has passed since changed. An unknown
// (zero) time and a time in the future (the clock went back) count as
// expired, so that a node can never be stuck in a transitional status.
func expired(changed time.Time, delay time.Duration, now time.Time) bool {
	return changed.IsZero() || changed.After(now) || now.Sub(changed) >= delay
}

// transition returns the status to record for n, with a reason when it
// changes, or forget when the row of a REMOVING node is to be deleted.
func transition(n Node, c Config, now time.Time, rebooted bool) (to Status, reason string, forget bool) {
	switch n.Status {
	case Disabled, Dead:
		return n.Status, "", false
	case Removing:
		// Not even a reboot cuts the cooldown short: the reboot plan is a
		// lone Resurvey, and the row is forgotten on a later cycle.
		return n.Status, "", !rebooted && expired(n.Changed, c.DelayRemove, now)
	}
	if !n.Observed {
		return n.Status, "", false
	}
	if n.Gone {
		return Dead, "root directory missing", false
	}
	seen, why := Stopped, "metrics endpoint not answering"
	if n.Up {
		seen, why = Running, "metrics endpoint answering"
	}
	var delay time.Duration
	switch n.Status {
	case Migrating:
		return n.Status, "", false
	case Restarting:
		delay, reason = c.DelayStart, "start delay expired"
	case Upgrading:
		delay, reason = c.DelayUpgrade, "upgrade delay expired"
	default: // Running, Stopped and unknown statuses follow the observation
		return seen, why, false
	}
	switch {
	case expired(n.Changed, delay, now):
		return seen, reason + ", " + why, false
	case rebooted:
		return seen, "system rebooted, " + why, false
	}
	return n.Status, "", false
}

// classifyHung decides about a STOPPED node whose process is alive but did
// not answer. It has not answered since its status last changed when it was
// RESTARTING or UPGRADING (it never answered since its start), or since now
// when it was RUNNING until this cycle.
func classifyHung(n Node, fresh bool, c Config, now time.Time) hung {
	if n.Restarts >= c.MaxRestarts {
		return hungGone
	}
	since := n.Changed
	if fresh && n.Status != Restarting && n.Status != Upgrading {
		since = now
	}
	if expired(since, c.DelayStart, now) {
		return hungDue
	}
	return hungWait
}

// count tallies the nodes by status.
func count(nodes []state) Counts {
	var n Counts
	for _, s := range nodes {
		n.Total++
		switch s.st {
		case cRunning:
			n.Running++
			if s.outdated {
				n.Outdated++
			}
		case cStopped:
			n.Stopped++
		case cRestarting:
			n.Restarting++
		case cUpgrading:
			n.Upgrading++
		case cMigrating:
			n.Migrating++
		case cRemoving:
			n.Removing++
		case cDead:
			n.Dead++
		case cDisabled:
			n.Disabled++
		}
	}
	return n
}

// below reports a known reading strictly below limit.
func below(r Reading, limit float64) bool { return r.ok() && r.Value < limit }

// above reports a known reading strictly above limit.
func above(r Reading, limit float64) bool { return r.ok() && r.Value > limit }

// ioFeatures applies a pair of I/O readings to their four thresholds, each
// of which is off when not positive (fixing upstream, where one configured
// threshold switched all four on).
func ioFeatures(read, write Reading, readLess, writeLess, readRemove, writeRemove int64) (allow, remove bool) {
	allow = true
	if readLess > 0 {
		allow = allow && below(read, float64(readLess))
	}
	if writeLess > 0 {
		allow = allow && below(write, float64(writeLess))
	}
	remove = readRemove > 0 && above(read, float64(readRemove)) ||
		writeRemove > 0 && above(write, float64(writeRemove))
	return allow, remove
}

// features evaluates the booleans the rules test.
func features(c Config, h Host, n Counts, nodes []state, all []Node, now time.Time, rebooted bool) Features {
	f := Features{
		Rebooted:      rebooted,
		AllowCPU:      below(h.CPU, c.CPULessThan),
		AllowMem:      below(h.Mem, c.MemLessThan),
		AllowHD:       below(h.HD, c.HDLessThan),
		RemoveCPU:     above(h.CPU, c.CPURemove),
		RemoveMem:     above(h.Mem, c.MemRemove),
		RemoveHD:      above(h.HD, c.HDRemove),
		AllowNodeCap:  n.Running < c.NodeCap,
		AllowTotalCap: n.Total < c.NodeCap,
		Transitional:  n.Upgrading+n.Restarting+n.Migrating+n.Removing > 0,
	}
	f.AllowHDIO, f.RemoveHDIO = ioFeatures(h.HDIORead, h.HDIOWrite,
		c.HDIOReadLessThan, c.HDIOWriteLessThan, c.HDIOReadRemove, c.HDIOWriteRemove)
	f.AllowNetIO, f.RemoveNetIO = ioFeatures(h.NetIORead, h.NetIOWrite,
		c.NetIOReadLessThan, c.NetIOWriteLessThan, c.NetIOReadRemove, c.NetIOWriteRemove)
	want, limit := c.DesiredLoadAverage, c.MaxLoadAverageAllowed
	f.LoadAllow = below(h.Load1, want) && below(h.Load5, want) && below(h.Load15, want)
	f.LoadNotAllow = above(h.Load1, limit) || above(h.Load5, limit) || above(h.Load15, limit)

	f.Remove = f.LoadNotAllow || f.RemoveCPU || f.RemoveMem || f.RemoveHD ||
		f.RemoveHDIO || f.RemoveNetIO || n.Total > c.NodeCap
	f.HardRemove = f.Remove && (f.RemoveHD || n.Total > c.NodeCap || n.Outdated > 0 && n.Removing == 0)
	for _, s := range nodes {
		changed := all[s.i].Changed
		if s.fresh {
			changed = now
		}
		if s.st == cStopped && !expired(changed, c.DelayRemove, now) {
			f.StopCooldown = true
			break
		}
	}
	f.Upgrade = n.Outdated > 0 && !f.Remove
	f.Grow = !f.Transitional && !f.Remove &&
		f.AllowCPU && f.AllowMem && f.AllowHD && f.AllowHDIO && f.AllowNetIO && f.LoadAllow
	f.StartNode = f.Grow && f.AllowNodeCap
	f.AddNewNode = f.Grow && f.AllowTotalCap
	return f
}

// decider applies rules 3 to 8 to the nodes after their transitions.
type decider struct {
	cfg    Config
	counts Counts
	f      Features
	nodes  []state
	all    []Node // every input node, forgotten ones included (for ids)
	latest string
	// latestOK says the latest version is known; without it no node is
	// added, since the worker would have no binary to give it.
	latestOK bool
	// held, reserved and maxID keep new ids clear of nodes and ports
	// outside the table (see [Input]).
	held     []int
	reserved []int
	maxID    int
}

// rules returns the actions of the first rule that yields any.
func (d *decider) rules() []Action {
	c, n, f := d.cfg, d.counts, d.f

	if n.Dead > 0 {
		var acts []Action
		for _, s := range d.pick(cDead, byID, len(d.nodes)) {
			acts = append(acts, Action{Kind: Remove, Node: d.all[s.i].ID, Reason: "dead node cleanup", Priority: priorityDead})
		}
		return acts
	}

	ops := n.Operations()
	if ops >= c.MaxConcurrentOperations {
		return []Action{{Kind: Survey, Reason: "at global capacity", Priority: prioritySurvey}}
	}

	if f.Remove {
		if acts := d.relieve(min(c.MaxConcurrentRemovals-n.Removing, c.MaxConcurrentOperations-ops)); len(acts) > 0 {
			return acts
		}
	}

	if f.Upgrade {
		limit := min(c.MaxConcurrentUpgrades-n.Upgrading, c.MaxConcurrentOperations-ops, n.Outdated)
		if limit > 0 {
			picked := d.pick(cRunning, oldest, limit, func(s state) bool { return s.outdated })
			acts := make([]Action, 0, len(picked))
			for i, s := range picked {
				acts = append(acts, Action{Kind: Upgrade, Node: d.all[s.i].ID, Priority: priorityUpgrade,
					Reason: counted("upgrade outdated node", i, len(picked)), Version: d.latest})
			}
			if len(acts) > 0 {
				return acts
			}
		}
	}

	if f.Grow {
		if acts := d.grow(min(c.MaxConcurrentStarts-n.Restarting, c.MaxConcurrentOperations-ops)); len(acts) > 0 {
			return acts
		}
	}

	return []Action{{Kind: Survey, Reason: "idle monitoring", Priority: prioritySurvey}}
}

// counted returns upstream's numbered reason, "what (i+1/k)".
func counted(what string, i, k int) string {
	var buf [64]byte
	b := append(buf[:0], what...)
	b = append(b, " ("...)
	b = strconv.AppendInt(b, int64(i+1), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(k), 10)
	b = append(b, ')')
	return string(b)
}

// relieve answers resource pressure within capacity removals or stops.
func (d *decider) relieve(capacity int) []Action {
	if capacity <= 0 {
		return nil
	}
	var acts []Action
	if d.f.HardRemove {
		stopped := d.pick(cStopped, youngest, capacity)
		for i, s := range stopped {
			acts = append(acts, Action{Kind: Remove, Node: d.all[s.i].ID, Priority: priorityRemoveStopped,
				Reason: counted("remove stopped node", i, len(stopped))})
		}
		running := d.pick(cRunning, youngest, capacity-len(stopped))
		for i, s := range running {
			acts = append(acts, Action{Kind: Remove, Node: d.all[s.i].ID, Priority: priorityRemoveRunning, Cooldown: true,
				Reason: counted("remove running node", i, len(running))})
		}
		return acts
	}
	// Soft pressure: wait for a removal or a recent stop to take effect
	// before stopping more.
	if d.counts.Removing > 0 || d.f.StopCooldown {
		return nil
	}
	stop := d.pick(cRunning, youngest, capacity)
	for i, s := range stop {
		acts = append(acts, Action{Kind: Stop, Node: d.all[s.i].ID, Priority: priorityStop,
			Reason: counted("stop node", i, len(stop))})
	}
	return acts
}

// grow starts stopped nodes while running < node_cap, then adds new ones
// while total < node_cap, within capacity.
func (d *decider) grow(capacity int) []Action {
	if capacity <= 0 {
		return nil
	}
	c, n := d.cfg, d.counts
	var acts []Action
	// A node alive but unresponsive is restarted once delay_start has
	// passed; until then, and after MaxRestarts vain restarts, it is left
	// alone and holds no start slot.
	startable := func(s state) bool { return s.hung == notHung || s.hung == hungDue }
	start := d.pick(cStopped, oldest, min(capacity, c.NodeCap-n.Running), startable)
	for i, s := range start {
		a := Action{Kind: Start, Node: d.all[s.i].ID, Priority: priorityStart,
			Reason: counted("start stopped node", i, len(start))}
		if s.hung == hungDue {
			a.Restart = true
			a.Reason = counted("restart node alive but not answering for delay_start", i, len(start)) +
				", restart " + strconv.Itoa(d.all[s.i].Restarts+1) + " of " + strconv.Itoa(c.MaxRestarts)
		}
		if s.outdated {
			a.Version = d.latest
		}
		acts = append(acts, a)
	}
	var ids []int
	if d.latestOK {
		ids = d.freeIDs(min(capacity-len(start), c.NodeCap-n.Total))
	}
	for i, id := range ids {
		acts = append(acts, Action{Kind: Add, Node: id, Priority: priorityAdd, Version: d.latest,
			Reason: counted("add new node", i, len(ids))})
	}
	return acts
}

// freeIDs returns the ids of k new nodes: the lowest ids above every input
// node (forgotten ones included, so a failed Forget cannot collide) and
// every [Input.Held] id, skipping [Input.Reserved] ones and none above
// [Input.MaxID]; once those run out, the lowest ids ≥ 1 that none of them
// takes. Fewer than k when every id up to MaxID is taken.
func (d *decider) freeIDs(k int) []int {
	if k <= 0 {
		return nil
	}
	used := make(map[int]bool, len(d.all)+len(d.held)+len(d.reserved))
	top := 0
	for _, n := range d.all {
		used[n.ID] = true
		top = max(top, n.ID)
	}
	for _, id := range d.held {
		used[id] = true
		top = max(top, id)
	}
	for _, id := range d.reserved {
		used[id] = true
	}
	within := func(id int) bool { return d.maxID <= 0 || id <= d.maxID }
	ids := make([]int, 0, k)
	for id := max(1, top+1); len(ids) < k && within(id); id++ {
		if !used[id] {
			ids = append(ids, id)
		}
	}
	for id := 1; len(ids) < k && id <= top && within(id); id++ {
		if !used[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// An order sorts picked nodes; n and m are the nodes being compared.
type order func(n, m *Node) int

// Orders for pick.
var (
	// youngest first: latest Born, ties by higher id.
	youngest order = func(n, m *Node) int {
		if c := m.Born.Compare(n.Born); c != 0 {
			return c
		}
		return cmp.Compare(m.ID, n.ID)
	}
	// oldest first: earliest Born, ties by lower id.
	oldest order = func(n, m *Node) int {
		if c := n.Born.Compare(m.Born); c != 0 {
			return c
		}
		return cmp.Compare(n.ID, m.ID)
	}
	// byID: lower id first.
	byID order = func(n, m *Node) int { return cmp.Compare(n.ID, m.ID) }
)

// pick returns up to k nodes with status st that pass every filter, in
// the given order.
func (d *decider) pick(st code, by order, k int, filters ...func(state) bool) []state {
	if k <= 0 {
		return nil
	}
	var found []state
next:
	for _, s := range d.nodes {
		if s.st != st {
			continue
		}
		for _, keep := range filters {
			if !keep(s) {
				continue next
			}
		}
		found = append(found, s)
	}
	slices.SortFunc(found, func(a, b state) int { return by(&d.all[a.i], &d.all[b.i]) })
	if len(found) > k {
		found = found[:k]
	}
	return found
}
