package survey

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestMetadataLookup(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	entry := MetadataEntry{MetricsPort: 13001, Version: "0.4.17", PeerID: "12D3KooWpeer", AtMS: at.UnixMilli()}
	target := Target{ID: 1, MetricsPort: 13001}
	tests := []struct {
		name   string
		target Target
		entry  *MetadataEntry // nil: no entry
		boot   int64          // the boot time begin is given; the cache's is 1000
		uptime int64
		now    time.Time
		want   bool
	}{
		{name: "running since long before the answer", target: target, entry: &entry, boot: 1000, uptime: 3600, now: at.Add(time.Minute), want: true},
		{name: "started just inside the slack", target: target, entry: &entry, boot: 1000, uptime: 62, now: at.Add(time.Minute), want: false},
		{name: "started more than the slack before", target: target, entry: &entry, boot: 1000, uptime: 63, now: at.Add(time.Minute), want: true},
		{name: "restarted after the answer", target: target, entry: &entry, boot: 1000, uptime: 30, now: at.Add(time.Minute), want: false},
		{name: "no uptime", target: target, entry: &entry, boot: 1000, uptime: 0, now: at.Add(time.Minute), want: false},
		{name: "clock went back", target: target, entry: &entry, boot: 1000, uptime: 86400, now: at.Add(-time.Minute), want: false},
		{name: "another metrics port", target: Target{ID: 1, MetricsPort: 13002}, entry: &entry, boot: 1000, uptime: 3600, now: at.Add(time.Minute), want: false},
		{name: "another node", target: Target{ID: 2, MetricsPort: 13001}, entry: &entry, boot: 1000, uptime: 3600, now: at.Add(time.Minute), want: false},
		{name: "no entry", target: target, boot: 1000, uptime: 3600, now: at.Add(time.Minute), want: false},
		{name: "rebooted", target: target, entry: &entry, boot: 5000, uptime: 3600, now: at.Add(time.Minute), want: false},
		{name: "boot time within tolerance", target: target, entry: &entry, boot: 1000 + bootTimeTolerance, uptime: 3600, now: at.Add(time.Minute), want: true},
		{name: "boot time unknown", target: target, entry: &entry, boot: 0, uptime: 3600, now: at.Add(time.Minute), want: false},
		{name: "entry without a peer id", target: target, entry: &MetadataEntry{MetricsPort: 13001, Version: "0.4.17", AtMS: at.UnixMilli()}, boot: 1000, uptime: 3600, now: at.Add(time.Minute), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &MetadataCache{BootTime: 1000}
			if tt.entry != nil {
				c.Nodes = map[int]MetadataEntry{1: *tt.entry}
			}
			c.begin(tt.boot)
			got, ok := c.lookup(tt.target, tt.uptime, tt.now)
			if ok != tt.want {
				t.Fatalf("lookup = %v, want %v", ok, tt.want)
			}
			if ok && got != *tt.entry {
				t.Errorf("lookup = %+v, want %+v", got, *tt.entry)
			}
		})
	}
	var nilCache *MetadataCache
	if _, ok := nilCache.lookup(target, 3600, at); ok {
		t.Error("a nil cache answered")
	}
}

// TestMetadataBootChange checks that entries of another boot are dropped, not just ignored, so
// that they are never written back.
func TestMetadataBootChange(t *testing.T) {
	c := &MetadataCache{BootTime: 1000, Nodes: map[int]MetadataEntry{1: {Version: "0.4.17", PeerID: "p"}}}
	c.begin(9000)
	if c.BootTime != 9000 || len(c.Nodes) != 0 {
		t.Errorf("after a reboot: boot time %d, %d entries; want 9000 and none", c.BootTime, len(c.Nodes))
	}
}

// restartable is an antnode whose uptime, version and peer id the test sets, and which counts
// the /metadata requests it answers.
type restartable struct {
	mu        sync.Mutex
	uptime    int64
	version   string
	metadatas int
}

func (n *restartable) set(uptime int64, version string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.uptime, n.version = uptime, version
}

func (n *restartable) asked() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.metadatas
}

func (n *restartable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	w.Header().Set("Content-Type", "application/openmetrics-text;charset=utf-8;version=1.0.0")
	switch r.URL.Path {
	case "/metrics":
		fmt.Fprintf(w, "# TYPE ant_node_uptime gauge\nant_node_uptime %d\n# EOF\n", n.uptime)
	case "/metadata":
		n.metadatas++
		fmt.Fprintf(w, "# TYPE ant_node_antnode_version info\nant_node_antnode_version_info{antnode_version=%q} 1\n"+
			"# TYPE ant_networking_peer_id info\nant_networking_peer_id_info{peer_id=\"12D3KooWpeer\"} 1\n# EOF\n", n.version)
	default:
		http.NotFound(w, r)
	}
}

// TestSurveyAsksMetadataOnce runs surveys a minute apart, as cycles do, over one node that keeps
// running, then restarts on another version: /metadata is asked only when the answer could have
// changed.
func TestSurveyAsksMetadataOnce(t *testing.T) {
	node := &restartable{}
	target := serve(t, 7, node)
	cache := &MetadataCache{}
	now := time.Now()
	run := func(uptime int64, version string) NodeObs {
		t.Helper()
		node.set(uptime, version)
		obs := Survey(t.Context(), Options{Targets: []Target{target}, Metadata: cache, Now: func() time.Time { return now }})
		if len(obs.Nodes) != 1 || !obs.Nodes[0].Up {
			t.Fatalf("survey: %+v", obs.Nodes)
		}
		// The cache goes through JSON between cycles.
		b, err := json.Marshal(cache)
		if err != nil {
			t.Fatal(err)
		}
		cache = &MetadataCache{}
		if err := json.Unmarshal(b, cache); err != nil {
			t.Fatal(err)
		}
		return obs.Nodes[0]
	}
	steps := []struct {
		name    string
		after   time.Duration // since the previous survey
		uptime  int64
		version string // what the node's /metadata says
		asked   int    // /metadata requests so far
		want    string // the version the survey reports
		cached  bool
	}{
		{name: "first survey", uptime: 3600, version: "0.4.17", asked: 1, want: "0.4.17"},
		{name: "still running", after: time.Minute, uptime: 3660, version: "0.4.17", asked: 1, want: "0.4.17", cached: true},
		{name: "still running, an hour on", after: time.Hour, uptime: 7260, version: "0.4.17", asked: 1, want: "0.4.17", cached: true},
		{name: "restarted on a new version", after: time.Minute, uptime: 20, version: "0.4.18", asked: 2, want: "0.4.18"},
		{name: "running on the new version", after: time.Minute, uptime: 80, version: "0.4.18", asked: 2, want: "0.4.18", cached: true},
	}
	for _, s := range steps {
		now = now.Add(s.after)
		o := run(s.uptime, s.version)
		if got := node.asked(); got != s.asked {
			t.Errorf("%s: /metadata asked %d times, want %d", s.name, got, s.asked)
		}
		if o.Version != s.want || o.PeerID != "12D3KooWpeer" || o.MetadataCached != s.cached {
			t.Errorf("%s: version %q, peer id %q, cached %v; want %q, 12D3KooWpeer, %v", s.name, o.Version, o.PeerID, o.MetadataCached, s.want, s.cached)
		}
	}
	// Without a cache every survey asks.
	node.set(99999, "0.4.18")
	before := node.asked()
	obs := Survey(t.Context(), Options{Targets: []Target{target}})
	if node.asked() != before+1 || obs.Nodes[0].MetadataCached {
		t.Errorf("without a cache: /metadata asked %d times, cached %v; want once, false", node.asked()-before, obs.Nodes[0].MetadataCached)
	}
}
