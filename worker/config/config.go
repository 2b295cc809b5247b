package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Config is the resolved value of every setting. Fields carry the setting name in their `setting`
// tag; [Settings] documents them.
type Config struct {
	NodeCap            int     `setting:"node_cap"`
	CPULessThan        int     `setting:"cpu_less_than"`
	CPURemove          int     `setting:"cpu_remove"`
	MemLessThan        int     `setting:"mem_less_than"`
	MemRemove          int     `setting:"mem_remove"`
	HDLessThan         int     `setting:"hd_less_than"`
	HDRemove           int     `setting:"hd_remove"`
	HDIOReadLessThan   int     `setting:"hdio_read_less_than"`
	HDIOReadRemove     int     `setting:"hdio_read_remove"`
	HDIOWriteLessThan  int     `setting:"hdio_write_less_than"`
	HDIOWriteRemove    int     `setting:"hdio_write_remove"`
	NetIOReadLessThan  int     `setting:"netio_read_less_than"`
	NetIOReadRemove    int     `setting:"netio_read_remove"`
	NetIOWriteLessThan int     `setting:"netio_write_less_than"`
	NetIOWriteRemove   int     `setting:"netio_write_remove"`
	MaxLoadAverage     float64 `setting:"max_load_average_allowed"`
	DesiredLoadAverage float64 `setting:"desired_load_average"`
	DelayStart         int     `setting:"delay_start"`
	DelayRestart       int     `setting:"delay_restart"`
	DelayUpgrade       int     `setting:"delay_upgrade"`
	DelayRemove        int     `setting:"delay_remove"`
	SurveyDelay        int     `setting:"survey_delay"`
	ActionDelay        int     `setting:"action_delay"`
	MaxUpgrades        int     `setting:"max_concurrent_upgrades"`
	MaxStarts          int     `setting:"max_concurrent_starts"`
	MaxRemovals        int     `setting:"max_concurrent_removals"`
	MaxOperations      int     `setting:"max_concurrent_operations"`
	NodeStorage        string  `setting:"node_storage"`
	RewardsAddress     string  `setting:"rewards_address"`
	DonateAddress      string  `setting:"donate_address"`
	PortStart          int     `setting:"port_start"`
	MetricsPortStart   int     `setting:"metrics_port_start"`
	RPCPortStart       int     `setting:"rpc_port_start"`
	ProcessManager     string  `setting:"process_manager"`
	HighestNodeIDUsed  int     `setting:"highest_node_id_used"` // 0 means never set
	CrisisBytes        int     `setting:"crisis_bytes"`
	Host               string  `setting:"host"`
	Environment        string  `setting:"environment"`
	StartArgs          string  `setting:"start_args"`
	NoUPnP             bool    `setting:"no_upnp"`
	AntnodePath        string  `setting:"antnode_path"`
	AntctlPath         string  `setting:"antctl_path"`
	AntctlDebug        bool    `setting:"antctl_debug"`
	AntctlVersion      string  `setting:"antctl_version"`
	SurveyTimeout      int     `setting:"survey_timeout"`
	SurveyConcurrency  int     `setting:"survey_concurrency"`

	DBPath          string `setting:"dbpath"`
	LogLevel        string `setting:"loglevel"`
	DryRun          bool   `setting:"dry_run"`
	ThisSurveyDelay int    `setting:"this_survey_delay"`
	ThisActionDelay int    `setting:"this_action_delay"`
	Interval        int    `setting:"interval"`
	LastStoppedAt   int    `setting:"last_stopped_at"`
	RustBacktrace   string `setting:"rust_backtrace"`
	TextfileDir     string `setting:"textfile_dir"`
}

// fieldIndex maps each setting name to the index of its field in Config, built on first use.
var fieldIndex = sync.OnceValue(func() map[string]int {
	t := reflect.TypeFor[Config]()
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if name := t.Field(i).Tag.Get("setting"); name != "" {
			m[name] = i
		}
	}
	return m
})

// field returns the addressable field of c that holds setting name.
func (c *Config) field(name string) reflect.Value {
	i, ok := fieldIndex()[name]
	if !ok {
		panic("config: no field for setting " + name)
	}
	return reflect.ValueOf(c).Elem().Field(i)
}

// Get returns the value of setting name in its canonical text form.
func (c *Config) Get(name string) string {
	f := c.field(name)
	switch f.Kind() {
	case reflect.Int:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(f.Float(), 'f', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	default:
		return f.String()
	}
}

// Value returns the typed value of setting name (int, float64, bool or string).
func (c *Config) Value(name string) any { return c.field(name).Interface() }

// Set parses raw as the value of setting s and stores it. The error names the setting and the value.
func (c *Config) Set(s Setting, raw string, home string) error {
	v, err := Parse(s, raw, home)
	if err != nil {
		return err
	}
	c.SetValue(s.Name, v)
	return nil
}

// SetValue stores v, which must be of the setting's Go type (int, float64, bool or string).
func (c *Config) SetValue(name string, v any) { c.field(name).Set(reflect.ValueOf(v)) }

// Parse converts raw to the Go value of setting s: int, float64, bool or string. Every value is
// trimmed at both ends first, as an unquoted .env value is (so trailing whitespace never belongs to
// a path). Paths are expanded (~ and $VAR; an unset variable is an error), otherwise kept as written
// (not cleaned, so the printed form parses back to the same path), and must be absolute; port
// starts are given in thousands (55) or as an exact multiple of 1000 (55000), which is divided by
// 1000.
func Parse(s Setting, raw string, home string) (any, error) {
	raw = strings.TrimSpace(raw)
	bad := func(what string) error {
		return fmt.Errorf("%s: %q is not %s", s.Name, raw, what)
	}
	switch s.Kind {
	case Int:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n > math.MaxInt32*int64(1<<20) || n < -math.MaxInt32 {
			return nil, bad("a whole number")
		}
		return int(n), nil
	case PortStart:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 || n > 65535 || n >= 1000 && n%1000 != 0 {
			return nil, bad("a port range start (thousands such as 55, or a multiple of 1000 such as 55000)")
		}
		if n >= 1000 {
			n /= 1000
		}
		return int(n), nil
	case Float:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad("a number")
		}
		return f, nil
	case Bool:
		switch strings.ToLower(raw) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
		return nil, bad("a boolean (true, yes, on, 1, false, no, off or 0)")
	case Path:
		if raw == "" {
			return "", nil
		}
		if s.Name == "dbpath" {
			raw = strings.TrimPrefix(raw, "sqlite:///")
		}
		p, err := expandStrict(raw, home)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", s.Name, Printable(raw), err)
		}
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("%s: %q is not an absolute path (after ~ and $VAR expansion it is %q)", s.Name, raw, p)
		}
		return p, nil
	default:
		return raw, nil
	}
}
