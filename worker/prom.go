package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/google/renameio/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// PromFile is the name of the file written to textfile_dir.
const PromFile = "wnm.prom"

// statePromCounters keeps the running totals behind the _total counters of wnm.prom, so that they
// only ever grow, whatever the cycle table's pruning keeps.
const statePromCounters = "prom_counters"

// promCounters are the running totals.
type promCounters struct {
	Cycles   int64            `json:"cycles"`
	Actions  map[string]int64 `json:"actions"`
	Failures map[string]int64 `json:"failures"`
}

// countable says whether wnm.prom counts an action kind (surveys are not node actions).
func countable(k decide.Kind) bool {
	return k != decide.Survey && k != decide.Resurvey
}

// writeProm adds this cycle to the running totals and writes wnm.prom atomically (renameio: a
// temporary file in the same directory, synced, then renamed), so node_exporter never reads half
// a file. It is called after the cycle was recorded; a failure is logged by the caller and never
// fails the cycle.
func (c *cycle) writeProm(ctx context.Context, r *Result) error {
	dir := c.Config.TextfileDir
	if dir == "" {
		return nil
	}
	totals := promCounters{Actions: map[string]int64{}, Failures: map[string]int64{}}
	if b, ok, err := c.Store.State(ctx, statePromCounters); err == nil && ok {
		if json.Unmarshal(b, &totals) != nil {
			totals = promCounters{}
		}
	}
	if totals.Actions == nil {
		totals.Actions = map[string]int64{}
	}
	if totals.Failures == nil {
		totals.Failures = map[string]int64{}
	}
	totals.Cycles++
	for _, a := range r.Results {
		if !countable(a.Kind) {
			continue
		}
		totals.Actions[a.Kind.String()]++
		if !a.OK {
			totals.Failures[a.Kind.String()]++
		}
	}
	b, err := json.Marshal(totals)
	if err != nil {
		return err
	}
	if err := c.Store.SetState(ctx, statePromCounters, b); err != nil {
		return err
	}
	nodes := c.sortedNodes()
	text, err := promText(nodes, r, totals, c.Now().Sub(c.start).Seconds(), c.start)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("textfile_dir: %w", err)
	}
	if err := renameio.WriteFile(filepath.Join(dir, PromFile), text, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", PromFile, err)
	}
	return nil
}

// family collects one metric family.
type family struct {
	mf *dto.MetricFamily
}

func newFamily(name, help string, t dto.MetricType) *family {
	return &family{mf: &dto.MetricFamily{Name: ptr(name), Help: ptr(help), Type: t.Enum()}}
}

func (f *family) add(v float64, labels ...string) {
	m := &dto.Metric{}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: ptr(labels[i]), Value: ptr(labels[i+1])})
	}
	if f.mf.GetType() == dto.MetricType_COUNTER {
		m.Counter = &dto.Counter{Value: ptr(v)}
	} else {
		m.Gauge = &dto.Gauge{Value: ptr(v)}
	}
	f.mf.Metric = append(f.mf.Metric, m)
}

// promText renders the metrics in the Prometheus text format: per node, the cycle, the running
// totals and the host readings. Names follow node_exporter's conventions: the wnm_ prefix, base
// units (seconds, bytes, ratios of 0–1) and _total for counters. Readings the survey could not take
// are left out rather than written as zero.
func promText(nodes []store.Node, r *Result, totals promCounters, duration float64, started interface{ Unix() int64 }) ([]byte, error) {
	gauge := func(name, help string) *family { return newFamily(name, help, dto.MetricType_GAUGE) }
	counter := func(name, help string) *family { return newFamily(name, help, dto.MetricType_COUNTER) }

	info := gauge("wnm_node_info", "A node managed by wnm, with its status and antnode version as labels (always 1)")
	up := gauge("wnm_node_running", "Whether the node is recorded RUNNING (1) or not (0)")
	records := gauge("wnm_node_records", "Records the node stores")
	peers := gauge("wnm_node_connected_peers", "Peers the node is connected to")
	rewards := gauge("wnm_node_reward_wallet_balance", "The node's reward wallet balance as its metrics report it")
	uptime := gauge("wnm_node_uptime_seconds", "How long the node process has run")
	for _, n := range nodes {
		name := fmt.Sprintf("antnode%04d", n.ID)
		id := strconv.Itoa(n.ID)
		info.add(1, "node", name, "id", id, "status", string(n.Status), "version", n.Version)
		running := 0.0
		if n.Status == store.StatusRunning {
			running = 1
		}
		up.add(running, "node", name)
		records.add(float64(n.Records), "node", name)
		peers.add(float64(n.ConnectedPeers), "node", name)
		if v, err := strconv.ParseFloat(n.Rewards, 64); err == nil {
			rewards.add(v, "node", name)
		}
		uptime.add(float64(n.Uptime), "node", name)
	}

	byStatus := gauge("wnm_nodes", "Nodes by recorded status")
	counts := map[string]int{}
	for _, n := range nodes {
		counts[string(n.Status)]++
	}
	for _, st := range []store.Status{store.StatusRunning, store.StatusStopped, store.StatusRestarting, store.StatusUpgrading,
		store.StatusRemoving, store.StatusDisabled, store.StatusDead, store.StatusMigrating} {
		byStatus.add(float64(counts[string(st)]), "status", string(st))
	}

	last := gauge("wnm_cycle_last_run_timestamp_seconds", "When the last cycle or forced action started, in Unix time")
	last.add(float64(started.Unix()))
	dur := gauge("wnm_cycle_duration_seconds", "How long the last cycle or forced action took")
	dur.add(duration)
	acts := gauge("wnm_cycle_actions", "Node actions the last cycle or forced action carried out, by action")
	fails := gauge("wnm_cycle_action_failures", "Node actions of the last cycle or forced action that failed, by action")
	this, thisFailed := map[string]int{}, map[string]int{}
	for _, a := range r.Results {
		if countable(a.Kind) {
			this[a.Kind.String()]++
			if !a.OK {
				thisFailed[a.Kind.String()]++
			}
		}
	}
	for _, k := range []decide.Kind{decide.Add, decide.Start, decide.Stop, decide.Restart, decide.Upgrade, decide.Remove, decide.Forget, decide.Disable, decide.Enable} {
		acts.add(float64(this[k.String()]), "action", k.String())
		fails.add(float64(thisFailed[k.String()]), "action", k.String())
	}
	notTaken := gauge("wnm_cycle_decisions_not_taken", "Decisions the last cycle did not take (wnm plan says why)")
	notTaken.add(float64(len(r.Plan.NotTaken)))

	cycles := counter("wnm_cycles_total", "Cycles and forced actions run since wnm started keeping count")
	cycles.add(float64(totals.Cycles))
	actsTotal := counter("wnm_actions_total", "Node actions carried out, by action")
	failsTotal := counter("wnm_action_failures_total", "Node actions that failed, by action")
	keys := make([]string, 0, len(totals.Actions))
	for k := range totals.Actions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		actsTotal.add(float64(totals.Actions[k]), "action", k)
		failsTotal.add(float64(totals.Failures[k]), "action", k)
	}

	fams := []*family{info, up, records, peers, rewards, uptime, byStatus, last, dur, acts, fails, notTaken, cycles, actsTotal, failsTotal}
	h := r.Obs.Host
	host := []struct {
		name, help string
		r          survey.Reading
		scale      float64
	}{
		{"wnm_host_cpu_used_ratio", "Share of CPU time in use, 0 to 1", h.CPUPercent, 0.01},
		{"wnm_host_memory_used_ratio", "Share of memory in use, 0 to 1", h.MemPercent, 0.01},
		{"wnm_host_disk_used_ratio", "Share of the node storage filesystem in use, 0 to 1", h.DiskPercent, 0.01},
		{"wnm_host_disk_size_bytes", "Size of the node storage filesystem", h.DiskTotalBytes, 1},
		{"wnm_host_load1", "One-minute load average", h.Load1, 1},
		{"wnm_host_load5", "Five-minute load average", h.Load5, 1},
		{"wnm_host_load15", "Fifteen-minute load average", h.Load15, 1},
		{"wnm_host_disk_read_bytes_per_second", "Disk read rate", h.DiskReadBps, 1},
		{"wnm_host_disk_written_bytes_per_second", "Disk write rate", h.DiskWriteBps, 1},
		{"wnm_host_network_receive_bytes_per_second", "Network receive rate", h.NetRecvBps, 1},
		{"wnm_host_network_transmit_bytes_per_second", "Network send rate", h.NetSendBps, 1},
	}
	for _, x := range host {
		if !x.r.Known || math.IsNaN(x.r.Value) || math.IsInf(x.r.Value, 0) {
			continue
		}
		f := gauge(x.name, x.help)
		f.add(x.r.Value * x.scale)
		fams = append(fams, f)
	}
	if r.Obs.LatestVersion != "" {
		f := gauge("wnm_antnode_latest_info", "The antnode version at antnode_path, which new and upgraded nodes get (always 1)")
		f.add(1, "version", r.Obs.LatestVersion)
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].mf.GetName() < fams[j].mf.GetName() })
	var buf bytes.Buffer
	for _, f := range fams {
		if len(f.mf.Metric) == 0 {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&buf, f.mf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }
