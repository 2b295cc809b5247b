package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/lock"
)

// nodeCmd groups the operator's actions on nodes.
type nodeCmd struct {
	Add     nodeAddCmd  `cmd:"" help:"Create and start new nodes now (--count N, default 1)"`
	Remove  nodeVerbCmd `cmd:"" help:"Remove nodes now: stop them, delete their files and units (default: the youngest)"`
	Start   nodeVerbCmd `cmd:"" help:"Start stopped or disabled nodes, upgrading outdated ones first (default: the oldest stopped)"`
	Stop    nodeVerbCmd `cmd:"" help:"Stop nodes (default: the youngest running)"`
	Restart nodeVerbCmd `cmd:"" help:"Stop and start nodes (default: the oldest running)"`
	Upgrade nodeVerbCmd `cmd:"" help:"Install antnode_path's binary into nodes and restart them (default: the oldest outdated running)"`
	Disable nodeVerbCmd `cmd:"" help:"Stop nodes and exclude them from every cycle (names required)"`
	Enable  nodeVerbCmd `cmd:"" help:"Return disabled nodes to the cycles' care (default: the oldest disabled)"`
	Survey  nodeVerbCmd `cmd:"" help:"Survey the nodes now and record what was seen"`
}

func (nodeCmd) Help() string {
	return "Each action takes the cycle lock (waiting for a running cycle to finish), saves supplied settings, " +
		"surveys, then acts through the same steps as a cycle, so an interrupted action is finished or undone by " +
		"the next cycle. Name nodes with --service_name antnode0003,antnode0007 (or as arguments), or give " +
		"--count N to let wnm choose. action_delay, --this_action_delay or --interval (milliseconds) pause between " +
		"nodes. --dry_run shows what would happen and changes nothing; --json prints the result as JSON."
}

type nodeAddCmd struct{}

// Run adds nodes.
func (nodeAddCmd) Run(s *session) error { return s.force("add", nil) }

type nodeVerbCmd struct {
	Names []string `arg:"" optional:"" name:"node" help:"Nodes to act on (antnode0003, antnode3 or 3); the same as --service_name"`
}

// Run acts on nodes; the verb is the command's name.
func (v nodeVerbCmd) Run(s *session, kctx *kong.Context) error {
	return s.force(kctx.Selected().Name, v.Names)
}

type teardownCmd struct{}

func (teardownCmd) Help() string {
	return "Removes every node: stops it, deletes its unit, its files and its row. Without --confirm it " +
		"refuses and lists what it would remove. The database and settings stay."
}

// Run removes every node.
func (teardownCmd) Run(s *session) error { return s.force("teardown", nil) }

// lockWait is how long a forced action waits for a running cycle to release the lock.
var lockWait = 5 * time.Minute

// waitLock takes the cycle lock, waiting up to lockWait for a cycle that holds it.
func (s *session) waitLock(ctx context.Context, path string) (*lock.Lock, error) {
	deadline := time.Now().Add(lockWait)
	logged := false
	for {
		l, err := lock.TryLock(path)
		if err == nil || !errors.Is(err, lock.ErrBusy) || time.Now().After(deadline) {
			return l, err
		}
		if !logged {
			s.logger().Info("waiting for the running cycle to finish", "lock", path, "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// splitNames parses --service_name: comma-separated, trimmed, empty entries dropped.
func splitNames(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// force runs one forced action under the cycle lock and prints its result.
func (s *session) force(action string, args []string) error {
	c := s.cli
	req := worker.ForceRequest{Action: action, Confirm: c.Confirm}
	if c.ServiceName != nil {
		req.Names = splitNames(*c.ServiceName)
	}
	req.Names = append(req.Names, args...)
	if c.Count != nil {
		if *c.Count < 1 {
			return usageErr{fmt.Errorf("--count %d: count must be at least 1", *c.Count)}
		}
		if len(req.Names) > 0 {
			return usageErr{errors.New("--count and --service_name (or node names) exclude each other: name the nodes or give a count")}
		}
		req.Count = *c.Count
	}
	if action == "add" && len(req.Names) > 0 {
		return usageErr{errors.New("add creates new nodes: give --count N, not node names")}
	}
	if action == "disable_config" {
		// As wnm-python: the boolean settings named on the command line are turned off.
		c.settings.turnOff("no_upnp")
		c.settings.turnOff("antctl_debug")
	}
	ctx, stop := onSignal()
	defer stop()
	st, changes, err := s.loadForCycle(ctx)
	if err != nil {
		return err
	}
	defer st.close()
	cfg := st.resolved.Config
	if action == "teardown" && !req.Confirm && !cfg.DryRun {
		list, lerr := worker.TeardownList(ctx, st.st)
		if lerr != nil {
			return lerr
		}
		what := "there are no nodes"
		if len(list) > 0 {
			what = fmt.Sprintf("it would remove %d nodes:\n  %s", len(list), strings.Join(list, "\n  "))
		}
		return fmt.Errorf("%w; %s\nrun again with --confirm to remove them, or --dry_run to rehearse", worker.ErrTeardownUnconfirmed, what)
	}
	l, err := s.waitLock(ctx, lock.Path(cfg.DBPath))
	if err != nil {
		return err
	}
	defer l.Unlock()
	res, err := worker.Force(ctx, worker.Options{
		Store:    st.st,
		Config:   cfg,
		Changes:  changes,
		Platform: st.plat,
		Logger:   s.logger(),
		Show:     s.show(),
	}, req)
	var fe worker.ForceError
	if errors.As(err, &fe) {
		if s.cli.JSON {
			s.printFields(fe.Result)
		}
		return err
	}
	if res != nil {
		s.printFields(res)
	}
	return err
}

func (s *session) printFields(f worker.Fields) {
	if s.logResult {
		s.logger().Info("forced action result", "status", f.Status(), "result", strings.TrimSpace(f.Text()))
		return
	}
	if s.cli.JSON {
		enc := json.NewEncoder(s.env.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(f)
		return
	}
	fmt.Fprint(s.env.stdout, f.Text())
}

// forceActions are wnm-python's --force_action values.
var forceActions = []string{"add", "remove", "upgrade", "start", "stop", "disable", "teardown", "survey",
	"nullop", "update_config", "disable_config", "wnm-db-migration"}

// forceAction runs wnm-python's --force_action.
func (s *session) forceAction(a string) error {
	if !slices.Contains(forceActions, a) {
		return usageErr{fmt.Errorf("--force_action %q: must be one of %s", a, strings.Join(forceActions, ", "))}
	}
	if a == "wnm-db-migration" {
		return s.dbMigration()
	}
	return s.force(a, nil)
}

// dbMigration brings the database's schema up to date, which every writing command also does when
// it opens the database; the action exists for wnm-python's scripts and wants --confirm as there.
func (s *session) dbMigration() error {
	if !s.cli.Confirm {
		return errors.New("database migration requires --confirm: back up the database first, then run wnm --force_action wnm-db-migration --confirm")
	}
	ctx := context.Background()
	st, err := s.load(ctx, readWrite)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.needMachine(); err != nil {
		return err
	}
	l, err := s.waitLock(ctx, lock.Path(st.resolved.DBPath))
	if err != nil {
		return err
	}
	defer l.Unlock()
	s.printFields(worker.Fields{worker.KV("status", "database-up-to-date"), worker.KV("dbpath", st.resolved.DBPath)})
	return nil
}

// turnOff sets a boolean setting given on the command line to false; one not given stays unset.
func (f *settingFlags) turnOff(name string) {
	if f == nil {
		return
	}
	v := f.v.Elem()
	for i, st := range config.Settings {
		if st.Name != name {
			continue
		}
		if p, ok := v.Field(i).Addr().Interface().(*boolValue); ok && p.Set {
			p.Raw = "false"
		}
	}
}
