package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contentType is what antnode's metrics server sends with every metrics body.
const contentType = "application/openmetrics-text;charset=utf-8;version=1.0.0"

// notFoundBody is antnode's answer to any path but the three endpoints, "[port]" included.
const notFoundBody = "Not found try localhost:[port]/metrics"

// garbageBody is served by FAKEANTNODE_GARBAGE_METRICS: neither Prometheus text nor OpenMetrics.
const garbageBody = "<html><body>this is { not metrics\x00\n"

// sample is one scrape's worth of simulated node metrics.
type sample struct {
	Uptime                                        int64
	PutChunk, PutScratchpad, PutErr               int64
	ReplicationTriggered                          int64
	PeersAdded, PeersRemoved                      int64
	WalletBalance, ForwardedRewards               int64
	BandwidthIn, BandwidthOut                     int64
	GetRecordOK                                   int64
	RecordsStored                                 int64
	RelayReservationHealth                        float64
	ConnectedPeers, ConnectedRelayClients         int64
	EstimatedNetworkSize                          int64
	RelayPeersPercentage                          float64
	OpenConnections                               int64
	PeersInRoutingTable, RelayPeersInRoutingTable int64
	ShunnedCount, BadPeersCount                   int64
	PeersOnOldVersion, PeersOnCurrentVersion      int64
	MemoryUsedMB, CPUUsagePercentage              float64
	RelevantRecords, MaxRecords                   int64
	ReceivedPaymentCount, LiveTime                int64
	ShunnedByCloseGroup, ShunnedByOldCloseGroup   int64
	ShunnedLastDay                                int64
}

// metadata is what /metadata reports.
type metadata struct {
	Version   string
	PeerID    string
	NetworkID uint8
}

// mix is the SplitMix64 finaliser: a cheap, well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// pick is a value in [0, n) fixed by seed and salt.
func pick(seed, salt, n uint64) int64 {
	return int64(mix(seed^mix(salt)) % n)
}

// simulate returns plausible metrics for the node with the given seed after uptime. It is a
// pure function: per-node constants come from the seed, counters grow with uptime, and the
// "noisy" gauges (memory, cpu, peers) change from one second to the next.
func simulate(seed uint64, uptime time.Duration) sample {
	up := max(int64(uptime/time.Second), 0)
	tick := seed ^ mix(uint64(up)) // changes every second
	records := 200 + pick(seed, 1, 2400) + up/30
	added := 360 + pick(seed, 5, 200) + up/60
	connected := 30 + pick(seed, 9, 20) + pick(tick, 10, 7)
	in := 6_000_000 + pick(seed, 7, 1_000_000) + up*10_000
	shunned := pick(seed, 14, 3)
	return sample{
		Uptime:                   up,
		PutChunk:                 records*9/10 + pick(seed, 2, 50),
		PutScratchpad:            pick(seed, 3, 6),
		PutErr:                   pick(seed, 4, 5) + up/7200,
		ReplicationTriggered:     300 + pick(seed, 21, 100) + up/20,
		PeersAdded:               added,
		PeersRemoved:             added * 3 / 4,
		WalletBalance:            pick(seed, 6, 5) * 250_000_000_000_000,
		BandwidthIn:              in,
		BandwidthOut:             in * 2 / 5,
		GetRecordOK:              pick(seed, 8, 10) + up/600,
		RecordsStored:            records,
		ConnectedPeers:           connected,
		EstimatedNetworkSize:     2_000_000 + pick(seed, 11, 128_000),
		OpenConnections:          connected + pick(tick, 12, 4),
		PeersInRoutingTable:      300 + pick(seed, 13, 150) + min(up/600, 100),
		ShunnedCount:             shunned,
		BadPeersCount:            pick(seed, 15, 8),
		PeersOnOldVersion:        30 + pick(seed, 16, 20),
		PeersOnCurrentVersion:    280 + pick(seed, 17, 60),
		MemoryUsedMB:             float64(90+pick(seed, 18, 150)) + float64(pick(tick, 19, 64))/16,
		CPUUsagePercentage:       float64(pick(tick, 20, 200)) / 100,
		RelevantRecords:          records * 86 / 100,
		MaxRecords:               16384,
		ReceivedPaymentCount:     records / 250,
		LiveTime:                 up,
		ShunnedLastDay:           shunned,
		RelayReservationHealth:   0,
		RelayPeersPercentage:     0,
		ConnectedRelayClients:    0,
		RelayPeersInRoutingTable: 0,
	}
}

// omWriter writes OpenMetrics text. Families follow a real antnode's order and wording.
type omWriter struct{ b *bytes.Buffer }

func (w omWriter) family(name, typ, help string) {
	fmt.Fprintf(w.b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (w omWriter) int(name, labels string, v int64) {
	w.b.WriteString(name)
	w.b.WriteString(labels)
	w.b.WriteByte(' ')
	w.b.WriteString(strconv.FormatInt(v, 10))
	w.b.WriteByte('\n')
}

func (w omWriter) float(name, labels string, v float64) {
	w.b.WriteString(name)
	w.b.WriteString(labels)
	w.b.WriteByte(' ')
	w.b.WriteString(formatFloat(v))
	w.b.WriteByte('\n')
}

// counter writes a counter family with one unlabelled sample.
func (w omWriter) counter(name, help string, v int64) {
	w.family(name, "counter", help)
	w.int(name+"_total", "", v)
}

// gauge writes a gauge family with one unlabelled integer sample.
func (w omWriter) gauge(name, help string, v int64) {
	w.family(name, "gauge", help)
	w.int(name, "", v)
}

// gaugeFloat writes a gauge family with one unlabelled float sample.
func (w omWriter) gaugeFloat(name, help string, v float64) {
	w.family(name, "gauge", help)
	w.float(name, "", v)
}

// formatFloat prints floats the way antnode does: always with a fraction ("0.0", "97.8125").
func formatFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}

// writeMetrics renders the /metrics body, or the /metrics_extended body when extended is set.
func writeMetrics(out io.Writer, s sample, extended bool) error {
	var b bytes.Buffer
	w := omWriter{&b}
	w.family("ant_node_put_record_ok", "counter", "Number of successful record PUTs.")
	w.int("ant_node_put_record_ok_total", `{record_type="Chunk"}`, s.PutChunk)
	w.int("ant_node_put_record_ok_total", `{record_type="Scratchpad"}`, s.PutScratchpad)
	w.counter("ant_node_put_record_err", "Number of errors during record PUTs.", s.PutErr)
	w.counter("ant_node_replication_triggered", "Number of time that replication has been triggered.", s.ReplicationTriggered)
	w.counter("ant_node_peer_added_to_routing_table", "Number of peers that have been added to the Routing Table.", s.PeersAdded)
	w.counter("ant_node_peer_removed_from_routing_table", "Number of peers that have been removed from the Routing Table.", s.PeersRemoved)
	w.gauge("ant_node_current_reward_wallet_balance", "The number of Nanos in the node reward wallet.", s.WalletBalance)
	w.gauge("ant_node_total_forwarded_rewards", "The cumulative number of Nanos forwarded by the node.", s.ForwardedRewards)
	w.gauge("ant_node_uptime", "The uptime of the node in seconds.", s.Uptime)
	w.family("libp2p_bandwidth_bytes", "counter", "Bandwidth usage by direction and transport protocols.")
	b.WriteString("# UNIT libp2p_bandwidth_bytes bytes\n")
	w.int("libp2p_bandwidth_bytes_total", `{protocols="/ip4/udp/quic-v1/p2p",direction="Inbound"}`, s.BandwidthIn)
	w.int("libp2p_bandwidth_bytes_total", `{protocols="/ip4/udp/quic-v1/p2p",direction="Outbound"}`, s.BandwidthOut)
	w.counter("libp2p_kad_query_result_get_record_ok", "Number of records returned by a successful Kademlia get record query.", s.GetRecordOK)
	w.gauge("ant_networking_records_stored", "The number of records stored locally.", s.RecordsStored)
	w.gaugeFloat("ant_networking_relay_reservation_health", "The average health of all the relay reservation connections. Value is between 0-1.", s.RelayReservationHealth)
	w.gauge("ant_networking_connected_peers", "The number of peers that we are currently connected to.", s.ConnectedPeers)
	w.gauge("ant_networking_connected_relay_clients", "The number of relay clients that are currently connected to us.", s.ConnectedRelayClients)
	w.gauge("ant_networking_estimated_network_size", "The estimated number of nodes in the network calculated by the peers in our RT.", s.EstimatedNetworkSize)
	w.gaugeFloat("ant_networking_relay_peers_percentage", "The percentage of relay peers in our routing table.", s.RelayPeersPercentage)
	w.gauge("ant_networking_open_connections", "The number of active connections to other peers.", s.OpenConnections)
	w.gauge("ant_networking_peers_in_routing_table", "The total number of peers in our routing table.", s.PeersInRoutingTable)
	w.gauge("ant_networking_relay_peers_in_routing_table", "The total number of relay peers in our routing table.", s.RelayPeersInRoutingTable)
	w.counter("ant_networking_shunned_count", "Number of peers that have shunned our node.", s.ShunnedCount)
	w.counter("ant_networking_bad_peers_count", "Number of bad peers that have been detected by us and been added to the blocklist.", s.BadPeersCount)
	w.family("ant_networking_upnp_events", "counter", "Events emitted by the UPnP behaviour.")
	w.family("ant_networking_relay_client_events", "counter", "Events emitted by the relay client.")
	w.family("ant_networking_node_versions", "gauge", "Number of nodes running each version.")
	w.int("ant_networking_node_versions", `{version="2026.2.2.1"}`, s.PeersOnOldVersion)
	w.int("ant_networking_node_versions", `{version="2026.2.3.2"}`, s.PeersOnCurrentVersion)
	w.gaugeFloat("ant_networking_process_memory_used_mb", "Memory used by the process in MegaBytes.", s.MemoryUsedMB)
	w.gaugeFloat("ant_networking_process_cpu_usage_percentage", "The percentage of CPU used by the process. Value is from 0-100.", s.CPUUsagePercentage)
	w.gauge("ant_networking_relevant_records", "The number of records that we're responsible for. This is used to calculate the store cost.", s.RelevantRecords)
	w.gauge("ant_networking_max_records", "The maximum number of records that we can store. This is used to calculate the store cost.", s.MaxRecords)
	w.gauge("ant_networking_received_payment_count", "The number of payments received by our node. This is used to calculate the store cost.", s.ReceivedPaymentCount)
	w.gauge("ant_networking_live_time", "The time for which the node has been alive. This is used to calculate the store cost.", s.LiveTime)
	w.gauge("ant_networking_shunned_by_close_group", "The number of close group peers that have shunned our node.", s.ShunnedByCloseGroup)
	w.gauge("ant_networking_shunned_by_old_close_group", "The number of close group peers that have shunned our node. This contains the peers that were once in our close group but have since been evicted..", s.ShunnedByOldCloseGroup)
	if extended {
		w.family("ant_networking_shunned_count_across_time_frames", "gauge", "The number of times our node has been shunned by other nodes across different time frames.")
		w.int("ant_networking_shunned_count_across_time_frames", `{time_frame="LastDay"}`, s.ShunnedLastDay)
	}
	b.WriteString("# EOF\n")
	_, err := out.Write(b.Bytes())
	return err
}

// writeMetadata renders the /metadata body.
func writeMetadata(out io.Writer, m metadata) error {
	var b bytes.Buffer
	w := omWriter{&b}
	w.family("ant_node_antnode_version", "info", "The version of the ant node.")
	w.int("ant_node_antnode_version_info", `{antnode_version="`+m.Version+`"}`, 1)
	w.family("ant_node_antnode_branch", "info", "The branch of the ant node.")
	w.int("ant_node_antnode_branch_info", `{antnode_branch="`+branch+`"}`, 1)
	w.family("ant_networking_peer_id", "info", "Identifier of a peer of the network.")
	w.int("ant_networking_peer_id_info", `{peer_id="`+m.PeerID+`"}`, 1)
	w.family("ant_networking_identify_protocol_str", "info", "The protocol version string that is used to connect to the correct network.")
	w.int("ant_networking_identify_protocol_str_info", `{identify_protocol_str="`+networkVersion(m.NetworkID)+`"}`, 1)
	b.WriteString("# EOF\n")
	_, err := out.Write(b.Bytes())
	return err
}

// endpoints serves antnode's three metrics endpoints for one node.
type endpoints struct {
	// scrape returns the current values; it is called once per request.
	scrape func() (sample, metadata)
	// status, when non-zero, is the answer to every request (FAKEANTNODE_HTTP_STATUS).
	status int
	// garbage serves garbageBody with status 200 (FAKEANTNODE_GARBAGE_METRICS).
	garbage bool
	// body, when set, is the answer to /metrics and /metrics_extended (FAKEANTNODE_METRICS_FILE).
	body []byte
}

func (e endpoints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.status != 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.status)
		io.WriteString(w, http.StatusText(e.status)+"\n")
		return
	}
	switch r.URL.Path {
	case "/metrics", "/metrics_extended", "/metadata":
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, notFoundBody)
		return
	}
	w.Header().Set("Content-Type", contentType)
	if e.garbage {
		io.WriteString(w, garbageBody)
		return
	}
	if e.body != nil && r.URL.Path != "/metadata" {
		w.Write(e.body)
		return
	}
	s, m := e.scrape()
	switch r.URL.Path {
	case "/metadata":
		writeMetadata(w, m)
	default:
		writeMetrics(w, s, r.URL.Path == "/metrics_extended")
	}
}
