package store

import (
	"encoding/json"
	"errors"
)

// Status is a node's state as stored verbatim in node.status. The strings are
// wnm-python's, so a database can move between the two programs.
type Status string

// The node states of wnm-python (docs/compatibility.md, "Node states").
const (
	StatusStopped    Status = "STOPPED"    // not answering on its metrics port
	StatusRunning    Status = "RUNNING"    // answering on its metrics port
	StatusUpgrading  Status = "UPGRADING"  // binary swapped and restarted; waiting delay_upgrade
	StatusDisabled   Status = "DISABLED"   // operator-disabled; never surveyed or started
	StatusRestarting Status = "RESTARTING" // (re)started or created; waiting delay_start
	StatusMigrating  Status = "MIGRATING"  // declared upstream, never set by it
	StatusRemoving   Status = "REMOVING"   // stopped for removal; waiting delay_remove
	StatusDead       Status = "DEAD"       // root dir or service gone; removed first
)

// Valid reports whether s is one of the Status constants.
func (s Status) Valid() bool {
	switch s {
	case StatusStopped, StatusRunning, StatusUpgrading, StatusDisabled,
		StatusRestarting, StatusMigrating, StatusRemoving, StatusDead:
		return true
	}
	return false
}

// Sentinel errors that callers branch on with [errors.Is].
var (
	// ErrNoMachine means the machine table has no row: the database was
	// never initialised.
	ErrNoMachine = errors.New("no machine row")
	// ErrNoNode means no node row has the requested id.
	ErrNoNode = errors.New("no such node")
	// ErrNewerSchema means the database was migrated by a newer wnm than
	// this one; it is left untouched.
	ErrNewerSchema = errors.New("database schema is newer than this wnm")
)

// Machine is the single row of the machine table (id 1): the cluster's
// configuration. Fields follow the columns of wnm-python's machine table in
// order, then wnm's additions. Times are epoch seconds unless named
// otherwise.
//
// Nullable TEXT columns read NULL as "" and are written as the string held,
// so "" is written where upstream may have stored NULL; upstream treats the
// two alike except where it would print "None", which wnm does not copy.
// HighestNodeIDUsed is a pointer because NULL there means "not yet
// initialised".
type Machine struct {
	ID                      int // always 1; 0 means 1 in Create
	CPUCount                int
	NodeCap                 int
	CPULessThan             int   // percent
	MemLessThan             int   // percent
	HDLessThan              int   // percent
	HDIOReadLessThan        int64 // bytes per second
	HDIOWriteLessThan       int64 // bytes per second
	NetIOReadLessThan       int64 // bytes per second
	NetIOWriteLessThan      int64 // bytes per second
	CPURemove               int   // percent
	MemRemove               int   // percent
	HDRemove                int   // percent
	HDIOReadRemove          int64 // bytes per second
	HDIOWriteRemove         int64 // bytes per second
	NetIOReadRemove         int64 // bytes per second
	NetIOWriteRemove        int64 // bytes per second
	MaxLoadAverageAllowed   float64
	DesiredLoadAverage      float64
	DelayStart              int // seconds
	DelayRestart            int // seconds
	DelayUpgrade            int // seconds
	DelayRemove             int // seconds
	SurveyDelay             int // milliseconds
	ActionDelay             int // milliseconds
	NodeStorage             string
	RewardsAddress          string
	DonateAddress           string
	PortStart               int // thousands
	MetricsPortStart        int // thousands
	RPCPortStart            int // thousands
	HighestNodeIDUsed       *int
	LastStoppedAt           int64
	Host                    string
	CrisisBytes             int64
	Environment             string // nullable
	StartArgs               string // nullable
	MaxConcurrentUpgrades   int
	MaxConcurrentStarts     int
	MaxConcurrentRemovals   int
	MaxConcurrentOperations int
	NodeRemovalStrategy     string
	ProcessManager          string // nullable
	MaxNodePerContainer     int
	MinContainerCount       int
	DockerImage             string // nullable
	NoUPnP                  bool
	AntnodePath             string // nullable
	AntctlPath              string // nullable
	AntctlDebug             bool
	AntctlVersion           string // nullable

	// wnm additions.
	WNMBootTime       int64 // boot time recorded at init and after a resurvey
	SurveyTimeoutMS   int   // per-request survey timeout (column default 2000)
	SurveyConcurrency int   // parallel survey requests (column default 32)
}

// Node is one row of the node table. Fields follow the columns of
// wnm-python's node table in order, then wnm's additions. Nullable TEXT
// columns (Version, LogDir, Wallet, PeerID, Rewards, Environment) read NULL
// as "". ContainerID is a pointer because it is a foreign key: NULL, not 0,
// means "no container".
type Node struct {
	ID              int
	MachineID       int // 0 is written as 1, upstream's default
	ContainerID     *int
	ManagerType     string
	NodeName        string
	Service         string
	User            string
	Binary          string
	Version         string // nullable
	RootDir         string
	LogDir          string // nullable
	Port            int
	MetricsPort     int
	RPCPort         int
	Network         string
	Wallet          string // nullable
	PeerID          string // nullable
	Status          Status
	Timestamp       int64 // epoch seconds of the last status write
	Records         int64
	Uptime          int64
	Shunned         int64
	ConnectedPeers  int64
	Gets            int64
	Puts            int64
	Mem             int64 // MB × 100
	CPU             int64 // percent × 100
	OpenConnections int64
	TotalPeers      int64
	BadPeers        int64
	RelRecords      int64
	MaxRecords      int64
	Rewards         string // nullable; decimal text
	PaymentCount    int64
	LiveTime        int64
	NetworkSize     int64
	Age             int64 // epoch seconds of the node's birth
	Host            string
	Method          string
	Layout          string
	Environment     string // nullable

	// wnm additions.
	WNMIntent   string // what an action is about to do; "" when none
	WNMIntentAt int64  // when WNMIntent was written, unix milliseconds
	// NoUPnP is 1 or 0 when the node's own unit said whether to pass --no-upnp (an adopted node
	// keeps what it had); nil means the machine's no_upnp applies.
	NoUPnP *int
}

// Cycle is one row of the cycle table: what one worker cycle saw, planned and
// did. Host figures are NaN when they were not measured (stored as NULL).
// Plan, Results and Changes are JSON marshalled by the caller; nil is stored
// as an empty string and read back as nil.
type Cycle struct {
	ID           int64 // assigned by RecordCycle
	StartedAt    int64 // unix milliseconds; also the "now" that pruning measures age from
	DurationMS   int64
	CPUPercent   float64
	MemPercent   float64
	DiskPercent  float64
	Load1        float64
	Load5        float64
	Load15       float64
	DiskReadBps  float64
	DiskWriteBps float64
	NetRecvBps   float64
	NetSendBps   float64
	NodeCount    int
	Plan         json.RawMessage // the actions with their reasons
	Results      json.RawMessage // per-action results
	Changes      json.RawMessage // nodes whose state changed
	DryRun       bool
	Error        string
}
