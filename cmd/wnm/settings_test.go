package main

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
)

// sampleValue is a valid value for s that differs from its default, in the text an operator
// types. Strings with rules of their own have samples here; a new setting of another kind needs
// none.
func sampleValue(t *testing.T, s config.Setting, def config.Config) string {
	t.Helper()
	switch s.Name {
	case "rewards_address":
		return "0x00000000000000000000000000000000000000a6:3,faucet:1"
	case "donate_address":
		return "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	case "process_manager":
		return "setsid+user"
	case "host":
		return "10.1.2.3"
	case "environment":
		return "ANT_LOG=all RUST_LOG=info"
	case "loglevel":
		return "DEBUG"
	case "port_start":
		return "57000" // the port spelling, stored as 57
	case "metrics_port_start":
		return "14"
	case "rpc_port_start":
		return "31"
	}
	switch s.Kind {
	case config.Int, config.PortStart:
		return strconv.Itoa(def.Value(s.Name).(int) + 7)
	case config.Float:
		return strconv.FormatFloat(def.Value(s.Name).(float64)+0.25, 'f', -1, 64)
	case config.Bool:
		return strconv.FormatBool(!def.Value(s.Name).(bool))
	case config.Path:
		return "/srv/wnm test/" + s.Name
	default:
		return s.Name + "-value"
	}
}

// TestSettingsRoundTrip passes a distinct value for every setting as a flag, resolves it, stores
// the persisted ones in a real database, reads the row back and converts it to settings again:
// every value survives flag → config → row → config, so the table, the flags, the row mapping
// and the store cannot drift apart.
func TestSettingsRoundTrip(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	p := config.Platform{OS: "linux", Mode: gen.ModeUser, Home: home, CPUCount: 2}
	def := config.Defaults(p)

	var args []string
	want := map[string]string{}
	for _, s := range config.Settings {
		v := sampleValue(t, s, def)
		if s.Kind == config.Bool {
			args = append(args, "--"+s.Name+"="+v)
		} else {
			args = append(args, "--"+s.Name, v)
		}
		parsed, err := config.Parse(s, v, home)
		if err != nil {
			t.Fatalf("sample for %s: %v", s.Name, err)
		}
		var c config.Config
		c.SetValue(s.Name, parsed)
		want[s.Name] = c.Get(s.Name)
		if want[s.Name] == def.Get(s.Name) {
			t.Fatalf("sample for %s equals the default %s", s.Name, want[s.Name])
		}
	}

	var c cli
	e := &env{stdout: io.Discard, stderr: io.Discard, home: home, goos: "linux"}
	k, err := newParser(e, &c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Parse(append([]string{"status"}, args...)); err != nil {
		t.Fatal(err)
	}
	r, err := config.Resolve(config.Sources{Flags: c.flagValues()}, def, false, home)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("samples do not validate: %v", err)
	}
	for _, s := range config.Settings {
		if got := r.Get(s.Name); got != want[s.Name] {
			t.Errorf("flag → config: %s = %q, want %q", s.Name, got, want[s.Name])
		}
		if o := r.Origin(s.Name); o.Layer != config.LayerFlag || o.Where != "--"+s.Name {
			t.Errorf("%s: origin %+v, want --%s", s.Name, o, s.Name)
		}
	}

	path := filepath.Join(home, "colony.db")
	st, err := worker.CreateStore(ctx, path, worker.MachineFromConfig(r.Config, 2, time.Unix(1000, 0)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.Machine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	back := worker.ConfigFromMachine(m, def, home)
	for _, s := range config.Settings {
		switch got := back.Get(s.Name); {
		case s.Persist && got != want[s.Name]:
			t.Errorf("row → config: %s = %q, want %q", s.Name, got, want[s.Name])
		case !s.Persist && got != def.Get(s.Name):
			t.Errorf("row → config: run-only %s = %q, want its default %q", s.Name, got, def.Get(s.Name))
		}
	}

	// Writing the same settings back into the row changes nothing.
	again := m
	worker.ApplyConfig(&again, back)
	if !machinesEqual(m, again) {
		t.Errorf("ApplyConfig(ConfigFromMachine(row)) changed the row:\n%+v\n%+v", m, again)
	}
}

func machinesEqual(a, b store.Machine) bool {
	ac, bc := a.Columns(), b.Columns()
	for col, pa := range ac {
		switch pa := pa.(type) {
		case **int:
			pb := bc[col].(**int)
			if (*pa == nil) != (*pb == nil) || *pa != nil && **pa != **pb {
				return false
			}
		case *int:
			if *pa != *bc[col].(*int) {
				return false
			}
		case *int64:
			if *pa != *bc[col].(*int64) {
				return false
			}
		case *float64:
			if *pa != *bc[col].(*float64) {
				return false
			}
		case *string:
			if *pa != *bc[col].(*string) {
				return false
			}
		case *bool:
			if *pa != *bc[col].(*bool) {
				return false
			}
		}
	}
	return true
}
