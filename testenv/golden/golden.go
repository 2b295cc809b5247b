// Package golden compares rendered output with the files committed under a package's testdata,
// and rewrites those files on request. Every golden test and every testscript expectation in wnm
// uses it, so that one convention updates them all:
//
//	WNM_UPDATE=1 go test ./...        (make update: the whole tree)
//	go test ./gen -update             (one package)
//
// The rewritten files are then reviewed like any change: CI fails when a run leaves the work tree
// different from the commit.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// EnvUpdate is the environment variable that rewrites the golden files of every package at once.
const EnvUpdate = "WNM_UPDATE"

var update = flag.Bool("update", false, "rewrite golden files and testscript expectations (or set "+EnvUpdate+"=1)")

// Updating reports whether golden files are to be rewritten: -update was given, or WNM_UPDATE holds
// a true value (1, t, true as strconv.ParseBool reads them).
func Updating() bool {
	if *update {
		return true
	}
	on, _ := strconv.ParseBool(os.Getenv(EnvUpdate))
	return on
}

// Compare fails t unless the file at path holds exactly got, printing the difference. When
// Updating, it writes got to path instead (creating its directory) and passes.
func Compare[T ~string | ~[]byte](t testing.TB, path string, got T) {
	t.Helper()
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update or %s=1 to create it): %v", EnvUpdate, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got; run with -update or %s=1 to accept):\n%s", path, EnvUpdate, diff)
	}
}
