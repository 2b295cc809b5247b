package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// Reports lists wnm-python's report names.
var Reports = []string{"node-status", "node-status-details", "influx-resources", "machine-config", "machine-metrics"}

// ReportFormats lists the report formats.
var ReportFormats = []string{"text", "json", "env", "config"}

// ReportRequest asks for one report.
type ReportRequest struct {
	Name   string
	Format string   // text (default), json, env or config
	Names  []string // --service_name: only these nodes, in this order
	// Now stamps the influx-resources lines.
	Now time.Time
}

// Report renders a report. It reads the store (and, for machine-metrics and influx-resources,
// the host) and writes nothing.
func Report(ctx context.Context, o Options, req ReportRequest) (string, error) {
	if req.Format == "" {
		req.Format = "text"
	}
	switch req.Name {
	case "node-status", "node-status-details", "influx-resources":
		nodes, err := o.Store.Nodes(ctx)
		if err != nil {
			return "", err
		}
		nodes = filterNodes(nodes, req.Names, o)
		switch req.Name {
		case "node-status":
			return nodeStatus(nodes, req.Format)
		case "node-status-details":
			return nodeStatusDetails(nodes, req.Format)
		}
		obs, err := observeHost(ctx, o)
		if err != nil {
			return "", err
		}
		return influxResources(nodes, obs, req.Now), nil
	case "machine-config":
		m, err := o.Store.Machine(ctx)
		if err != nil {
			return "", err
		}
		f := Fields{}
		for _, c := range m.Row() {
			f = append(f, Field{c.Name, c.Value})
		}
		f = append(f, Field{"dbpath", "sqlite:///" + o.Config.DBPath})
		return renderFields(f, req.Format, map[string]bool{"node_storage": true, "environment": true, "start_args": true, "antnode_path": true, "dbpath": true}), nil
	case "machine-metrics":
		nodes, err := o.Store.Nodes(ctx)
		if err != nil {
			return "", err
		}
		obs, err := observeHost(ctx, o)
		if err != nil {
			return "", err
		}
		f := machineMetrics(nodes, obs, o.Config.AntnodePath, float64(o.Config.CrisisBytes), float64(o.Config.HDRemove))
		format := req.Format
		if format == "config" {
			format = "text" // as wnm-python: metrics are no config file
		}
		return renderFields(f, format, map[string]bool{"antnode": true, "nodes_by_version": true}), nil
	}
	return "", fmt.Errorf("unknown report %q: want one of %s", req.Name, strings.Join(Reports, ", "))
}

// observeHost reads the host and antnode_path's version, polling no node.
func observeHost(ctx context.Context, o Options) (survey.Observation, error) {
	o.Manager, o.Firewall = noManager{}, nil
	if err := o.defaults(); err != nil {
		return survey.Observation{}, err
	}
	c := &cycle{Options: o, start: o.Now()}
	prev, versions := c.loadState(ctx)
	return c.Survey(ctx, survey.Options{
		NodeStorage: c.Config.NodeStorage, Prev: prev, Versions: versions, Latest: c.Config.AntnodePath,
		Timeout: time.Duration(c.Config.SurveyTimeout) * time.Millisecond, Concurrency: 1, Now: c.Now, Logger: c.Logger,
	}), nil
}

// filterNodes keeps the named nodes in the order named. A name is a service (antnode0001.service),
// the same without ".service", antnode1, or an id; unknown names are logged.
func filterNodes(nodes []store.Node, names []string, o Options) []store.Node {
	if len(names) == 0 {
		return nodes
	}
	var out []store.Node
	for _, name := range names {
		id, byID := nodeIDOf(name)
		found := false
		for _, n := range nodes {
			if n.Service == name || byID && n.ID == id {
				out = append(out, n)
				found = true
				break
			}
		}
		if !found && o.Logger != nil {
			o.Logger.Warn("node not found in database", "name", name)
		}
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func jsonIndent(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// one returns the object itself for a single node, as wnm-python does, else the list.
func one[T any](xs []T) any {
	if len(xs) == 1 {
		return xs[0]
	}
	return xs
}

func nodeStatus(nodes []store.Node, format string) (string, error) {
	if format == "json" {
		if len(nodes) == 0 {
			return jsonIndent(Fields{{"error", "No nodes found"}})
		}
		rows := make([]Fields, 0, len(nodes))
		for _, n := range nodes {
			rows = append(rows, Fields{{"service_name", n.Service}, {"peer_id", dash(n.PeerID)}, {"status", string(n.Status)}, {"connected_peers", n.ConnectedPeers}})
		}
		return jsonIndent(one(rows))
	}
	if len(nodes) == 0 {
		return "No nodes found.\n", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s%-55s%-15s%15s\n", "Service Name", "Peer ID", "Status", "Connected Peers")
	for _, n := range nodes {
		fmt.Fprintf(&b, "%-20s%-55s%-15s%15d\n", n.Service, dash(n.PeerID), n.Status, n.ConnectedPeers)
	}
	return b.String(), nil
}

func nodeStatusDetails(nodes []store.Node, format string) (string, error) {
	if format == "json" {
		if len(nodes) == 0 {
			return jsonIndent(Fields{{"error", "No nodes found"}})
		}
		rows := make([]Fields, 0, len(nodes))
		for _, n := range nodes {
			var f Fields
			for _, c := range n.Row() {
				f = append(f, Field{c.Name, c.Value})
			}
			rows = append(rows, f)
		}
		return jsonIndent(one(rows))
	}
	if len(nodes) == 0 {
		return "No nodes found.\n", nil
	}
	or := func(s, alt string) string {
		if s == "" {
			return alt
		}
		return s
	}
	var parts []string
	for _, n := range nodes {
		parts = append(parts, strings.Join([]string{
			"Service Name: " + n.Service,
			"Version: " + or(n.Version, "unknown"),
			"Port: " + strconv.Itoa(n.Port),
			"Metrics Port: " + strconv.Itoa(n.MetricsPort),
			"Data path: " + n.RootDir,
			"Log path: " + or(n.LogDir, "unknown"),
			"Bin Path: " + n.Binary,
			"Connected peers: " + strconv.FormatInt(n.ConnectedPeers, 10),
			"Rewards address: " + or(n.Wallet, "unknown"),
			"Age: " + strconv.FormatInt(n.Age, 10),
			"Peer ID: " + dash(n.PeerID),
			"Status: " + string(n.Status),
		}, "\n"))
	}
	return strings.Join(parts, "\n\n") + "\n", nil
}

// lpString quotes a line-protocol string field value.
func lpString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// lpFloat renders a line-protocol float field (always with a decimal point, as Python prints).
func lpFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// influxResources renders NTracking's InfluxDB line protocol: one "nodes" line per node, then
// "nodes_totals" and "nodes_network", all stamped with the same nanosecond time. Field names are
// NTracking's (its misspelt networ_size as well as network_size, which wnm-python writes).
func influxResources(nodes []store.Node, obs survey.Observation, now time.Time) string {
	if len(nodes) == 0 {
		return "# No nodes found\n"
	}
	ts := strconv.FormatInt(now.UnixNano(), 10)
	var b strings.Builder
	totalRewards := new(big.Float)
	attos := new(big.Int)
	running, killed := 0, 0
	var sizeSum, sizeN int64
	for _, n := range nodes {
		rewards := n.Rewards
		if rewards == "" {
			rewards = "0"
		}
		if r, ok := new(big.Float).SetString(rewards); ok {
			totalRewards.Add(totalRewards, r)
		}
		if a, ok := new(big.Int).SetString(rewards, 10); ok {
			attos.Add(attos, a)
		}
		switch n.Status {
		case store.StatusRunning:
			running++
			if n.NetworkSize > 0 {
				sizeSum += n.NetworkSize
				sizeN++
			}
		case store.StatusStopped, store.StatusDead:
			killed++
		}
		i := func(v int64) string { return strconv.FormatInt(v, 10) + "i" }
		fields := []string{
			"PeerId=" + lpString(n.PeerID),
			"status=" + lpString(string(n.Status)),
			"version=" + lpString(n.Version),
			"gets=" + i(n.Gets),
			"puts=" + i(n.Puts),
			"up_time=" + i(n.Uptime),
			"rewards=" + lpString(rewards),
			"records=" + i(n.Records),
			"connected_peers=" + i(n.ConnectedPeers),
			"network_size=" + i(n.NetworkSize),
			"networ_size=" + i(n.NetworkSize),
			"open_connections=" + i(n.OpenConnections),
			"total_peers=" + i(n.TotalPeers),
			"shunned_count=" + i(n.Shunned),
			"bad_peers=" + i(n.BadPeers),
			"mem=" + lpFloat(float64(n.Mem)/100),
			"cpu=" + lpFloat(float64(n.CPU)/100),
			"rel_records=" + i(n.RelRecords),
			"max_records=" + i(n.MaxRecords),
			"payment_count=" + i(n.PaymentCount),
			"live_time=" + i(n.LiveTime),
		}
		fmt.Fprintf(&b, "nodes,id=%d %s %s\n", n.ID, strings.Join(fields, ","), ts)
	}
	tr, _ := totalRewards.Float64()
	totals := []string{
		"rewards=" + lpString(lpFloat(tr)),
		"nodes_running=" + strconv.Itoa(running) + "i",
		"nodes_killed=" + strconv.Itoa(killed) + "i",
		"total_attos=" + attos.String() + "i",
	}
	if h := obs.Host; h.DiskPercent.Known && h.DiskTotalBytes.Known {
		totals = append(totals, "total_disk="+strconv.FormatInt(int64(h.DiskTotalBytes.Value), 10)+"i", "Disk_percent="+lpFloat(math.Round(h.DiskPercent.Value*100)/100))
	}
	fmt.Fprintf(&b, "nodes_totals %s %s\n", strings.Join(totals, ","), ts)
	size := int64(0)
	if sizeN > 0 {
		size = sizeSum / sizeN
	}
	fmt.Fprintf(&b, "nodes_network size=%di %s\n", size, ts)
	return b.String()
}

// machineMetrics is wnm-python's metrics dictionary, in its key order, from the stored nodes and
// a host reading. Figures the survey could not read are null.
func machineMetrics(nodes []store.Node, obs survey.Observation, antnode string, crisisBytes, hdRemove float64) Fields {
	counts := map[store.Status]int{}
	byVersion := map[string]int{}
	latest, noVersion := 0, 0
	for _, n := range nodes {
		counts[n.Status]++
		if n.Version == "" {
			noVersion++
			continue
		}
		byVersion[n.Version]++
		if n.Version == obs.LatestVersion {
			latest++
		}
	}
	queen := obs.LatestVersion
	if len(nodes) > 0 {
		queen = nodes[0].Version
	}
	h := obs.Host
	r := func(x survey.Reading) any {
		if !x.Known || math.IsNaN(x.Value) {
			return nil
		}
		return x.Value
	}
	boot := any(nil)
	if h.BootTime.Known {
		boot = int64(h.BootTime.Value)
	}
	var idle, free any
	if h.CPUPercent.Known {
		idle = 100 - h.CPUPercent.Value
	}
	if h.MemPercent.Known {
		free = 100 - h.MemPercent.Value
	}
	crisis := any(nil)
	total := any(nil)
	if h.DiskTotalBytes.Known {
		total = int64(h.DiskTotalBytes.Value)
		if h.DiskTotalBytes.Value > 0 && hdRemove > 0 {
			crisis = int64(float64(len(nodes)) * crisisBytes / (h.DiskTotalBytes.Value * hdRemove / 100) * 100)
		}
	}
	versions := make([]string, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool {
		c, ok := decide.CompareVersions(versions[i], versions[j])
		if !ok || c == 0 {
			return versions[i] < versions[j]
		}
		return c < 0
	})
	hist := Fields{}
	for _, v := range versions {
		hist = append(hist, Field{v, byVersion[v]})
	}
	return Fields{
		{"system_start", boot},
		{"total_nodes", len(nodes)},
		{"running_nodes", counts[store.StatusRunning]},
		{"stopped_nodes", counts[store.StatusStopped]},
		{"restarting_nodes", counts[store.StatusRestarting]},
		{"upgrading_nodes", counts[store.StatusUpgrading]},
		{"migrating_nodes", counts[store.StatusMigrating]},
		{"removing_nodes", counts[store.StatusRemoving]},
		{"dead_nodes", counts[store.StatusDead]},
		{"antnode", antnode},
		{"antnode_version", obs.LatestVersion},
		{"queen_node_version", queen},
		{"nodes_latest_v", latest},
		{"nodes_no_version", noVersion},
		{"nodes_to_upgrade", len(nodes) - latest - noVersion},
		{"nodes_by_version", hist},
		{"load_average_1", r(h.Load1)},
		{"load_average_5", r(h.Load5)},
		{"load_average_15", r(h.Load15)},
		{"idle_cpu_percent", idle},
		{"used_cpu_percent", r(h.CPUPercent)},
		{"used_mem_percent", r(h.MemPercent)},
		{"free_mem_percent", free},
		{"used_hd_percent", r(h.DiskPercent)},
		{"total_hd_bytes", total},
		{"hdio_write_bytes", r(h.DiskWriteBps)},
		{"hdio_read_bytes", r(h.DiskReadBps)},
		{"netio_write_bytes", r(h.NetSendBps)},
		{"netio_read_bytes", r(h.NetRecvBps)},
		{"node_hd_crisis", crisis},
	}
}

// pyValue renders a value as wnm-python's text and env formats print it: True, False, None,
// floats with a decimal point, maps as Python dicts.
func pyValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case float64:
		return lpFloat(v)
	case Fields:
		parts := make([]string, 0, len(v))
		for _, f := range v {
			parts = append(parts, fmt.Sprintf("'%s': %s", f.Key, pyValue(f.Value)))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case json.RawMessage:
		return string(v)
	}
	return fmt.Sprint(v)
}

// renderFields prints a flat report: text "key: value", json, env "KEY=value" or config
// "key=value" (a file that -c reads). quoted keys have their values in double quotes in env and
// config.
func renderFields(f Fields, format string, quoted map[string]bool) string {
	if format == "json" {
		s, err := jsonIndent(f)
		if err != nil {
			return fmt.Sprintf("{\"error\": %q}\n", err.Error())
		}
		return s
	}
	var b strings.Builder
	for _, x := range f {
		if format == "config" && x.Value == nil {
			continue // a config file has no way to say None; the setting keeps its value
		}
		v := pyValue(x.Value)
		switch format {
		case "env", "config":
			if quoted[x.Key] {
				v = `"` + v + `"`
			}
			k := x.Key
			if format == "env" {
				k = strings.ToUpper(k)
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		default:
			fmt.Fprintf(&b, "%s: %s\n", x.Key, v)
		}
	}
	return b.String()
}
