// Package worker runs one wnm cycle: load, survey, decide, act, record. Policy lives in
// worker/decide; this package only carries plans out through the node manager and the firewall,
// and records what happened. The caller holds the cycle lock.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/firewall"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// Options are what one cycle runs with.
type Options struct {
	Store    *store.Store
	Config   config.Config // resolved settings, already validated
	Changes  []config.Change
	Platform config.Platform
	Logger   *slog.Logger

	// Manager and Firewall drive the nodes; nil picks them from the settings.
	Manager  units.Manager
	Firewall firewall.Firewall
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand picks wallets for new nodes; nil seeds one from the clock.
	Rand *rand.Rand
	// Show logs, at INFO, what wnm-python's -v and --show_* flags log.
	Show Show
	// HeldPorts reads the ports processes hold; nil means [HeldPorts].
	HeldPorts func(context.Context) (map[int]bool, error)
	// Survey reads the world; nil means survey.Survey. Tests wrap it to pin the host figures
	// while the nodes stay real.
	Survey func(context.Context, survey.Options) survey.Observation
}

func (o *Options) defaults() error {
	o.defaultLogger()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		seed := uint64(o.Now().UnixNano())
		o.Rand = rand.New(rand.NewPCG(seed, seed>>1|1))
	}
	if o.Survey == nil {
		o.Survey = survey.Survey
	}
	spec, specErr := units.ParseSpec(o.Config.ProcessManager) // the zero Spec when wnm drives none
	if o.Firewall == nil {
		o.Firewall = firewall.Select(spec, o.Logger)
	}
	if o.Manager == nil {
		if specErr != nil {
			return units.NotAvailableError{Manager: o.Config.ProcessManager}
		}
		m, err := openManager(spec, o.Config, o.Logger)
		if err != nil {
			return err
		}
		o.Manager = m
	}
	return nil
}

// defaultLogger makes a nil Logger one that discards everything.
func (o *Options) defaultLogger() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Show selects what a cycle logs at INFO besides its summary: the machine's settings row, the
// host and node counts it measured, and the decision's features and reasons (wnm-python's
// --show_machine_config, --show_machine_metrics and --show_decisions; -v is all three).
type Show struct {
	MachineConfig, MachineMetrics, Decisions bool
}

// show logs what o.Show asks for.
func (c *cycle) show(obs survey.Observation, plan decide.Plan) {
	if c.Show.MachineConfig {
		f := Fields{}
		for _, col := range c.machine.Row() {
			f = append(f, Field{col.Name, col.Value})
		}
		if b, err := json.Marshal(f); err == nil {
			c.Logger.Info("machine config", "machine", string(b))
		}
	}
	if c.Show.MachineMetrics {
		host, _ := json.Marshal(obs.Host)
		c.Logger.Info("machine metrics", "host", string(host), "counts", plan.Counts.String(), "latest", obs.LatestVersion)
	}
	if c.Show.Decisions {
		features, _ := json.Marshal(plan.Features)
		var why []string
		for _, s := range plan.NotTaken {
			why = append(why, s.Reason)
		}
		c.Logger.Info("decisions", "features", string(features), "not_taken", why)
	}
}

// State keys in the store's wnm_state table.
const (
	stateCounters = "host_counters"
	stateVersions = "version_cache"
	// stateRestarts counts, per node id, the restarts made while the node was alive but not
	// answering, since it last answered.
	stateRestarts = "unresponsive_restarts"
	// stateMetadata holds each node's last /metadata answer (survey.MetadataCache).
	stateMetadata = "node_metadata"
)

// InstalledVersions returns the version of each node binary as the last cycle's `--version` cache
// recorded it, by binary path. It reads only the store.
func InstalledVersions(ctx context.Context, st *store.Store) map[string]string {
	out := map[string]string{}
	b, ok, err := st.State(ctx, stateVersions)
	if err != nil || !ok {
		return out
	}
	var vc survey.VersionCache
	if json.Unmarshal(b, &vc) != nil {
		return out
	}
	for path, e := range vc.Entries {
		out[path] = e.Version
	}
	return out
}

// Result is what one cycle did, as the cycle table records it.
type Result struct {
	Forced  string // the operator's forced action, "" for a cycle
	Plan    decide.Plan
	Results []ActionResult
	Obs     survey.Observation
}

// ActionResult is the outcome of one planned action.
type ActionResult struct {
	decide.Action
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Took  int64  `json:"took_ms"`
}

// Run does one cycle and returns what it did. Node operations that fail are logged and recorded;
// they do not make Run fail. Run fails only when the cycle cannot run at all (no database access).
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaultLogger()
	if err := persistChanges(context.WithoutCancel(ctx), o); err != nil {
		return nil, err
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	c := &cycle{Options: o, start: o.Now()}
	c.Logger = c.Logger.With("cycle", c.start.UnixMilli())
	return c.run(ctx)
}

// Observe surveys the machine and the nodes recorded in the store, as a cycle would, and writes
// nothing.
func Observe(ctx context.Context, o Options) (survey.Observation, error) {
	o.Manager, o.Firewall = noManager{}, nil
	if err := o.defaults(); err != nil {
		return survey.Observation{}, err
	}
	c := &cycle{Options: o, start: o.Now()}
	if err := c.load(ctx); err != nil {
		return survey.Observation{}, err
	}
	return c.observe(ctx), nil
}

// PlanFor returns what a cycle would do, given an observation (live or from a snapshot), and
// writes nothing.
func PlanFor(ctx context.Context, o Options, obs survey.Observation) (decide.Plan, error) {
	_, p, err := Preview(ctx, o, obs)
	return p, err
}

// Preview returns what a cycle would do, adoption first: the node definitions it would adopt and
// refuse, and the plan computed as if the adoptable ones were adopted. It writes nothing and
// drives no node.
func Preview(ctx context.Context, o Options, obs survey.Observation) (Adoption, decide.Plan, error) {
	scanner := o.Manager
	if scanner == nil {
		// Only read: its unit or plist directory is scanned, nothing is started.
		scanner, _ = NewManager(o.Config, o.Platform, o.Logger)
	}
	o.Manager = noManager{}
	if err := o.defaults(); err != nil {
		return Adoption{}, decide.Plan{}, err
	}
	c := &cycle{Options: o, start: o.Now(), scanner: scanner}
	if err := c.load(ctx); err != nil {
		return Adoption{}, decide.Plan{}, err
	}
	c.adoption = c.scanAdoption(ctx)
	for _, n := range c.adoption.Adopt {
		c.nodes[n.ID] = n
	}
	in := c.input(obs)
	return c.adoption, c.keepAddsOffHeldPorts(ctx, in, decide.Next(in)), nil
}

// prepare brings the cycle's view up to date before a decision, for a cycle and a forced action
// alike: it loads the rows, finishes or undoes interrupted operations, adopts (or, in a dry run,
// previews) node definitions without a row, surveys, and probes silent nodes.
func (c *cycle) prepare(ctx context.Context) (survey.Observation, decide.Input, error) {
	if err := c.load(ctx); err != nil {
		return survey.Observation{}, decide.Input{}, err
	}
	if !c.Config.DryRun {
		c.reconcile(ctx)
	}
	c.adoption = c.scanAdoption(ctx)
	if !c.Config.DryRun {
		c.adopt(ctx, c.adoption)
	} else {
		c.preview()
	}
	obs := c.observe(ctx)
	c.probeSilent(ctx, obs)
	return obs, c.input(obs), nil
}

// preview puts the nodes a dry run would adopt into this cycle's view, unsaved, and logs them.
func (c *cycle) preview() {
	for _, r := range c.adoption.Refused {
		c.Logger.Warn("DRYRUN: would leave node definition alone", "service", r.Service, "node", r.Node, "reason", r.Reason)
	}
	for _, n := range c.adoption.Adopt {
		c.nodes[n.ID] = n
		c.Logger.Info("DRYRUN: would adopt node", "node", n.ID, "service", n.Service, "port", n.Port, "metrics_port", n.MetricsPort, "wallet", n.Wallet)
	}
}

// persistChanges saves supplied settings that differ from the database, in one transaction. The
// caller already uses the new values for this run (fixing wnm-python's stale in-memory config).
func persistChanges(ctx context.Context, o Options) error {
	if len(o.Changes) == 0 {
		return nil
	}
	for _, c := range o.Changes {
		o.Logger.Info("setting changed", "setting", c.Name, "old", c.Old, "new", c.New, "from", c.From.Where, "dry_run", o.Config.DryRun)
	}
	if o.Config.DryRun {
		return nil
	}
	// Only the changed columns are written: the others keep their stored form (a NULL, an
	// unexpanded ~ in an adopted wnm-python row).
	names := make([]string, len(o.Changes))
	for i, c := range o.Changes {
		names[i] = c.Name
	}
	return SaveSettings(ctx, o.Store, o.Config, names)
}

type cycle struct {
	Options
	// scanner is the node manager whose units or plists are scanned for adoption when Manager
	// must not be driven (plan).
	scanner  units.Manager
	adoption Adoption
	start    time.Time
	machine  store.Machine
	nodes    map[int]store.Node
	versions *survey.VersionCache
	metadata *survey.MetadataCache
	// loaded holds the state blobs as loadState read them, by key, so that only the changed
	// ones are written back.
	loaded   map[string][]byte
	alive    map[int]bool // nodes not answering whose process the manager found running
	restarts map[int]int  // stateRestarts
}

// load reads the machine row and the nodes.
func (c *cycle) load(ctx context.Context) error {
	m, err := c.Store.Machine(ctx)
	if err != nil {
		return err
	}
	// The settings of this run win over the stored row even when they were not saved (dry run).
	ApplyConfig(&m, c.Config)
	c.machine = m
	return c.loadNodes(ctx)
}

func (c *cycle) run(stop context.Context) (*Result, error) {
	// A cancelled context (a signal) stops the cycle between actions only: the action under way
	// finishes, no new one starts, and the cycle is recorded. So everything runs on a context that
	// the cancellation does not reach, and stop is only looked at before each action.
	ctx := context.WithoutCancel(stop)
	obs, in, err := c.prepare(ctx)
	if err != nil {
		return nil, err
	}
	plan := c.keepAddsOffHeldPorts(ctx, in, decide.Next(in))
	c.Logger.Debug("decision", "features", plan.Features.String(), "counts", plan.Counts.String())
	c.show(obs, plan)

	res := &Result{Plan: plan, Obs: obs}
	if c.Config.DryRun {
		for _, a := range plan.Actions {
			c.Logger.Info("DRYRUN: would "+a.Kind.String(), "node", a.Node, "reason", a.Reason)
		}
		c.summary(res)
		return res, nil
	}

	changed, err := c.recordSurvey(ctx, obs, plan)
	if err != nil {
		return nil, err
	}
	delay := c.actionDelay()
	touched := false
	var interrupted error
	for i, a := range plan.Actions {
		if stop.Err() != nil {
			interrupted = fmt.Errorf("%w after %d of %d actions (%w); the cycle is recorded",
				ErrInterrupted, i, len(plan.Actions), context.Cause(stop))
			c.Logger.Warn("interrupted: no further action starts", "done", i, "skipped", len(plan.Actions)-i, "cause", context.Cause(stop))
			break
		}
		if a.Kind != decide.Survey && a.Kind != decide.Resurvey && a.Kind != decide.Forget {
			if touched && delay > 0 {
				c.Logger.Info("action delay", "delay_seconds", survey.Seconds(delay))
				select {
				case <-stop.Done():
				case <-time.After(delay):
				}
				if stop.Err() != nil {
					interrupted = fmt.Errorf("%w after %d of %d actions (%w); the cycle is recorded",
						ErrInterrupted, i, len(plan.Actions), context.Cause(stop))
					c.Logger.Warn("interrupted: no further action starts", "done", i, "skipped", len(plan.Actions)-i, "cause", context.Cause(stop))
					break
				}
			}
			touched = true
		}
		res.Results = append(res.Results, c.act(ctx, a, obs))
	}
	rctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	if err := c.recordCycle(rctx, res, changed, c.versions); err != nil {
		return nil, errors.Join(err, interrupted)
	}
	if err := c.writeProm(rctx, res); err != nil {
		c.Logger.Warn("cannot write the Prometheus textfile", "textfile_dir", c.Config.TextfileDir, "err", err)
	}
	c.keepReserve()
	c.summary(res)
	if interrupted != nil {
		return res, errors.Join(interrupted, context.Cause(stop))
	}
	return res, nil
}

// recordTimeout bounds the recording of an interrupted cycle.
const recordTimeout = 10 * time.Second

// ErrInterrupted is wrapped by [Run]'s error when its context was cancelled (on a signal) before
// every planned action had started. The actions that ran finished, and the cycle is recorded; the
// error also wraps the context's cause.
var ErrInterrupted = errors.New("cycle interrupted")

// actionDelay is the pause between two node operations of one cycle: --interval, else
// --this_action_delay, else action_delay (wnm-python applied none in its automatic cycle).
func (c *cycle) actionDelay() time.Duration {
	ms := c.Config.ActionDelay
	if c.Config.ThisActionDelay > 0 {
		ms = c.Config.ThisActionDelay
	}
	if c.Config.Interval > 0 {
		ms = c.Config.Interval
	}
	return time.Duration(ms) * time.Millisecond
}

// probeSilent asks the node manager whether the nodes that did not answer still run: a node alive
// but silent needs a restart, not a start. It also forgets the restart counts of nodes that
// answered or whose process is gone.
func (c *cycle) probeSilent(ctx context.Context, obs survey.Observation) {
	c.alive = map[int]bool{}
	answered := map[int]bool{}
	for _, o := range obs.Nodes {
		n, ok := c.nodes[o.ID]
		if !ok || o.Up || !o.RootDirExists {
			answered[o.ID] = o.Up
			continue
		}
		switch n.Status {
		case store.StatusDisabled, store.StatusRemoving, store.StatusDead:
			continue
		}
		if st, err := c.Manager.Status(ctx, c.spec(n)); err == nil && st.State == units.Running {
			c.alive[o.ID] = true
			c.Logger.Debug("node alive but not answering", "node", o.ID, "pid", st.PID, "err", o.Error,
				"restarts", c.restarts[o.ID])
		}
	}
	for id := range c.restarts {
		if _, ok := c.nodes[id]; !ok || answered[id] {
			delete(c.restarts, id)
		}
	}
}

// observe runs the survey over the loaded nodes.
func (c *cycle) observe(ctx context.Context) survey.Observation {
	prev, versions := c.loadState(ctx)
	c.versions = versions
	obs := c.Survey(ctx, survey.Options{
		Targets:     c.targets(),
		NodeStorage: c.Config.NodeStorage,
		Prev:        prev,
		Versions:    versions,
		Metadata:    c.metadata,
		Latest:      c.Config.AntnodePath,
		Timeout:     time.Duration(c.Config.SurveyTimeout) * time.Millisecond,
		Concurrency: c.Config.SurveyConcurrency,
		Now:         c.Now,
		Logger:      c.Logger,
	})
	if obs.LatestErr != "" {
		c.Logger.Warn("cannot read the antnode_path version: no upgrades or adds this cycle", "antnode_path", c.Config.AntnodePath, "err", obs.LatestErr)
	}
	return obs
}

func (c *cycle) loadNodes(ctx context.Context) error {
	ns, err := c.Store.Nodes(ctx)
	if err != nil {
		return err
	}
	c.nodes = make(map[int]store.Node, len(ns))
	for _, n := range ns {
		c.nodes[n.ID] = n
	}
	return nil
}

// loadState reads what the previous cycle left: host counters, the binary-version cache, the
// nodes' /metadata answers and the restart counts.
// Unreadable state is dropped: it only makes this cycle sample and exec a little more.
func (c *cycle) loadState(ctx context.Context) (*survey.Counters, *survey.VersionCache) {
	c.loaded = map[string][]byte{}
	load := func(key string, v any) bool {
		b, ok, err := c.Store.State(ctx, key)
		if err != nil || !ok {
			return false
		}
		if json.Unmarshal(b, v) != nil {
			return false
		}
		c.loaded[key] = b
		return true
	}
	var prev *survey.Counters
	if p := (survey.Counters{}); load(stateCounters, &p) {
		prev = &p
	}
	versions := &survey.VersionCache{}
	if !load(stateVersions, versions) {
		versions = &survey.VersionCache{}
	}
	c.metadata = &survey.MetadataCache{}
	if !load(stateMetadata, c.metadata) {
		c.metadata = &survey.MetadataCache{}
	}
	c.restarts = map[int]int{}
	if !load(stateRestarts, &c.restarts) {
		c.restarts = map[int]int{}
	}
	return prev, versions
}

// targets are the nodes to poll: every node but the disabled ones.
func (c *cycle) targets() []survey.Target {
	var ts []survey.Target
	for _, n := range c.sortedNodes() {
		if n.Status == store.StatusDisabled {
			continue
		}
		ts = append(ts, survey.Target{ID: n.ID, Host: n.Host, MetricsPort: n.MetricsPort, Binary: n.Binary, RootDir: n.RootDir})
	}
	return ts
}

func (c *cycle) summary(r *Result) {
	failed := 0
	for _, a := range r.Results {
		if !a.OK {
			failed++
		}
	}
	kinds := make([]string, 0, len(r.Plan.Actions))
	for _, a := range r.Plan.Actions {
		kinds = append(kinds, a.Kind.String())
	}
	notTaken := make([]string, 0, len(r.Plan.NotTaken))
	for _, s := range r.Plan.NotTaken {
		notTaken = append(notTaken, s.Reason)
	}
	wchar, wb := selfIO()
	c.Logger.Info("cycle",
		"nodes", r.Plan.Counts.Total, "running", r.Plan.Counts.Running, "stopped", r.Plan.Counts.Stopped,
		"actions", kinds, "failed", failed, "reason", r.Plan.Actions[0].Reason, "not_taken", notTaken,
		"cpu", r.Obs.Host.CPUPercent, "mem", r.Obs.Host.MemPercent, "disk", r.Obs.Host.DiskPercent,
		"load1", r.Obs.Host.Load1, "latest", r.Obs.LatestVersion,
		"duration_seconds", survey.Seconds(c.Now().Sub(c.start)), "survey_seconds", survey.Seconds(r.Obs.Took),
		"wchar", wchar, "write_bytes", wb, "dry_run", c.Config.DryRun)
}

// errNoBinary is returned when a node must be created or upgraded but antnode_path has no usable binary.
var errNoBinary = errors.New("antnode_path has no usable antnode binary")

// noManager stands in for the node manager where nothing may be touched (survey, plan): every
// operation fails with errNoManager instead of acting.
type noManager struct{}

// errNoManager is what noManager's operations return.
var errNoManager = errors.New("no node manager: this command changes nothing")

func (noManager) Name() string                            { return "none" }
func (noManager) Create(context.Context, gen.Node) error  { return errNoManager }
func (noManager) Start(context.Context, gen.Node) error   { return errNoManager }
func (noManager) Stop(context.Context, gen.Node) error    { return errNoManager }
func (noManager) Remove(context.Context, gen.Node) error  { return errNoManager }
func (noManager) Discover(context.Context) ([]int, error) { return nil, errNoManager }
func (noManager) Status(context.Context, gen.Node) (units.Status, error) {
	return units.Status{State: units.Unknown, Detail: "no node manager"}, errNoManager
}
