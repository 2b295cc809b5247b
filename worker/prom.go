package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/google/renameio/v2"

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
	text := promText(nodes, r, totals, c.Now().Sub(c.start).Seconds(), c.start)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("textfile_dir: %w", err)
	}
	if err := renameio.WriteFile(filepath.Join(dir, PromFile), text, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", PromFile, err)
	}
	return nil
}

// family collects one metric family of wnm.prom.
type family struct {
	name, help string
	typ        string // "gauge" or "counter"
	samples    []sample
}

type sample struct {
	labels []string // name, value, name, value…
	value  float64
}

func newFamily(name, help, typ string) *family {
	return &family{name: name, help: help, typ: typ}
}

func (f *family) add(v float64, labels ...string) {
	f.samples = append(f.samples, sample{labels: labels, value: v})
}

// writeText appends f in the Prometheus text format (version 0.0.4), as node_exporter's textfile
// collector reads it: HELP with backslash and newline escaped, TYPE, then one line per sample
// with label values escaped (backslash, double quote, newline). Metric and label names are
// wnm's own constants, all of the classic name syntax, so they are written as they are.
func (f *family) writeText(b []byte) []byte {
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = append(b, f.typ...)
	b = append(b, '\n')
	for _, s := range f.samples {
		b = append(b, f.name...)
		for i := 0; i+1 < len(s.labels); i += 2 {
			if i == 0 {
				b = append(b, '{')
			} else {
				b = append(b, ',')
			}
			b = append(b, s.labels[i]...)
			b = append(b, '=', '"')
			b = appendEscaped(b, s.labels[i+1], true)
			b = append(b, '"')
		}
		if len(s.labels) >= 2 {
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = appendValue(b, s.value)
		b = append(b, '\n')
	}
	return b
}

// appendEscaped appends s with backslash and newline escaped, and the double quote too if quote.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendValue appends a sample value as the text format writes it: NaN, +Inf, -Inf, or the
// shortest decimal that reads back as v, in exponent form only for large or small exponents.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case v == 0:
		return append(b, '0') // negative zero too
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// promText renders the metrics in the Prometheus text format: per node, the cycle, the running
// totals and the host readings. Names follow node_exporter's conventions: the wnm_ prefix, base
// units (seconds, bytes, ratios of 0–1) and _total for counters. Readings the survey could not take
// are left out rather than written as zero.
func promText(nodes []store.Node, r *Result, totals promCounters, duration float64, started interface{ Unix() int64 }) []byte {
	var b []byte
	for _, f := range promFamilies(nodes, r, totals, duration, started) {
		b = f.writeText(b)
	}
	return b
}

// promFamilies builds the families of wnm.prom, sorted by name, leaving out those without samples.
func promFamilies(nodes []store.Node, r *Result, totals promCounters, duration float64, started interface{ Unix() int64 }) []*family {
	gauge := func(name, help string) *family { return newFamily(name, help, "gauge") }
	counter := func(name, help string) *family { return newFamily(name, help, "counter") }

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
	sort.Slice(fams, func(i, j int) bool { return fams[i].name < fams[j].name })
	return slices.DeleteFunc(fams, func(f *family) bool { return len(f.samples) == 0 })
}
