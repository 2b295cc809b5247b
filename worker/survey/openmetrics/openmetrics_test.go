package openmetrics

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/golden"
)

// render prints families one per line, sorted: name, type, series count and
// the sum over series. It is what the golden files hold.
func render(fams map[string]*Family) string {
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		sum, _ := Sum(fams, n)
		fmt.Fprintf(&b, "%s %s series=%d sum=%g\n", n, strings.ToUpper(string(fams[n].Type)), len(fams[n].Metrics), sum)
	}
	return b.String()
}

func TestParseSamples(t *testing.T) {
	for _, file := range []string{
		"antnode-metrics.txt",
		"antnode-metadata.txt",
		"peers-metrics.txt",
		"peers-metrics-extended.txt",
		"peers-metadata.txt",
	} {
		t.Run(file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fams, err := Parse(f)
			if err != nil {
				t.Fatalf("Parse(%s) error: %v", file, err)
			}
			golden.Compare(t, filepath.Join("testdata", strings.TrimSuffix(file, ".txt")+".golden"), render(fams))
		})
	}
}

func parseFile(t *testing.T, file string) map[string]*Family {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	fams, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Parse(%s) error: %v", file, err)
	}
	return fams
}

func TestSamplesValues(t *testing.T) {
	tests := []struct {
		file, name string
		want       float64
		wantType   Type
	}{
		{"peers-metrics.txt", "ant_node_put_record_ok_total", 1877, Counter},
		{"peers-metrics.txt", "ant_networking_process_memory_used_mb", 212.4375, Gauge},
		{"peers-metrics.txt", "ant_networking_process_cpu_usage_percentage", 0.8125, Gauge},
		{"peers-metrics.txt", "libp2p_bandwidth_bytes_total", 914774016 + 388117504, Counter},
		{"peers-metrics.txt", "ant_networking_bad_peers_count_total", 5, Counter},
		{"peers-metrics-extended.txt", "ant_networking_shunned_count_across_time_frames", 1, Gauge},
		{"antnode-metrics.txt", "ant_node_uptime", 1260, Gauge},
		{"antnode-metrics.txt", "ant_node_replication_keys_to_fetch", 1, Histogram},
		{"antnode-metadata.txt", "ant_node_antnode_version_info", 1, Gauge},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.name, func(t *testing.T) {
			fams := parseFile(t, tt.file)
			got, ok := Sum(fams, tt.name)
			if !ok || got != tt.want {
				t.Errorf("Sum(%q) = %v, %v; want %v, true", tt.name, got, ok, tt.want)
			}
			if typ := fams[tt.name].Type; typ != tt.wantType {
				t.Errorf("type of %q = %v, want %v", tt.name, typ, tt.wantType)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	fams := parseFile(t, "antnode-metadata.txt")
	tests := []struct {
		name, label, want string
		ok                bool
	}{
		{"ant_node_antnode_version_info", "antnode_version", "0.4.7", true},
		{"ant_networking_peer_id_info", "peer_id", "12D3KooWMDqtXsSEbuWZ5wdrr3Ai6rUWJta6yBgutJaJXusSujuu", true},
		{"ant_networking_peer_id_info", "nope", "", false},
		{"missing_info", "peer_id", "", false},
	}
	for _, tt := range tests {
		got, ok := Label(fams, tt.name, tt.label)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Label(%q, %q) = %q, %v; want %q, %v", tt.name, tt.label, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseFeatures covers the OpenMetrics constructs the rewriter exists for.
func TestParseFeatures(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // render() of the result
	}{
		{
			name: "empty body",
			in:   "",
			want: "",
		},
		{
			name: "only EOF",
			in:   "# EOF\n",
			want: "",
		},
		{
			name: "families without samples are dropped",
			in:   "# HELP a_events Events.\n# TYPE a_events counter\n# HELP b Bee.\n# TYPE b gauge\nb 2\n# EOF\n",
			want: "b GAUGE series=1 sum=2\n",
		},
		{
			name: "counter with _total samples and _created",
			in: "# TYPE c counter\n# UNIT c bytes\n# HELP c A \"quoted\" help.\n" +
				"c_total{k=\"v\"} 3\nc_created{k=\"v\"} 1.7e9\nc_total{k=\"w\"} 4\n# EOF\n",
			want: "c_total COUNTER series=2 sum=7\n",
		},
		{
			name: "prometheus style counter keeps its name",
			in:   "# TYPE requests counter\nrequests 5\n",
			want: "requests COUNTER series=1 sum=5\n",
		},
		{
			name: "counter already named _total",
			in:   "# TYPE x_total counter\nx_total 2\n",
			want: "x_total COUNTER series=1 sum=2\n",
		},
		{
			name: "info becomes gauge",
			in:   "# TYPE build info\nbuild_info{version=\"1\"} 1\n# EOF\n",
			want: "build_info GAUGE series=1 sum=1\n",
		},
		{
			name: "stateset becomes gauge",
			in:   "# TYPE mode stateset\nmode{mode=\"a\"} 1\nmode{mode=\"b\"} 0\n# EOF\n",
			want: "mode GAUGE series=2 sum=1\n",
		},
		{
			name: "unknown becomes untyped",
			in:   "# TYPE u unknown\nu 9\n# EOF\n",
			want: "u UNTYPED series=1 sum=9\n",
		},
		{
			name: "gaugehistogram",
			in: "# TYPE q gaugehistogram\nq_bucket{le=\"1\"} 2\nq_bucket{le=\"+Inf\"} 3\n" +
				"q_gcount 3\nq_gsum 4.5\n# EOF\n",
			want: "q GAUGE_HISTOGRAM series=1 sum=4.5\n",
		},
		{
			name: "histogram with _created",
			in: "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 3\n" +
				"h_created 1.5e9\n# EOF\n",
			want: "h HISTOGRAM series=1 sum=3\n",
		},
		{
			name: "timestamps and exemplars are dropped",
			in: "# TYPE e counter\ne_total{a=\"x # y}\"} 1 1700000000.5 # {trace=\"abc\"} 1.0 1700000000\n" +
				"# TYPE g gauge\ng 2.5 1700000000\n# EOF\n",
			want: "e_total COUNTER series=1 sum=1\ng GAUGE series=1 sum=2.5\n",
		},
		{
			name: "anything after EOF is ignored",
			in:   "# TYPE g gauge\ng 1\n# EOF\ng_garbage !!!\n",
			want: "g GAUGE series=1 sum=1\n",
		},
		{
			name: "CRLF and no trailing newline",
			in:   "# TYPE g gauge\r\ng 1\r\nh 2",
			want: "g GAUGE series=1 sum=1\nh UNTYPED series=1 sum=2\n",
		},
		{
			name: "plain comments and blank lines",
			in:   "# just a note\n\n  \n# TYPE g gauge\n# another\ng 1\n",
			want: "g GAUGE series=1 sum=1\n",
		},
		{
			name: "very long label value",
			in:   "# TYPE g gauge\ng{v=\"" + strings.Repeat("x", 100<<10) + "\"} 1\n",
			want: "g GAUGE series=1 sum=1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fams, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse error: %v", err)
			}
			if diff := cmp.Diff(tt.want, render(fams)); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // substring of the error
	}{
		{"html", "<html><body>502 Bad Gateway</body></html>\n", "line 1: invalid metric name"},
		{"binary", "\x00\x01\x02\xff\xfe", "line 1"},
		{"bad value", "# TYPE g gauge\ng one\n", "line 2: expected float as value"},
		{"bad type", "# TYPE g histogrammy\ng 1\n", `line 1: unknown metric type "histogrammy"`},
		// The UNIT and comment lines are dropped but still counted.
		{"line numbers survive dropped lines", "# UNIT g bytes\n# note\n# TYPE g gauge\n# EOF?\ng {\n", "line 5"},
		{"unterminated labels", "g{a=\"b 1\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fams, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, render(fams))
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "parse metrics: ") {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseReaderError(t *testing.T) {
	boom := errors.New("connection reset")
	r := iotest.TimeoutReader(strings.NewReader("# TYPE g gauge\ng 1\n"))
	_, err := Parse(r)
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("Parse(timeout reader) error = %v, want %v", err, iotest.ErrTimeout)
	}
	_, err = Parse(iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Errorf("Parse(error reader) error = %v, want %v", err, boom)
	}
	// One byte at a time must give the same answer as one big read.
	b, err := os.ReadFile(filepath.Join("testdata", "peers-metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bytewise, err := Parse(iotest.OneByteReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(render(whole), render(bytewise)); diff != "" {
		t.Errorf("byte-at-a-time parse differs (-whole +bytewise):\n%s", diff)
	}
}

func TestParseSelectedRaw(t *testing.T) {
	in := "# TYPE w gauge\nw 1234567890123456789\n" +
		"# TYPE e gauge\ne 1.25e+15\n" +
		"# TYPE f gauge\nf 0.5\n" +
		"# TYPE l gauge\nl{a=\"1\"} 7\nl{a=\"2\"} 8\n" +
		"# TYPE n gauge\nn NaN\n# TYPE p gauge\np +12\n# EOF\n"
	_, raw, err := ParseSelected(strings.NewReader(in), "w", "e", "f", "l", "n", "p", "absent")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"w": "1234567890123456789",
		"e": "1250000000000000",
		"f": "0.5",
		"l": "7",
		"n": "NaN",
		"p": "12",
	}
	if diff := cmp.Diff(want, raw); diff != "" {
		t.Errorf("ParseRaw raw values mismatch (-want +got):\n%s", diff)
	}
}

func TestParseSelected(t *testing.T) {
	tests := []struct {
		name  string
		file  string // from testdata, or
		in    string // inline
		names []string
		want  string // render() of the result
	}{
		{
			name:  "metrics subset",
			file:  "peers-metrics.txt",
			names: []string{"ant_node_put_record_ok_total", "ant_node_uptime", "ant_networking_process_memory_used_mb", "not_there"},
			want: "ant_networking_process_memory_used_mb GAUGE series=1 sum=212.4375\n" +
				"ant_node_put_record_ok_total COUNTER series=2 sum=1877\n" +
				"ant_node_uptime GAUGE series=1 sum=86412\n",
		},
		{
			name:  "real antnode metrics",
			file:  "antnode-metrics.txt",
			names: []string{"ant_node_put_record_ok_total", "ant_networking_bad_peers_count_total", "ant_node_replication_keys_to_fetch"},
			want: "ant_networking_bad_peers_count_total COUNTER series=1 sum=0\n" +
				"ant_node_put_record_ok_total COUNTER series=1 sum=1\n" +
				"ant_node_replication_keys_to_fetch HISTOGRAM series=1 sum=1\n",
		},
		{
			name:  "metadata info families",
			file:  "antnode-metadata.txt",
			names: []string{"ant_node_antnode_version_info", "ant_networking_peer_id_info"},
			want:  "ant_networking_peer_id_info GAUGE series=1 sum=1\nant_node_antnode_version_info GAUGE series=1 sum=1\n",
		},
		{
			name:  "unselected lines are not parsed",
			in:    "# TYPE bad gauge\nbad {{{ not a sample\n<html>\n{\"quoted\"} 1\n# TYPE good gauge\ngood 3\n",
			names: []string{"good"},
			want:  "good GAUGE series=1 sum=3\n",
		},
		{
			name:  "garbage holds nothing selected",
			in:    "<html><body>hello</body></html>\n",
			names: []string{"good"},
			want:  "",
		},
		{
			name:  "untyped samples without descriptors",
			in:    "a 1\nb 2\n",
			names: []string{"b"},
			want:  "b UNTYPED series=1 sum=2\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if tt.file != "" {
				b, err := os.ReadFile(filepath.Join("testdata", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				in = string(b)
			}
			fams, _, err := ParseSelected(strings.NewReader(in), tt.names...)
			if err != nil {
				t.Fatalf("ParseSelected error: %v", err)
			}
			if diff := cmp.Diff(tt.want, render(fams)); diff != "" {
				t.Errorf("ParseSelected(%v) mismatch (-want +got):\n%s", tt.names, diff)
			}
		})
	}
}

func TestSumMissing(t *testing.T) {
	if got, ok := Sum(nil, "x"); got != 0 || ok {
		t.Errorf("Sum(nil, x) = %v, %v; want 0, false", got, ok)
	}
}

func BenchmarkParse(b *testing.B) {
	buf, err := os.ReadFile(filepath.Join("testdata", "antnode-metrics.txt"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(buf)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSelected(b *testing.B) {
	buf, err := os.ReadFile(filepath.Join("testdata", "antnode-metrics.txt"))
	if err != nil {
		b.Fatal(err)
	}
	names := []string{
		"ant_node_uptime", "ant_networking_records_stored", "ant_networking_shunned_by_close_group",
		"ant_networking_connected_peers", "ant_node_put_record_ok_total", "ant_networking_process_memory_used_mb",
		"ant_networking_process_cpu_usage_percentage", "ant_networking_open_connections",
		"ant_networking_peers_in_routing_table", "ant_networking_bad_peers_count_total",
		"ant_networking_relevant_records", "ant_networking_max_records", "ant_node_current_reward_wallet_balance",
		"ant_networking_received_payment_count", "ant_networking_live_time", "ant_networking_estimated_network_size",
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		fams, _, err := ParseSelected(bytes.NewReader(buf), names...)
		if err != nil || len(fams) != len(names) {
			b.Fatalf("ParseSelected: %d families, error %v", len(fams), err)
		}
	}
}
