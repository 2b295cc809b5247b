package survey

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wnm-project/wnm/worker/survey/openmetrics"
)

// maxBody caps how much of a /metrics or /metadata answer is read. antnode's
// /metrics is about 40 KiB; anything far larger is not antnode.
const maxBody = 4 << 20

// Target is one node to poll.
type Target struct {
	// ID is the node's id; [NodeObs] carries it back.
	ID int
	// Host and MetricsPort locate the metrics server; an empty Host means
	// 127.0.0.1, where antnode serves its metrics.
	Host        string
	MetricsPort int
	// Binary is the node's antnode executable; its version is read through
	// [Options.Versions]. Empty skips that.
	Binary string
	// RootDir is the node's data directory (--root-dir).
	RootDir string
}

// NodeObs is what the survey saw of one node. Metric fields are zero when the
// node is down or does not export the metric.
type NodeObs struct {
	ID int `json:"id"`
	// Up is true only when /metrics answered 2xx with a body that parses
	// and holds at least one of the antnode metrics below.
	Up bool `json:"up"`
	// HTTPStatus is the /metrics status code, 0 when there was no answer.
	HTTPStatus int `json:"http_status"`
	// Error says why the node is not Up ("" when it is).
	Error string `json:"error"`
	// MetadataStatus and MetadataError are the same for /metadata. A node
	// can be Up with a failed /metadata; Version and PeerID are then "".
	MetadataStatus int    `json:"metadata_status"`
	MetadataError  string `json:"metadata_error"`
	// MetadataCached is true when Version and PeerID come from
	// [Options.Metadata] and /metadata was not asked (MetadataStatus is then
	// 0): the node's process has run since they were read.
	MetadataCached bool `json:"metadata_cached"`
	// RootDirExists reports whether Target.RootDir is an existing directory.
	RootDirExists bool `json:"root_dir_exists"`
	// Version is the running antnode version from /metadata
	// (ant_node_antnode_version_info{antnode_version=…}); "" means unknown.
	Version string `json:"version"`
	// PeerID is from /metadata (ant_networking_peer_id_info{peer_id=…}).
	// "" means unknown, not "no peer id": a node that is down has none to
	// report, and keeping the last known one is the caller's job.
	PeerID string `json:"peer_id"`
	// BinaryVersion is what Target.Binary --version reports ("" if unknown,
	// BinaryError says why).
	BinaryVersion string `json:"binary_version"`
	BinaryError   string `json:"binary_error"`

	// Uptime is ant_node_uptime, in seconds.
	Uptime int64 `json:"uptime"`
	// Records is ant_networking_records_stored.
	Records int64 `json:"records"`
	// Shunned is ant_networking_shunned_by_close_group.
	Shunned int64 `json:"shunned"`
	// ConnectedPeers is ant_networking_connected_peers.
	ConnectedPeers int64 `json:"connected_peers"`
	// Puts is the sum of every series of ant_node_put_record_ok_total.
	Puts int64 `json:"puts"`
	// MemMB is ant_networking_process_memory_used_mb.
	MemMB float64 `json:"mem_mb"`
	// CPUPercent is ant_networking_process_cpu_usage_percentage (0–100).
	CPUPercent float64 `json:"cpu_percent"`
	// OpenConnections is ant_networking_open_connections.
	OpenConnections int64 `json:"open_connections"`
	// TotalPeers is ant_networking_peers_in_routing_table.
	TotalPeers int64 `json:"total_peers"`
	// BadPeers is ant_networking_bad_peers_count_total.
	BadPeers int64 `json:"bad_peers"`
	// RelRecords is ant_networking_relevant_records.
	RelRecords int64 `json:"rel_records"`
	// MaxRecords is ant_networking_max_records.
	MaxRecords int64 `json:"max_records"`
	// Rewards is ant_node_current_reward_wallet_balance as decimal text,
	// exactly as the node printed it ("0" when absent).
	Rewards string `json:"rewards"`
	// PaymentCount is ant_networking_received_payment_count.
	PaymentCount int64 `json:"payment_count"`
	// LiveTime is ant_networking_live_time.
	LiveTime int64 `json:"live_time"`
	// NetworkSize is ant_networking_estimated_network_size.
	NetworkSize int64 `json:"network_size"`
}

// Metric names read from /metrics and /metadata (the families a real antnode publishes).
const (
	mUptime       = "ant_node_uptime"
	mRecords      = "ant_networking_records_stored"
	mShunned      = "ant_networking_shunned_by_close_group"
	mConnected    = "ant_networking_connected_peers"
	mPuts         = "ant_node_put_record_ok_total"
	mMem          = "ant_networking_process_memory_used_mb"
	mCPU          = "ant_networking_process_cpu_usage_percentage"
	mOpenConns    = "ant_networking_open_connections"
	mTotalPeers   = "ant_networking_peers_in_routing_table"
	mBadPeers     = "ant_networking_bad_peers_count_total"
	mRelRecords   = "ant_networking_relevant_records"
	mMaxRecords   = "ant_networking_max_records"
	mRewards      = "ant_node_current_reward_wallet_balance"
	mPayments     = "ant_networking_received_payment_count"
	mLiveTime     = "ant_networking_live_time"
	mNetworkSize  = "ant_networking_estimated_network_size"
	mVersionInfo  = "ant_node_antnode_version_info"
	mPeerIDInfo   = "ant_networking_peer_id_info"
	lVersion      = "antnode_version"
	lPeerID       = "peer_id"
	defaultReward = "0"
)

var metricNames = []string{
	mUptime, mRecords, mShunned, mConnected, mPuts, mMem, mCPU, mOpenConns, mTotalPeers,
	mBadPeers, mRelRecords, mMaxRecords, mRewards, mPayments, mLiveTime, mNetworkSize,
}

// The families read from /metrics and from /metadata, prepared once for every node's answer.
var (
	metricsSelection  = sync.OnceValue(func() *openmetrics.Selection { return openmetrics.Select(metricNames...) })
	metadataSelection = sync.OnceValue(func() *openmetrics.Selection { return openmetrics.Select(mVersionInfo, mPeerIDInfo) })
)

// NewHTTPClient returns the client [Survey] uses when [Options.HTTPClient] is
// nil: tuned for many short requests to loopback hosts. It never uses a
// proxy, dials with a short timeout, keeps at most one idle connection per
// node (so /metadata reuses the /metrics connection) and a small pool
// overall, does not follow redirects, and does not ask for compression.
// Per-request timeouts come from the request context. Call
// CloseIdleConnections on its transport when done.
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{Timeout: min(timeout, time.Second), KeepAlive: -1}).DialContext,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    1,
		IdleConnTimeout:        5 * time.Second,
		DisableCompression:     true,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      false,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// poller polls nodes with a bounded pool.
type poller struct {
	client      *http.Client
	timeout     time.Duration
	concurrency int
	stallAfter  time.Duration
	maxInFlight int
	now         func() time.Time
	meta        *MetadataCache // nil: always ask /metadata
}

// pollAll polls every target and returns one NodeObs per target, in target
// order.
//
// The errgroup bounds how many nodes are being actively polled. A node that
// has not answered within stallAfter gives up its slot (its requests carry on
// in the background until their own timeout) so that a few hung nodes cannot
// queue the rest of the fleet behind them; maxInFlight still bounds how many
// nodes have requests open at once, and so the file descriptors used.
func (p poller) pollAll(ctx context.Context, targets []Target) []NodeObs {
	obs := make([]NodeObs, len(targets))
	inFlight := make(chan struct{}, p.maxInFlight)
	var bg sync.WaitGroup
	var g errgroup.Group
	g.SetLimit(p.concurrency)
	for i, t := range targets {
		g.Go(func() error {
			select {
			case inFlight <- struct{}{}:
			case <-ctx.Done():
				obs[i] = NodeObs{ID: t.ID, Error: fmt.Sprintf("not polled: %v", ctx.Err()), Rewards: defaultReward}
				return nil
			}
			done := make(chan struct{})
			bg.Add(1)
			go func() {
				defer bg.Done()
				defer func() { <-inFlight }()
				defer close(done)
				obs[i] = p.poll(ctx, t)
			}()
			stall := time.NewTimer(p.stallAfter)
			defer stall.Stop()
			select {
			case <-done:
			case <-stall.C:
			}
			return nil
		})
	}
	_ = g.Wait() // the tasks never return an error
	bg.Wait()
	return obs
}

// poll fetches /metrics, then /metadata over the same kept-alive
// connection. When /metrics got no HTTP answer at all (refused, reset, timed
// out) /metadata is not asked for, so a hung node costs one timeout, not two;
// nor is it when the metadata cache holds an answer the node's uptime shows
// is still its process's.
func (p poller) poll(ctx context.Context, t Target) NodeObs {
	o := NodeObs{ID: t.ID, Rewards: defaultReward}
	if t.RootDir != "" {
		fi, err := os.Stat(t.RootDir)
		o.RootDirExists = err == nil && fi.IsDir()
	}
	host := t.Host
	if host == "" {
		host = "127.0.0.1"
	}
	base := "http://" + net.JoinHostPort(host, strconv.Itoa(t.MetricsPort))

	m := p.fetch(ctx, base+"/metrics", metricsSelection())
	o.HTTPStatus = m.status
	if m.err != nil {
		o.Error = m.err.Error()
	} else {
		o.Up = true
		fillMetrics(&o, m.fams, m.raw)
	}
	if m.status == 0 {
		o.MetadataError = "not asked: no answer on /metrics"
		return o
	}
	if o.Up && p.meta != nil {
		if e, ok := p.meta.lookup(t, o.Uptime, p.now()); ok {
			o.Version, o.PeerID, o.MetadataCached = e.Version, e.PeerID, true
			return o
		}
	}
	meta := p.fetch(ctx, base+"/metadata", metadataSelection())
	o.MetadataStatus = meta.status
	if meta.err != nil {
		o.MetadataError = meta.err.Error()
	} else {
		o.Version, _ = openmetrics.Label(meta.fams, mVersionInfo, lVersion)
		o.PeerID, _ = openmetrics.Label(meta.fams, mPeerIDInfo, lPeerID)
		if o.Up && p.meta != nil {
			p.meta.remember(t, o.Version, o.PeerID, p.now())
		}
	}
	return o
}

type fetched struct {
	status int
	fams   map[string]*openmetrics.Family
	raw    map[string]string
	err    error
}

var errTooLarge = fmt.Errorf("body larger than %d bytes", maxBody)

// fetch GETs url and parses the families sel names. It fails unless
// the answer is 2xx, parses, and holds at least one of those families.
func (p poller) fetch(parent context.Context, u string, sel *openmetrics.Selection) fetched {
	ctx, cancel := context.WithTimeout(parent, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{err: fmt.Errorf("GET %s: %w", u, err)}
	}
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	resp, err := p.client.Do(req)
	if err != nil {
		return fetched{err: describe(parent, u, err, p.timeout)}
	}
	defer resp.Body.Close()
	f := fetched{status: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		f.err = fmt.Errorf("GET %s: status %s", u, resp.Status)
		return f
	}
	body := &limitedReader{r: resp.Body, n: maxBody}
	f.fams, f.raw, err = sel.Parse(body)
	// Whatever follows "# EOF" is read so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		f.err = describe(parent, u, err, p.timeout)
		return f
	}
	if len(f.fams) == 0 {
		f.err = fmt.Errorf("GET %s: no antnode metrics in the answer", u)
	}
	return f
}

// describe words a request error so the observation says what happened
// rather than quoting a nested *url.Error.
func describe(ctx context.Context, u string, err error, timeout time.Duration) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("GET %s: survey stopped: %w", u, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("GET %s: no answer within %s: %w", u, timeout, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("GET %s: %w", u, err)
}

// limitedReader fails with errTooLarge instead of silently truncating.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return l.r.Read(p[:0])
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// fillMetrics maps parsed /metrics families onto o as wnm-python does, with
// the fixes of docs/compatibility.md fix-17: labelled counters are summed,
// floats stay floats, rewards keep every digit.
func fillMetrics(o *NodeObs, fams map[string]*openmetrics.Family, raw map[string]string) {
	i := func(name string) int64 {
		v, _ := openmetrics.Sum(fams, name)
		return toInt(v)
	}
	f := func(name string) float64 {
		v, _ := openmetrics.Sum(fams, name)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return v
	}
	o.Uptime = i(mUptime)
	o.Records = i(mRecords)
	o.Shunned = i(mShunned)
	o.ConnectedPeers = i(mConnected)
	o.Puts = i(mPuts)
	o.MemMB = f(mMem)
	o.CPUPercent = f(mCPU)
	o.OpenConnections = i(mOpenConns)
	o.TotalPeers = i(mTotalPeers)
	o.BadPeers = i(mBadPeers)
	o.RelRecords = i(mRelRecords)
	o.MaxRecords = i(mMaxRecords)
	o.PaymentCount = i(mPayments)
	o.LiveTime = i(mLiveTime)
	o.NetworkSize = i(mNetworkSize)
	if r, ok := raw[mRewards]; ok && r != "" {
		o.Rewards = r
	}
}

// toInt rounds v to the nearest integer; NaN and infinities give 0.
func toInt(v float64) int64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v > math.MaxInt64 || v < math.MinInt64 {
		return 0
	}
	return int64(math.Round(v))
}
