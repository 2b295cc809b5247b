package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
)

const addr = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

func testPlatform(t *testing.T) Platform {
	return Platform{OS: "linux", Mode: gen.ModeUser, Home: t.TempDir(), CPUCount: 4}
}

func write(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrecedence proves every layer's rank for one setting of each type: an int (node_cap), a
// float (desired_load_average), a string (rewards_address) and a bool (no_upnp).
func TestPrecedence(t *testing.T) {
	p := testPlatform(t)
	db := Defaults(p)
	db.NodeCap, db.DesiredLoadAverage, db.RewardsAddress, db.NoUPnP = 1, 1.5, "faucet", false

	// Each layer sets a distinct value: layer i uses values[i].
	type vals struct{ cap, load, addr, upnp string }
	values := map[Layer]vals{
		LayerFile:   {"3", "3.5", "0x00000000000000000000000000000000000000a3", "true"},
		LayerDotEnv: {"4", "4.5", "0x00000000000000000000000000000000000000a4", "false"},
		LayerEnv:    {"5", "5.5", "0x00000000000000000000000000000000000000a5", "true"},
		LayerFlag:   {"6", "6.5", "0x00000000000000000000000000000000000000a6", "false"},
	}
	for top := LayerDatabase; top <= LayerFlag; top++ {
		t.Run(top.String(), func(t *testing.T) {
			src := Sources{Flags: map[string]string{}}
			if top >= LayerFile {
				v := values[LayerFile]
				src.Files = []string{write(t, filepath.Join(t.TempDir(), "config"), "# comment\nnode_cap = "+v.cap+"\ndesired_load_average: "+v.load+"\nrewards_address="+v.addr+"\nno_upnp = "+v.upnp+"\n")}
			}
			if top >= LayerDotEnv {
				v := values[LayerDotEnv]
				src.DotEnv = write(t, filepath.Join(t.TempDir(), ".env"), "NODE_CAP="+v.cap+"\nexport DESIRED_LOAD_AVERAGE=\""+v.load+"\"\nREWARDS_ADDRESS='"+v.addr+"'\nNO_UPNP="+v.upnp+"\n")
			}
			if top >= LayerEnv {
				v := values[LayerEnv]
				src.Environ = []string{"WNM_NODE_CAP=" + v.cap, "DESIRED_LOAD_AVERAGE=" + v.load, "WNM_REWARDS_ADDRESS=" + v.addr, "NO_UPNP=" + v.upnp}
			}
			if top >= LayerFlag {
				v := values[LayerFlag]
				src.Flags = map[string]string{"node_cap": v.cap, "desired_load_average": v.load, "rewards_address": v.addr, "no_upnp": v.upnp}
			}
			r, err := Resolve(src, db, true, p.Home)
			if err != nil {
				t.Fatal(err)
			}
			want := vals{"1", "1.5", "faucet", "false"}
			if top >= LayerFile {
				want = values[top]
			}
			got := vals{r.Get("node_cap"), r.Get("desired_load_average"), r.Get("rewards_address"), r.Get("no_upnp")}
			if got != want {
				t.Errorf("with layers up to %s: got %+v, want %+v", top, got, want)
			}
			if o := r.Origins["node_cap"]; o.Layer != top {
				t.Errorf("node_cap origin = %v, want %v", o.Layer, top)
			}
		})
	}
}

func TestDefaultsWhenNothingSupplied(t *testing.T) {
	p := testPlatform(t)
	r, err := Resolve(Sources{}, Defaults(p), false, p.Home)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range []string{"cpu_less_than", "cpu_remove", "mem_less_than", "mem_remove", "hd_less_than", "hd_remove", "node_cap",
		"delay_start", "delay_restart", "delay_upgrade", "delay_remove", "port_start", "metrics_port_start", "rpc_port_start",
		"max_load_average_allowed", "desired_load_average", "node_storage", "dbpath", "process_manager"} {
		got[n] = r.Get(n)
	}
	want := map[string]string{"cpu_less_than": "50", "cpu_remove": "70", "mem_less_than": "60", "mem_remove": "75",
		"hd_less_than": "75", "hd_remove": "90", "node_cap": "20", "delay_start": "300", "delay_restart": "600",
		"delay_upgrade": "300", "delay_remove": "300", "port_start": "55", "metrics_port_start": "13", "rpc_port_start": "30",
		"max_load_average_allowed": "4", "desired_load_average": "2.4",
		"node_storage": p.Home + "/.local/share/autonomi/node", "dbpath": p.Home + "/.local/share/autonomi/colony.db",
		"process_manager": "systemd+user"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
	if s := r.Supplied(); len(s) != 0 {
		t.Errorf("Supplied() = %v, want none", s)
	}
}

func TestSudoDirs(t *testing.T) {
	for _, tc := range []struct {
		os   string
		mode gen.Mode
		want Dirs
	}{
		{"linux", gen.ModeSudo, Dirs{"/var/antctl", "/var/antctl/services", "/var/log/antnode", "/var/antctl/bootstrap-cache"}},
		{"linux", gen.ModeUser, Dirs{"/h/.local/share/autonomi", "/h/.local/share/autonomi/node", "/h/.local/share/autonomi/logs", "/h/.local/share/autonomi/bootstrap-cache"}},
		{"darwin", gen.ModeSudo, Dirs{"/Library/Application Support/autonomi", "/Library/Application Support/autonomi/node", "/Library/Logs/autonomi", "/Library/Caches/autonomi/bootstrap-cache"}},
		{"darwin", gen.ModeUser, Dirs{"/h/Library/Application Support/autonomi", "/h/Library/Application Support/autonomi/node", "/h/Library/Logs/autonomi", "/h/Library/Caches/autonomi/bootstrap-cache"}},
		{"freebsd", gen.ModeUser, Dirs{"/h/autonomi", "/h/autonomi/node", "/h/autonomi/logs", "/h/autonomi/bootstrap-cache"}},
	} {
		if got := (Platform{OS: tc.os, Mode: tc.mode, Home: "/h"}).Dirs(); got != tc.want {
			t.Errorf("%s/%s: Dirs() = %+v, want %+v", tc.os, tc.mode, got, tc.want)
		}
	}
}

func TestEnvNames(t *testing.T) {
	p := testPlatform(t)
	tests := []struct {
		name    string
		environ []string
		setting string
		want    string
	}{
		{"bare name", []string{"CPU_LESS_THAN=33"}, "cpu_less_than", "33"},
		{"prefixed name", []string{"WNM_CPU_LESS_THAN=34"}, "cpu_less_than", "34"},
		{"prefixed beats bare", []string{"CPU_LESS_THAN=33", "WNM_CPU_LESS_THAN=34"}, "cpu_less_than", "34"},
		{"bare HOST is ignored", []string{"HOST=myshell"}, "host", "127.0.0.1"},
		{"WNM_HOST is read", []string{"WNM_HOST=10.0.0.2"}, "host", "10.0.0.2"},
		{"bare ENVIRONMENT is ignored", []string{"ENVIRONMENT=production"}, "environment", ""},
		{"bare DRY_RUN is ignored", []string{"DRY_RUN=1"}, "dry_run", "false"},
		{"WNM_DRY_RUN is read", []string{"WNM_DRY_RUN=yes"}, "dry_run", "true"},
		{"bare INTERVAL is ignored", []string{"INTERVAL=5"}, "interval", "0"},
		{"empty value is not supplied", []string{"NODE_CAP="}, "node_cap", "20"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resolve(Sources{Environ: tc.environ}, Defaults(p), false, p.Home)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Get(tc.setting); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.setting, got, tc.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		setting, raw string
		want         any
		err          string
	}{
		{"node_cap", "30", 30, ""},
		{"node_cap", "3x", nil, `node_cap: "3x" is not a whole number`},
		{"desired_load_average", "2.5", 2.5, ""},
		{"desired_load_average", "lots", nil, `desired_load_average: "lots" is not a number`},
		{"no_upnp", "ON", true, ""},
		{"no_upnp", "off", false, ""},
		{"no_upnp", "maybe", nil, `no_upnp: "maybe" is not a boolean`},
		{"port_start", "55", 55, ""},
		{"port_start", "55000", 55, ""},
		{"port_start", "55001", nil, `port_start: "55001" is not a port range start (thousands such as 55, or a multiple of 1000 such as 55000)`},
		{"port_start", "55500", nil, `port_start: "55500" is not a port range start`},
		{"metrics_port_start", "13500", nil, `metrics_port_start: "13500" is not a port range start`},
		{"metrics_port_start", "13000", 13, ""},
		{"rpc_port_start", "0", 0, ""},
		{"port_start", "70000", nil, `port_start: "70000" is not a port range start`},
		{"node_storage", "~/nodes", "/home/u/nodes", ""},
		// Trimmed at both ends like an unquoted .env value; otherwise kept as written, ~ or not.
		{"node_storage", " ~/nodes \t", "/home/u/nodes", ""},
		{"node_storage", "~/ /", "/home/u/ /", ""},
		{"node_storage", "/srv/ /", "/srv/ /", ""},
		{"node_storage", "~/a/../b/", "/home/u/a/../b/", ""},
		{"node_storage", "~", "/home/u", ""},
		{"node_storage", "nodes", nil, `node_storage: "nodes" is not an absolute path`},
		{"dbpath", "sqlite:////var/x/colony.db", "/var/x/colony.db", ""},
		{"dbpath", "sqlite:///~/colony.db", "/home/u/colony.db", ""},
	}
	for _, tc := range tests {
		s, ok := Lookup(tc.setting)
		if !ok {
			t.Fatalf("no setting %s", tc.setting)
		}
		got, err := Parse(s, tc.raw, "/home/u")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%s, %q) error = %v, want it to contain %q", tc.setting, tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%s, %q) = %v, %v; want %v", tc.setting, tc.raw, got, err, tc.want)
		}
	}
}

func TestResolveErrorNamesOrigin(t *testing.T) {
	p := testPlatform(t)
	f := write(t, filepath.Join(p.Home, "wnm/config"), "node_cap = 10\ncpu_remove = high\n")
	_, err := Resolve(Sources{Files: []string{f}}, Defaults(p), false, p.Home)
	if err == nil || !strings.Contains(err.Error(), `cpu_remove: "high" is not a whole number (from config file `+f+`:2)`) {
		t.Errorf("error = %v", err)
	}
	_, err = Resolve(Sources{Explicit: filepath.Join(p.Home, "missing")}, Defaults(p), false, p.Home)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing -c file: error = %v", err)
	}
}

func TestConfigFileUnknownKeyWarns(t *testing.T) {
	p := testPlatform(t)
	f := write(t, filepath.Join(p.Home, "c"), "node_cap = 10\ncpu_count = 8\n")
	r, err := Resolve(Sources{Files: []string{f}}, Defaults(p), false, p.Home)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `"cpu_count"`) {
		t.Errorf("Warnings = %q, want one naming cpu_count", r.Warnings)
	}
	if r.NodeCap != 10 {
		t.Errorf("NodeCap = %d", r.NodeCap)
	}
}

func valid(t *testing.T) Config {
	c := Defaults(testPlatform(t))
	c.RewardsAddress = addr
	return c
}

func TestValidate(t *testing.T) {
	if err := func() error { c := valid(t); return c.Validate() }(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"cpu above 100", func(c *Config) { c.CPULessThan = 101 }, "cpu_less_than: 101 is not a percentage from 0 to 100"},
		{"mem below 0", func(c *Config) { c.MemRemove = -1 }, "mem_remove: -1 is not a percentage"},
		{"hd above 100", func(c *Config) { c.HDRemove = 150 }, "hd_remove: 150 is not a percentage"},
		{"negative cap", func(c *Config) { c.NodeCap = -2 }, "node_cap: -2 must not be negative"},
		{"negative delay", func(c *Config) { c.DelayStart = -5 }, "delay_start: -5 must not be negative"},
		{"zero concurrency", func(c *Config) { c.MaxStarts = 0 }, "max_concurrent_starts: 0 must be at least 1"},
		{"zero load", func(c *Config) { c.DesiredLoadAverage = 0 }, "desired_load_average: 0 must be greater than 0"},
		{"port below 1024", func(c *Config) { c.PortStart = 0 }, "port_start: 0 gives ports 1-20 for node_cap 20, outside 1024-65535"},
		{"port above 65535", func(c *Config) { c.PortStart = 65; c.NodeCap = 600 }, "port_start: 65 gives ports 65001-65600 for node_cap 600, outside 1024-65535"},
		{"ranges overlap", func(c *Config) { c.MetricsPortStart = 55 }, "port_start and metrics_port_start overlap: ports 55001-55020 and 55001-55020"},
		{"cap spills into next range", func(c *Config) { c.NodeCap = 1500; c.MetricsPortStart = 56; c.RPCPortStart = 30 },
			"port_start and metrics_port_start overlap: ports 55001-56500 and 56001-57500 for node_cap 1500"},
		{"relative node_storage", func(c *Config) { c.NodeStorage = "nodes" }, `node_storage: "nodes" is not an absolute path`},
		{"unknown manager", func(c *Config) { c.ProcessManager = "docker" }, `process_manager: "docker" is not one of systemd+sudo`},
		{"environment newline", func(c *Config) { c.Environment = "A=1\nExecStartPre=+/bin/sh" }, `environment: "A=1\nExecStartPre=+/bin/sh" contains a control character`},
		{"environment not pairs", func(c *Config) { c.Environment = "A=1 junk" }, `environment: "junk" is not a KEY=VALUE pair`},
		{"bad host", func(c *Config) { c.Host = "a b" }, `host: "a b" is not an IP address or host name`},
		{"bad loglevel", func(c *Config) { c.LogLevel = "LOUD" }, `loglevel: "LOUD" is not one of`},
		{"bad rewards", func(c *Config) { c.RewardsAddress = "0x123" }, `rewards_address: "0x123"`},
		{"bad checksum", func(c *Config) { c.RewardsAddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD" }, `rewards_address: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"`},
		{"bad weight", func(c *Config) { c.RewardsAddress = addr + ":0,faucet:1" }, `rewards_address:`},
		{"bad donate", func(c *Config) { c.DonateAddress = "nobody" }, `donate_address: "nobody"`},
		{"survey timeout", func(c *Config) { c.SurveyTimeout = 5 }, "survey_timeout: 5 ms is outside 100 to 60000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t)
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	p := testPlatform(t)
	db := valid(t)
	flags := map[string]string{"node_cap": "30", "port_start": "55000", "cpu_less_than": "50", "dry_run": "true"}
	r, err := Resolve(Sources{Flags: flags}, db, true, p.Home)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Changes(&db)
	if err != nil {
		t.Fatal(err)
	}
	// port_start 55000 normalises to the stored 55, cpu_less_than equals the database, dry_run is not persisted.
	want := []Change{{Name: "node_cap", Old: "20", New: "30", From: Origin{LayerFlag, "--node_cap"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Changes (-want +got):\n%s", d)
	}

	for _, name := range []string{"port_start", "metrics_port_start", "rpc_port_start", "process_manager"} {
		val := map[string]string{"port_start": "56", "metrics_port_start": "14", "rpc_port_start": "31", "process_manager": "setsid+user"}[name]
		r, err := Resolve(Sources{Environ: []string{"WNM_" + strings.ToUpper(name) + "=" + val}}, db, true, p.Home)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Changes(&db)
		if !errors.Is(err, ErrImmutable) || !strings.Contains(err.Error(), name+" (trying to change from "+db.Get(name)+" to "+val) {
			t.Errorf("%s: Changes error = %v, want ErrImmutable naming both values", name, err)
		}
	}
}

// TestConfigFieldsMatchTheTable: every tagged field of Config is a setting of the table, and its Go
// type is the one the setting's kind and default need.
func TestConfigFieldsMatchTheTable(t *testing.T) {
	typ := reflect.TypeFor[Config]()
	want := map[Kind]reflect.Kind{Int: reflect.Int, PortStart: reflect.Int, Float: reflect.Float64, Bool: reflect.Bool, String: reflect.String, Path: reflect.String}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name := f.Tag.Get("setting")
		s, ok := Lookup(name)
		if !ok {
			t.Errorf("Config.%s (setting %q) is not in the settings table", f.Name, name)
			continue
		}
		if f.Type.Kind() != want[s.Kind] {
			t.Errorf("Config.%s is %v, but setting %s is %v", f.Name, f.Type, s.Name, s.Kind)
		}
		if d := reflect.ValueOf(s.DefaultFor(testPlatform(t))); d.Kind() != f.Type.Kind() {
			t.Errorf("setting %s: default %v is %v, want %v", s.Name, d, d.Kind(), f.Type.Kind())
		}
		if s.Column != "" && !s.Persist || s.Immutable && !s.Persist || s.UnsetInRow && !s.Persist {
			t.Errorf("setting %s: a column, immutability or UnsetInRow need Persist", s.Name)
		}
	}
}

func TestSettingsTableIsConsistent(t *testing.T) {
	var c Config
	seen := map[string]bool{}
	for _, s := range Settings {
		if seen[s.Name] {
			t.Errorf("setting %s listed twice", s.Name)
		}
		seen[s.Name] = true
		c.field(s.Name) // panics if there is no field
		if s.Help == "" || strings.HasSuffix(s.Help, ".") || strings.ToUpper(s.Help[:1]) != s.Help[:1] && !strings.HasPrefix(s.Help, s.Name[:3]) && !strings.HasPrefix(s.Help, "antctl") {
			t.Errorf("setting %s: help %q must start with a capital letter and have no trailing period", s.Name, s.Help)
		}
	}
}

// TestParseDotEnv follows dotenv's rules for comments, quotes and the export prefix.
func TestParseDotEnv(t *testing.T) {
	tests := []struct {
		name, text string
		want       map[string]string
		err        string
	}{
		{"plain", "NODE_CAP=30", map[string]string{"NODE_CAP": "30"}, ""},
		{"inline comment", "NODE_CAP=30 # thirty", map[string]string{"NODE_CAP": "30"}, ""},
		{"inline comment after tab", "NODE_CAP=30\t# thirty", map[string]string{"NODE_CAP": "30"}, ""},
		{"hash inside a word", "A=b#c", map[string]string{"A": "b#c"}, ""},
		{"spaces around", "  NODE_CAP  =  30  ", map[string]string{"NODE_CAP": "30"}, ""},
		{"export prefix", "export NODE_CAP=30", map[string]string{"NODE_CAP": "30"}, ""},
		{"export with tab", "export\tNODE_CAP=31", map[string]string{"NODE_CAP": "31"}, ""},
		{"a key named export", "export=1", map[string]string{"export": "1"}, ""},
		{"empty", "A=", map[string]string{"A": ""}, ""},
		{"empty with comment", "A= # nothing", map[string]string{"A": ""}, ""},
		{"value starting with a hash", "A=#abc", map[string]string{"A": "#abc"}, ""},
		{"single quotes keep # and spaces", "A=' x # y '", map[string]string{"A": " x # y "}, ""},
		{"single quotes are literal", `A='a\nb'`, map[string]string{"A": `a\nb`}, ""},
		{"double quotes keep # and spaces", `A=" x # y " # comment`, map[string]string{"A": " x # y "}, ""},
		{"double-quote escapes", `A="a\"b\\c\td"`, map[string]string{"A": "a\"b\\c\td"}, ""},
		{"double-quote newline escape", `A="1\n2"`, map[string]string{"A": "1\n2"}, ""},
		{"unknown escape kept", `A="a\qb"`, map[string]string{"A": `a\qb`}, ""},
		{"comments and blank lines", "# head\n\nA=1\r\n  # indented\nB=2\n", map[string]string{"A": "1", "B": "2"}, ""},
		{"later wins", "A=1\nA=2", map[string]string{"A": "2"}, ""},
		{"equals in value", "ENVIRONMENT=A=1 B=2", map[string]string{"ENVIRONMENT": "A=1 B=2"}, ""},
		{"unclosed quote", `A="open`, nil, `1: A: the quote " is not closed`},
		{"text after quote", "A='x' y", nil, `1: A: y follows the closing quote`},
		{"no equals", "A=1\nJUNK", nil, `2: JUNK is not a KEY=VALUE line`},
		{"bad key", "1A=2", nil, `1: 1A=2 is not a KEY=VALUE line`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDotEnv(tc.text)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseDotEnv(%q) error = %v, want %q", tc.text, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseDotEnv(%q) (-want +got):\n%s", tc.text, d)
			}
		})
	}
}

func TestNameChecks(t *testing.T) {
	for _, tc := range []struct {
		s             string
		host, envName bool
	}{
		{"a", true, true}, {"A_1", false, true}, {"_x", false, true}, {"1x", true, false}, {"", false, false},
		{"node-1.example.org", true, false}, {"-a", false, false}, {"a-", false, false}, {"a.", false, false},
		{"a b", false, false}, {"é", false, false}, {strings.Repeat("a", 253), true, true}, {strings.Repeat("a", 254), false, true},
	} {
		if got := isHostname(tc.s); got != tc.host {
			t.Errorf("isHostname(%q) = %v", tc.s, got)
		}
		if got := isEnvKey(tc.s); got != tc.envName {
			t.Errorf("isEnvKey(%q) = %v", tc.s, got)
		}
	}
}
