package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wnm-project/wnm/gen"
)

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
		p := Platform{OS: "linux", Mode: gen.ModeUser, Home: "/home/fuzz", CPUCount: 2}
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
