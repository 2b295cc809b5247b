package main

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/alecthomas/kong"

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

// TestSettingFlags keeps the flag struct and the config package's settings table in step: one flag per
// setting, named as the setting, with the kebab-case alias, of the right type.
func TestSettingFlags(t *testing.T) {
	typ := reflect.TypeOf(settingFlags{})
	fields := map[string]reflect.StructField{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		fields[f.Tag.Get("setting")] = f
	}
	for _, s := range config.Settings {
		f, ok := fields[s.Name]
		if !ok {
			t.Errorf("setting %s has no flag", s.Name)
			continue
		}
		delete(fields, s.Name)
		if f.Tag.Get("name") != s.Name {
			t.Errorf("flag for %s is named %q", s.Name, f.Tag.Get("name"))
		}
		if kebab := strings.ReplaceAll(s.Name, "_", "-"); kebab != s.Name && f.Tag.Get("aliases") != kebab {
			t.Errorf("flag %s: aliases %q, want %q", s.Name, f.Tag.Get("aliases"), kebab)
		}
		want := reflect.TypeOf((*string)(nil))
		if s.Kind == config.Bool {
			want = reflect.TypeOf((*bool)(nil))
		}
		if f.Type != want {
			t.Errorf("flag %s has type %v, want %v", s.Name, f.Type, want)
		}
		if f.Tag.Get("help") != "${help_"+s.Name+"}" {
			t.Errorf("flag %s: help %q does not come from the settings table", s.Name, f.Tag.Get("help"))
		}
	}
	for name := range fields {
		t.Errorf("flag for unknown setting %q", name)
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
