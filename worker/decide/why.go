package decide

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Skip is a decision the plan did not take, and why: "no add: CPU 97.4 % ≥
// cpu_less_than 50 %". When a measured figure stopped it, Measured and
// Threshold give the figure and the setting's value.
type Skip struct {
	// Kind is the action not taken.
	Kind Kind `json:"kind"`
	// Node is the node it would have acted on; 0 for an add or when no
	// single node is concerned.
	Node int `json:"node,omitempty"`
	// Reason is the whole explanation, as printed.
	Reason string `json:"reason"`
	// Setting names the threshold or limit that stopped it, if one did.
	Setting string `json:"setting,omitempty"`
	// Measured is the figure compared with the threshold (null when the
	// survey could not read it).
	Measured *float64 `json:"measured,omitempty"`
	// Threshold is the setting's value.
	Threshold *float64 `json:"threshold,omitempty"`
}

// String returns the reason.
func (s Skip) String() string { return s.Reason }

// blocker is one cause that keeps an action from being taken.
type blocker struct {
	text      string
	setting   string
	measured  *float64
	threshold *float64
	unknown   bool // the measured figure is unknown
}

func num(v float64) *float64 { return &v }

// fmtNum renders a figure with at most prec decimals.
func fmtNum(v float64, prec int) string {
	p := math.Pow(10, float64(prec))
	return strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
}

// reading compares a host figure with a threshold. allow says the figure
// must be below the threshold for the action (else above it forces removal).
func readingBlocker(label string, r Reading, setting string, limit float64, unit string, prec int, allow bool) blocker {
	sp := func(u string) string {
		if u == "" {
			return ""
		}
		return " " + u
	}
	if !r.ok() {
		return blocker{text: fmt.Sprintf("%s unknown (the survey could not read it; %s %s%s)", label, setting, fmtNum(limit, prec), sp(unit)),
			setting: setting, threshold: num(limit), unknown: true}
	}
	op := "≥"
	if !allow {
		op = ">"
	}
	return blocker{text: fmt.Sprintf("%s %s%s %s %s %s%s", label, fmtNum(r.Value, prec), sp(unit), op, setting, fmtNum(limit, prec), sp(unit)),
		setting: setting, measured: num(r.Value), threshold: num(limit)}
}

// growthBlockers lists why resources do not allow growth (adds and starts).
func (d *decider) growthBlockers(h Host) []blocker {
	c, f := d.cfg, d.f
	var bs []blocker
	if !f.AllowCPU {
		bs = append(bs, readingBlocker("CPU", h.CPU, "cpu_less_than", c.CPULessThan, "%", 1, true))
	}
	if !f.AllowMem {
		bs = append(bs, readingBlocker("memory", h.Mem, "mem_less_than", c.MemLessThan, "%", 1, true))
	}
	if !f.AllowHD {
		bs = append(bs, readingBlocker("disk", h.HD, "hd_less_than", c.HDLessThan, "%", 1, true))
	}
	io := []struct {
		label   string
		r       Reading
		setting string
		limit   int64
	}{
		{"disk reads", h.HDIORead, "hdio_read_less_than", c.HDIOReadLessThan},
		{"disk writes", h.HDIOWrite, "hdio_write_less_than", c.HDIOWriteLessThan},
		{"network receive", h.NetIORead, "netio_read_less_than", c.NetIOReadLessThan},
		{"network send", h.NetIOWrite, "netio_write_less_than", c.NetIOWriteLessThan},
	}
	for _, x := range io {
		if x.limit > 0 && !below(x.r, float64(x.limit)) {
			bs = append(bs, readingBlocker(x.label, x.r, x.setting, float64(x.limit), "B/s", 0, true))
		}
	}
	for _, l := range []struct {
		label string
		r     Reading
	}{{"load average 1m", h.Load1}, {"load average 5m", h.Load5}, {"load average 15m", h.Load15}} {
		if !below(l.r, c.DesiredLoadAverage) {
			bs = append(bs, readingBlocker(l.label, l.r, "desired_load_average", c.DesiredLoadAverage, "", 2, true))
		}
	}
	return bs
}

// pressureBlockers lists the resource pressure that forbids growth and
// upgrades.
func (d *decider) pressureBlockers(h Host) []blocker {
	c, f := d.cfg, d.f
	var bs []blocker
	if f.RemoveCPU {
		bs = append(bs, readingBlocker("CPU", h.CPU, "cpu_remove", c.CPURemove, "%", 1, false))
	}
	if f.RemoveMem {
		bs = append(bs, readingBlocker("memory", h.Mem, "mem_remove", c.MemRemove, "%", 1, false))
	}
	if f.RemoveHD {
		bs = append(bs, readingBlocker("disk", h.HD, "hd_remove", c.HDRemove, "%", 1, false))
	}
	io := []struct {
		label   string
		r       Reading
		setting string
		limit   int64
	}{
		{"disk reads", h.HDIORead, "hdio_read_remove", c.HDIOReadRemove},
		{"disk writes", h.HDIOWrite, "hdio_write_remove", c.HDIOWriteRemove},
		{"network receive", h.NetIORead, "netio_read_remove", c.NetIOReadRemove},
		{"network send", h.NetIOWrite, "netio_write_remove", c.NetIOWriteRemove},
	}
	for _, x := range io {
		if x.limit > 0 && above(x.r, float64(x.limit)) {
			bs = append(bs, readingBlocker(x.label, x.r, x.setting, float64(x.limit), "B/s", 0, false))
		}
	}
	for _, l := range []struct {
		label string
		r     Reading
	}{{"load average 1m", h.Load1}, {"load average 5m", h.Load5}, {"load average 15m", h.Load15}} {
		if above(l.r, c.MaxLoadAverageAllowed) {
			bs = append(bs, readingBlocker(l.label, l.r, "max_load_average_allowed", c.MaxLoadAverageAllowed, "", 2, false))
		}
	}
	if d.counts.Total > c.NodeCap {
		bs = append(bs, blocker{text: fmt.Sprintf("%d nodes > node_cap %d", d.counts.Total, c.NodeCap),
			setting: "node_cap", measured: num(float64(d.counts.Total)), threshold: num(float64(c.NodeCap))})
	}
	return bs
}

// busy describes the nodes in a transitional status, with the time each
// delay runs out: "node 2 (RESTARTING until 12:41:07)".
func (d *decider) busy(now time.Time, codes ...code) string {
	type part struct {
		id   int
		text string
	}
	var found []part
	for _, s := range d.nodes {
		for _, cd := range codes {
			if s.st != cd {
				continue
			}
			n := d.all[s.i]
			var delay time.Duration
			st := Restarting
			switch cd {
			case cRestarting:
				delay = d.cfg.DelayStart
			case cUpgrading:
				delay, st = d.cfg.DelayUpgrade, Upgrading
			case cRemoving:
				delay, st = d.cfg.DelayRemove, Removing
			case cMigrating:
				st = Migrating
			}
			if delay > 0 && !n.Changed.IsZero() {
				found = append(found, part{n.ID, fmt.Sprintf("node %d (%s until %s)", n.ID, st, n.Changed.Add(delay).In(now.Location()).Format("15:04:05"))})
			} else {
				found = append(found, part{n.ID, fmt.Sprintf("node %d (%s)", n.ID, st)})
			}
		}
	}
	// By id, so that the text does not depend on the order the nodes came in.
	sort.Slice(found, func(i, j int) bool {
		if found[i].id != found[j].id {
			return found[i].id < found[j].id
		}
		return found[i].text < found[j].text
	})
	parts := make([]string, len(found))
	for i, p := range found {
		parts[i] = p.text
	}
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("%d more", len(parts)-3))
	}
	return strings.Join(parts, ", ")
}

// limitBlocker explains a concurrency limit with no room left.
func (d *decider) limitBlocker(now time.Time, setting string, limit int, codes ...code) blocker {
	return blocker{text: fmt.Sprintf("%s %d in use by %s", setting, limit, d.busy(now, codes...)),
		setting: setting, threshold: num(float64(limit))}
}

// skips turns blockers into Skips of kind on node, prefixed by head.
func skips(kind Kind, node int, head string, bs []blocker) []Skip {
	out := make([]Skip, 0, len(bs))
	for _, b := range bs {
		s := Skip{Kind: kind, Node: node, Reason: head + b.text, Setting: b.setting, Threshold: b.threshold}
		if !b.unknown {
			s.Measured = b.measured
		}
		out = append(out, s)
	}
	return out
}

// joined folds blockers into one Skip (for per-node lines, so that a large
// fleet does not print one line per node per cause).
func joined(kind Kind, node int, head string, bs []blocker) Skip {
	texts := make([]string, 0, len(bs))
	for _, b := range bs {
		texts = append(texts, b.text)
	}
	s := Skip{Kind: kind, Node: node, Reason: head + strings.Join(texts, "; ")}
	if len(bs) == 1 {
		s.Setting, s.Threshold = bs[0].setting, bs[0].threshold
		if !bs[0].unknown {
			s.Measured = bs[0].measured
		}
	}
	return s
}

// explain lists the decisions the plan did not take: growth, starts,
// upgrades and relief of pressure, each with what stopped it.
func (d *decider) explain(in Input, acts []Action) []Skip {
	c, n, f := d.cfg, d.counts, d.f
	now := in.Now
	took := map[Kind]int{}
	for _, a := range acts {
		took[a.Kind]++
	}
	if took[Remove] > 0 && acts[0].Reason == "dead node cleanup" {
		return []Skip{{Kind: Survey, Reason: "nothing else this cycle: dead nodes are removed first"}}
	}
	ops := n.Operations()
	var global []blocker
	if ops >= c.MaxConcurrentOperations {
		global = []blocker{d.limitBlocker(now, "max_concurrent_operations", c.MaxConcurrentOperations, cUpgrading, cRestarting, cRemoving)}
	}
	var out []Skip

	// Relief of pressure.
	if f.Remove && took[Remove] == 0 && took[Stop] == 0 {
		var bs []blocker
		switch {
		case global != nil:
			bs = global
		case c.MaxConcurrentRemovals-n.Removing <= 0:
			bs = []blocker{d.limitBlocker(now, "max_concurrent_removals", c.MaxConcurrentRemovals, cRemoving)}
		case !f.HardRemove && n.Removing > 0:
			bs = []blocker{{text: "waiting for the removal of " + d.busy(now, cRemoving)}}
		case !f.HardRemove && f.StopCooldown:
			bs = []blocker{{text: fmt.Sprintf("a node stopped less than delay_remove %d s ago", int64(c.DelayRemove.Seconds())), setting: "delay_remove", threshold: num(c.DelayRemove.Seconds())}}
		case n.Running == 0 && n.Stopped == 0:
			bs = []blocker{{text: "no running or stopped node to act on"}}
		}
		kind, head := Stop, "no stop under pressure ("
		if f.HardRemove {
			kind, head = Remove, "no removal under pressure ("
		}
		var why []string
		for _, b := range d.pressureBlockers(in.Host) {
			why = append(why, b.text)
		}
		head += strings.Join(why, "; ") + "): "
		out = append(out, skips(kind, 0, head, bs)...)
	}

	// Upgrades.
	if n.Outdated > 0 && took[Upgrade] < n.Outdated {
		var bs []blocker
		switch {
		case global != nil:
			bs = global
		case f.Remove:
			bs = append(bs, d.pressureBlockers(in.Host)...)
			for i := range bs {
				bs[i].text = "resource pressure: " + bs[i].text
			}
		case took[Upgrade] == 0 && c.MaxConcurrentUpgrades-n.Upgrading <= 0:
			bs = []blocker{d.limitBlocker(now, "max_concurrent_upgrades", c.MaxConcurrentUpgrades, cUpgrading)}
		case took[Upgrade] > 0:
			bs = []blocker{{text: fmt.Sprintf("max_concurrent_upgrades %d used by this cycle's upgrades", c.MaxConcurrentUpgrades),
				setting: "max_concurrent_upgrades", threshold: num(float64(c.MaxConcurrentUpgrades))}}
		}
		if len(bs) > 0 {
			for _, s := range d.pick(cRunning, oldest, len(d.nodes), func(s state) bool { return s.outdated }) {
				id := d.all[s.i].ID
				if !tookNode(acts, Upgrade, id) {
					out = append(out, joined(Upgrade, id, fmt.Sprintf("outdated node %d (%s < %s) not upgraded: ", id, d.all[s.i].Version, in.Latest), bs))
				}
			}
		}
	}

	// Growth: starts of stopped nodes, then adds.
	var grow []blocker
	switch {
	case global != nil:
		grow = global
	case f.Remove:
		grow = d.pressureBlockers(in.Host)
		for i := range grow {
			grow[i].text = "resource pressure: " + grow[i].text
		}
	default:
		grow = d.growthBlockers(in.Host)
		if f.Transitional {
			grow = append(grow, blocker{text: "waiting for " + d.busy(now, cRestarting, cUpgrading, cRemoving, cMigrating)})
		}
		if len(grow) == 0 && took[Upgrade] > 0 {
			grow = []blocker{{text: "upgrades come first this cycle"}}
		}
	}
	startRoom := min(c.MaxConcurrentStarts-n.Restarting, c.MaxConcurrentOperations-ops) - took[Start] - took[Add]
	startLimit := sync.OnceValue(func() []blocker {
		if len(grow) > 0 {
			return grow
		}
		if took[Start]+took[Add] > 0 {
			return []blocker{{text: fmt.Sprintf("max_concurrent_starts %d used by this cycle's starts", c.MaxConcurrentStarts),
				setting: "max_concurrent_starts", threshold: num(float64(c.MaxConcurrentStarts))}}
		}
		if c.MaxConcurrentStarts-n.Restarting <= 0 {
			return []blocker{d.limitBlocker(now, "max_concurrent_starts", c.MaxConcurrentStarts, cRestarting)}
		}
		if startRoom <= 0 {
			return []blocker{d.limitBlocker(now, "max_concurrent_operations", c.MaxConcurrentOperations, cUpgrading, cRestarting, cRemoving)}
		}
		return nil
	})
	for _, s := range d.pick(cStopped, oldest, len(d.nodes)) {
		id := d.all[s.i].ID
		if tookNode(acts, Start, id) {
			continue
		}
		bs := startLimit()
		if len(bs) == 0 && n.Running+took[Start] >= c.NodeCap {
			bs = []blocker{{text: fmt.Sprintf("%d running nodes ≥ node_cap %d", n.Running+took[Start], c.NodeCap),
				setting: "node_cap", measured: num(float64(n.Running + took[Start])), threshold: num(float64(c.NodeCap))}}
		}
		if len(bs) > 0 {
			out = append(out, joined(Start, id, fmt.Sprintf("stopped node %d not started: ", id), bs))
		}
	}
	if took[Add] == 0 || n.Total+took[Add] < c.NodeCap {
		var bs []blocker
		switch {
		case n.Total+took[Add] >= c.NodeCap:
			bs = []blocker{{text: fmt.Sprintf("%d nodes ≥ node_cap %d", n.Total+took[Add], c.NodeCap),
				setting: "node_cap", measured: num(float64(n.Total + took[Add])), threshold: num(float64(c.NodeCap))}}
		case !d.latestOK:
			bs = []blocker{{text: "the version of antnode_path is unknown (a new node would have no binary to run)"}}
		default:
			if len(grow) == 0 && len(d.freeIDs(took[Add]+1)) <= took[Add] {
				bs = []blocker{{text: fmt.Sprintf("no free node id: every id up to %d is a node's, held by a unit or node directory, or has a port in use", d.maxID)}}
				break
			}
			bs = startLimit()
			if len(bs) == 0 && took[Start] > 0 {
				bs = []blocker{{text: "stopped nodes are started first"}}
			}
		}
		out = append(out, skips(Add, 0, "no add: ", bs)...)
	}
	return out
}

func tookNode(acts []Action, k Kind, id int) bool {
	for _, a := range acts {
		if a.Kind == k && a.Node == id {
			return true
		}
	}
	return false
}
