package survey

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Defaults for [Options].
const (
	DefaultTimeout     = 2 * time.Second
	DefaultConcurrency = 32
	// DefaultStallAfter is how long a node may keep a polling slot before
	// it counts as stalled and the slot goes to the next node.
	DefaultStallAfter = 20 * time.Millisecond
	// versionConcurrency bounds concurrent `--version` execs.
	versionConcurrency = 4
)

// Options configure one [Survey].
type Options struct {
	// Targets are the nodes to poll.
	Targets []Target
	// NodeStorage is the directory node data lives under; the disk figures
	// are for the filesystem holding it (or its nearest existing parent).
	NodeStorage string
	// Prev are the [Counters] the previous survey returned, or nil. Rates
	// are averaged since then when they are recent and consistent.
	Prev *Counters
	// Versions caches `--version` answers between cycles. Nil uses a cache
	// for this survey only (so every binary is exec'd).
	Versions *VersionCache
	// Metadata keeps /metadata answers between cycles, so that a node whose
	// process has run since its answer was read is not asked again. Nil asks
	// every node that answers /metrics.
	Metadata *MetadataCache
	// Latest is the antnode binary new and upgraded nodes are copied from
	// (antnode_path); its version is [Observation.LatestVersion]. Empty
	// skips it.
	Latest string
	// Timeout bounds each HTTP request (default [DefaultTimeout]).
	Timeout time.Duration
	// Concurrency is how many nodes are polled at once (default
	// [DefaultConcurrency]).
	Concurrency int
	// StallAfter is how long a node may hold one of those slots before it
	// is left to finish (or time out) in the background and the slot goes
	// to the next node (default [DefaultStallAfter]).
	StallAfter time.Duration
	// MaxInFlight bounds how many nodes may have requests open at once,
	// stalled ones included (default 8 × Concurrency). Each holds up to two
	// connections.
	MaxInFlight int
	// Now is the clock (default time.Now). Observation times and the rate
	// windows are read from it, so a clock that does not move gives
	// unknown rates.
	Now func() time.Time
	// HTTPClient is used for every request (default [NewHTTPClient]).
	HTTPClient *http.Client
	// Logger receives debug lines (default: discard).
	Logger *slog.Logger
}

// Observation is everything one survey saw. It is what `wnm survey --json`
// prints and what `wnm plan --snapshot` reads back; see the package
// documentation for the JSON schema.
type Observation struct {
	// Started is when the survey began (UTC).
	Started time.Time `json:"started"`
	// Took is how long it ran.
	Took time.Duration `json:"took_ns"`
	// Host is the machine's state.
	Host Host `json:"host"`
	// Counters are the raw host counters to pass back as [Options.Prev].
	Counters Counters `json:"counters"`
	// Nodes has one entry per target, sorted by ID.
	Nodes []NodeObs `json:"nodes"`
	// LatestVersion is the version of [Options.Latest] ("" if unknown),
	// and LatestErr why it is unknown.
	LatestVersion string `json:"latest_version"`
	LatestErr     string `json:"latest_error"`
	// Errors lists every host reading that failed. Node failures are in
	// the nodes' own entries.
	Errors []string `json:"errors"`
}

// Survey polls every target and samples the host, concurrently, and reports
// what it saw. It never fails as a whole: a node that is down, hangs or
// answers garbage is recorded in its [NodeObs], and a host reading that fails
// is unknown and listed in [Observation.Errors]. It decides nothing.
//
// ctx bounds the whole survey; nodes not polled when it ends are recorded as
// such.
func Survey(ctx context.Context, o Options) Observation {
	ownClient := o.HTTPClient == nil
	o = o.withDefaults()
	start := o.Now()
	obs := Observation{Started: start.UTC().Round(0), Errors: []string{}}

	nodesDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s := sampler{src: psSource{}, now: o.Now, sleep: sleepCtx, minWindow: MinRateWindow}
		var errs []error
		obs.Host, obs.Counters, errs = s.run(ctx, o.NodeStorage, o.Prev, nodesDone)
		for _, err := range errs {
			obs.Errors = append(obs.Errors, "host: "+err.Error())
		}
	}()
	var binVersions map[string]versionResult
	go func() {
		defer wg.Done()
		binVersions = binaryVersions(ctx, o.Versions, o.Latest, o.Targets)
	}()

	p := poller{
		client:      o.HTTPClient,
		timeout:     o.Timeout,
		concurrency: o.Concurrency,
		stallAfter:  o.StallAfter,
		maxInFlight: o.MaxInFlight,
		now:         o.Now,
		meta:        o.Metadata,
	}
	if o.Metadata != nil {
		bt, err := bootTime(ctx)
		if err != nil {
			bt = 0
		}
		o.Metadata.begin(bt)
	}
	obs.Nodes = p.pollAll(ctx, o.Targets)
	close(nodesDone)
	if ownClient {
		o.HTTPClient.CloseIdleConnections()
	}
	wg.Wait()

	for i, t := range o.Targets {
		if t.Binary == "" {
			continue
		}
		r := binVersions[t.Binary]
		obs.Nodes[i].BinaryVersion, obs.Nodes[i].BinaryError = r.version, r.err
	}
	if o.Latest != "" {
		r := binVersions[o.Latest]
		obs.LatestVersion, obs.LatestErr = r.version, r.err
	}
	slices.SortStableFunc(obs.Nodes, func(a, b NodeObs) int { return cmp.Compare(a.ID, b.ID) })
	obs.Took = o.Now().Sub(start)

	up := 0
	for _, n := range obs.Nodes {
		if n.Up {
			up++
		} else {
			o.Logger.Debug("node not up", "node", n.ID, "err", n.Error)
		}
	}
	o.Logger.Debug("survey done", "nodes", len(obs.Nodes), "up", up,
		"host_errors", len(obs.Errors), "duration_seconds", Seconds(obs.Took))
	return obs
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.StallAfter <= 0 {
		o.StallAfter = DefaultStallAfter
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 8 * o.Concurrency
	}
	o.MaxInFlight = max(o.MaxInFlight, o.Concurrency)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient(o.Timeout)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Versions == nil {
		o.Versions = &VersionCache{}
	}
	return o
}

type versionResult struct {
	version string
	err     string
}

// binaryVersions runs `--version` (through the cache) once per distinct
// binary among the targets and latest.
func binaryVersions(ctx context.Context, c *VersionCache, latest string, targets []Target) map[string]versionResult {
	var paths []string
	seen := make(map[string]bool)
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	add(latest)
	for _, t := range targets {
		add(t.Binary)
	}
	res := make([]versionResult, len(paths))
	var g errgroup.Group
	g.SetLimit(versionConcurrency)
	for i, p := range paths {
		g.Go(func() error {
			v, err := c.Version(ctx, p)
			res[i].version = v
			if err != nil {
				res[i].err = err.Error()
			}
			return nil
		})
	}
	_ = g.Wait() // the tasks never return an error
	out := make(map[string]versionResult, len(paths))
	for i, p := range paths {
		out[p] = res[i]
	}
	return out
}

// String summarises the observation in one line, for logs.
func (obs Observation) String() string {
	up := 0
	for _, n := range obs.Nodes {
		if n.Up {
			up++
		}
	}
	return fmt.Sprintf("%d/%d nodes up, cpu %s%%, mem %s%%, disk %s%%, latest %q, took %s",
		up, len(obs.Nodes), obs.Host.CPUPercent, obs.Host.MemPercent, obs.Host.DiskPercent,
		obs.LatestVersion, obs.Took.Round(time.Millisecond))
}
