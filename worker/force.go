package worker

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// ForceRequest is an operator's forced action: wnm node VERB, wnm teardown, or wnm-python's
// --force_action.
type ForceRequest struct {
	// Action is add, remove, start, stop, restart, upgrade, disable, enable, survey, teardown,
	// or one of the settings-only actions nullop, update_config and disable_config.
	Action string
	// Names are the nodes named with --service_name (antnode0003, antnode3, antnode0003.service
	// or 3); none means "choose Count nodes".
	Names []string
	// Count is the number of nodes to act on when none is named.
	Count int
	// Confirm must be set for teardown.
	Confirm bool
}

// ForceActions lists the actions [Force] carries out.
var ForceActions = []string{"add", "remove", "start", "stop", "restart", "upgrade", "disable", "enable",
	"survey", "teardown", "nullop", "update_config", "disable_config"}

// ForceError is a forced action that could not be carried out at all (nothing to act on, a
// missing confirmation). Result is the answer in wnm-python's shape: status "error" and a message.
type ForceError struct{ Result Fields }

func (e ForceError) Error() string {
	m, _ := e.Result.Get("message").(string)
	return m
}

func forceError(format string, args ...any) ForceError {
	return ForceError{Fields{{"status", "error"}, {"message", fmt.Sprintf(format, args...)}}}
}

// Force carries out an operator's action now. The caller holds the cycle lock. Like a cycle it
// saves supplied settings, finishes what an interrupted run left, surveys and records the
// observation; then it acts on the named or chosen nodes through the cycle's own steps (intent
// row, firewall, deletions inside node storage), pausing the action delay between nodes, and
// records the whole as a row of the cycle history. It returns the result in wnm-python's shape.
// A node operation that fails is in the result and does not make Force fail; an action with
// nothing to act on returns a [ForceError].
func Force(ctx context.Context, o Options, req ForceRequest) (Fields, error) {
	if req.Count == 0 {
		req.Count = 1
	}
	if req.Count < 1 {
		return nil, forceError("count must be at least 1")
	}
	switch req.Action {
	case "nullop", "update_config", "disable_config":
		return configOnly(ctx, o)
	case "teardown":
		if !req.Confirm && !o.Config.DryRun {
			return nil, errTeardownUnconfirmed
		}
	}
	if err := persistChanges(ctx, o); err != nil {
		return nil, err
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	c := &cycle{Options: o, start: o.Now()}
	c.Logger = c.Logger.With("cycle", c.start.UnixMilli(), "forced", req.Action)
	// As in a cycle, a signal stops the action between nodes only: the node operation under way
	// finishes and the action is recorded, so everything runs on a context the signal does not
	// reach, and stop is looked at before each node.
	stop := ctx
	ctx = context.WithoutCancel(stop)
	obs, in, err := c.prepare(ctx)
	if err != nil {
		return nil, err
	}
	plan := decide.Next(in)
	c.show(obs, plan)
	var changes []change
	if c.Config.DryRun {
		for _, t := range plan.Transitions {
			if n, ok := c.nodes[t.Node]; ok {
				n.Status = store.Status(t.To)
				c.nodes[t.Node] = n
			}
		}
	} else {
		var err error
		if changes, err = c.recordSurvey(ctx, obs, plan); err != nil {
			return nil, err
		}
	}
	f := &forcer{cycle: c, req: req, obs: obs, stop: stop, held: in.Held, reserved: in.Reserved, maxID: in.MaxID}
	c.Logger.Info("forced action", "action", req.Action, "service_name", strings.Join(req.Names, ","), "count", req.Count, "dry_run", c.Config.DryRun)
	out, err := f.run(ctx)
	if err != nil {
		return nil, err
	}
	if !c.Config.DryRun {
		rec := &Result{Forced: req.Action, Plan: decide.Plan{Counts: plan.Counts, Features: plan.Features, Actions: f.actions}, Results: f.results, Obs: obs}
		if len(rec.Plan.Actions) == 0 {
			rec.Plan.Actions = []decide.Action{{Kind: decide.Survey, Reason: "forced " + req.Action}}
		}
		if err := c.recordCycle(ctx, rec, changes, c.versions); err != nil {
			return nil, err
		}
		if err := c.writeProm(ctx, rec); err != nil {
			c.Logger.Warn("cannot write the Prometheus textfile", "textfile_dir", c.Config.TextfileDir, "err", err)
		}
	}
	failed := 0
	for _, r := range f.results {
		if !r.OK {
			failed++
		}
	}
	c.Logger.Info("forced action done", "action", req.Action, "status", out.Status(), "acted", len(f.results), "failed", failed,
		"duration_seconds", c.Now().Sub(c.start).Seconds(), "dry_run", c.Config.DryRun)
	if stop.Err() != nil {
		return out, errors.Join(fmt.Errorf("%w: no node was acted on after the signal; the action is recorded", ErrInterrupted), context.Cause(stop))
	}
	return out, nil
}

// errTeardownUnconfirmed is returned by a teardown without Confirm; the caller says what it would
// remove (see [TeardownList]).
var errTeardownUnconfirmed = errors.New("teardown requires --confirm: it removes every node, its files and its unit")

// ErrTeardownUnconfirmed reports a teardown without confirmation.
var ErrTeardownUnconfirmed = errTeardownUnconfirmed

// configOnly saves the supplied settings and does nothing else.
func configOnly(ctx context.Context, o Options) (Fields, error) {
	names := make([]string, 0, len(o.Changes))
	for _, c := range o.Changes {
		names = append(names, c.Name)
	}
	if err := persistChanges(ctx, o); err != nil {
		return nil, err
	}
	status := "config-updated"
	switch {
	case len(names) == 0:
		status = "no-config-changes"
	case o.Config.DryRun:
		status = "config-dryrun"
	}
	return Fields{{"status", status}, {"changed", names}}, nil
}

// forcer carries out one forced action.
type forcer struct {
	*cycle
	req  ForceRequest
	obs  survey.Observation
	stop context.Context // cancelled by a signal: no further node starts
	// held, reserved and maxID keep new ids clear of nodes and ports outside the table, as in a
	// cycle.
	held     []int
	reserved []int
	maxID    int
	actions  []decide.Action
	results  []ActionResult
	done     int // node operations started, for the action delay
}

// nodeNameRE is how wnm-python maps a service name to a node id.
var nodeNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^antnode(\d+)`) })

// nodeIDOf maps a node name to its id: antnode0003, antnode3, antnode0003.service or a bare 3.
func nodeIDOf(name string) (int, bool) {
	digits := name
	if m := nodeNameRE().FindStringSubmatch(name); m != nil {
		digits = m[1]
	}
	id, err := strconv.Atoi(digits)
	return id, err == nil && id >= 1
}

// resolve maps a service name to a node.
func (f *forcer) resolve(name string) (store.Node, string) {
	id, ok := nodeIDOf(name)
	if !ok {
		f.Logger.Error("invalid node name format", "name", name)
		return store.Node{}, "not found"
	}
	n, ok := f.nodes[id]
	if !ok {
		f.Logger.Error("node not found", "name", name, "id", id)
		return store.Node{}, "not found"
	}
	return n, ""
}

// outName is a node's name in results: its service without ".service".
func outName(n store.Node) string {
	if s := strings.TrimSuffix(n.Service, ".service"); s != "" {
		return s
	}
	return fmt.Sprintf("antnode%04d", n.ID)
}

// shortName is the single-node result's form: "0005".
func shortName(n store.Node) string {
	if n.NodeName != "" {
		return n.NodeName
	}
	return fmt.Sprintf("%04d", n.ID)
}

func failure(service, msg string) Fields { return Fields{{"service", service}, {"error", msg}} }

// pause waits the action delay before every node operation but the first. It fails once a
// signal has stopped the action.
func (f *forcer) pause(_ context.Context, what string) error {
	defer func() { f.done++ }()
	ctx := f.stop
	d := f.actionDelay()
	if f.done == 0 || d <= 0 {
		return ctx.Err()
	}
	f.Logger.Info(fmt.Sprintf("action delay: waiting %dms (%.2fs) between node %s", d.Milliseconds(), d.Seconds(), what), "dry_run", f.Config.DryRun)
	if f.Config.DryRun {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do runs one node operation through the cycle's act, or only logs it in a dry run.
func (f *forcer) do(ctx context.Context, a decide.Action) error {
	a.Reason = "forced by the operator"
	if f.Config.DryRun {
		f.Logger.Warn("DRYRUN: would "+a.Kind.String(), "node", a.Node, "version", a.Version)
		return nil
	}
	r := f.act(ctx, a, f.obs)
	f.actions = append(f.actions, a)
	f.results = append(f.results, r)
	if !r.OK {
		return errors.New(r.Error)
	}
	return nil
}

// targets returns the nodes to act on: the named ones (with failures for names that match no
// node), else up to Count chosen by decide.Choose.
func (f *forcer) targets(choose string, none string) (nodes []store.Node, names []string, failed []Fields, err error) {
	if len(f.req.Names) > 0 {
		for _, name := range f.req.Names {
			n, msg := f.resolve(name)
			if msg != "" {
				failed = append(failed, failure(name, msg))
				continue
			}
			nodes, names = append(nodes, n), append(names, name)
		}
		return nodes, names, failed, nil
	}
	ids := decide.Choose(f.decideNodes(), choose, f.req.Count, f.obs.LatestVersion)
	if len(ids) == 0 {
		return nil, nil, nil, forceError("%s", none)
	}
	if len(ids) < f.req.Count {
		f.Logger.Warn(fmt.Sprintf("only %d nodes available, acting on all of them", len(ids)), "action", f.req.Action, "count", f.req.Count)
	}
	for _, id := range ids {
		n := f.nodes[id]
		nodes, names = append(nodes, n), append(names, outName(n))
	}
	return nodes, names, nil, nil
}

// decideNodes are the nodes as they stand now, for decide's choices.
func (f *forcer) decideNodes() []decide.Node {
	ns := f.sortedNodes()
	out := make([]decide.Node, 0, len(ns))
	for _, n := range ns {
		out = append(out, decide.Node{ID: n.ID, Status: decide.Status(n.Status), Changed: time.Unix(n.Timestamp, 0),
			Born: time.Unix(n.Age, 0), Version: n.Version})
	}
	return out
}

func (f *forcer) run(ctx context.Context) (Fields, error) {
	switch f.req.Action {
	case "add":
		return f.add(ctx)
	case "remove":
		return f.each(ctx, decide.Remove, "removed", "removals", "remove", "No nodes to remove")
	case "stop":
		return f.each(ctx, decide.Stop, "stopped", "stops", "stop", "No running nodes to stop")
	case "restart":
		return f.each(ctx, decide.Restart, "restarted", "restarts", "restart", "No running nodes to restart")
	case "upgrade":
		if f.obs.LatestVersion == "" {
			return nil, forceError("the version of antnode_path %s is unknown (%s): nothing to upgrade to", f.Config.AntnodePath, f.obs.LatestErr)
		}
		return f.each(ctx, decide.Upgrade, "upgraded", "upgrades", "upgrade", "No outdated running nodes to upgrade")
	case "start":
		return f.start(ctx)
	case "disable":
		if len(f.req.Names) == 0 {
			return nil, forceError("service_name required for disable action")
		}
		return f.each(ctx, decide.Disable, "disabled", "disables", "disable", "")
	case "enable":
		return f.each(ctx, decide.Enable, "enabled", "enables", "enable", "No disabled nodes to enable")
	case "survey":
		return f.survey()
	case "teardown":
		return f.teardown(ctx)
	}
	return nil, forceError("Unknown action type: %s", f.req.Action)
}

// add creates Count nodes, one at a time.
func (f *forcer) add(ctx context.Context) (Fields, error) {
	latest := f.obs.LatestVersion
	if latest == "" {
		return nil, forceError("cannot add: the version of antnode_path %s is unknown (%s)", f.Config.AntnodePath, f.obs.LatestErr)
	}
	var added []string
	var failed []Fields
	reserved := slices.Clone(f.reserved)
	if held, err := f.listenerIDs(ctx); err != nil {
		f.Logger.Warn("cannot read the ports in use; new nodes may meet a held port", "err", err)
	} else {
		reserved = append(reserved, held...)
	}
	for i := 0; i < f.req.Count; i++ {
		if err := f.pause(ctx, "additions"); err != nil {
			break
		}
		free := decide.FreeIDs(f.decideNodes(), f.held, reserved, f.maxID, 1)
		if len(free) == 0 {
			err := fmt.Errorf("no free node id: every id up to %d is a node's, held by a unit or node directory, or has a port in use", f.maxID)
			failed = append(failed, Fields{{"index", i}, {"service", ""}, {"error", err.Error()}})
			break
		}
		id := free[0]
		name := fmt.Sprintf("antnode%04d", id)
		// Never hand out the same id twice, even when an add failed or in a dry run.
		reserved = append(reserved, id)
		if err := f.do(ctx, decide.Action{Kind: decide.Add, Node: id, Version: latest}); err != nil {
			failed = append(failed, Fields{{"index", i}, {"service", name}, {"error", err.Error()}})
			continue
		}
		added = append(added, name)
	}
	if f.req.Count == 1 && len(added)+len(failed) == 1 {
		status := "added-node"
		switch {
		case f.Config.DryRun:
			status = "add-node"
		case len(failed) == 1:
			return Fields{{"status", "failed-create-node"}, {"node", failed[0].Get("service")}, {"error", failed[0].Get("error")}}, nil
		}
		return Fields{{"status", status}, {"node", added[0]}}, nil
	}
	status := "added-nodes"
	if f.Config.DryRun {
		status = "add-nodes-dryrun"
	}
	return Fields{{"status", status}, {"added_count", len(added)}, {"added_nodes", added},
		{"failed_count", len(failed)}, {"failed_nodes", failed}}, nil
}

// each applies kind to the named or chosen nodes and answers in wnm-python's shape:
// {"status": "<past>-nodes" | "<verb>-dryrun", "<past>_count", "<past>_nodes", "failed_count",
// "failed_nodes"}, or {"status": "<past>-node", "node": "0005"} for one chosen node.
func (f *forcer) each(ctx context.Context, kind decide.Kind, past, plural, verb, none string) (Fields, error) {
	nodes, names, failed, err := f.targets(verb, none)
	if err != nil {
		return nil, err
	}
	var done []string
	for i, n := range nodes {
		if err := f.pause(ctx, plural); err != nil {
			failed = append(failed, failure(names[i], err.Error()))
			continue
		}
		if msg := f.refuse(kind, n); msg != "" {
			failed = append(failed, failure(names[i], msg))
			continue
		}
		a := decide.Action{Kind: kind, Node: n.ID}
		if kind == decide.Upgrade {
			a.Version = f.obs.LatestVersion
		}
		if err := f.do(ctx, a); err != nil {
			failed = append(failed, failure(names[i], verb+" failed: "+err.Error()))
			continue
		}
		done = append(done, names[i])
	}
	if len(f.req.Names) == 0 && f.req.Count == 1 && len(done) == 1 && !f.Config.DryRun {
		return Fields{{"status", past + "-node"}, {"node", shortName(nodes[0])}}, nil
	}
	status := past + "-nodes"
	if f.Config.DryRun {
		status = verb + "-dryrun"
	}
	return Fields{{"status", status}, {past + "_count", len(done)}, {past + "_nodes", done},
		{"failed_count", len(failed)}, {"failed_nodes", failed}}, nil
}

// refuse says why a named node cannot take kind, or "".
func (f *forcer) refuse(kind decide.Kind, n store.Node) string {
	switch kind {
	case decide.Enable:
		if n.Status != store.StatusDisabled {
			return "not disabled (" + string(n.Status) + ")"
		}
	case decide.Disable:
		if n.Status == store.StatusDisabled {
			return "already disabled"
		}
	case decide.Restart:
		if n.Status == store.StatusDisabled {
			return "disabled"
		}
	}
	return ""
}

// start starts stopped nodes, upgrading first those older than antnode_path.
func (f *forcer) start(ctx context.Context) (Fields, error) {
	nodes, names, failed, err := f.targets("start", "No stopped nodes to start")
	if err != nil {
		return nil, err
	}
	var started, upgraded []string
	for i, n := range nodes {
		if err := f.pause(ctx, "starts"); err != nil {
			failed = append(failed, failure(names[i], err.Error()))
			continue
		}
		if n.Status == store.StatusRunning {
			failed = append(failed, failure(names[i], "already running"))
			continue
		}
		a := decide.Action{Kind: decide.Start, Node: n.ID}
		if decide.Outdated(n.Version, f.obs.LatestVersion) {
			a.Version = f.obs.LatestVersion
		}
		if err := f.do(ctx, a); err != nil {
			msg := "start failed: "
			if a.Version != "" {
				msg = "upgrade failed: "
			}
			failed = append(failed, failure(names[i], msg+err.Error()))
			continue
		}
		if a.Version != "" {
			upgraded = append(upgraded, names[i])
		} else {
			started = append(started, names[i])
		}
	}
	if len(f.req.Names) == 0 && f.req.Count == 1 && len(started)+len(upgraded) == 1 && !f.Config.DryRun {
		if len(upgraded) == 1 {
			return Fields{{"status", "upgrading-node"}, {"node", shortName(nodes[0])}}, nil
		}
		return Fields{{"status", "started-node"}, {"node", shortName(nodes[0])}}, nil
	}
	status := "started-nodes"
	if f.Config.DryRun {
		status = "start-dryrun"
	}
	return Fields{{"status", status}, {"started_count", len(started)}, {"started_nodes", started},
		{"upgraded_count", len(upgraded)}, {"upgraded_nodes", upgraded},
		{"failed_count", len(failed)}, {"failed_nodes", failed}}, nil
}

// survey reports the survey that Force already ran and recorded.
func (f *forcer) survey() (Fields, error) {
	status := "survey-complete"
	if f.Config.DryRun {
		status = "survey-dryrun"
	}
	if len(f.req.Names) == 0 {
		n := 0
		for _, x := range f.nodes {
			if x.Status != store.StatusDisabled {
				n++
			}
		}
		return Fields{{"status", status}, {"node_count", n}}, nil
	}
	seen := map[int]bool{}
	for _, o := range f.obs.Nodes {
		seen[o.ID] = true
	}
	var ok []string
	var failed []Fields
	for _, name := range f.req.Names {
		n, msg := f.resolve(name)
		switch {
		case msg != "":
			failed = append(failed, failure(name, msg))
		case n.Status == store.StatusDisabled:
			failed = append(failed, failure(name, "disabled"))
		case !seen[n.ID]:
			failed = append(failed, failure(name, "not surveyed"))
		default:
			ok = append(ok, name)
		}
	}
	return Fields{{"status", status}, {"surveyed_count", len(ok)}, {"surveyed_nodes", ok},
		{"failed_count", len(failed)}, {"failed_nodes", failed}}, nil
}

// teardown removes every node, its files and its unit.
func (f *forcer) teardown(ctx context.Context) (Fields, error) {
	nodes := f.sortedNodes()
	if len(nodes) == 0 {
		return Fields{{"status", "no-nodes"}, {"message", "No nodes to teardown"}}, nil
	}
	removed := 0
	var failed []Fields
	for _, n := range nodes {
		if err := f.do(ctx, decide.Action{Kind: decide.Remove, Node: n.ID}); err != nil {
			failed = append(failed, failure(outName(n), err.Error()))
			continue
		}
		f.Logger.Info("removed node", "node", n.ID, "name", outName(n))
		removed++
	}
	status := "cluster-teardown"
	if f.Config.DryRun {
		status = "teardown-dryrun"
	}
	return Fields{{"status", status}, {"method", "individual-remove"}, {"removed_count", removed},
		{"failed_count", len(failed)}, {"failed_nodes", failed}}, nil
}

// TeardownList describes, one line per node, what a teardown would remove. It reads the store only.
func TeardownList(ctx context.Context, st *store.Store) ([]string, error) {
	nodes, err := st.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, fmt.Sprintf("%s (%s, port %d, %s)", outName(n), n.Status, n.Port, n.RootDir))
	}
	return out, nil
}
