package worker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoveNodeDir: deletion happens only for a real antnode<digits> directory directly inside
// node storage or the log dir, whatever path a database row holds.
func TestRemoveNodeDir(t *testing.T) {
	root := t.TempDir()
	storage := filepath.Join(root, "nodes")
	outside := filepath.Join(root, "precious")
	for _, d := range []string{filepath.Join(storage, "antnode0001"), filepath.Join(storage, "antnode0002"), filepath.Join(storage, "keep"), filepath.Join(outside, "antnode0003")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "secret-key"), []byte("k"), 0o600)
	}
	os.Symlink(outside, filepath.Join(storage, "antnode0004"))
	os.WriteFile(filepath.Join(storage, "antnode0005"), []byte("file"), 0o644)

	tests := []struct {
		dir     string
		refused string // "" means deleted (or already absent)
	}{
		{filepath.Join(storage, "antnode0001"), ""},
		{filepath.Join(storage, "antnode0009"), ""}, // absent: nothing to do
		{filepath.Join(storage, "keep"), "not an antnode<digits> directory"},
		{storage, "not an antnode<digits> directory"},
		{filepath.Join(outside, "antnode0003"), "not directly inside"},
		{filepath.Join(storage, "antnode0002", "..", "..", "precious", "antnode0003"), "not directly inside"},
		{filepath.Join(storage, "antnode0004"), "not a directory"}, // a symlink out of node storage
		{filepath.Join(storage, "antnode0005"), "not a directory"},
		{"antnode0002", "not an antnode<digits> directory"}, // relative
		{"/", "not an antnode<digits> directory"},
	}
	for _, tc := range tests {
		err := removeNodeDir(tc.dir, storage)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("removeNodeDir(%q) = %v, want it deleted", tc.dir, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("removeNodeDir(%q) = %v, want a refusal containing %q", tc.dir, err, tc.refused)
		}
	}
	if _, err := os.Stat(filepath.Join(storage, "antnode0001")); !os.IsNotExist(err) {
		t.Error("antnode0001 was not deleted")
	}
	for _, kept := range []string{filepath.Join(storage, "antnode0002", "secret-key"), filepath.Join(storage, "keep", "secret-key"), filepath.Join(outside, "antnode0003", "secret-key")} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s was touched: %v", kept, err)
		}
	}
}
