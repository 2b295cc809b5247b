// Package config owns wnm's settings: their names, types, defaults and units, the layers they come
// from (command line, environment, .env, config files, the database, defaults) and the rules that
// validate them. It resolves a [Config] and reports which settings were supplied, so the caller can
// persist exactly those. It does no I/O beyond reading the files and environment it is given, and it
// never writes the database.
//
// Setting names are wnm-python's snake_case names, so its users' flags, environment variables and
// config files keep working. Environment variables are WNM_<NAME> (upper case) and, for compatibility,
// the bare upper-case name, except for HOST, ENVIRONMENT, COUNT, INTERVAL, REPORT and DRY_RUN: those
// are ordinary shell or container variables, so only their WNM_ form is read.
package config

import "strings"

// Kind is the type of a setting's value.
type Kind int

// The kinds of setting values.
const (
	Int       Kind = iota // a whole number
	Float                 // a decimal number
	String                // free text
	Bool                  // true|yes|on|1 or false|no|off|0
	Path                  // a path, absolute after ~ and $VAR expansion
	PortStart             // a port range start in thousands; values ≥ 1000 are divided by 1000
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "INT"
	case Float:
		return "FLOAT"
	case Bool:
		return "BOOL"
	case Path:
		return "PATH"
	case PortStart:
		return "THOUSANDS"
	default:
		return "STRING"
	}
}

// Setting describes one configuration setting.
type Setting struct {
	Name      string // snake_case, as in wnm-python: the flag, config-file key and machine column
	Kind      Kind
	Help      string // one sentence, capitalised, no trailing period
	Unit      string // "%", "seconds", "bytes/s", … or ""
	Persist   bool   // stored in the machine row
	Immutable bool   // cannot change once the machine is initialised
	// PrefixOnly settings are read from the environment only as WNM_<NAME>: their bare names
	// collide with ordinary shell variables.
	PrefixOnly bool
}

// Settings lists every setting wnm reads from the command line, environment and config files, in
// the order help shows them.
var Settings = []Setting{
	{Name: "node_cap", Kind: Int, Help: "Maximum number of nodes on this machine", Unit: "nodes", Persist: true},
	{Name: "cpu_less_than", Kind: Int, Help: "Add nodes only while used CPU is below this", Unit: "%", Persist: true},
	{Name: "cpu_remove", Kind: Int, Help: "Shed nodes while used CPU is above this", Unit: "%", Persist: true},
	{Name: "mem_less_than", Kind: Int, Help: "Add nodes only while used memory is below this", Unit: "%", Persist: true},
	{Name: "mem_remove", Kind: Int, Help: "Shed nodes while used memory is above this", Unit: "%", Persist: true},
	{Name: "hd_less_than", Kind: Int, Help: "Add nodes only while the node storage disk is used below this", Unit: "%", Persist: true},
	{Name: "hd_remove", Kind: Int, Help: "Remove nodes while the node storage disk is used above this", Unit: "%", Persist: true},
	{Name: "hdio_read_less_than", Kind: Int, Help: "Add nodes only while disk reads are below this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "hdio_read_remove", Kind: Int, Help: "Shed nodes while disk reads are above this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "hdio_write_less_than", Kind: Int, Help: "Add nodes only while disk writes are below this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "hdio_write_remove", Kind: Int, Help: "Shed nodes while disk writes are above this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "netio_read_less_than", Kind: Int, Help: "Add nodes only while network receive is below this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "netio_read_remove", Kind: Int, Help: "Shed nodes while network receive is above this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "netio_write_less_than", Kind: Int, Help: "Add nodes only while network send is below this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "netio_write_remove", Kind: Int, Help: "Shed nodes while network send is above this (0 turns it off)", Unit: "bytes/s", Persist: true},
	{Name: "max_load_average_allowed", Kind: Float, Help: "Shed nodes while any load average is above this", Persist: true},
	{Name: "desired_load_average", Kind: Float, Help: "Add nodes only while every load average is below this", Persist: true},
	{Name: "delay_start", Kind: Int, Help: "Leave a started node alone this long before checking it", Unit: "seconds", Persist: true},
	{Name: "delay_restart", Kind: Int, Help: "Wait this long after a stop before restarting (stored for compatibility)", Unit: "seconds", Persist: true},
	{Name: "delay_upgrade", Kind: Int, Help: "Leave an upgraded node alone this long before checking it", Unit: "seconds", Persist: true},
	{Name: "delay_remove", Kind: Int, Help: "Keep a removed node's record this long as a cooldown", Unit: "seconds", Persist: true},
	{Name: "survey_delay", Kind: Int, Help: "Pause between node polls in a survey", Unit: "milliseconds", Persist: true},
	{Name: "action_delay", Kind: Int, Help: "Pause between node operations of one forced action", Unit: "milliseconds", Persist: true},
	{Name: "max_concurrent_upgrades", Kind: Int, Help: "Upgrades in progress at once", Unit: "nodes", Persist: true},
	{Name: "max_concurrent_starts", Kind: Int, Help: "Starts and adds in progress at once", Unit: "nodes", Persist: true},
	{Name: "max_concurrent_removals", Kind: Int, Help: "Removals in progress at once", Unit: "nodes", Persist: true},
	{Name: "max_concurrent_operations", Kind: Int, Help: "Operations of any kind in progress at once", Unit: "nodes", Persist: true},
	{Name: "node_storage", Kind: Path, Help: "Directory holding the node directories", Persist: true},
	{Name: "rewards_address", Kind: String, Help: "Rewards address, or a weighted list such as 0xA…:100,faucet:1,donate:10", Persist: true},
	{Name: "donate_address", Kind: String, Help: "Address the name donate stands for in rewards_address", Persist: true},
	{Name: "port_start", Kind: PortStart, Help: "Node UDP ports start at this times 1000, plus the node id (fixed at init)", Unit: "thousands", Persist: true, Immutable: true},
	{Name: "metrics_port_start", Kind: PortStart, Help: "Metrics ports start at this times 1000, plus the node id (fixed at init)", Unit: "thousands", Persist: true, Immutable: true},
	{Name: "rpc_port_start", Kind: PortStart, Help: "RPC ports start at this times 1000, plus the node id (fixed at init)", Unit: "thousands", Persist: true, Immutable: true},
	{Name: "process_manager", Kind: String, Help: "How nodes run: systemd+sudo, systemd+user, setsid+sudo, setsid+user, launchd+sudo or launchd+user (fixed at init)", Persist: true, Immutable: true},
	{Name: "highest_node_id_used", Kind: Int, Help: "Highest node id handed out so far (antctl compatibility)", Persist: true},
	{Name: "crisis_bytes", Kind: Int, Help: "Expected disk use per node, for the disk forecast", Unit: "bytes", Persist: true},
	{Name: "host", Kind: String, Help: "Address used to reach the nodes' metrics ports", Persist: true, PrefixOnly: true},
	{Name: "environment", Kind: String, Help: "Environment for antnode, as space-separated KEY=VALUE pairs", Persist: true, PrefixOnly: true},
	{Name: "start_args", Kind: String, Help: "Extra antnode arguments (stored for compatibility)", Persist: true},
	{Name: "no_upnp", Kind: Bool, Help: "Start nodes with --no-upnp", Persist: true},
	{Name: "antnode_path", Kind: Path, Help: "The antnode binary that new and upgraded nodes get a copy of; its version is the latest", Persist: true},
	{Name: "antctl_path", Kind: Path, Help: "The antctl binary (antctl compatibility)", Persist: true},
	{Name: "antctl_debug", Kind: Bool, Help: "Pass --debug to antctl (antctl compatibility)", Persist: true},
	{Name: "antctl_version", Kind: String, Help: "Version pin for antctl (antctl compatibility)", Persist: true},
	{Name: "survey_timeout", Kind: Int, Help: "Timeout of each request to a node's metrics port", Unit: "milliseconds", Persist: true},
	{Name: "survey_concurrency", Kind: Int, Help: "Nodes polled at once during a survey", Unit: "nodes", Persist: true},

	// Settings for this run only.
	{Name: "dbpath", Kind: Path, Help: "Database file (a path or a sqlite:/// URL)"},
	{Name: "loglevel", Kind: String, Help: "Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL"},
	{Name: "dry_run", Kind: Bool, Help: "Plan and log only: change nothing on the system or in the database", PrefixOnly: true},
	{Name: "this_survey_delay", Kind: Int, Help: "Override survey_delay for this run only", Unit: "milliseconds"},
	{Name: "this_action_delay", Kind: Int, Help: "Override action_delay for this run only", Unit: "milliseconds"},
	{Name: "interval", Kind: Int, Help: "Same as this_action_delay (antctl style); wins over it", Unit: "milliseconds", PrefixOnly: true},
	{Name: "last_stopped_at", Kind: Int, Help: "Accepted for compatibility and ignored", Unit: "epoch seconds"},
	{Name: "rust_backtrace", Kind: String, Help: "RUST_BACKTRACE for antctl (antctl compatibility)", PrefixOnly: true},
	{Name: "textfile_dir", Kind: Path, Help: "Directory where each cycle writes wnm.prom for node_exporter's textfile collector; empty writes none"},
}

// Lookup returns the setting named name, accepting the kebab-case spelling too.
func Lookup(name string) (Setting, bool) {
	name = strings.ReplaceAll(strings.TrimSpace(name), "-", "_")
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// EnvNames returns the environment variable names read for s, most specific first.
func (s Setting) EnvNames() []string {
	up := strings.ToUpper(s.Name)
	if s.PrefixOnly {
		return []string{"WNM_" + up}
	}
	return []string{"WNM_" + up, up}
}
