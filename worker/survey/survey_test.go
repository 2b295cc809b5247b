package survey

import (
	"cmp"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/golden"
)

// sample returns a capture from the openmetrics package's testdata.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("openmetrics", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// antnode serves /metrics and /metadata like antnode does; a nil body
// answers 404 as antnode does for unknown paths.
func antnode(metrics, metadata []byte) http.Handler {
	body := map[string][]byte{"/metrics": metrics, "/metadata": metadata}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := body[r.URL.Path]
		if b == nil {
			http.Error(w, "Not found try localhost:[port]/metrics", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/openmetrics-text;charset=utf-8;version=1.0.0")
		_, _ = w.Write(b)
	})
}

// hangHandler never answers: it blocks until the test ends. serve releases
// it in a cleanup that runs before the server's Close, which would otherwise
// wait for it forever.
type hangHandler struct {
	stop chan struct{}
	once sync.Once
}

func hang() *hangHandler { return &hangHandler{stop: make(chan struct{})} }

func (h *hangHandler) ServeHTTP(http.ResponseWriter, *http.Request) { <-h.stop }

func (h *hangHandler) release() { h.once.Do(func() { close(h.stop) }) }

// serve starts h on 127.0.0.1 and returns a target for it.
func serve(t testing.TB, id int, h http.Handler) Target {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Start()
	t.Cleanup(srv.Close)
	if h, ok := h.(*hangHandler); ok {
		t.Cleanup(h.release) // cleanups run last-in first-out
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return Target{ID: id, Host: u.Hostname(), MetricsPort: port}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func testPoller(timeout time.Duration) poller {
	return poller{
		client:      NewHTTPClient(timeout),
		timeout:     timeout,
		concurrency: 4,
		stallAfter:  DefaultStallAfter,
		maxInFlight: 32,
	}
}

func TestPollNode(t *testing.T) {
	metrics, metadata := sample(t, "peers-metrics.txt"), sample(t, "peers-metadata.txt")
	garbage := []byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n")
	bigRewards := []byte("# TYPE ant_node_current_reward_wallet_balance gauge\n" +
		"ant_node_current_reward_wallet_balance 123456789012345678901\n" +
		"# TYPE ant_node_put_record_ok counter\n" +
		"ant_node_put_record_ok_total{record_type=\"Chunk\"} 1.5e3\n" +
		"ant_node_put_record_ok_total{record_type=\"Pointer\"} 2\n# EOF\n")
	tests := []struct {
		name    string
		handler http.Handler // nil: nothing listens
		timeout time.Duration
		check   func(t *testing.T, o NodeObs)
	}{
		{
			name:    "healthy",
			handler: antnode(metrics, metadata),
			check: func(t *testing.T, o NodeObs) {
				want := NodeObs{
					ID: 7, Up: true, HTTPStatus: 200, MetadataStatus: 200,
					Version: "0.4.17", PeerID: "12D3KooWMDqtXsSEbuWZ5wdrr3Ai6rUWJta6yBgutJaJXusSujuu",
					Uptime: 86412, Records: 2311, Shunned: 0, ConnectedPeers: 41,
					Puts: 1873 + 4, MemMB: 212.4375, CPUPercent: 0.8125,
					OpenConnections: 43, TotalPeers: 362, BadPeers: 5, RelRecords: 1987,
					MaxRecords: 16384, Rewards: "1250000000000000", PaymentCount: 9,
					LiveTime: 86400, NetworkSize: 2064384,
				}
				if diff := gocmp.Diff(want, o); diff != "" {
					t.Errorf("NodeObs mismatch (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "real antnode capture",
			handler: antnode(sample(t, "antnode-metrics.txt"), sample(t, "antnode-metadata.txt")),
			check: func(t *testing.T, o NodeObs) {
				got := []any{o.Up, o.Version, o.Puts, o.MemMB, o.CPUPercent, o.Uptime, o.Rewards, o.NetworkSize}
				want := []any{true, "0.4.7", int64(1), 97.8125, 0.0353, int64(1260), "0", int64(2064384)}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("up, version, puts, mem, cpu, uptime, rewards, network size (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "labelled counters are summed and rewards keep every digit",
			handler: antnode(bigRewards, metadata),
			check: func(t *testing.T, o NodeObs) {
				if !o.Up || o.Puts != 1502 || o.Rewards != "123456789012345678901" || o.Uptime != 0 {
					t.Errorf("up %v, puts %d, rewards %q, uptime %d; want true, 1502, 123456789012345678901, 0",
						o.Up, o.Puts, o.Rewards, o.Uptime)
				}
			},
		},
		{
			name: "503 is not up",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write(metrics) // a valid body does not make it up
			}),
			check: func(t *testing.T, o NodeObs) {
				if o.Up || o.HTTPStatus != 503 || !strings.Contains(o.Error, "status 503 Service Unavailable") {
					t.Errorf("up %v, status %d, error %q; want not up, 503, an error naming it", o.Up, o.HTTPStatus, o.Error)
				}
				if o.Uptime != 0 || o.Rewards != "0" {
					t.Errorf("a node that is not up reported uptime %d, rewards %q", o.Uptime, o.Rewards)
				}
			},
		},
		{
			name:    "garbage is not up",
			handler: antnode(garbage, garbage),
			check: func(t *testing.T, o NodeObs) {
				if o.Up || o.HTTPStatus != 200 || !strings.Contains(o.Error, "no antnode metrics") {
					t.Errorf("up %v, status %d, error %q; want not up, 200, an error", o.Up, o.HTTPStatus, o.Error)
				}
				if o.MetadataError == "" || o.Version != "" || o.PeerID != "" {
					t.Errorf("metadata error %q, version %q, peer id %q; want an error and nothing else", o.MetadataError, o.Version, o.PeerID)
				}
			},
		},
		{
			name:    "malformed antnode metric is not up",
			handler: antnode([]byte("# TYPE ant_node_uptime gauge\nant_node_uptime twelve\n"), metadata),
			check: func(t *testing.T, o NodeObs) {
				if o.Up || !strings.Contains(o.Error, "line 2: expected float as value") {
					t.Errorf("up %v, error %q; want not up with the parse error", o.Up, o.Error)
				}
			},
		},
		{
			name:    "empty body is not up",
			handler: antnode([]byte{}, []byte{}),
			check: func(t *testing.T, o NodeObs) {
				if o.Up || o.Error == "" {
					t.Errorf("up %v, error %q; want not up with an error", o.Up, o.Error)
				}
			},
		},
		{
			name:    "metadata missing, metrics fine",
			handler: antnode(metrics, nil),
			check: func(t *testing.T, o NodeObs) {
				if !o.Up || o.MetadataStatus != 404 || o.MetadataError == "" || o.Version != "" || o.PeerID != "" {
					t.Errorf("up %v, metadata %d %q, version %q, peer %q; want up, 404, no version or peer id",
						o.Up, o.MetadataStatus, o.MetadataError, o.Version, o.PeerID)
				}
			},
		},
		{
			name:    "oversized body is not up",
			timeout: 10 * time.Second, // reading 4 MiB is slow under -race
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				line := []byte("filler_not_selected 1\n")
				for range maxBody/len(line) + 2 {
					if _, err := w.Write(line); err != nil {
						return
					}
				}
			}),
			check: func(t *testing.T, o NodeObs) {
				if o.Up || !strings.Contains(o.Error, "body larger than") {
					t.Errorf("up %v, error %q; want not up, body too large", o.Up, o.Error)
				}
			},
		},
		{
			name:    "nothing listening",
			handler: nil,
			check: func(t *testing.T, o NodeObs) {
				if o.Up || o.HTTPStatus != 0 || !strings.Contains(o.Error, "connection refused") {
					t.Errorf("up %v, status %d, error %q; want not up, 0, connection refused", o.Up, o.HTTPStatus, o.Error)
				}
			},
		},
		{
			name:    "hanging node times out",
			handler: hang(),
			check: func(t *testing.T, o NodeObs) {
				if o.Up || !strings.Contains(o.Error, "no answer within 200ms") {
					t.Errorf("up %v, error %q; want not up, no answer within 200ms", o.Up, o.Error)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := Target{ID: 7, Host: "127.0.0.1", MetricsPort: closedPort(t)}
			if tt.handler != nil {
				target = serve(t, 7, tt.handler)
			}
			timeout := cmp.Or(tt.timeout, 200*time.Millisecond)
			start := time.Now()
			o := testPoller(timeout).poll(t.Context(), target)
			if took := time.Since(start); took > timeout+10*time.Second { // a poll without the timeout hangs for good
				t.Errorf("poll took %v, want about one timeout (%v) at most", took, timeout)
			}
			tt.check(t, o)
		})
	}
}

func TestRootDirExists(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	port := closedPort(t)
	for _, tt := range []struct {
		dir  string
		want bool
	}{{dir, true}, {filepath.Join(dir, "missing"), false}, {file, false}, {"", false}} {
		o := testPoller(time.Second).poll(t.Context(), Target{ID: 1, Host: "127.0.0.1", MetricsPort: port, RootDir: tt.dir})
		if o.RootDirExists != tt.want {
			t.Errorf("RootDir %q: RootDirExists = %v, want %v", tt.dir, o.RootDirExists, tt.want)
		}
	}
}

// TestSurvey runs the whole thing against a small fleet: healthy, down,
// hung, broken, out of ID order.
func TestSurvey(t *testing.T) {
	metrics, metadata := sample(t, "peers-metrics.txt"), sample(t, "peers-metadata.txt")
	dir := t.TempDir()
	bin, runs := fakeBinary(t, dir, versionOutput, 0)
	oldBin, _ := fakeBinary(t, t.TempDir(), "Autonomi Node v0.4.7", 0)

	healthy := serve(t, 3, antnode(metrics, metadata))
	healthy.Binary, healthy.RootDir = bin, dir
	old := serve(t, 1, antnode(sample(t, "antnode-metrics.txt"), sample(t, "antnode-metadata.txt")))
	old.Binary = oldBin
	hung := serve(t, 2, hang())
	hung.Binary = bin
	down := Target{ID: 5, Host: "127.0.0.1", MetricsPort: closedPort(t), Binary: filepath.Join(dir, "gone")}
	broken := serve(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))

	versions := &VersionCache{}
	timeout := 300 * time.Millisecond
	start := time.Now()
	obs := Survey(t.Context(), Options{
		Targets:     []Target{healthy, hung, down, old, broken},
		NodeStorage: filepath.Join(dir, "node-storage"),
		Versions:    versions,
		Latest:      bin,
		Timeout:     timeout,
	})
	took := time.Since(start)
	if took > timeout+10*time.Second { // without the timeout the hung node holds it for good
		t.Errorf("survey took %v with one hung node and a %v timeout", took, timeout)
	}
	if obs.Took <= 0 || obs.Took > took {
		t.Errorf("Observation.Took = %v, want within (0, %v]", obs.Took, took)
	}

	type summary struct {
		ID                    int
		Up                    bool
		Status                int
		Version, Binary, Peer string
		BinaryErr             bool
	}
	var got []summary
	for _, n := range obs.Nodes {
		got = append(got, summary{n.ID, n.Up, n.HTTPStatus, n.Version, n.BinaryVersion, n.PeerID[:min(8, len(n.PeerID))], n.BinaryError != ""})
	}
	want := []summary{
		{1, true, 200, "0.4.7", "0.4.7", "12D3KooW", false},
		{2, false, 0, "", "0.4.17", "", false},
		{3, true, 200, "0.4.17", "0.4.17", "12D3KooW", false},
		{4, false, 503, "", "", "", false},
		{5, false, 0, "", "", "", true},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	if obs.LatestVersion != "0.4.17" || obs.LatestErr != "" {
		t.Errorf("latest = %q, %q; want 0.4.17", obs.LatestVersion, obs.LatestErr)
	}
	if got := runs(); got != 1 {
		t.Errorf("the shared binary was run %d times, want once", got)
	}
	if !obs.Nodes[2].RootDirExists || obs.Nodes[0].RootDirExists {
		t.Errorf("root dir exists: node 3 %v, node 1 %v; want true, false", obs.Nodes[2].RootDirExists, obs.Nodes[0].RootDirExists)
	}
	h := obs.Host
	if h.DiskPath != dir || !h.DiskPercent.Known || !h.MemPercent.Known || !h.CPUPercent.Known {
		t.Errorf("host = %+v; want disk figures for %s and known memory and CPU", h, dir)
	}
	if h.RateSource != "sample" || h.RateWindow < MinRateWindow {
		t.Errorf("rates from %q over %v, want a sample of at least %v", h.RateSource, h.RateWindow, MinRateWindow)
	}
	if _, err := os.Stat(filepath.Join(dir, "node-storage")); !os.IsNotExist(err) {
		t.Errorf("the survey created node storage (stat: %v)", err)
	}

	// A second survey with the first one's counters averages since then,
	// and does not run the binary again. The counters are made a second
	// older, as a previous cycle's are: on a quiet machine the two surveys
	// can follow each other within MinRateWindow, and then a fresh sample
	// is rightly taken instead; and two reads of the real counters a few
	// milliseconds apart can see the kernel's idle time step back a tick,
	// which rightly makes them unusable too.
	prev := aSecondBefore(obs.Counters)
	obs2 := Survey(t.Context(), Options{
		Targets: []Target{healthy}, NodeStorage: dir, Versions: versions, Latest: bin,
		Prev: &prev, Timeout: timeout,
	})
	if obs2.Host.RateSource != "previous" || obs2.Host.RateWindow < MinRateWindow {
		t.Errorf("second survey: rates from %q over %v, want since the first survey\nprevious %+v\nnow      %+v", obs2.Host.RateSource, obs2.Host.RateWindow, prev, obs2.Counters)
	}
	if got := runs(); got != 1 {
		t.Errorf("after a second survey the binary ran %d times, want once", got)
	}
}

// aSecondBefore returns c as a previous cycle would have read it a second
// earlier: every cumulative counter lower, so that jitter in the real ones
// read moments later cannot make them look as if they went backwards.
func aSecondBefore(c Counters) Counters {
	c.At = c.At.Add(-time.Second)
	cpus := float64(CPUCount())
	c.CPUTotal = max(0, c.CPUTotal-cpus)
	c.CPUBusy = max(0, c.CPUBusy-cpus/2)
	const bytes = 1 << 20
	c.DiskRead -= min(c.DiskRead, bytes)
	c.DiskWrite -= min(c.DiskWrite, bytes)
	c.NetRecv -= min(c.NetRecv, bytes)
	c.NetSend -= min(c.NetSend, bytes)
	return c
}

func TestSurveyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	targets := []Target{serve(t, 2, hang()), serve(t, 1, hang())}
	start := time.Now()
	obs := Survey(ctx, Options{Targets: targets, NodeStorage: t.TempDir(), Timeout: time.Minute})
	if took := time.Since(start); took > 20*time.Second { // one ignoring the cancel waits the minute
		t.Errorf("cancelled survey took %v", took)
	}
	if len(obs.Nodes) != 2 || obs.Nodes[0].ID != 1 || obs.Nodes[1].ID != 2 {
		t.Fatalf("nodes = %+v, want ids 1 and 2", obs.Nodes)
	}
	for _, n := range obs.Nodes {
		if n.Up || n.Error == "" {
			t.Errorf("node %d: up %v, error %q; want not up with an error", n.ID, n.Up, n.Error)
		}
	}
}

// TestSurveyDeadline: a deadline shorter than the request timeout ends the
// survey at the deadline.
func TestSurveyDeadline(t *testing.T) {
	var targets []Target
	for i := range 5 {
		targets = append(targets, serve(t, i, hang()))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	obs := Survey(ctx, Options{Targets: targets, NodeStorage: t.TempDir(), Timeout: time.Minute, Concurrency: 2})
	if took := time.Since(start); took > 20*time.Second { // one ignoring the deadline waits minutes
		t.Errorf("survey with a 300ms deadline took %v", took)
	}
	for _, n := range obs.Nodes {
		if n.Up || !strings.Contains(n.Error, "survey stopped") {
			t.Errorf("node %d: up %v, error %q; want stopped by the deadline", n.ID, n.Up, n.Error)
		}
	}
}

// TestObservationJSON: the documented keys, null for unknown readings, and
// a lossless round trip.
func TestObservationJSON(t *testing.T) {
	metrics, metadata := sample(t, "peers-metrics.txt"), sample(t, "peers-metadata.txt")
	live := Survey(t.Context(), Options{
		Targets:     []Target{serve(t, 1, antnode(metrics, metadata)), {ID: 2, Host: "127.0.0.1", MetricsPort: closedPort(t)}},
		NodeStorage: t.TempDir(),
		Timeout:     time.Second,
	})
	fixed := Observation{
		Started: t0.Add(123456789),
		Took:    412 * time.Millisecond,
		Host: Host{
			CPUPercent: known(12.5), MemPercent: known(41.25), DiskPercent: known(63),
			DiskTotalBytes: known(1.9e12), DiskPath: "/var/antctl/services",
			DiskReadBps: known(1 << 20), DiskWriteBps: Reading{}, NetRecvBps: known(250000), NetSendBps: known(0.1),
			Load1: known(1.5), Load5: known(1.2), Load15: Reading{},
			BootTime: known(1767225600), CPUCount: 8,
			RateWindow: time.Minute, RateSource: "previous",
		},
		Counters: Counters{
			At: t0.Add(535 * time.Millisecond), BootTime: 1767225600,
			CPUBusy: 81234.5, CPUTotal: 650000.25, HasCPU: true,
			DiskRead: 1<<63 + 1, DiskWrite: 987654321, HasDisk: true,
		},
		Nodes:         []NodeObs{live.Nodes[0], live.Nodes[1]},
		LatestVersion: "0.4.17",
		LatestErr:     "",
		Errors:        []string{"host: network io counters: open /proc/net/dev: permission denied"},
	}
	for _, tt := range []struct {
		name string
		obs  Observation
	}{{"live", live}, {"fixed", fixed}} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.MarshalIndent(tt.obs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			var back Observation
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(tt.obs, back); diff != "" {
				t.Errorf("JSON round trip lost something (-before +after):\n%s", diff)
			}
			if tt.name == "fixed" {
				// The node entries carry ephemeral ports in their errors.
				fixedNodes := tt.obs
				fixedNodes.Nodes = []NodeObs{live.Nodes[0]}
				b, err := json.MarshalIndent(fixedNodes, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				golden.Compare(t, filepath.Join("testdata", "observation.golden.json"), append(b, '\n'))
			}
		})
	}
}

// TestObservationKeys checks the top-level and host keys are snake_case and
// always present.
func TestObservationKeys(t *testing.T) {
	b, err := json.Marshal(Observation{Nodes: []NodeObs{{}}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys = append(keys, prefix+k)
				walk(prefix+k+".", x)
			}
		case []any:
			for _, x := range v {
				walk(prefix+"[].", x)
			}
		}
	}
	walk("", m)
	slices.Sort(keys)
	for _, k := range keys {
		for _, part := range strings.Split(k, ".") {
			if part != "[]" && (strings.ToLower(part) != part || strings.Contains(part, "-")) {
				t.Errorf("key %q is not snake_case", k)
			}
		}
	}
	golden.Compare(t, filepath.Join("testdata", "observation.keys"), []byte(strings.Join(keys, "\n")+"\n"))
}
