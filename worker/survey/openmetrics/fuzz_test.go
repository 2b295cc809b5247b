package openmetrics

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bodies to the normaliser: it must never panic, and what Parse accepts,
// ParseSelected accepts too when asked for every family Parse found, with the same families. Both
// must read the rewritten lines as the text format's reference parser does.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("# EOF\n"))
	f.Add([]byte("# TYPE ant_node_uptime gauge\nant_node_uptime 12\n# EOF\n"))
	f.Add([]byte("# TYPE x counter\nx_total{a=\"b\"} 1e3\nx_created 1\n"))
	f.Add([]byte("ant_wallet_balance 123456789012345678901234567890\n"))
	f.Add([]byte("garbage {{{ \x00\xff\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fams, err := Parse(bytes.NewReader(body))
		for name := range fams {
			_, _ = Sum(fams, name)
			_, _ = Label(fams, name, "antnode_version")
		}
		names := make([]string, 0, len(fams))
		for name := range fams {
			names = append(names, name)
		}
		checkAgainstReference(t, body, names)
		sel, values, serr := ParseSelected(bytes.NewReader(body), names...)
		if err != nil {
			return
		}
		if serr != nil {
			t.Fatalf("Parse accepted the body, ParseSelected(%q) failed: %v", names, serr)
		}
		for _, name := range names {
			if sel[name] == nil {
				t.Errorf("ParseSelected lost family %q", name)
			}
		}
		for name := range values {
			if fams[name] == nil && sel[name] == nil {
				t.Errorf("ParseSelected returned a value for %q, which is no family", name)
			}
		}
	})
}
