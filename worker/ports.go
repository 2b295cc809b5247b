package worker

import (
	"context"
	"slices"
	"syscall"

	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/wnm-project/wnm/worker/decide"
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

// keepAddsOffHeldPorts re-plans when an add would hand out a node or metrics port that a process
// already holds: those ids join the reserved ones. The socket tables are read only when the plan
// adds nodes.
func (c *cycle) keepAddsOffHeldPorts(ctx context.Context, in decide.Input, plan decide.Plan) decide.Plan {
	adds := false
	for _, a := range plan.Actions {
		adds = adds || a.Kind == decide.Add
	}
	if !adds {
		return plan
	}
	heldIDs, err := c.heldIDs(ctx)
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

// heldIDs returns the node ids whose node or metrics port a process already holds.
func (c *cycle) heldIDs(ctx context.Context) ([]int, error) {
	heldPorts := c.HeldPorts
	if heldPorts == nil {
		heldPorts = HeldPorts
	}
	held, err := heldPorts(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int
	for p := range held {
		for _, base := range []int{c.Config.PortStart, c.Config.MetricsPortStart} {
			if id := p - base*1000; id > 0 && id < 1000 {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}
