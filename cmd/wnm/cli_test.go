package main

import (
	"bytes"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/alecthomas/kong"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/worker/config"
)

func parser(t *testing.T) *kong.Kong {
	t.Helper()
	var c cli
	e := &env{stdout: io.Discard, stderr: io.Discard, home: "/home/u", goos: "linux"}
	k, err := newParser(e, &c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSettingFlags checks the flags built from the settings table: one per setting, named as the
// setting, with the kebab-case alias, a value placeholder unless boolean, its help from the table,
// in its section, hidden when the table says so.
func TestSettingFlags(t *testing.T) {
	k := parser(t)
	flags := map[string]*kong.Flag{}
	for _, f := range k.Model.Flags {
		flags[f.Name] = f
	}
	help := settingHelp(config.Platform{OS: "linux", Mode: gen.ModeUser, Home: "/home/u", CPUCount: 2})
	for _, s := range config.Settings {
		f, ok := flags[s.Name]
		if !ok {
			t.Errorf("setting %s has no flag", s.Name)
			continue
		}
		if kebab := strings.ReplaceAll(s.Name, "_", "-"); kebab != s.Name && !slices.Equal(f.Aliases, []string{kebab}) {
			t.Errorf("flag %s: aliases %q, want %q", s.Name, f.Aliases, kebab)
		}
		if f.IsBool() != (s.Kind == config.Bool) {
			t.Errorf("flag %s: IsBool() = %v for a %v setting", s.Name, f.IsBool(), s.Kind)
		}
		if s.Kind != config.Bool && f.PlaceHolder != s.Kind.String() {
			t.Errorf("flag %s: placeholder %q, want %q", s.Name, f.PlaceHolder, s.Kind.String())
		}
		if f.Help != help[s.Name] || !strings.HasPrefix(f.Help, s.Help+" (default: ") {
			t.Errorf("flag %s: help %q does not come from the settings table", s.Name, f.Help)
		}
		if f.Group == nil || f.Group.Key != s.Group() {
			t.Errorf("flag %s: group %v, want %s", s.Name, f.Group, s.Group())
		}
		if f.Hidden != s.Hidden {
			t.Errorf("flag %s: hidden %v, want %v", s.Name, f.Hidden, s.Hidden)
		}
	}
}

// TestSettingFlagValues: every flag form reaches the config layer as the text given, booleans
// included, so their values are parsed (and refused) like those of any other layer.
func TestSettingFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]string
	}{
		{nil, map[string]string{}},
		{[]string{"status", "--node_cap", "30", "--cpu-less-than=40"}, map[string]string{"node_cap": "30", "cpu_less_than": "40"}},
		{[]string{"status", "--no_upnp", "--dry-run"}, map[string]string{"no_upnp": "true", "dry_run": "true"}},
		{[]string{"status", "--no_upnp=maybe", "--antctl_debug=off"}, map[string]string{"no_upnp": "maybe", "antctl_debug": "off"}},
		{[]string{"status", "--node_storage", "/x y", "--last_stopped_at", "5"}, map[string]string{"node_storage": "/x y", "last_stopped_at": "5"}},
	} {
		var c cli
		e := &env{stdout: io.Discard, stderr: io.Discard, home: "/home/u", goos: "linux"}
		k, err := newParser(e, &c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Parse(tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := c.flagValues(); !maps.Equal(got, tc.want) {
			t.Errorf("%q: flagValues() = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// TestHelpStyle walks the command tree: every command and flag has help that starts with a capital
// letter and has no trailing period, and every setting's help names its default.
func TestHelpStyle(t *testing.T) {
	k := parser(t)
	check := func(what, help string) {
		if help == "" {
			t.Errorf("%s has no help", what)
			return
		}
		if r := []rune(help)[0]; !unicode.IsUpper(r) {
			t.Errorf("%s: help %q does not start with a capital letter", what, help)
		}
		if strings.HasSuffix(help, ".") {
			t.Errorf("%s: help %q ends with a period", what, help)
		}
	}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		if n.Type == kong.CommandNode {
			check("command "+n.Name, n.Help)
		}
		for _, f := range n.Flags {
			if f.Hidden || f.Name == "help" { // kong's own flag

				continue
			}
			check("flag --"+f.Name, f.Help)
			if _, ok := config.Lookup(f.Name); ok && !strings.Contains(f.Help, "(default: ") {
				t.Errorf("flag --%s: help %q does not give the default", f.Name, f.Help)
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(k.Model.Node)
}

func TestCommandHelp(t *testing.T) {
	for _, cmd := range []string{"run", "init", "plan", "survey", "status", "install", "uninstall", "version"} {
		var out bytes.Buffer
		e := &env{stdout: &out, stderr: &out, home: "/home/u", goos: "linux"}
		if code := e.main([]string{cmd, "--help"}); code != 0 {
			t.Errorf("wnm %s --help exited %d", cmd, code)
		}
		if !strings.Contains(out.String(), "Usage: wnm "+cmd) || !strings.Contains(out.String(), "--node_cap=INT") {
			t.Errorf("wnm %s --help:\n%s", cmd, out.String())
		}
	}
}

// TestErrorsEscapeControlCharacters: a value with a newline or an escape sequence is never printed
// raw, whichever part of wnm reports it; joined errors still print one per line.
func TestErrorsEscapeControlCharacters(t *testing.T) {
	home := t.TempDir()
	for _, tc := range []struct {
		args  []string
		code  int
		want  []string
		lines int
	}{
		{[]string{"status", "-c", home + "/a\nb"}, 2, []string{`a\nb`}, 1},
		{[]string{"status", "--dbpath", home + "/a\nb/colony.db"}, 1, []string{`no database found at "` + home + `/a\nb/colony.db"`}, 1},
		{[]string{"status", "--node_cap", "3\x1b[2J"}, 1, []string{`node_cap: "3\x1b[2J" is not a whole number (from --node_cap)`}, 1},
		{[]string{"init", "--dbpath", home + "/db", "--rewards_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "--node_storage", "/x\ny", "--cpu_less_than", "101"}, 1,
			[]string{`node_storage: "/x\ny" contains a control character (from --node_storage)`, "cpu_less_than: 101 is not a percentage"}, 2},
	} {
		var out, errOut bytes.Buffer
		e := &env{stdout: &out, stderr: &errOut, home: home, goos: "linux", euid: 1000, now: time.Now}
		if code := e.main(tc.args); code != tc.code {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", tc.args, code, tc.code, errOut.String())
		}
		got := errOut.String()
		if strings.ContainsAny(got, "\x1b\r") || strings.Count(got, "\n") != tc.lines {
			t.Errorf("%q: stderr has raw control characters or %d lines, want %d:\n%s", tc.args, strings.Count(got, "\n"), tc.lines, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q: stderr %q does not contain %q", tc.args, got, w)
			}
		}
	}
}
