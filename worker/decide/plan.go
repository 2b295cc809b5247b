package decide

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind says what an [Action] does.
type Kind int

// The action kinds. The zero Kind is invalid.
const (
	// Resurvey records every node's observation after a reboot; the worker
	// then records [Plan.RecordBoot]. Node is 0 (all nodes).
	Resurvey Kind = iota + 1
	// Survey is the idle marker: nothing to do but record the observation.
	// Node is 0 (all nodes).
	Survey
	// Forget deletes the row of a REMOVING node whose delay_remove expired.
	Forget
	// Remove stops the node if it runs, closes its port and deletes its
	// files and unit. [Action.Cooldown] says whether the row then stays as
	// REMOVING until delay_remove expires, or is deleted at once.
	Remove
	// Stop stops a running node and records it STOPPED.
	Stop
	// Start starts a stopped node and records it RESTARTING. If
	// [Action.Version] is set, the binary is replaced with that version
	// first (and the node recorded UPGRADING). With [Action.Restart] the
	// node's live but unresponsive process is stopped first.
	Start
	// Upgrade replaces a running node's binary with [Action.Version],
	// restarts it and records it UPGRADING.
	Upgrade
	// Add creates node [Action.Node], starts it and records it RESTARTING.
	Add
	// Restart stops a node and starts it again, recording it RESTARTING.
	// Only an operator's forced action produces it.
	Restart
	// Disable stops a node if it runs and records it DISABLED, so that no
	// cycle polls, starts or changes it. Only an operator produces it.
	Disable
	// Enable returns a DISABLED node to management by recording it
	// STOPPED; the cycles start it when resources allow. Only an operator
	// produces it.
	Enable
)

var kindNames = [...]string{
	Resurvey: "resurvey",
	Survey:   "survey",
	Forget:   "forget",
	Remove:   "remove",
	Stop:     "stop",
	Start:    "start",
	Upgrade:  "upgrade",
	Add:      "add",
	Restart:  "restart",
	Disable:  "disable",
	Enable:   "enable",
}

// String returns the kind's lowercase name (upstream's action type), or
// "Kind(n)" for an invalid kind.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText encodes a valid kind as its name.
func (k Kind) MarshalText() ([]byte, error) {
	if k <= 0 || int(k) >= len(kindNames) {
		return nil, fmt.Errorf("marshal action kind %d: invalid kind", int(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText decodes a kind from its name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, name := range kindNames {
		if i > 0 && name == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unmarshal action kind %q: unknown kind", b)
}

// Action is one step of a [Plan].
type Action struct {
	// Kind says what to do.
	Kind Kind `json:"kind"`
	// Node is the node acted on: the new id for [Add], 0 for [Survey] and
	// [Resurvey] (which cover all nodes).
	Node int `json:"node"`
	// Reason explains the action in upstream's words.
	Reason string `json:"reason"`
	// Priority is upstream's priority of the rule that produced the action.
	Priority int `json:"priority"`
	// Cooldown, for [Remove], keeps the row as REMOVING until delay_remove
	// expires (a running node); false deletes the row at once (stopped and
	// dead nodes).
	Cooldown bool `json:"cooldown,omitempty"`
	// Version is the antnode version to install: for [Upgrade] and [Add]
	// the latest version, for [Start] set only when the stopped node is
	// outdated and must be upgraded before it starts.
	Version string `json:"version,omitempty"`
	// Restart, for [Start], says the node's process is alive but has not
	// answered for delay_start: stop it, then start it.
	Restart bool `json:"restart,omitempty"`
}

// String renders the action on one line.
func (a Action) String() string {
	var b strings.Builder
	b.WriteString(a.Kind.String())
	if a.Node != 0 {
		fmt.Fprintf(&b, " node %d", a.Node)
	}
	fmt.Fprintf(&b, " [priority %d", a.Priority)
	if a.Cooldown {
		b.WriteString(", cooldown")
	}
	if a.Restart {
		b.WriteString(", restart")
	}
	if a.Version != "" {
		fmt.Fprintf(&b, ", version %s", a.Version)
	}
	fmt.Fprintf(&b, "]: %s", a.Reason)
	return b.String()
}

// Transition is a status change to record for a node.
type Transition struct {
	// Node is the node's id.
	Node int `json:"node"`
	// From is the stored status.
	From Status `json:"from"`
	// To is the status to record.
	To Status `json:"to"`
	// Reason explains the change.
	Reason string `json:"reason"`
}

// String renders the transition on one line.
func (t Transition) String() string {
	return fmt.Sprintf("node %d %s -> %s: %s", t.Node, t.From, t.To, t.Reason)
}

// Counts are the numbers of nodes by status after the plan's transitions
// and forgets.
type Counts struct {
	// Total counts every node, DISABLED and unknown statuses included.
	Total int `json:"total"`
	// Running counts RUNNING nodes.
	Running int `json:"running"`
	// Stopped counts STOPPED nodes.
	Stopped int `json:"stopped"`
	// Restarting counts RESTARTING nodes.
	Restarting int `json:"restarting"`
	// Upgrading counts UPGRADING nodes.
	Upgrading int `json:"upgrading"`
	// Migrating counts MIGRATING nodes.
	Migrating int `json:"migrating"`
	// Removing counts REMOVING nodes.
	Removing int `json:"removing"`
	// Dead counts DEAD nodes.
	Dead int `json:"dead"`
	// Disabled counts DISABLED nodes.
	Disabled int `json:"disabled"`
	// Outdated counts RUNNING nodes whose version is strictly lower than
	// the latest version.
	Outdated int `json:"outdated"`
}

// Operations is the number of operations in progress (upstream's
// current_ops): upgrading + restarting + removing.
func (c Counts) Operations() int { return c.Upgrading + c.Restarting + c.Removing }

// String renders the counts on one line.
func (c Counts) String() string {
	return fmt.Sprintf("total=%d running=%d stopped=%d restarting=%d upgrading=%d migrating=%d removing=%d dead=%d disabled=%d outdated=%d",
		c.Total, c.Running, c.Stopped, c.Restarting, c.Upgrading, c.Migrating, c.Removing, c.Dead, c.Disabled, c.Outdated)
}

// Features are the booleans the rules test (upstream's decision features,
// with the same JSON names where upstream has one). Comparisons are strict:
// equal to a threshold neither allows nor removes.
type Features struct {
	// Rebooted: the host booted since [Config.LastBoot].
	Rebooted bool `json:"rebooted"`
	// AllowCPU: used CPU % < cpu_less_than.
	AllowCPU bool `json:"allow_cpu"`
	// AllowMem: used memory % < mem_less_than.
	AllowMem bool `json:"allow_mem"`
	// AllowHD: used disk % < hd_less_than.
	AllowHD bool `json:"allow_hd"`
	// AllowHDIO: each configured disk I/O "less than" threshold is met.
	AllowHDIO bool `json:"allow_hdio"`
	// AllowNetIO: each configured network I/O "less than" threshold is met.
	AllowNetIO bool `json:"allow_netio"`
	// LoadAllow: all three load averages < desired_load_average.
	LoadAllow bool `json:"load_allow"`
	// AllowNodeCap: running < node_cap (gates starts).
	AllowNodeCap bool `json:"allow_node_cap"`
	// AllowTotalCap: total < node_cap (gates adds).
	AllowTotalCap bool `json:"allow_total_cap"`
	// RemoveCPU: used CPU % > cpu_remove.
	RemoveCPU bool `json:"remove_cpu"`
	// RemoveMem: used memory % > mem_remove.
	RemoveMem bool `json:"remove_mem"`
	// RemoveHD: used disk % > hd_remove.
	RemoveHD bool `json:"remove_hd"`
	// RemoveHDIO: a configured disk I/O "remove" threshold is exceeded.
	RemoveHDIO bool `json:"remove_hdio"`
	// RemoveNetIO: a configured network I/O "remove" threshold is exceeded.
	RemoveNetIO bool `json:"remove_netio"`
	// LoadNotAllow: a load average > max_load_average_allowed.
	LoadNotAllow bool `json:"load_not_allow"`
	// Transitional: an upgrade, start, migration or removal is in progress.
	Transitional bool `json:"transitional"`
	// Remove: resource pressure (any remove feature, or total > node_cap).
	Remove bool `json:"remove"`
	// HardRemove: pressure is met by removing nodes rather than stopping
	// them (remove_hd, total > node_cap, or outdated nodes while nothing is
	// being removed).
	HardRemove bool `json:"hard_remove"`
	// StopCooldown: a node stopped less than delay_remove ago, so soft
	// pressure waits.
	StopCooldown bool `json:"stop_cooldown"`
	// Upgrade: outdated running nodes exist and there is no pressure.
	Upgrade bool `json:"upgrade"`
	// Grow: resources allow growth, nothing is in transition and there is
	// no pressure.
	Grow bool `json:"grow"`
	// StartNode: Grow and AllowNodeCap.
	StartNode bool `json:"start_node"`
	// AddNewNode: Grow and AllowTotalCap.
	AddNewNode bool `json:"add_new_node"`
}

// names lists the features that are true, in declaration order.
func (f Features) names() []string {
	all := []struct {
		on   bool
		name string
	}{
		{f.Rebooted, "rebooted"},
		{f.AllowCPU, "allow_cpu"},
		{f.AllowMem, "allow_mem"},
		{f.AllowHD, "allow_hd"},
		{f.AllowHDIO, "allow_hdio"},
		{f.AllowNetIO, "allow_netio"},
		{f.LoadAllow, "load_allow"},
		{f.AllowNodeCap, "allow_node_cap"},
		{f.AllowTotalCap, "allow_total_cap"},
		{f.RemoveCPU, "remove_cpu"},
		{f.RemoveMem, "remove_mem"},
		{f.RemoveHD, "remove_hd"},
		{f.RemoveHDIO, "remove_hdio"},
		{f.RemoveNetIO, "remove_netio"},
		{f.LoadNotAllow, "load_not_allow"},
		{f.Transitional, "transitional"},
		{f.Remove, "remove"},
		{f.HardRemove, "hard_remove"},
		{f.StopCooldown, "stop_cooldown"},
		{f.Upgrade, "upgrade"},
		{f.Grow, "grow"},
		{f.StartNode, "start_node"},
		{f.AddNewNode, "add_new_node"},
	}
	var on []string
	for _, x := range all {
		if x.on {
			on = append(on, x.name)
		}
	}
	return on
}

// String lists the features that are true, or "none".
func (f Features) String() string {
	on := f.names()
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, " ")
}

// Plan is the outcome of one decision.
type Plan struct {
	// Transitions are the status changes to record, sorted by node id.
	// Nodes not listed keep their stored status (and their Changed time).
	Transitions []Transition `json:"transitions"`
	// Actions are the steps to run, in execution order. A plan always has
	// at least one action.
	Actions []Action `json:"actions"`
	// NotTaken are the decisions the plan did not take, each with what
	// stopped it (the measured figure beside its threshold, the limit in
	// use and by which node, the delay and when it runs out).
	NotTaken []Skip `json:"not_taken"`
	// Counts are the node counts after Transitions and any [Forget].
	Counts Counts `json:"counts"`
	// Features are the booleans the rules tested, for logging.
	Features Features `json:"features"`
	// RecordBoot, when not zero, is the boot time the worker should record
	// as [Config.LastBoot] once the plan has run: after a reboot, or when no
	// boot time was recorded yet.
	RecordBoot time.Time `json:"record_boot,omitzero"`
}

// MarshalJSON encodes the plan with empty lists as [] rather than null.
func (p Plan) MarshalJSON() ([]byte, error) {
	type plain Plan
	q := plain(p)
	if q.Transitions == nil {
		q.Transitions = []Transition{}
	}
	if q.Actions == nil {
		q.Actions = []Action{}
	}
	if q.NotTaken == nil {
		q.NotTaken = []Skip{}
	}
	return json.Marshal(q)
}

// String renders the plan as stable multi-line text (for logs and golden
// files), ending in a newline.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "counts: %s\n", p.Counts)
	fmt.Fprintf(&b, "features: %s\n", p.Features)
	if len(p.Transitions) == 0 {
		b.WriteString("transitions: none\n")
	} else {
		b.WriteString("transitions:\n")
		for _, t := range p.Transitions {
			fmt.Fprintf(&b, "  %s\n", t)
		}
	}
	if len(p.Actions) == 0 {
		b.WriteString("actions: none\n")
	} else {
		b.WriteString("actions:\n")
		for i, a := range p.Actions {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, a)
		}
	}
	if len(p.NotTaken) > 0 {
		b.WriteString("not taken:\n")
		for _, s := range p.NotTaken {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	if !p.RecordBoot.IsZero() {
		fmt.Fprintf(&b, "record boot: %s\n", p.RecordBoot.UTC().Format(time.RFC3339))
	}
	return b.String()
}
