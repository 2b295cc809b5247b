package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/golden"
)

func TestBodiesGolden(t *testing.T) {
	s := simulate(42, 3*time.Hour)
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"metrics.golden", func(b *bytes.Buffer) error { return writeMetrics(b, s, false) }},
		{"metrics_extended.golden", func(b *bytes.Buffer) error { return writeMetrics(b, s, true) }},
		{"metadata.golden", func(b *bytes.Buffer) error {
			return writeMetadata(b, metadata{Version: "0.4.17", PeerID: peerID(make([]byte, 32)), NetworkID: 1})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			golden.Compare(t, filepath.Join("testdata", tt.name), b.Bytes())
		})
	}
}

// TestExtendedIsMetricsPlusOneFamily checks the /metrics_extended shape of a real antnode: the
// standard body, then the extended family, then one "# EOF".
func TestExtendedIsMetricsPlusOneFamily(t *testing.T) {
	var std, ext bytes.Buffer
	s := simulate(7, time.Minute)
	writeMetrics(&std, s, false)
	writeMetrics(&ext, s, true)
	head := strings.TrimSuffix(std.String(), "# EOF\n")
	if !strings.HasPrefix(ext.String(), head) {
		t.Fatalf("extended body does not start with the standard body")
	}
	rest := strings.TrimPrefix(ext.String(), head)
	if !strings.HasPrefix(rest, "# HELP ant_networking_shunned_count_across_time_frames ") || !strings.HasSuffix(rest, "\n# EOF\n") {
		t.Errorf("extended tail = %q, want the shunned_count_across_time_frames family and # EOF", rest)
	}
	if n := strings.Count(ext.String(), "# EOF"); n != 1 {
		t.Errorf("extended body has %d # EOF lines, want 1", n)
	}
}

func TestSimulate(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42, 1 << 63} {
		prev := simulate(seed, 0)
		mems := map[float64]bool{}
		minMem, maxMem := prev.MemoryUsedMB, prev.MemoryUsedMB
		for sec := int64(1); sec <= 4*3600; sec++ {
			s := simulate(seed, time.Duration(sec)*time.Second+time.Second/2)
			if s.Uptime != sec || s.LiveTime != sec {
				t.Fatalf("seed %d at %ds: uptime %d, live time %d", seed, sec, s.Uptime, s.LiveTime)
			}
			for _, c := range []struct {
				name      string
				old, curr int64
			}{
				{"records", prev.RecordsStored, s.RecordsStored},
				{"puts", prev.PutChunk, s.PutChunk},
				{"put errors", prev.PutErr, s.PutErr},
				{"replication", prev.ReplicationTriggered, s.ReplicationTriggered},
				{"peers added", prev.PeersAdded, s.PeersAdded},
				{"bandwidth", prev.BandwidthIn, s.BandwidthIn},
				{"gets", prev.GetRecordOK, s.GetRecordOK},
			} {
				if c.curr < c.old {
					t.Fatalf("seed %d at %ds: %s went down from %d to %d", seed, sec, c.name, c.old, c.curr)
				}
			}
			if s.PeersRemoved > s.PeersAdded || s.RelevantRecords > s.RecordsStored || s.OpenConnections < s.ConnectedPeers {
				t.Fatalf("seed %d at %ds: implausible sample %+v", seed, sec, s)
			}
			if s.CPUUsagePercentage < 0 || s.CPUUsagePercentage > 100 {
				t.Fatalf("seed %d at %ds: cpu %v%%", seed, sec, s.CPUUsagePercentage)
			}
			mems[s.MemoryUsedMB] = true
			minMem, maxMem = min(minMem, s.MemoryUsedMB), max(maxMem, s.MemoryUsedMB)
			prev = s
		}
		if first, last := simulate(seed, 0).RecordsStored, prev.RecordsStored; last <= first {
			t.Errorf("seed %d: records did not grow in 4h: %d -> %d", seed, first, last)
		}
		if len(mems) < 10 || maxMem-minMem >= 4 {
			t.Errorf("seed %d: memory took %d values in [%v, %v], want it to vary a little (< 4 MB)", seed, len(mems), minMem, maxMem)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	for in, want := range map[float64]string{0: "0.0", 1: "1.0", 97.8125: "97.8125", 0.0353: "0.0353", 16384: "16384.0"} {
		if got := formatFloat(in); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestEndpoints(t *testing.T) {
	s := simulate(1, time.Hour)
	m := metadata{Version: "1.2.3", PeerID: "12D3KooWfake", NetworkID: 1}
	scrape := func() (sample, metadata) { return s, m }
	var metricsBody, extBody, metaBody bytes.Buffer
	writeMetrics(&metricsBody, s, false)
	writeMetrics(&extBody, s, true)
	writeMetadata(&metaBody, m)

	tests := []struct {
		name       string
		e          endpoints
		path       string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"metrics", endpoints{scrape: scrape}, "/metrics", 200, contentType, metricsBody.String()},
		{"extended", endpoints{scrape: scrape}, "/metrics_extended", 200, contentType, extBody.String()},
		{"metadata", endpoints{scrape: scrape}, "/metadata", 200, contentType, metaBody.String()},
		{"not found", endpoints{scrape: scrape}, "/", 404, "text/plain; charset=utf-8", notFoundBody},
		{"not found with query", endpoints{scrape: scrape}, "/metrics/x", 404, "text/plain; charset=utf-8", notFoundBody},
		{"status knob", endpoints{scrape: scrape, status: 503}, "/metrics", 503, "text/plain; charset=utf-8", "Service Unavailable\n"},
		{"status knob on 404 path", endpoints{scrape: scrape, status: 500}, "/nope", 500, "text/plain; charset=utf-8", "Internal Server Error\n"},
		{"garbage knob", endpoints{scrape: scrape, garbage: true}, "/metadata", 200, contentType, garbageBody},
		{"metrics file", endpoints{scrape: scrape, body: []byte("captured\n# EOF\n")}, "/metrics", 200, contentType, "captured\n# EOF\n"},
		{"metrics file, extended", endpoints{scrape: scrape, body: []byte("captured\n")}, "/metrics_extended", 200, contentType, "captured\n"},
		{"metrics file leaves metadata", endpoints{scrape: scrape, body: []byte("captured\n")}, "/metadata", 200, contentType, metaBody.String()},
		{"garbage beats metrics file", endpoints{scrape: scrape, garbage: true, body: []byte("captured\n")}, "/metrics", 200, contentType, garbageBody},
		{"status beats garbage", endpoints{scrape: scrape, status: 503, garbage: true}, "/metrics", 503, "text/plain; charset=utf-8", "Service Unavailable\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.wantStatus || rec.Header().Get("Content-Type") != tt.wantType {
				t.Errorf("GET %s: status %d, type %q; want %d, %q", tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.wantStatus, tt.wantType)
			}
			if diff := cmp.Diff(tt.wantBody, rec.Body.String()); diff != "" {
				t.Errorf("GET %s body mismatch (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}
