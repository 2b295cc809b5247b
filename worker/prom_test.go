package worker

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// lintProm parses text as node_exporter's textfile collector does and runs promtool's lint rules.
func lintProm(t *testing.T, text []byte) map[string]string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	problems, err := promlint.New(bytes.NewReader(text)).Lint()
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	out := map[string]string{}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "wnm_") {
			t.Errorf("metric %s lacks the wnm_ prefix", name)
		}
		if mf.GetHelp() == "" {
			t.Errorf("metric %s has no HELP", name)
		}
		out[name] = mf.GetType().String()
	}
	return out
}

// promFixture is a cycle with every kind of wnm.prom family.
func promFixture() ([]store.Node, *Result, promCounters) {
	nodes := []store.Node{
		{ID: 1, Status: store.StatusRunning, Version: "0.4.17", Records: 120, ConnectedPeers: 33, Rewards: "1500", Uptime: 3600},
		{ID: 2, Status: store.StatusStopped, Version: "0.4.16", Rewards: ""},
	}
	k := func(v float64) survey.Reading { return survey.Reading{Value: v, Known: true} }
	r := &Result{
		Plan: decide.Plan{NotTaken: []decide.Skip{{Kind: decide.Add, Reason: "no add"}}},
		Results: []ActionResult{
			{Action: decide.Action{Kind: decide.Start, Node: 2}, OK: false},
			{Action: decide.Action{Kind: decide.Survey}, OK: true},
		},
		Obs: survey.Observation{LatestVersion: "0.4.17", Host: survey.Host{CPUPercent: k(97.5), MemPercent: k(20), DiskPercent: k(30),
			DiskTotalBytes: k(1e12), Load1: k(1.5), Load5: k(1), Load15: k(0.5), DiskReadBps: k(10), DiskWriteBps: k(20), NetRecvBps: k(30)}},
	}
	totals := promCounters{Cycles: 7, Actions: map[string]int64{"start": 3, "add": 2}, Failures: map[string]int64{"start": 1}}
	return nodes, r, totals
}

func TestPromTextParsesAndLints(t *testing.T) {
	nodes, r, totals := promFixture()
	text := promText(nodes, r, totals, 1.25, time.Unix(1_900_000_000, 0))
	types := lintProm(t, text)
	for name, want := range map[string]string{
		"wnm_node_info": "GAUGE", "wnm_node_running": "GAUGE", "wnm_node_records": "GAUGE", "wnm_node_connected_peers": "GAUGE",
		"wnm_node_reward_wallet_balance": "GAUGE", "wnm_node_uptime_seconds": "GAUGE", "wnm_cycle_duration_seconds": "GAUGE",
		"wnm_cycles_total": "COUNTER", "wnm_actions_total": "COUNTER", "wnm_action_failures_total": "COUNTER",
		"wnm_host_cpu_used_ratio": "GAUGE", "wnm_host_load1": "GAUGE", "wnm_nodes": "GAUGE", "wnm_antnode_latest_info": "GAUGE",
	} {
		if types[name] != want {
			t.Errorf("%s: type %q, want %s", name, types[name], want)
		}
	}
	// Unknown readings are left out, not written as zero.
	if _, ok := types["wnm_host_network_transmit_bytes_per_second"]; ok {
		t.Error("an unknown reading was written")
	}
	for _, line := range []string{
		`wnm_node_info{node="antnode0001",id="1",status="RUNNING",version="0.4.17"} 1`,
		`wnm_node_running{node="antnode0002"} 0`,
		`wnm_host_cpu_used_ratio 0.975`,
		`wnm_action_failures_total{action="start"} 1`,
		`wnm_cycle_action_failures{action="start"} 1`,
		`wnm_cycles_total 7`,
		`wnm_nodes{status="STOPPED"} 1`,
	} {
		if !bytes.Contains(text, []byte(line+"\n")) {
			t.Errorf("missing %q in\n%s", line, text)
		}
	}
	if bytes.Contains(text, []byte(`wnm_node_reward_wallet_balance{node="antnode0002"}`)) {
		t.Error("an unknown balance was written")
	}
}

// Each cycle rewrites wnm.prom atomically, and its counters only grow.
func TestCycleWritesPromFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "textfile")
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1; c.TextfileDir = dir })
	f.cycle(time.Second, nil)
	f.waitUp(1)
	path := filepath.Join(dir, PromFile)
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lintProm(t, first)
	if !bytes.Contains(first, []byte(`wnm_actions_total{action="add"} 1`)) || !bytes.Contains(first, []byte("wnm_cycles_total 1\n")) {
		t.Errorf("first cycle:\n%s", first)
	}
	f.cycle(61*time.Second, nil)
	second, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lintProm(t, second)
	for _, want := range []string{"wnm_cycles_total 2\n", `wnm_actions_total{action="add"} 1`, `wnm_node_running{node="antnode0001"} 1`,
		`wnm_host_cpu_used_ratio 0.1`} {
		if !bytes.Contains(second, []byte(want)) {
			t.Errorf("second cycle lacks %q:\n%s", want, second)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("textfile_dir holds %d entries, want only %s", len(entries), PromFile)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s mode %v (%v), want 0644 so node_exporter can read it", PromFile, fi.Mode(), err)
	}
}

// referenceText writes f with the Prometheus libraries' text writer, which wnm used before it had
// its own (a test dependency only: it builds protobuf messages, which the wnm binary does not link).
func referenceText(t *testing.T, f *family) []byte {
	t.Helper()
	typ := dto.MetricType_GAUGE
	if f.typ == "counter" {
		typ = dto.MetricType_COUNTER
	}
	mf := &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: &typ}
	for _, s := range f.samples {
		m := &dto.Metric{}
		for i := 0; i+1 < len(s.labels); i += 2 {
			m.Label = append(m.Label, &dto.LabelPair{Name: &s.labels[i], Value: &s.labels[i+1]})
		}
		v := s.value
		if typ == dto.MetricType_COUNTER {
			m.Counter = &dto.Counter{Value: &v}
		} else {
			m.Gauge = &dto.Gauge{Value: &v}
		}
		mf.Metric = append(mf.Metric, m)
	}
	var b bytes.Buffer
	if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// wnm.prom is byte for byte what the Prometheus libraries' writer makes of the same families, on
// wnm's own families and on the values and texts that need care.
func TestPromTextMatchesReference(t *testing.T) {
	nodes, r, totals := promFixture()
	nodes = append(nodes, store.Node{ID: 3, Status: store.StatusRunning, Version: "v\"1\"\nback\\slash", Rewards: "123456789012345678901234567890", Uptime: 1 << 53})
	fams := promFamilies(nodes, r, totals, 0.1, time.Unix(1_900_000_000, 0))
	edge := newFamily("wnm_edge", "Help with a back\\slash, a \"quote\" and a\nnewline", "gauge")
	for i, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1, -1, 0.1, 1e21, 1e20, 123456789012345678,
		1 << 53, 1<<53 + 1, 1e-7, 1e-4, 5e-324, math.MaxFloat64, -2.5, 97.5 * 0.01, 3} {
		edge.add(v, "i", strconv.Itoa(i), "text", []string{"", `"`, `\`, "\n", `a\"b`, "ünïcode", "tab\there", "\\n"}[i%8])
	}
	fams = append(fams, edge, newFamily("wnm_edge_counter", "", "counter"))
	fams[len(fams)-1].add(42)
	var want, got []byte
	for _, f := range fams {
		want = append(want, referenceText(t, f)...)
		got = f.writeText(got)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("wnm.prom text differs from the reference writer:\n got: %q\nwant: %q", got, want)
	}
	if !bytes.Contains(got, []byte("wnm_edge{i=\"0\",text=\"\"} NaN\n")) || !bytes.Contains(got, []byte(`wnm_edge{i="1",text="\""} +Inf`)) {
		t.Errorf("edge values missing:\n%s", got)
	}
	if !bytes.Equal(promText(nodes, r, totals, 0.1, time.Unix(1_900_000_000, 0)), got[:bytes.Index(got, []byte("# HELP wnm_edge "))]) {
		t.Error("promText differs from its families written one by one")
	}
}
