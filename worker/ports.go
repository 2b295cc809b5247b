package worker

import (
	"context"
	"slices"
	"syscall"

	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
)

// HeldPorts returns the TCP ports that a process listens on and the UDP ports bound on this host
// (every address family), from the kernel's socket tables.
func HeldPorts(ctx context.Context) (map[int]bool, error) {
	conns, err := psnet.ConnectionsWithoutUidsWithContext(ctx, "inet")
	if err != nil {
		return nil, err
	}
	held := make(map[int]bool, len(conns))
	for _, c := range conns {
		if c.Type == syscall.SOCK_DGRAM || c.Status == "LISTEN" {
			held[int(c.Laddr.Port)] = true
		}
	}
	return held, nil
}

// keepAddsOffHeldPorts re-plans when an add would hand out a node, metrics or RPC port that a
// process already holds: those ids join the reserved ones. The socket tables are read only when
// the plan adds nodes.
func (c *cycle) keepAddsOffHeldPorts(ctx context.Context, in decide.Input, plan decide.Plan) decide.Plan {
	adds := false
	for _, a := range plan.Actions {
		adds = adds || a.Kind == decide.Add
	}
	if !adds {
		return plan
	}
	heldIDs, err := c.listenerIDs(ctx)
	if err != nil {
		c.Logger.Warn("cannot read the ports in use; new nodes may meet a held port", "err", err)
		return plan
	}
	reserved := append(slices.Clone(in.Reserved), heldIDs...)
	clash := false
	for _, a := range plan.Actions {
		clash = clash || a.Kind == decide.Add && slices.Contains(reserved, a.Node)
	}
	if !clash {
		return plan
	}
	slices.Sort(reserved)
	in.Reserved = slices.Compact(reserved)
	c.Logger.Info("new node ids skip ports already in use", "reserved", in.Reserved)
	return decide.Next(in)
}

// listenerIDs returns the node ids whose node, metrics or RPC port a process already holds.
func (c *cycle) listenerIDs(ctx context.Context) ([]int, error) {
	heldPorts := c.HeldPorts
	if heldPorts == nil {
		heldPorts = HeldPorts
	}
	held, err := heldPorts(ctx)
	if err != nil {
		return nil, err
	}
	ports := make([]int, 0, len(held))
	for p := range held {
		ports = append(ports, p)
	}
	return c.portIDs(ports), nil
}

// portIDs returns the ids, up to the highest id a new node may get, whose node, metrics or RPC
// port is one of ports, sorted.
func (c *cycle) portIDs(ports []int) []int { return portIDs(c.Config, ports) }

func portIDs(cfg config.Config, ports []int) []int {
	top := cfg.MaxNodeID()
	var ids []int
	for _, p := range ports {
		for _, base := range []int{cfg.PortStart, cfg.MetricsPortStart, cfg.RPCPortStart} {
			if id := p - base*1000; id > 0 && id <= top {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// NextIDs returns the ids the next k new nodes would get, as a cycle chooses them: above every
// row, every held id (units, plists, node directories) and highest_node_id_used, and none whose
// node, metrics or RPC port is one of ports or a row's. Fewer than k when the ids run out.
func NextIDs(cfg config.Config, rows []store.Node, held, ports []int, k int) []int {
	nodes := make([]decide.Node, 0, len(rows))
	for _, n := range rows {
		nodes = append(nodes, decide.Node{ID: n.ID})
		ports = append(ports, n.Port, n.MetricsPort, n.RPCPort)
	}
	if cfg.HighestNodeIDUsed > 0 {
		held = append(slices.Clone(held), cfg.HighestNodeIDUsed)
	}
	return decide.FreeIDs(nodes, held, portIDs(cfg, ports), cfg.MaxNodeID(), k)
}
