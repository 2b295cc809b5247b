package systemd

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseUnit: no unit text panics the adoption parser, and a unit it accepts describes a node
// wnm could run: an absolute binary, a root dir and ports in range, and the id of its file name.
func FuzzParseUnit(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "anm", "etc", "systemd", "system", "*.service"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(filepath.Base(p), string(b))
		}
	}
	f.Add("antnode0001.service", "[Service]\nExecStart=/a/antnode --root-dir /a --port 1 --metrics-server-port 2 --rewards-address 0x0\n")
	f.Add("antnode0002.service", "[Service]\nExecStart=\"/a b/antnode\" --root-dir=/a\\x20b --port 1 --metrics-server-port 2 --rewards-address x\nEnvironment=\"A=b c\" D=e\nUser=ant\n")
	f.Fuzz(func(t *testing.T, name, text string) {
		a, err := ParseUnit(name, text)
		if err != nil {
			return
		}
		if a.ID < 0 || a.Service != name {
			t.Fatalf("unit %q: id %d, service %q", name, a.ID, a.Service)
		}
		if len(a.Binary) == 0 || a.Binary[0] != '/' || a.RootDir == "" || a.Wallet == "" {
			t.Fatalf("unit %q accepted without binary, root dir or wallet: %+v", name, a)
		}
		for _, p := range []int{a.Port, a.MetricsPort} {
			if p < 1 || p > 65535 {
				t.Fatalf("unit %q accepted port %d", name, p)
			}
		}
	})
}
