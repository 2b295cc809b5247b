package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/firewall"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
	"github.com/wnm-project/wnm/worker/wallet"
)

// act carries out one action and reports how it went. It never panics the cycle and never stops
// the plan: a failed action is logged and recorded, and the next one runs.
func (c *cycle) act(ctx context.Context, a decide.Action, obs survey.Observation) ActionResult {
	t0 := c.Now()
	var err error
	switch a.Kind {
	case decide.Survey, decide.Resurvey:
		// The survey already ran and was recorded; a resurvey also records the boot time.
	case decide.Forget:
		err = c.forget(ctx, a.Node)
	case decide.Remove:
		err = c.remove(ctx, a.Node, a.Cooldown)
	case decide.Stop:
		err = c.stop(ctx, a.Node)
	case decide.Start:
		if a.Restart {
			err = c.restart(ctx, a.Node, a.Version)
			break
		}
		if a.Version != "" {
			err = c.upgrade(ctx, a.Node, a.Version)
		} else {
			err = c.startNode(ctx, a.Node)
		}
	case decide.Upgrade:
		err = c.upgrade(ctx, a.Node, a.Version)
	case decide.Add:
		err = c.add(ctx, a.Node, a.Version)
	case decide.Restart:
		err = c.restartNow(ctx, a.Node)
	case decide.Disable:
		err = c.disable(ctx, a.Node)
	case decide.Enable:
		err = c.enable(ctx, a.Node)
	default:
		err = fmt.Errorf("unknown action %v", a.Kind)
	}
	r := ActionResult{Action: a, OK: err == nil, Took: c.Now().Sub(t0).Milliseconds()}
	switch {
	case err != nil:
		r.Error = err.Error()
		c.Logger.Error("action failed", "action", a.Kind.String(), "node", a.Node, "reason", a.Reason, "err", err)
	case a.Kind == decide.Survey || a.Kind == decide.Resurvey:
		c.Logger.Debug("action", "action", a.Kind.String(), "reason", a.Reason)
	default:
		c.Logger.Info("action", "action", a.Kind.String(), "node", a.Node, "reason", a.Reason, "version", a.Version)
	}
	return r
}

// spec describes a stored node for the node manager.
func (c *cycle) spec(n store.Node) gen.Node {
	env, _ := config.ParseEnvironment(n.Environment)
	logDir := n.LogDir
	if logDir == "" {
		logDir = filepath.Join(c.Platform.Dirs().Logs, fmt.Sprintf("antnode%04d", n.ID))
	}
	s := gen.Node{
		ID: n.ID, RootDir: n.RootDir, Binary: n.Binary, LogDir: logDir,
		BootstrapCache: c.Platform.Dirs().BootstrapCache,
		Port:           n.Port, MetricsPort: n.MetricsPort, Host: n.Host, Wallet: n.Wallet,
		NoUPnP: c.Config.NoUPnP, Env: env,
	}
	if n.NoUPnP != nil { // an adopted node keeps what its own unit had
		s.NoUPnP = *n.NoUPnP != 0
	}
	if strings.HasSuffix(n.Service, ".service") && n.Service != gen.UnitName(n.ID) {
		s.Unit = n.Service // an adopted unit keeps its name on disk
	}
	if c.Platform.Mode == gen.ModeSudo {
		s.User = n.User
	}
	return s
}

// intent records what is about to happen to a node before the system is touched, so that the
// next cycle can reconcile a crash in between.
func (c *cycle) intent(ctx context.Context, id int, what string) (store.Node, error) {
	var n store.Node
	err := c.write(ctx, func(w *store.Writer) error {
		var err error
		if n, err = w.Node(id); err != nil {
			return err
		}
		n.WNMIntent, n.WNMIntentAt = what, c.Now().UnixMilli()
		return w.UpdateNode(n)
	})
	if err != nil {
		return n, fmt.Errorf("record intent to %s node %d: %w", what, id, err)
	}
	c.nodes[id] = n
	return n, nil
}

// settle records a node's outcome and clears its intent.
func (c *cycle) settle(ctx context.Context, n store.Node, status store.Status) error {
	n.WNMIntent, n.WNMIntentAt = "", 0
	if status != "" && status != n.Status {
		n.Status, n.Timestamp = status, c.Now().Unix()
	}
	if err := c.write(ctx, func(w *store.Writer) error { return w.UpdateNode(n) }); err != nil {
		return fmt.Errorf("record node %d: %w", n.ID, err)
	}
	c.nodes[n.ID] = n
	return nil
}

func (c *cycle) deleteRow(ctx context.Context, id int) error {
	if err := c.write(ctx, func(w *store.Writer) error { return w.DeleteNode(id) }); err != nil {
		return fmt.Errorf("delete node %d: %w", id, err)
	}
	delete(c.nodes, id)
	return nil
}

// deleteFiles removes a node's root and log directories, inside node_storage and the log dir only.
func (c *cycle) deleteFiles(s gen.Node) error {
	logs := c.Platform.Dirs().Logs
	return errors.Join(
		removeNodeDir(s.RootDir, c.Config.NodeStorage),
		removeNodeDir(s.LogDir, logs, c.Config.NodeStorage, s.RootDir),
	)
}

func (c *cycle) forget(ctx context.Context, id int) error {
	n, ok := c.nodes[id]
	if !ok {
		return nil
	}
	if err := c.deleteFiles(c.spec(n)); err != nil {
		c.Logger.Warn("leftover files of a removed node", "node", id, "err", err)
	}
	return c.deleteRow(ctx, id)
}

func (c *cycle) remove(ctx context.Context, id int, cooldown bool) error {
	n, err := c.intent(ctx, id, "remove")
	if err != nil {
		return err
	}
	s := c.spec(n)
	if err := c.Manager.Remove(ctx, s); err != nil {
		return fmt.Errorf("remove node %d: %w", id, err)
	}
	if err := c.Firewall.Close(ctx, n.Port); err != nil {
		c.Logger.Warn("close firewall port", "node", id, "port", n.Port, "err", err)
	}
	if err := c.deleteFiles(s); err != nil {
		return err
	}
	if cooldown {
		return c.settle(ctx, n, store.StatusRemoving)
	}
	return c.deleteRow(ctx, id)
}

func (c *cycle) stop(ctx context.Context, id int) error {
	n, err := c.intent(ctx, id, "stop")
	if err != nil {
		return err
	}
	if err := c.Manager.Stop(ctx, c.spec(n)); err != nil {
		return fmt.Errorf("stop node %d: %w", id, err)
	}
	if err := c.Firewall.Close(ctx, n.Port); err != nil {
		c.Logger.Warn("close firewall port", "node", id, "port", n.Port, "err", err)
	}
	return c.settle(ctx, n, store.StatusStopped)
}

func (c *cycle) startNode(ctx context.Context, id int) error {
	n, err := c.intent(ctx, id, "start")
	if err != nil {
		return err
	}
	if err := c.launch(ctx, n); err != nil {
		return errors.Join(err, c.settle(ctx, n, store.StatusStopped))
	}
	return c.settle(ctx, n, store.StatusRestarting)
}

// restart stops a node whose process is alive but has not answered for delay_start and starts it
// again (on version's binary when set), counting the restart.
func (c *cycle) restart(ctx context.Context, id int, version string) error {
	c.restarts[id]++
	c.Logger.Warn("restarting a node that is alive but has not answered for delay_start",
		"node", id, "restart", c.restarts[id], "max_restarts", decide.DefaultMaxRestarts)
	if c.restarts[id] >= decide.DefaultMaxRestarts {
		c.Logger.Warn("last restart of an unresponsive node: if it still does not answer it is left alone, holding no start slot, until it answers",
			"node", id)
	}
	n, err := c.intent(ctx, id, "restart")
	if err != nil {
		return err
	}
	if err := c.Manager.Stop(ctx, c.spec(n)); err != nil {
		return fmt.Errorf("restart node %d: stop: %w", id, err)
	}
	if version != "" {
		_ = c.settle(ctx, n, store.StatusStopped)
		return c.upgrade(ctx, id, version)
	}
	if err := c.launch(ctx, n); err != nil {
		return errors.Join(err, c.settle(ctx, n, store.StatusStopped))
	}
	return c.settle(ctx, n, store.StatusRestarting)
}

// restartNow stops a node and starts it again, as an operator asked.
func (c *cycle) restartNow(ctx context.Context, id int) error {
	n, err := c.intent(ctx, id, "restart")
	if err != nil {
		return err
	}
	if err := c.Manager.Stop(ctx, c.spec(n)); err != nil {
		return fmt.Errorf("restart node %d: stop: %w", id, err)
	}
	if err := c.launch(ctx, n); err != nil {
		return errors.Join(err, c.settle(ctx, n, store.StatusStopped))
	}
	return c.settle(ctx, n, store.StatusRestarting)
}

// disable stops a node (if it runs), closes its port and records it DISABLED.
func (c *cycle) disable(ctx context.Context, id int) error {
	n, err := c.intent(ctx, id, "disable")
	if err != nil {
		return err
	}
	if err := c.Manager.Stop(ctx, c.spec(n)); err != nil {
		return fmt.Errorf("disable node %d: stop: %w", id, err)
	}
	if err := c.Firewall.Close(ctx, n.Port); err != nil {
		c.Logger.Warn("close firewall port", "node", id, "port", n.Port, "err", err)
	}
	return c.settle(ctx, n, store.StatusDisabled)
}

// enable records a DISABLED node STOPPED, so that cycles manage it again. It touches no process.
func (c *cycle) enable(ctx context.Context, id int) error {
	n, ok := c.nodes[id]
	if !ok {
		return fmt.Errorf("enable node %d: %w", id, store.ErrNoNode)
	}
	if n.Status != store.StatusDisabled {
		return fmt.Errorf("enable node %d: it is %s, not DISABLED", id, n.Status)
	}
	return c.settle(ctx, n, store.StatusStopped)
}

// launch opens the node's port and starts it.
func (c *cycle) launch(ctx context.Context, n store.Node) error {
	if err := c.Firewall.Open(ctx, n.Port, firewall.NodeComment(n.ID)); err != nil {
		c.Logger.Warn("open firewall port", "node", n.ID, "port", n.Port, "err", err)
	}
	if err := c.Manager.Start(ctx, c.spec(n)); err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	return nil
}

// upgrade stops the node, swaps its binary copy for antnode_path atomically and starts it. If the
// copy fails the node is started again on its old binary.
func (c *cycle) upgrade(ctx context.Context, id int, version string) error {
	n, err := c.intent(ctx, id, "upgrade")
	if err != nil {
		return err
	}
	s := c.spec(n)
	if err := c.Manager.Stop(ctx, s); err != nil {
		return fmt.Errorf("upgrade node %d: stop: %w", id, err)
	}
	if err := installBinary(c.Config.AntnodePath, n.Binary); err != nil {
		restartErr := c.launch(ctx, n)
		_ = c.settle(ctx, n, "")
		return errors.Join(fmt.Errorf("upgrade node %d: %w", id, err), restartErr)
	}
	if err := c.own(n.Binary); err != nil {
		c.Logger.Warn("binary ownership", "node", id, "err", err)
	}
	n.Version = version
	if err := c.launch(ctx, n); err != nil {
		// The node is stopped now: record it so, not as the RUNNING it was.
		return errors.Join(err, c.settle(ctx, n, store.StatusStopped))
	}
	return c.settle(ctx, n, store.StatusUpgrading)
}

// add creates node id: its row (with the intent), directories, binary copy, registration with the
// manager, firewall port and process. Any failure undoes all of it: no row and no files remain.
func (c *cycle) add(ctx context.Context, id int, version string) (err error) {
	if version == "" {
		return fmt.Errorf("add node %d: %w (version unknown)", id, errNoBinary)
	}
	spec, err := wallet.Parse(c.Config.RewardsAddress, c.Config.DonateAddress)
	if err != nil {
		return fmt.Errorf("add node %d: rewards_address: %w", id, err)
	}
	n := c.newRow(id, version, spec.Pick(c.Rand))
	s := c.spec(n)
	if err := s.Check(); err != nil {
		return fmt.Errorf("add node %d: %w", id, err)
	}
	if err := c.write(ctx, func(w *store.Writer) error { return w.InsertNode(n) }); err != nil {
		return fmt.Errorf("add node %d: %w", id, err)
	}
	c.nodes[id] = n
	defer func() {
		if err == nil {
			return
		}
		if rerr := c.Manager.Remove(ctx, s); rerr != nil {
			// The row keeps its add intent, so the next cycle's reconcile finishes the undo.
			err = errors.Join(err, fmt.Errorf("undo: %w", rerr))
			return
		}
		_ = c.Firewall.Close(ctx, n.Port)
		if ferr := c.deleteFiles(s); ferr != nil {
			c.Logger.Warn("cleaning up after a failed add", "node", id, "err", ferr)
		}
		if derr := c.deleteRow(ctx, id); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	for _, dir := range []string{c.Config.NodeStorage, n.RootDir, s.LogDir, s.BootstrapCache} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("add node %d: %w", id, err)
		}
	}
	if err := installBinary(c.Config.AntnodePath, n.Binary); err != nil {
		return fmt.Errorf("add node %d: %w", id, err)
	}
	if err := c.own(n.RootDir, s.LogDir); err != nil {
		return fmt.Errorf("add node %d: %w", id, err)
	}
	if err := c.Manager.Create(ctx, s); err != nil {
		return fmt.Errorf("add node %d: %w", id, err)
	}
	if err := c.launch(ctx, n); err != nil {
		return err
	}
	return c.settle(ctx, n, store.StatusRestarting)
}

// newRow is the node table row of a node wnm is about to create, named and numbered as wnm-python
// and anm do.
func (c *cycle) newRow(id int, version, wallet string) store.Node {
	now := c.Now()
	name := fmt.Sprintf("%04d", id)
	root := filepath.Join(c.Config.NodeStorage, "antnode"+name)
	owner := nodeAccount
	if c.Platform.Mode != gen.ModeSudo {
		if u, err := user.Current(); err == nil {
			owner = u.Username
		}
	}
	return store.Node{
		ID: id, MachineID: 1, ManagerType: c.Config.ProcessManager, NodeName: name,
		Service: "antnode" + name + ".service", User: owner,
		Binary: filepath.Join(root, "antnode"), Version: version, RootDir: root,
		LogDir: filepath.Join(c.Platform.Dirs().Logs, "antnode"+name),
		Port:   c.Config.PortStart*1000 + id, MetricsPort: c.Config.MetricsPortStart*1000 + id,
		RPCPort: c.Config.RPCPortStart*1000 + id, Network: gen.Network, Wallet: wallet,
		Status: store.StatusStopped, Timestamp: now.Unix(), Age: now.Unix(), Host: c.Config.Host,
		Method: c.Config.ProcessManager, Layout: "1", Environment: c.Config.Environment, Rewards: "0",
		WNMIntent: "add", WNMIntentAt: now.UnixMilli(),
	}
}

// reconcile finishes or undoes actions that a previous cycle started but never recorded the end
// of (it crashed, or was killed, in between).
func (c *cycle) reconcile(ctx context.Context) {
	for _, n := range c.sortedNodes() {
		if n.WNMIntent == "" || n.WNMIntentAt >= c.start.UnixMilli() {
			continue
		}
		c.Logger.Warn("finishing an interrupted action", "node", n.ID, "action", n.WNMIntent,
			"since", time.UnixMilli(n.WNMIntentAt).UTC().Format(time.RFC3339))
		s := c.spec(n)
		var err error
		switch n.WNMIntent {
		case "add":
			if st, serr := c.Manager.Status(ctx, s); serr == nil && st.State == units.Running {
				err = c.settle(ctx, n, store.StatusRestarting)
				break
			}
			// Keep the row while the manager may still hold the node: the next cycle tries again.
			if err = c.Manager.Remove(ctx, s); err != nil {
				err = fmt.Errorf("undo the interrupted add: %w", err)
				break
			}
			_ = c.Firewall.Close(ctx, n.Port)
			err = errors.Join(c.deleteFiles(s), c.deleteRow(ctx, n.ID))
		case "remove":
			err = c.remove(ctx, n.ID, true)
		case "disable": // an operator asked for it: finish it
			err = c.disable(ctx, n.ID)
		case "stop":
			// Finish it: Stop is idempotent and also clears a pid file the killed stop left.
			if err = c.Manager.Stop(ctx, s); err == nil {
				err = c.settle(ctx, n, store.StatusStopped)
			}
		default: // start, restart, upgrade: the survey tells where the node ended up
			// A node the interrupted action left stopped gets its stale pid file cleared.
			if st, serr := c.Manager.Status(ctx, s); serr == nil && st.State == units.Stopped {
				err = c.Manager.Stop(ctx, s)
			}
			if err == nil {
				err = c.settle(ctx, n, "")
			}
		}
		if err != nil {
			c.Logger.Error("reconcile", "node", n.ID, "action", n.WNMIntent, "err", err)
		}
	}
	for _, n := range c.sortedNodes() {
		removed, err := sweepLeftovers(n.RootDir)
		for _, p := range removed {
			c.Logger.Warn("removed a temporary file an interrupted step left", "node", n.ID, "path", p)
		}
		if err != nil {
			c.Logger.Warn("temporary files of an interrupted step", "node", n.ID, "err", err)
		}
	}
	c.stopStrays(ctx)
}

// strayStopper is a node manager that can find node processes no row tracks (setsid: by their
// command line). systemd and launchd keep a definition per node, which adopt handles.
type strayStopper interface {
	StopStrays(ctx context.Context, keep func(rootDir string) bool) ([]int, error)
}

// stopStrays stops node processes running inside node storage that no row knows: a node whose
// record was lost must not hold its ports and stop its id from ever being used again.
func (c *cycle) stopStrays(ctx context.Context) {
	ss, ok := c.Manager.(strayStopper)
	if !ok {
		return
	}
	known := make(map[string]bool, len(c.nodes))
	for _, n := range c.nodes {
		known[filepath.Clean(n.RootDir)] = true
	}
	pids, err := ss.StopStrays(ctx, func(root string) bool { return known[root] })
	if len(pids) > 0 {
		c.Logger.Warn("stopped node processes that no row tracks", "pids", pids)
	}
	if err != nil {
		c.Logger.Error("stray node processes", "err", err)
	}
}
