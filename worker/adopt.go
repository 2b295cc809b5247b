package worker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units/launchd"
	"github.com/wnm-project/wnm/units/systemd"
	"github.com/wnm-project/wnm/worker/store"
)

// scanNodes returns the node definitions the service manager holds: systemd units or launchd
// plists. The setsid manager has none (its nodes are found by their directories).
func (c *cycle) scanNodes() ([]gen.Adopted, error) {
	switch m := c.Manager.(type) {
	case *systemd.Manager:
		return systemd.ScanUnits(m.UnitDir())
	case *launchd.Manager:
		return launchd.ScanPlists(m.PlistDir())
	}
	return nil, nil
}

// adopt records node units that wnm has no row for, so an anm or wnm-python machine is taken over
// without losing a node. Only definitions named as wnm names them (antnodeNNNN.service,
// com.autonomi.antnode-N.plist) are adopted; others, and any whose command line cannot be parsed,
// are reported and left untouched. The survey that follows finds their state.
func (c *cycle) adopt(ctx context.Context) {
	found, err := c.scanNodes()
	if err != nil {
		c.Logger.Warn("node definitions wnm cannot read are left alone", "err", err)
	}
	var rows []store.Node
	for _, a := range found {
		if _, ok := c.nodes[a.ID]; ok {
			continue
		}
		if a.Service != gen.UnitName(a.ID) && a.Service != gen.PlistName(a.ID) {
			c.Logger.Warn("node definition not named as wnm names nodes; left alone", "service", a.Service, "node", a.ID)
			continue
		}
		rows = append(rows, c.adoptedRow(a))
	}
	if len(rows) == 0 {
		return
	}
	err = c.write(ctx, func(w *store.Writer) error {
		for _, n := range rows {
			if err := w.InsertNode(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.Logger.Error("adopting nodes", "err", err)
		return
	}
	for _, n := range rows {
		c.nodes[n.ID] = n
		c.Logger.Info("adopted node", "node", n.ID, "service", n.Service, "port", n.Port, "metrics_port", n.MetricsPort, "root_dir", n.RootDir)
	}
}

// adoptedRow is the node row for a definition found on the machine. Its age is its secret-key's
// mtime, as wnm-python takes it, or now.
func (c *cycle) adoptedRow(a gen.Adopted) store.Node {
	now := c.Now()
	age := now.Unix()
	if fi, err := os.Stat(filepath.Join(a.RootDir, "secret-key")); err == nil {
		age = fi.ModTime().Unix()
	}
	network := a.Network
	if network == "" {
		network = gen.Network
	}
	owner := a.User
	if owner == "" {
		owner = nodeAccount
	}
	var env string
	for i, kv := range a.Env {
		if i > 0 {
			env += " "
		}
		env += kv[0] + "=" + kv[1]
	}
	return store.Node{
		ID: a.ID, MachineID: 1, ManagerType: c.Config.ProcessManager, NodeName: fmt.Sprintf("%04d", a.ID),
		Service: a.Service, User: owner, Binary: a.Binary, RootDir: a.RootDir, LogDir: a.LogDir,
		Port: a.Port, MetricsPort: a.MetricsPort, RPCPort: 0, Network: network, Wallet: a.Wallet,
		Status: store.StatusStopped, Timestamp: now.Unix(), Age: age, Host: c.Config.Host,
		Method: c.Config.ProcessManager, Layout: "1", Environment: env, Rewards: "0",
	}
}
