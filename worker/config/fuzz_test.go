package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseValue: no text panics a setting's value parser, and a value it accepts survives a round
// trip through its stored text form (what the database and `wnm status` show) unchanged.
func FuzzParseValue(f *testing.F) {
	for i, s := range Settings {
		for _, v := range []string{"", "0", "1", "-1", "55", "55500", "65535", "1e3", "yes", "off", "~/x", "/a/$HOME/b", "$UNSET/x", " 7 ", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "A=b C=d"} {
			if i%3 == 0 || len(v) < 3 {
				f.Add(uint16(i), v)
			}
		}
		f.Add(uint16(i), s.Name)
	}
	home := "/home/fuzz"
	f.Fuzz(func(t *testing.T, idx uint16, raw string) {
		s := Settings[int(idx)%len(Settings)]
		v, err := Parse(s, raw, home)
		if err != nil {
			return
		}
		var c Config
		c.field(s.Name).Set(reflect.ValueOf(v))
		text := c.Get(s.Name)
		again, err := Parse(s, text, home)
		if err != nil {
			t.Fatalf("%s: %q parsed to %v, whose text %q does not parse: %v", s.Name, raw, v, text, err)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("%s: %q parsed to %v, its text %q to %v", s.Name, raw, v, text, again)
		}
	})
}

// FuzzResolveFiles: no .env or config file content panics the resolver; a value it takes from a
// file is recorded with that file as its origin.
func FuzzResolveFiles(f *testing.F) {
	f.Add("NODE_CAP=7\nexport WNM_CPU_LESS_THAN='40'\n# c\n", "node_cap = 9\ncpu_remove: 80\n[section]\n; c\n")
	f.Add("WNM_HOST=\"a b\"\n", "process_manager = setsid+user\n")
	f.Add("=\n", "=\n")
	f.Add("X\n", "nonsense line\n")
	f.Add("WNM_NODE_STORAGE=~/n\n", "node_storage = $HOME/n\nrewards_address = faucet\n")
	f.Fuzz(func(t *testing.T, dotenv, file string) {
		dir := t.TempDir()
		envPath, filePath := filepath.Join(dir, ".env"), filepath.Join(dir, "config")
		if err := os.WriteFile(envPath, []byte(dotenv), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filePath, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		p := Platform{OS: "linux", Mode: ModeUser, Home: "/home/fuzz", CPUCount: 2}
		r, err := Resolve(Sources{DotEnv: envPath, Files: []string{filePath}}, Defaults(p), false, p.Home)
		if err != nil {
			return
		}
		for name, o := range r.Origins {
			if o.Layer == LayerFile && !strings.Contains(o.Where, filePath) && !strings.Contains(o.Where, envPath) {
				t.Errorf("%s comes from the files but its origin is %q", name, o.Where)
			}
		}
	})
}
