package launchd

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParsePlist: no plist (XML or binary) panics the adoption parser, and one it accepts
// describes a node wnm could run.
func FuzzParsePlist(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "LaunchAgents", "*.plist"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(filepath.Base(p), b)
		}
	}
	f.Add("com.autonomi.antnode-1.plist", []byte("bplist00"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		a, err := ParsePlist(name, data)
		if err != nil {
			return
		}
		if a.Service != name || len(a.Binary) == 0 || a.Binary[0] != '/' || a.RootDir == "" || a.Wallet == "" {
			t.Fatalf("plist %q accepted as %+v", name, a)
		}
		for _, p := range []int{a.Port, a.MetricsPort} {
			if p < 1 || p > 65535 {
				t.Fatalf("plist %q accepted port %d", name, p)
			}
		}
	})
}
