// Package config owns wnm's settings: their names, types, defaults and units, the layers they come
// from (command line, environment, .env, config files, the database, defaults) and the rules that
// validate them. It resolves a [Config] and reports which settings were supplied, so the caller can
// persist exactly those. It does no I/O beyond reading the files and environment it is given, and it
// never writes the database.
//
// [Settings] is the one table of settings: the command-line flags, the environment and file layers,
// the defaults, validation, the machine-row mapping and `wnm config show` are all driven from it.
// Adding a setting is one entry there, one field of [Config] tagged with its name, and its use.
//
// Setting names are wnm-python's snake_case names, so its users' flags, environment variables and
// config files keep working. Environment variables are WNM_<NAME> (upper case) and, for compatibility,
// the bare upper-case name, except for HOST, ENVIRONMENT, COUNT, INTERVAL, REPORT and DRY_RUN: those
// are ordinary shell or container variables, so only their WNM_ form is read.
package config

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Kind is the type of a setting's value.
type Kind int

// The kinds of setting values.
const (
	Int       Kind = iota // a whole number
	Float                 // a decimal number
	String                // free text
	Bool                  // true|yes|on|1 or false|no|off|0
	Path                  // a path, absolute after ~ and $VAR expansion
	PortStart             // a port range start in thousands; a multiple of 1000 is divided by 1000
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

// Setting describes one configuration setting: everything wnm knows about it is here.
type Setting struct {
	Name string // snake_case, as in wnm-python: the flag, config-file key and (by default) machine column
	Kind Kind
	Help string // one sentence, capitalised, no trailing period
	Unit string // "%", "seconds", "bytes/s", … or ""

	// Default is the built-in value (an int, float64, bool or string as Kind says); nil is the zero
	// value. PlatformDefault, when set, computes it from the platform instead, and DefaultHelp says
	// in --help what it is.
	Default         any
	PlatformDefault func(Platform) any
	DefaultHelp     string

	// Persist settings are stored in the machine row, in Column (the setting's name when empty).
	Persist bool
	Column  string
	// UnsetInRow means a zero or NULL column was never set (an older or adopted database): it reads
	// as the default.
	UnsetInRow bool
	// Immutable settings cannot change once the machine is initialised.
	Immutable bool

	// PrefixOnly settings are read from the environment only as WNM_<NAME>: their bare names
	// collide with ordinary shell variables.
	PrefixOnly bool
	// Hidden settings are accepted but not listed in --help.
	Hidden bool

	// Check returns what is wrong with a parsed value (the text after "name: "), or "" when it is
	// acceptable. Rules that span settings are in [Config.Validate].
	Check func(v any) string
}

// ColumnName returns the machine column that stores s, or "" when s is not persisted.
func (s Setting) ColumnName() string {
	switch {
	case !s.Persist:
		return ""
	case s.Column != "":
		return s.Column
	default:
		return s.Name
	}
}

// DefaultFor returns the default value of s on p.
func (s Setting) DefaultFor(p Platform) any {
	if s.PlatformDefault != nil {
		return s.PlatformDefault(p)
	}
	if s.Default != nil {
		return s.Default
	}
	switch s.Kind {
	case Int, PortStart:
		return 0
	case Float:
		return 0.0
	case Bool:
		return false
	default:
		return ""
	}
}

// Group is the --help section of s: stored settings, or settings of this run.
func (s Setting) Group() string {
	if s.Persist {
		return "settings"
	}
	return "run"
}

// The reusable value checks.
var (
	percent     = intCheck(func(v int) string { return cond(v < 0 || v > 100, "%d is not a percentage from 0 to 100", v) })
	nonNegative = intCheck(func(v int) string { return cond(v < 0, "%d must not be negative", v) })
	atLeastOne  = intCheck(func(v int) string { return cond(v < 1, "%d must be at least 1", v) })
	positive    = func(v any) string { f := v.(float64); return cond(f <= 0, "%g must be greater than 0", f) }
	noControl   = func(v any) string {
		s := v.(string)
		return cond(hasControl(s), "%s contains a control character", quote(s))
	}
	absPath = func(v any) string { return checkPath(v.(string)) }
	// optionalPath is an absolute path or empty (off).
	optionalPath = func(v any) string {
		if v.(string) == "" {
			return ""
		}
		return checkPath(v.(string))
	}
)

func intCheck(f func(int) string) func(any) string { return func(v any) string { return f(v.(int)) } }

func cond(bad bool, format string, a ...any) string {
	if !bad {
		return ""
	}
	return fmt.Sprintf(format, a...)
}

func cpus(p Platform) float64 { return float64(max(p.CPUCount, 1)) }

// Settings lists every setting wnm reads from the command line, environment and config files, in
// the order help shows them.
var Settings = []Setting{
	{Name: "node_cap", Kind: Int, Help: "Maximum number of nodes on this machine", Unit: "nodes", Persist: true, Default: 20, Check: nonNegative},
	{Name: "cpu_less_than", Kind: Int, Help: "Add nodes only while used CPU is below this", Unit: "%", Persist: true, Default: 50, Check: percent},
	{Name: "cpu_remove", Kind: Int, Help: "Shed nodes while used CPU is above this", Unit: "%", Persist: true, Default: 70, Check: percent},
	{Name: "mem_less_than", Kind: Int, Help: "Add nodes only while used memory is below this", Unit: "%", Persist: true, Default: 60, Check: percent},
	{Name: "mem_remove", Kind: Int, Help: "Shed nodes while used memory is above this", Unit: "%", Persist: true, Default: 75, Check: percent},
	{Name: "hd_less_than", Kind: Int, Help: "Add nodes only while the node storage disk is used below this", Unit: "%", Persist: true, Default: 75, Check: percent},
	{Name: "hd_remove", Kind: Int, Help: "Remove nodes while the node storage disk is used above this", Unit: "%", Persist: true, Default: 90, Check: percent},
	{Name: "hdio_read_less_than", Kind: Int, Help: "Add nodes only while disk reads are below this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "hdio_read_remove", Kind: Int, Help: "Shed nodes while disk reads are above this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "hdio_write_less_than", Kind: Int, Help: "Add nodes only while disk writes are below this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "hdio_write_remove", Kind: Int, Help: "Shed nodes while disk writes are above this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "netio_read_less_than", Kind: Int, Help: "Add nodes only while network receive is below this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "netio_read_remove", Kind: Int, Help: "Shed nodes while network receive is above this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "netio_write_less_than", Kind: Int, Help: "Add nodes only while network send is below this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "netio_write_remove", Kind: Int, Help: "Shed nodes while network send is above this (0 turns it off)", Unit: "bytes/s", Persist: true, Check: nonNegative},
	{Name: "max_load_average_allowed", Kind: Float, Help: "Shed nodes while any load average is above this", Persist: true, Check: positive,
		PlatformDefault: func(p Platform) any { return cpus(p) }, DefaultHelp: "the number of CPUs"},
	{Name: "desired_load_average", Kind: Float, Help: "Add nodes only while every load average is below this", Persist: true, Check: positive,
		PlatformDefault: func(p Platform) any { return cpus(p) * 0.6 }, DefaultHelp: "0.6 × the number of CPUs"},
	{Name: "delay_start", Kind: Int, Help: "Leave a started node alone this long before checking it", Unit: "seconds", Persist: true, Default: 300, Check: nonNegative},
	{Name: "delay_restart", Kind: Int, Help: "Wait this long after a stop before restarting (stored for compatibility)", Unit: "seconds", Persist: true, Default: 600, Check: nonNegative},
	{Name: "delay_upgrade", Kind: Int, Help: "Leave an upgraded node alone this long before checking it", Unit: "seconds", Persist: true, Default: 300, Check: nonNegative},
	{Name: "delay_remove", Kind: Int, Help: "Keep a removed node's record this long as a cooldown", Unit: "seconds", Persist: true, Default: 300, Check: nonNegative},
	{Name: "survey_delay", Kind: Int, Help: "Pause between node polls in a survey", Unit: "milliseconds", Persist: true, Check: nonNegative},
	{Name: "action_delay", Kind: Int, Help: "Pause between node operations of one forced action", Unit: "milliseconds", Persist: true, Check: nonNegative},
	{Name: "max_concurrent_upgrades", Kind: Int, Help: "Upgrades in progress at once", Unit: "nodes", Persist: true, Default: 1, Check: atLeastOne},
	{Name: "max_concurrent_starts", Kind: Int, Help: "Starts and adds in progress at once", Unit: "nodes", Persist: true, Default: 1, Check: atLeastOne},
	{Name: "max_concurrent_removals", Kind: Int, Help: "Removals in progress at once", Unit: "nodes", Persist: true, Default: 1, Check: atLeastOne},
	{Name: "max_concurrent_operations", Kind: Int, Help: "Operations of any kind in progress at once", Unit: "nodes", Persist: true, Default: 1, Check: atLeastOne},
	{Name: "node_storage", Kind: Path, Help: "Directory holding the node directories", Persist: true, Check: absPath,
		PlatformDefault: func(p Platform) any { return p.Dirs().NodeStorage }, DefaultHelp: "/var/antctl/services as root, else ~/.local/share/autonomi/node"},
	{Name: "rewards_address", Kind: String, Help: "Rewards address, or a weighted list such as 0xA…:100,faucet:1,donate:10", Persist: true,
		DefaultHelp: "none; required by init", Check: noControl},
	{Name: "donate_address", Kind: String, Help: "Address the name donate stands for in rewards_address", Persist: true, Default: Faucet, Check: checkDonate},
	{Name: "port_start", Kind: PortStart, Help: "Node UDP ports start at this times 1000, plus the node id (fixed at init)", Unit: "thousands", Persist: true, Immutable: true, Default: 55},
	{Name: "metrics_port_start", Kind: PortStart, Help: "Metrics ports start at this times 1000, plus the node id (fixed at init)", Unit: "thousands", Persist: true, Immutable: true, Default: 13},
	{Name: "rpc_port_start", Kind: PortStart, Help: "RPC ports start at this times 1000, plus the node id (fixed at init)", Unit: "thousands", Persist: true, Immutable: true, Default: 30},
	{Name: "process_manager", Kind: String, Help: "How nodes run: systemd+sudo, systemd+user, setsid+sudo, setsid+user, launchd+sudo or launchd+user (fixed at init)",
		Persist: true, Immutable: true, UnsetInRow: true, Check: checkManager,
		PlatformDefault: func(p Platform) any { return p.DefaultManager() }, DefaultHelp: "systemd+user (launchd+user on macOS; +sudo when run as root)"},
	{Name: "highest_node_id_used", Kind: Int, Help: "Highest node id handed out so far (antctl compatibility)", Persist: true, Check: nonNegative},
	{Name: "crisis_bytes", Kind: Int, Help: "Expected disk use per node, for the disk forecast", Unit: "bytes", Persist: true, Default: 2_000_000_000, Check: nonNegative},
	{Name: "host", Kind: String, Help: "Address used to reach the nodes' metrics ports", Persist: true, PrefixOnly: true, Default: "127.0.0.1", Check: checkHost},
	{Name: "environment", Kind: String, Help: "Environment for antnode, as space-separated KEY=VALUE pairs", Persist: true, PrefixOnly: true, Check: checkEnvironment},
	{Name: "start_args", Kind: String, Help: "Extra antnode arguments (stored for compatibility)", Persist: true, Check: noControl},
	{Name: "no_upnp", Kind: Bool, Help: "Start nodes with --no-upnp", Persist: true},
	{Name: "antnode_path", Kind: Path, Help: "The antnode binary that new and upgraded nodes get a copy of; its version is the latest", Persist: true,
		UnsetInRow: true, Check: absPath, PlatformDefault: func(p Platform) any { return filepath.Join(p.Home, ".local/bin/antnode") }},
	{Name: "antctl_path", Kind: Path, Help: "The antctl binary (antctl compatibility)", Persist: true,
		UnsetInRow: true, Check: absPath, PlatformDefault: func(p Platform) any { return filepath.Join(p.Home, ".local/bin/antctl") }},
	{Name: "antctl_debug", Kind: Bool, Help: "Pass --debug to antctl (antctl compatibility)", Persist: true},
	{Name: "antctl_version", Kind: String, Help: "Version pin for antctl (antctl compatibility)", Persist: true, Check: noControl},
	{Name: "survey_timeout", Kind: Int, Help: "Timeout of each request to a node's metrics port", Unit: "milliseconds", Persist: true, Column: "survey_timeout_ms",
		UnsetInRow: true, Default: 2000, Check: intCheck(func(v int) string { return cond(v < 100 || v > 60000, "%d ms is outside 100 to 60000", v) })},
	{Name: "survey_concurrency", Kind: Int, Help: "Nodes polled at once during a survey", Unit: "nodes", Persist: true,
		UnsetInRow: true, Default: 32, Check: intCheck(func(v int) string {
			return cond(v < 1, "%d must be at least 1", v) + cond(v > 1024, "%d is more than 1024", v)
		})},

	// Settings for this run only.
	{Name: "dbpath", Kind: Path, Help: "Database file (a path or a sqlite:/// URL)", Check: absPath,
		PlatformDefault: func(p Platform) any { return filepath.Join(p.Dirs().Base, "colony.db") }, DefaultHelp: "colony.db in /var/antctl as root, else ~/.local/share/autonomi"},
	{Name: "loglevel", Kind: String, Help: "Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL", Default: "INFO", Check: checkLogLevel},
	{Name: "dry_run", Kind: Bool, Help: "Plan and log only: change nothing on the system or in the database", PrefixOnly: true},
	{Name: "this_survey_delay", Kind: Int, Help: "Override survey_delay for this run only", Unit: "milliseconds", Check: nonNegative},
	{Name: "this_action_delay", Kind: Int, Help: "Override action_delay for this run only", Unit: "milliseconds", Check: nonNegative},
	{Name: "interval", Kind: Int, Help: "Same as this_action_delay (antctl style); wins over it", Unit: "milliseconds", PrefixOnly: true, Check: nonNegative},
	{Name: "last_stopped_at", Kind: Int, Help: "Accepted for compatibility and ignored", Unit: "epoch seconds", Hidden: true},
	{Name: "rust_backtrace", Kind: String, Help: "RUST_BACKTRACE for antctl (antctl compatibility)", PrefixOnly: true, Hidden: true, Check: noControl},
	{Name: "textfile_dir", Kind: Path, Help: "Directory where each cycle writes wnm.prom for node_exporter's textfile collector; empty writes none",
		Check: optionalPath},
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

// MustLookup returns the setting named name, which must exist.
func MustLookup(name string) Setting {
	s, ok := Lookup(name)
	if !ok {
		panic("config: no setting " + name)
	}
	return s
}

// EnvNames returns the environment variable names read for s, most specific first.
func (s Setting) EnvNames() []string {
	up := strings.ToUpper(s.Name)
	if s.PrefixOnly {
		return []string{"WNM_" + up}
	}
	return []string{"WNM_" + up, up}
}
