package decide

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Status is a node's recorded status. The values are upstream's strings and
// are stored verbatim.
type Status string

// The node statuses.
const (
	// Stopped is a node not answering on its metrics port (also the status
	// of a freshly inserted row).
	Stopped Status = "STOPPED"
	// Running is a node answering on its metrics port.
	Running Status = "RUNNING"
	// Upgrading is a node whose binary was replaced and which was
	// restarted; it is left alone for delay_upgrade.
	Upgrading Status = "UPGRADING"
	// Disabled is a node the operator excluded: never polled, started or
	// changed.
	Disabled Status = "DISABLED"
	// Restarting is a node just started or created; it is left alone for
	// delay_start.
	Restarting Status = "RESTARTING"
	// Migrating is declared by upstream but never set; it counts as a
	// transitional operation that blocks growth.
	Migrating Status = "MIGRATING"
	// Removing is a removed node whose row stays as a cooldown marker for
	// delay_remove.
	Removing Status = "REMOVING"
	// Dead is a node whose root directory is missing; it is removed with
	// priority and never changes status otherwise.
	Dead Status = "DEAD"
)

// Known reports whether s is one of the statuses above.
func (s Status) Known() bool {
	switch s {
	case Stopped, Running, Upgrading, Disabled, Restarting, Migrating, Removing, Dead:
		return true
	}
	return false
}

// RebootTolerance is how much later than [Config.LastBoot] the host's boot
// time must be before [Next] treats it as a reboot. Boot times derived from
// uptime can jitter by a second between reads, and a false reboot would skip
// every pending delay.
const RebootTolerance = 5 * time.Second

// Config holds the machine settings the decision depends on. Percentages are
// 0–100, I/O rates are bytes per second. Config has no implicit defaults:
// a zero threshold means what the comparison says (cpu_less_than 0 never
// allows growth), except for the eight I/O thresholds, where 0 (or a negative
// value) switches that one threshold off. [DefaultConfig] gives upstream's
// initial values.
type Config struct {
	// NodeCap is the maximum number of nodes (node_cap).
	NodeCap int

	// CPULessThan allows growth while used CPU % < CPULessThan.
	CPULessThan float64
	// CPURemove forces removal while used CPU % > CPURemove.
	CPURemove float64
	// MemLessThan allows growth while used memory % < MemLessThan.
	MemLessThan float64
	// MemRemove forces removal while used memory % > MemRemove.
	MemRemove float64
	// HDLessThan allows growth while used disk % < HDLessThan.
	HDLessThan float64
	// HDRemove forces (hard) removal while used disk % > HDRemove.
	HDRemove float64

	// HDIOReadLessThan allows growth while disk reads < it; 0 is off.
	HDIOReadLessThan int64
	// HDIOReadRemove forces removal while disk reads > it; 0 is off.
	HDIOReadRemove int64
	// HDIOWriteLessThan allows growth while disk writes < it; 0 is off.
	HDIOWriteLessThan int64
	// HDIOWriteRemove forces removal while disk writes > it; 0 is off.
	HDIOWriteRemove int64
	// NetIOReadLessThan allows growth while bytes received < it; 0 is off.
	NetIOReadLessThan int64
	// NetIOReadRemove forces removal while bytes received > it; 0 is off.
	NetIOReadRemove int64
	// NetIOWriteLessThan allows growth while bytes sent < it; 0 is off.
	NetIOWriteLessThan int64
	// NetIOWriteRemove forces removal while bytes sent > it; 0 is off.
	NetIOWriteRemove int64

	// MaxLoadAverageAllowed forces removal while any load average is above it.
	MaxLoadAverageAllowed float64
	// DesiredLoadAverage allows growth while all load averages are below it.
	DesiredLoadAverage float64

	// DelayStart is how long a RESTARTING node is left alone.
	DelayStart time.Duration
	// DelayUpgrade is how long an UPGRADING node is left alone.
	DelayUpgrade time.Duration
	// DelayRemove is how long a REMOVING row is kept, and the cooldown
	// between two stops under soft pressure.
	DelayRemove time.Duration

	// MaxConcurrentUpgrades limits UPGRADING nodes.
	MaxConcurrentUpgrades int
	// MaxConcurrentStarts limits RESTARTING nodes (starts plus adds).
	MaxConcurrentStarts int
	// MaxConcurrentRemovals limits REMOVING nodes.
	MaxConcurrentRemovals int
	// MaxConcurrentOperations limits upgrading + restarting + removing nodes.
	MaxConcurrentOperations int

	// MaxRestarts is how many times a node whose process is alive but
	// whose metrics endpoint has not answered for delay_start is restarted
	// (stopped and started) before it is given up: left alone, holding no
	// start slot, until it answers again. 0 never restarts such a node.
	MaxRestarts int

	// LastBoot is the host boot time wnm last recorded; zero if never.
	LastBoot time.Time
}

// DefaultConfig returns upstream's initial settings for a host with cpus
// logical CPUs: node_cap 20, CPU 50/70 %, memory 60/75 %, disk 75/90 %, I/O
// thresholds off, load averages cpus and 0.6·cpus, delays of 5 minutes and
// every concurrency limit 1.
func DefaultConfig(cpus int) Config {
	return Config{
		NodeCap:                 20,
		CPULessThan:             50,
		CPURemove:               70,
		MemLessThan:             60,
		MemRemove:               75,
		HDLessThan:              75,
		HDRemove:                90,
		MaxLoadAverageAllowed:   float64(cpus),
		DesiredLoadAverage:      float64(cpus) * 0.6,
		DelayStart:              5 * time.Minute,
		DelayUpgrade:            5 * time.Minute,
		DelayRemove:             5 * time.Minute,
		MaxConcurrentUpgrades:   1,
		MaxConcurrentStarts:     1,
		MaxConcurrentRemovals:   1,
		MaxConcurrentOperations: 1,
		MaxRestarts:             DefaultMaxRestarts,
	}
}

// DefaultMaxRestarts is the number of restarts an alive but unresponsive
// node gets before it is given up.
const DefaultMaxRestarts = 3

// Reading is one host figure that the survey may have failed to read. The
// zero Reading is unknown, so a Host nobody filled in allows nothing and
// forces nothing. A known NaN or infinite value also counts as unknown.
type Reading struct {
	// Value is the figure; meaningful only when Known is true.
	Value float64
	// Known says whether the survey read the figure.
	Known bool
}

// Known returns a known [Reading] of v.
func Known(v float64) Reading { return Reading{Value: v, Known: true} }

// ok reports whether r holds a usable number.
func (r Reading) ok() bool {
	return r.Known && !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0)
}

// String returns the value, or "unknown".
func (r Reading) String() string {
	if !r.ok() {
		return "unknown"
	}
	return strconv.FormatFloat(r.Value, 'g', -1, 64)
}

// MarshalJSON encodes a usable reading as a number and anything else as null.
func (r Reading) MarshalJSON() ([]byte, error) {
	if !r.ok() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, r.Value, 'g', -1, 64), nil
}

// UnmarshalJSON decodes a number as a known reading and null as unknown.
func (r *Reading) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = Reading{}
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("decode reading %q: %w", b, err)
	}
	*r = Known(v)
	return nil
}

// Host is this cycle's reading of the machine.
type Host struct {
	// CPU is the used CPU percentage.
	CPU Reading `json:"used_cpu_percent"`
	// Mem is the used memory percentage.
	Mem Reading `json:"used_mem_percent"`
	// HD is the used percentage of the filesystem holding the nodes.
	HD Reading `json:"used_hd_percent"`
	// HDIORead is the disk read rate in bytes per second.
	HDIORead Reading `json:"hdio_read_bytes"`
	// HDIOWrite is the disk write rate in bytes per second.
	HDIOWrite Reading `json:"hdio_write_bytes"`
	// NetIORead is the network receive rate in bytes per second.
	NetIORead Reading `json:"netio_read_bytes"`
	// NetIOWrite is the network send rate in bytes per second.
	NetIOWrite Reading `json:"netio_write_bytes"`
	// Load1 is the 1-minute load average.
	Load1 Reading `json:"load_average_1"`
	// Load5 is the 5-minute load average.
	Load5 Reading `json:"load_average_5"`
	// Load15 is the 15-minute load average.
	Load15 Reading `json:"load_average_15"`
	// Boot is the host's boot time; zero if unknown.
	Boot time.Time `json:"boot"`
}

// Node is one managed node: what is stored about it, and what this cycle's
// survey saw.
type Node struct {
	// ID is the node's id (1, 2, …).
	ID int
	// Status is the stored status.
	Status Status
	// Changed is when Status was last written; the reference for delays.
	Changed time.Time
	// Born is when the node was created. The youngest node has the latest
	// Born (ties: the higher id), the oldest the earliest (ties: the lower id).
	Born time.Time
	// Version is the node's known antnode version; may be empty or garbage.
	Version string

	// Observed is false when the survey could not say anything about the
	// node this cycle (DISABLED nodes are not polled, for example); Up and
	// Gone are then ignored.
	Observed bool
	// Up says the node's metrics endpoint answered with a 2xx status.
	Up bool
	// Gone says the node's root directory is missing.
	Gone bool
	// Alive says the node manager found the node's process running although
	// its metrics endpoint did not answer (hung, garbage, an error status,
	// a port not open yet). A start would do nothing for such a node; it
	// needs a restart.
	Alive bool
	// Restarts counts the restarts made while the node was alive but not
	// answering, since it last answered.
	Restarts int
}

// Input is everything [Next] decides from.
type Input struct {
	// Config holds the machine settings.
	Config Config
	// Host is this cycle's machine reading.
	Host Host
	// Nodes are all node rows, in any order, with this cycle's observation.
	Nodes []Node
	// Latest is the version of the antnode binary that upgrades install;
	// empty if unknown.
	Latest string
	// Now is the cycle's clock reading.
	Now time.Time
	// Held are node ids known outside the table: unit files, plists and
	// node directories that have no row (ones wnm refused to adopt
	// included). New nodes are numbered above every row and every held id,
	// so a node wnm cannot see the whole of is never shadowed by a new one.
	Held []int
	// Reserved are further ids a new node must not get: ids whose node,
	// metrics or RPC port a row, a unit or a listening process holds.
	Reserved []int
	// MaxID, when positive, is the highest id a new node may get (the
	// highest whose ports are valid). Once every id above the known ones
	// up to MaxID is taken, new nodes get the lowest ids that no row, held
	// id or reserved id takes.
	MaxID int
}
