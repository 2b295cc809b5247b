package worker

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// lpPoint is one parsed line of InfluxDB line protocol.
type lpPoint struct {
	measurement string
	tags        map[string]string
	fields      map[string]string // raw values: "…" strings, 12i integers, floats, t/f booleans
	ts          int64
}

// parseLineProtocol parses InfluxDB line protocol strictly enough to catch what InfluxDB rejects:
// measurement[,tag=v...] field=v[,field=v...] [timestamp], with escaped spaces and commas in tags
// and quoted, escaped strings in fields. Comment lines start with #.
func parseLineProtocol(text string) ([]lpPoint, error) {
	var out []lpPoint
	for ln, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		fail := func(format string, a ...any) error {
			return fmt.Errorf("line %d %q: %s", ln+1, line, fmt.Sprintf(format, a...))
		}
		// Split into key, fields and timestamp on unescaped, unquoted spaces.
		var parts []string
		var cur strings.Builder
		inQuote := false
		for i := 0; i < len(line); i++ {
			ch := line[i]
			switch {
			case ch == '\\' && i+1 < len(line):
				cur.WriteByte(ch)
				cur.WriteByte(line[i+1])
				i++
			case ch == '"':
				inQuote = !inQuote
				cur.WriteByte(ch)
			case ch == ' ' && !inQuote:
				parts = append(parts, cur.String())
				cur.Reset()
			default:
				cur.WriteByte(ch)
			}
		}
		if inQuote {
			return nil, fail("unterminated string")
		}
		parts = append(parts, cur.String())
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fail("want measurement, fields and timestamp, got %d parts", len(parts))
		}
		p := lpPoint{tags: map[string]string{}, fields: map[string]string{}}
		key := strings.Split(parts[0], ",")
		p.measurement = key[0]
		if p.measurement == "" {
			return nil, fail("empty measurement")
		}
		for _, t := range key[1:] {
			k, v, ok := strings.Cut(t, "=")
			if !ok || k == "" || v == "" {
				return nil, fail("bad tag %q", t)
			}
			p.tags[k] = v
		}
		// Fields: split on commas outside quotes.
		var fs []string
		cur.Reset()
		inQuote = false
		for i := 0; i < len(parts[1]); i++ {
			ch := parts[1][i]
			switch {
			case ch == '\\' && inQuote && i+1 < len(parts[1]):
				cur.WriteByte(ch)
				cur.WriteByte(parts[1][i+1])
				i++
			case ch == '"':
				inQuote = !inQuote
				cur.WriteByte(ch)
			case ch == ',' && !inQuote:
				fs = append(fs, cur.String())
				cur.Reset()
			default:
				cur.WriteByte(ch)
			}
		}
		fs = append(fs, cur.String())
		for _, f := range fs {
			k, v, ok := strings.Cut(f, "=")
			if !ok || k == "" || v == "" {
				return nil, fail("bad field %q", f)
			}
			switch {
			case strings.HasPrefix(v, `"`):
				if len(v) < 2 || !strings.HasSuffix(v, `"`) {
					return nil, fail("bad string field %q", f)
				}
			case strings.HasSuffix(v, "i"):
				if _, err := strconv.ParseInt(strings.TrimSuffix(v, "i"), 10, 64); err != nil {
					return nil, fail("bad integer field %q", f)
				}
			case v == "t" || v == "f" || v == "true" || v == "false":
			default:
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					return nil, fail("bad float field %q", f)
				}
			}
			if _, dup := p.fields[k]; dup {
				return nil, fail("duplicate field %q", k)
			}
			p.fields[k] = v
		}
		if len(parts) == 3 {
			ts, err := strconv.ParseInt(parts[2], 10, 64)
			if err != nil {
				return nil, fail("bad timestamp")
			}
			p.ts = ts
		}
		out = append(out, p)
	}
	return out, nil
}

func TestInfluxResourcesIsNTrackingLineProtocol(t *testing.T) {
	now := time.Unix(1_900_000_000, 123)
	nodes := []store.Node{
		{ID: 1, PeerID: `12D3KooWA"quote\back`, Status: store.StatusRunning, Version: "0.4.17", Puts: 9, Uptime: 3600, Rewards: "1500000000000000000",
			Records: 100, ConnectedPeers: 10, NetworkSize: 2000, OpenConnections: 12, TotalPeers: 300, Shunned: 1, BadPeers: 2,
			Mem: 10450, CPU: 125, RelRecords: 80, MaxRecords: 16384, PaymentCount: 3, LiveTime: 3500},
		{ID: 2, Status: store.StatusStopped, Rewards: ""},
		{ID: 3, Status: store.StatusRunning, Rewards: "500000000000000000", NetworkSize: 4000},
		{ID: 4, Status: store.StatusDead},
	}
	obs := survey.Observation{Host: survey.Host{DiskPercent: survey.Reading{Value: 41.237, Known: true}, DiskTotalBytes: survey.Reading{Value: 1e12, Known: true}}}
	text := influxResources(nodes, obs, now)
	points, err := parseLineProtocol(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	// NTracking's measurements, tags and field names (its dashboard queries these).
	nodeFields := []string{"PeerId", "status", "version", "gets", "puts", "up_time", "rewards", "records", "connected_peers",
		"networ_size", "network_size", "open_connections", "total_peers", "shunned_count", "bad_peers", "mem", "cpu", "rel_records",
		"max_records", "payment_count", "live_time"}
	if len(points) != 6 {
		t.Fatalf("%d points, want 4 nodes + totals + network:\n%s", len(points), text)
	}
	for _, p := range points {
		if p.ts != now.UnixNano() {
			t.Errorf("%s: timestamp %d, want %d", p.measurement, p.ts, now.UnixNano())
		}
	}
	for i, p := range points[:4] {
		if p.measurement != "nodes" || p.tags["id"] != strconv.Itoa(nodes[i].ID) {
			t.Errorf("point %d: %s %v", i, p.measurement, p.tags)
		}
		for _, f := range nodeFields {
			if _, ok := p.fields[f]; !ok {
				t.Errorf("nodes,id=%d lacks field %s", nodes[i].ID, f)
			}
		}
		if len(p.fields) != len(nodeFields) {
			t.Errorf("nodes,id=%d has %d fields, want %d", nodes[i].ID, len(p.fields), len(nodeFields))
		}
	}
	n1 := points[0].fields
	for k, want := range map[string]string{"PeerId": `"12D3KooWA\"quote\\back"`, "status": `"RUNNING"`, "mem": "104.5", "cpu": "1.25",
		"up_time": "3600i", "rewards": `"1500000000000000000"`, "networ_size": "2000i"} {
		if n1[k] != want {
			t.Errorf("nodes,id=1 %s=%s, want %s", k, n1[k], want)
		}
	}
	if got := points[1].fields["rewards"]; got != `"0"` {
		t.Errorf("empty rewards = %s, want \"0\"", got)
	}
	tot := points[4]
	if tot.measurement != "nodes_totals" || tot.fields["nodes_running"] != "2i" || tot.fields["nodes_killed"] != "2i" ||
		tot.fields["total_attos"] != "2000000000000000000i" || tot.fields["rewards"] != `"2000000000000000000.0"` ||
		tot.fields["total_disk"] != "1000000000000i" || tot.fields["Disk_percent"] != "41.24" {
		t.Errorf("totals: %s %v", tot.measurement, tot.fields)
	}
	if net := points[5]; net.measurement != "nodes_network" || net.fields["size"] != "3000i" {
		t.Errorf("network: %s %v", net.measurement, net.fields)
	}
	if got := influxResources(nil, obs, now); got != "# No nodes found\n" {
		t.Errorf("no nodes: %q", got)
	}
}
