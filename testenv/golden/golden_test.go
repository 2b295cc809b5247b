package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wnm-project/wnm/testenv/convention"
)

// recorder is a testing.TB that records failures instead of failing the test; Fatal ends the
// goroutine as testing does.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg += fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)); runtime.Goexit() }

// check runs Compare against a recorder in its own goroutine (for Goexit) and returns it.
func check[T ~string | ~[]byte](path string, got T) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Compare(r, path, got)
	}()
	<-done
	return r
}

func TestCompare(t *testing.T) {
	if *update {
		t.Skip("-update rewrites instead of comparing")
	}
	t.Setenv(EnvUpdate, "")
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := check(path, "one\ntwo\n"); r.failed {
		t.Errorf("identical string: failed with %q", r.msg)
	}
	if r := check(path, []byte("one\ntwo\n")); r.failed {
		t.Errorf("identical bytes: failed with %q", r.msg)
	}
	r := check(path, "one\nthree\n")
	if !r.failed || !strings.Contains(r.msg, "three") || !strings.Contains(r.msg, path) {
		t.Errorf("different content: failed=%v, message %q; want a failure naming the file and showing the difference", r.failed, r.msg)
	}
	missing := filepath.Join(t.TempDir(), "missing.golden")
	if r := check(missing, "x"); !r.failed || !strings.Contains(r.msg, "-update") {
		t.Errorf("missing file: failed=%v, message %q; want a failure that says how to create it", r.failed, r.msg)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("comparing created %s (%v)", missing, err)
	}
}

func TestCompareUpdates(t *testing.T) {
	for _, v := range []string{"1", "true"} {
		t.Setenv(EnvUpdate, v)
		path := filepath.Join(t.TempDir(), "new", "dir", "x.golden")
		if r := check(path, "fresh\n"); r.failed {
			t.Fatalf("%s=%s: failed with %q", EnvUpdate, v, r.msg)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "fresh\n" {
			t.Errorf("%s=%s: file holds %q (%v), want the new output", EnvUpdate, v, b, err)
		}
	}
}

func TestUpdating(t *testing.T) {
	if *update {
		t.Skip("-update is given")
	}
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "no": false, "1": true, "true": true} {
		t.Setenv(EnvUpdate, v)
		if got := Updating(); got != want {
			t.Errorf("%s=%q: Updating() = %v, want %v", EnvUpdate, v, got, want)
		}
	}
}

// TestOneConvention keeps every golden test on this package: no other test file reads
// WNM_UPDATE or defines its own -update flag.
func TestOneConvention(t *testing.T) {
	convention.TestFiles(t, "testenv/golden", func(rel string, b []byte) {
		for _, own := range []string{`"` + EnvUpdate + `"`, `flag.Bool("update"`} {
			if strings.Contains(string(b), own) {
				t.Errorf("%s uses %s: compare and update golden files with golden.Compare and golden.Updating", rel, own)
			}
		}
	})
}
