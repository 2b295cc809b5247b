package survey

import (
	"sync"
	"time"
)

// MetadataCache remembers what each node's /metadata said and when, so that a
// node whose process has run since before then is not asked again: a running
// antnode keeps its version and peer id for as long as it runs. A node that
// restarted (an upgrade, a crash, a manual restart, a reboot) reports an
// uptime shorter than the time since its entry was read, and is asked again.
// Asking only /metrics halves the requests a cycle sends to an idle fleet.
//
// An entry is used only when all of these hold:
//   - it was read on the current boot (BootTime matches the host's);
//   - the node answered /metrics now, on the same metrics port, with an
//     ant_node_uptime above zero;
//   - the clock has not gone back since the entry was read;
//   - the process started at least [metadataSlack] before the entry was
//     read, by its uptime (whole seconds).
//
// The zero value is ready to use and safe for concurrent use. It is
// JSON-serialisable so the caller can keep it between cycles:
//
//	{"boot_time": 1767225600, "nodes": {"3":
//	    {"metrics_port": 13003, "version": "0.4.17", "peer_id": "12D3KooW…", "at_ms": 1767229200000}}}
type MetadataCache struct {
	// BootTime is the boot time (Unix seconds) the entries were read on; 0
	// when unknown.
	BootTime int64 `json:"boot_time"`
	// Nodes maps a node id to what its /metadata last said.
	Nodes map[int]MetadataEntry `json:"nodes"`

	mu     sync.Mutex
	usable bool // begin found the boot time unchanged
}

// MetadataEntry is one node's /metadata answer.
type MetadataEntry struct {
	// MetricsPort is the port the answer came from.
	MetricsPort int `json:"metrics_port"`
	// Version and PeerID are what /metadata said.
	Version string `json:"version"`
	PeerID  string `json:"peer_id"`
	// AtMS is when the answer arrived, in Unix milliseconds.
	AtMS int64 `json:"at_ms"`
}

// metadataSlack absorbs the whole-second resolution of ant_node_uptime and
// the time between reading it and reading the clock.
const metadataSlack = 2 * time.Second

// begin starts a survey on the boot that started at bootTime (Unix seconds, 0
// when unknown). Entries from another boot are dropped; with the boot time
// unknown, no entry is used (but new answers are still kept).
func (c *MetadataCache) begin(bootTime int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.usable = bootTime != 0 && c.BootTime != 0 && absInt(c.BootTime-bootTime) <= bootTimeTolerance
	if !c.usable && bootTime != c.BootTime {
		c.Nodes, c.BootTime = nil, bootTime
	}
}

// lookup returns the entry for t when the process that answered /metrics,
// up for uptime seconds at now, was already running when the entry was read.
func (c *MetadataCache) lookup(t Target, uptime int64, now time.Time) (MetadataEntry, bool) {
	if c == nil || uptime <= 0 {
		return MetadataEntry{}, false
	}
	c.mu.Lock()
	e, ok := c.Nodes[t.ID]
	usable := c.usable
	c.mu.Unlock()
	if !ok || !usable || e.MetricsPort != t.MetricsPort || e.Version == "" || e.PeerID == "" {
		return MetadataEntry{}, false
	}
	at := time.UnixMilli(e.AtMS)
	if now.Before(at) {
		return MetadataEntry{}, false // the clock went back: the uptime cannot be compared
	}
	started := now.Add(-time.Duration(uptime) * time.Second)
	if !started.Before(at.Add(-metadataSlack)) {
		return MetadataEntry{}, false
	}
	return e, true
}

// remember records what t's /metadata said at at.
func (c *MetadataCache) remember(t Target, version, peerID string, at time.Time) {
	if c == nil || version == "" || peerID == "" {
		return
	}
	e := MetadataEntry{MetricsPort: t.MetricsPort, Version: version, PeerID: peerID, AtMS: at.UnixMilli()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Nodes == nil {
		c.Nodes = map[int]MetadataEntry{}
	}
	c.Nodes[t.ID] = e
}

// Prune drops the entries of nodes whose id is not in keep.
func (c *MetadataCache) Prune(keep func(id int) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.Nodes {
		if !keep(id) {
			delete(c.Nodes, id)
		}
	}
}
