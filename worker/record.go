package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// change is one node whose recorded status changed this cycle.
type change struct {
	Node   int    `json:"node"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// recordSurvey writes what the survey saw and the plan's status transitions, in one transaction.
// Rows whose values did not change are not written, and a node's timestamp moves only when its
// status does: it is the reference for the start, upgrade and remove delays.
func (c *cycle) recordSurvey(ctx context.Context, obs survey.Observation, plan decide.Plan) ([]change, error) {
	now := c.start.Unix()
	seen := make(map[int]survey.NodeObs, len(obs.Nodes))
	for _, o := range obs.Nodes {
		seen[o.ID] = o
	}
	var changes []change
	updated := map[int]store.Node{}
	for id, n := range c.nodes {
		if o, ok := seen[id]; ok {
			if m := applyObservation(n, o); m != n {
				updated[id] = m
			}
		}
	}
	for _, t := range plan.Transitions {
		n, ok := updated[t.Node]
		if !ok {
			n, ok = c.nodes[t.Node]
		}
		if !ok {
			continue
		}
		n.Status, n.Timestamp = store.Status(t.To), now
		updated[t.Node] = n
		changes = append(changes, change{t.Node, string(t.From), string(t.To), t.Reason})
		c.Logger.Debug("status", "node", t.Node, "from", t.From, "to", t.To, "reason", t.Reason)
	}
	if len(updated) == 0 {
		return changes, nil
	}
	err := c.write(ctx, func(w *store.Writer) error {
		for _, n := range c.sortedNodes() {
			if m, ok := updated[n.ID]; ok {
				if err := w.UpdateNode(m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record survey: %w", err)
	}
	for id, n := range updated {
		c.nodes[id] = n
	}
	return changes, nil
}

// applyObservation returns n updated with one poll. Live gauges drop to zero when the node is down;
// the peer id and version keep their last known values (wnm-python wiped the peer id).
func applyObservation(n store.Node, o survey.NodeObs) store.Node {
	if v := nodeVersion(o); v != "" {
		n.Version = v
	}
	if !o.Up {
		n.Uptime, n.ConnectedPeers, n.OpenConnections = 0, 0, 0
		return n
	}
	if o.PeerID != "" {
		n.PeerID = o.PeerID
	}
	n.Uptime, n.Records, n.Shunned, n.ConnectedPeers = o.Uptime, o.Records, o.Shunned, o.ConnectedPeers
	n.Puts = o.Puts
	n.Mem, n.CPU = int64(math.Trunc(o.MemMB*100)), int64(math.Trunc(o.CPUPercent*100))
	n.OpenConnections, n.TotalPeers, n.BadPeers = o.OpenConnections, o.TotalPeers, o.BadPeers
	n.RelRecords, n.MaxRecords, n.Rewards = o.RelRecords, o.MaxRecords, o.Rewards
	n.PaymentCount, n.LiveTime, n.NetworkSize = o.PaymentCount, o.LiveTime, o.NetworkSize
	return n
}

// PlanRecord is what the cycle table's plan column holds: the actions with their reasons, the
// decisions not taken with theirs, and for an operator's forced action its name. (Rows written
// before the decisions not taken were recorded hold the bare list of actions.)
type PlanRecord struct {
	Forced   string          `json:"forced,omitempty"`
	Actions  []decide.Action `json:"actions"`
	NotTaken []decide.Skip   `json:"not_taken,omitempty"`
}

// ParsePlanRecord reads a plan column in either form.
func ParsePlanRecord(b []byte) (PlanRecord, error) {
	var r PlanRecord
	if len(b) == 0 {
		return r, nil
	}
	if b[0] == '[' {
		err := json.Unmarshal(b, &r.Actions)
		return r, err
	}
	err := json.Unmarshal(b, &r)
	return r, err
}

// recordCycle writes the cycle row, the host counters, the version cache, the restart counts and
// the nodes' /metadata answers (each only when it changed), and the boot time when the plan asks
// for it, in one transaction.
func (c *cycle) recordCycle(ctx context.Context, r *Result, changes []change, versions *survey.VersionCache) error {
	plan, err := json.Marshal(PlanRecord{Forced: r.Forced, Actions: r.Plan.Actions, NotTaken: r.Plan.NotTaken})
	if err != nil {
		return err
	}
	results, err := json.Marshal(r.Results)
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []change{}
	}
	ch, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	counters, err := json.Marshal(r.Obs.Counters)
	if err != nil {
		return err
	}
	keep := []string{c.Config.AntnodePath}
	for _, n := range c.nodes {
		keep = append(keep, n.Binary)
	}
	versions.Prune(keep)
	vc, err := json.Marshal(versions)
	if err != nil {
		return err
	}
	if c.restarts == nil {
		c.restarts = map[int]int{}
	}
	rs, err := json.Marshal(c.restarts)
	if err != nil {
		return err
	}
	var md []byte
	if c.metadata != nil {
		c.metadata.Prune(func(id int) bool { _, ok := c.nodes[id]; return ok })
		if md, err = json.Marshal(c.metadata); err != nil {
			return err
		}
	}
	h := r.Obs.Host
	val := func(x survey.Reading) float64 {
		if !x.Known {
			return math.NaN()
		}
		return x.Value
	}
	row := store.Cycle{
		StartedAt:   c.start.UnixMilli(),
		DurationMS:  c.Now().Sub(c.start).Milliseconds(),
		CPUPercent:  val(h.CPUPercent),
		MemPercent:  val(h.MemPercent),
		DiskPercent: val(h.DiskPercent),
		Load1:       val(h.Load1), Load5: val(h.Load5), Load15: val(h.Load15),
		DiskReadBps: val(h.DiskReadBps), DiskWriteBps: val(h.DiskWriteBps),
		NetRecvBps: val(h.NetRecvBps), NetSendBps: val(h.NetSendBps),
		NodeCount: r.Plan.Counts.Total,
		Plan:      plan, Results: results, Changes: ch,
	}
	err = c.write(ctx, func(w *store.Writer) error {
		if _, err := w.RecordCycle(row); err != nil {
			return err
		}
		// A state blob is written only when it changed since the cycle read it: in an idle
		// fleet the version cache and the /metadata answers do not, and for a thousand nodes
		// each is some 130 KB.
		for _, s := range []struct {
			key string
			val []byte
		}{{stateCounters, counters}, {stateVersions, vc}, {stateRestarts, rs}, {stateMetadata, md}} {
			if s.val == nil || bytes.Equal(s.val, c.loaded[s.key]) {
				continue
			}
			if err := w.SetState(s.key, s.val); err != nil {
				return err
			}
		}
		if !r.Plan.RecordBoot.IsZero() {
			m, err := w.Machine()
			if err != nil {
				return err
			}
			m.WNMBootTime = r.Plan.RecordBoot.Unix()
			m.LastStoppedAt = c.start.Unix()
			return w.UpdateMachine(m)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record cycle: %w", err)
	}
	return nil
}
