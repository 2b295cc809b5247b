package worker

import (
	"maps"
	"slices"
	"time"

	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

func (c *cycle) sortedNodes() []store.Node {
	// The ids are sorted, not the rows: a row is large, and a cycle over a thousand nodes sorts
	// them several times.
	ids := slices.Sorted(maps.Keys(c.nodes))
	out := make([]store.Node, len(ids))
	for i, id := range ids {
		out[i] = c.nodes[id]
	}
	return out
}

// DecideConfig converts the resolved settings to what decide reads. lastBoot is the boot time the
// machine row recorded (zero when none).
func DecideConfig(c config.Config, lastBoot time.Time) decide.Config {
	sec := func(s int) time.Duration { return time.Duration(s) * time.Second }
	return decide.Config{
		NodeCap:                 c.NodeCap,
		CPULessThan:             float64(c.CPULessThan),
		CPURemove:               float64(c.CPURemove),
		MemLessThan:             float64(c.MemLessThan),
		MemRemove:               float64(c.MemRemove),
		HDLessThan:              float64(c.HDLessThan),
		HDRemove:                float64(c.HDRemove),
		HDIOReadLessThan:        int64(c.HDIOReadLessThan),
		HDIOReadRemove:          int64(c.HDIOReadRemove),
		HDIOWriteLessThan:       int64(c.HDIOWriteLessThan),
		HDIOWriteRemove:         int64(c.HDIOWriteRemove),
		NetIOReadLessThan:       int64(c.NetIOReadLessThan),
		NetIOReadRemove:         int64(c.NetIOReadRemove),
		NetIOWriteLessThan:      int64(c.NetIOWriteLessThan),
		NetIOWriteRemove:        int64(c.NetIOWriteRemove),
		MaxLoadAverageAllowed:   c.MaxLoadAverage,
		DesiredLoadAverage:      c.DesiredLoadAverage,
		DelayStart:              sec(c.DelayStart),
		DelayUpgrade:            sec(c.DelayUpgrade),
		DelayRemove:             sec(c.DelayRemove),
		MaxConcurrentUpgrades:   c.MaxUpgrades,
		MaxConcurrentStarts:     c.MaxStarts,
		MaxConcurrentRemovals:   c.MaxRemovals,
		MaxConcurrentOperations: c.MaxOperations,
		LastBoot:                lastBoot,
		MaxRestarts:             decide.DefaultMaxRestarts,
	}
}

// bootTime is the boot time the machine row recorded, zero when none. On a database adopted from
// wnm-python, until wnm records its own boot time, a boot after upstream's last_stopped_at (its
// boot time at init, then the time of its last resurvey) is a reboot, as it was for wnm-python.
func bootTime(m store.Machine) time.Time {
	if m.WNMBootTime > 0 {
		return time.Unix(m.WNMBootTime, 0)
	}
	if m.LastStoppedAt > 0 {
		return time.Unix(m.LastStoppedAt, 0)
	}
	return time.Time{}
}

func reading(r survey.Reading) decide.Reading {
	if !r.Known {
		return decide.Reading{}
	}
	return decide.Known(r.Value)
}

// DecideHost converts the survey's host reading.
func DecideHost(h survey.Host) decide.Host {
	d := decide.Host{
		CPU: reading(h.CPUPercent), Mem: reading(h.MemPercent), HD: reading(h.DiskPercent),
		HDIORead: reading(h.DiskReadBps), HDIOWrite: reading(h.DiskWriteBps),
		NetIORead: reading(h.NetRecvBps), NetIOWrite: reading(h.NetSendBps),
		Load1: reading(h.Load1), Load5: reading(h.Load5), Load15: reading(h.Load15),
	}
	if h.BootTime.Known {
		d.Boot = time.Unix(int64(h.BootTime.Value), 0)
	}
	return d
}

// DecideNodes joins the stored nodes with this cycle's observation of them.
func DecideNodes(nodes []store.Node, obs []survey.NodeObs) []decide.Node {
	seen := make(map[int]survey.NodeObs, len(obs))
	for _, o := range obs {
		seen[o.ID] = o
	}
	out := make([]decide.Node, 0, len(nodes))
	for _, n := range nodes {
		d := decide.Node{
			ID:      n.ID,
			Status:  decide.Status(n.Status),
			Changed: time.Unix(n.Timestamp, 0),
			Born:    time.Unix(n.Age, 0),
			Version: n.Version,
		}
		if o, ok := seen[n.ID]; ok {
			d.Observed, d.Up, d.Gone = true, o.Up, !o.RootDirExists
			if v := nodeVersion(o); v != "" {
				d.Version = v
			}
		}
		out = append(out, d)
	}
	return out
}

// nodeVersion is the version a node runs: what its metadata says, else its binary's.
func nodeVersion(o survey.NodeObs) string {
	if o.Up && o.Version != "" {
		return o.Version
	}
	return o.BinaryVersion
}

// Input builds decide's input from the settings, the machine's recorded boot time, the nodes and a
// survey of them, at now. New ids stay below the highest id whose ports are valid, and above
// highest_node_id_used (the id counter wnm-python keeps for antctl, or sets to the highest id when
// it migrates a database): an id it recorded as used is not handed out again.
func Input(c config.Config, lastBoot time.Time, nodes []store.Node, obs survey.Observation, now time.Time) decide.Input {
	in := decide.Input{
		Config: DecideConfig(c, lastBoot),
		Host:   DecideHost(obs.Host),
		Nodes:  DecideNodes(nodes, obs.Nodes),
		Latest: obs.LatestVersion,
		Now:    now,
		MaxID:  c.MaxNodeID(),
	}
	if c.HighestNodeIDUsed > 0 {
		in.Held = []int{c.HighestNodeIDUsed}
	}
	return in
}

func (c *cycle) input(obs survey.Observation) decide.Input {
	in := Input(c.Config, bootTime(c.machine), c.sortedNodes(), obs, c.start)
	in.Held, in.Reserved = append(in.Held, c.adoption.Held...), c.adoption.Reserved
	for i := range in.Nodes {
		in.Nodes[i].Alive = c.alive[in.Nodes[i].ID]
		in.Nodes[i].Restarts = c.restarts[in.Nodes[i].ID]
	}
	return in
}
