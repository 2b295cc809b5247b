// Package convention lets a test hold the module's test files to a rule: each package that owns a
// shared test helper (golden files, polling) checks that no other test file rebuilds it.
package convention

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFiles calls check with the module-relative path and the content of every _test.go file in
// the module, except those under skip (a directory relative to the module root) and under
// testdata or hidden directories. It finds the module root by walking up from the calling test's
// directory to go.mod, and fails the test when it finds fewer than ten files, which means the walk
// missed the tree.
func TestFiles(t *testing.T, skip string, check func(rel string, content []byte)) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	skip = filepath.Join(root, filepath.FromSlash(skip))
	n := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path == skip || path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		check(filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("found %d test files under %s; the walk missed the tree", n, root)
	}
}

// moduleRoot is the nearest directory at or above the working directory (a test's package
// directory) that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
