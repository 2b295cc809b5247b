package survey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeBinary writes a shell script that logs each run to a counter file and
// prints out, then exits with code. It returns the script path and a func
// counting the runs so far.
func fakeBinary(t *testing.T, dir, out string, code int) (string, func() int) {
	t.Helper()
	counter := filepath.Join(dir, "runs")
	path := filepath.Join(dir, "antnode")
	writeScript(t, path, counter, out, code)
	return path, func() int {
		b, err := os.ReadFile(counter)
		if err != nil {
			return 0
		}
		return bytes.Count(b, []byte("\n"))
	}
}

func writeScript(t *testing.T, path, counter, out string, code int) {
	t.Helper()
	script := fmt.Sprintf("#!/bin/sh\necho \"$@\" >> '%s'\nprintf '%%s\\n' '%s'\nexit %d\n", counter, out, code)
	// Write beside and rename, so no open write descriptor to the file we
	// exec can leak into a concurrently forked child (ETXTBSY).
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const versionOutput = "Autonomi Node v0.4.17\nNetwork version: ant/1.0/1\nPackage version: 2026.2.3.2\nGit info: stable / 1a2b3c4 / 2026-02-20"

func TestVersionCache(t *testing.T) {
	dir := t.TempDir()
	path, runs := fakeBinary(t, dir, versionOutput, 0)
	var c VersionCache
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name     string
		change   func(t *testing.T)
		wantRuns int
	}{
		{"first call runs it", nil, 1},
		{"second call is cached", nil, 1},
		{"changed mtime runs it again", func(t *testing.T) {
			mtime = mtime.Add(time.Hour)
			if err := os.Chtimes(path, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}, 2},
		{"cached again", nil, 2},
		{"changed size, same mtime, runs it again", func(t *testing.T) {
			writeScript(t, path, filepath.Join(dir, "runs"), versionOutput+"\n# padding", 0)
			if err := os.Chtimes(path, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}, 3},
		{"cached once more", nil, 3},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change(t)
		}
		v, err := c.Version(t.Context(), path)
		if err != nil || v != "0.4.17" {
			t.Fatalf("%s: Version = %q, %v; want 0.4.17", s.name, v, err)
		}
		if got := runs(); got != s.wantRuns {
			t.Errorf("%s: %d execs so far, want %d", s.name, got, s.wantRuns)
		}
	}

	// The cache survives a JSON round trip, and the restored one still hits.
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	var restored VersionCache
	if err := json.Unmarshal(b, &restored); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c.Entries, restored.Entries); diff != "" {
		t.Errorf("entries after JSON round trip (-want +got):\n%s", diff)
	}
	if v, err := restored.Version(t.Context(), path); err != nil || v != "0.4.17" || runs() != 3 {
		t.Errorf("restored cache: Version = %q, %v after %d execs; want a hit", v, err, runs())
	}
	if !strings.Contains(string(b), `"mod_time_ns":`) || !strings.Contains(string(b), `"version":"0.4.17"`) {
		t.Errorf("cache JSON %s lacks the documented keys", b)
	}

	c.Prune([]string{"/elsewhere"})
	if len(c.Entries) != 0 {
		t.Errorf("after Prune, entries = %v, want none", c.Entries)
	}
}

func TestVersionCacheFailures(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		code    int
		missing bool
		wantErr string
	}{
		{name: "exit status", out: "thread main panicked", code: 3, wantErr: "exit status 3: thread main panicked"},
		{name: "nightly build", out: "Autonomi Node -- Nightly Release 2026.02.20", wantErr: `unrecognised --version output "Autonomi Node -- Nightly Release 2026.02.20"`},
		{name: "v2 ant-node", out: "ant-node 0.14.2", wantErr: "unrecognised --version output"},
		{name: "missing binary", missing: true, wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, runs := fakeBinary(t, dir, tt.out, tt.code)
			if tt.missing {
				path = filepath.Join(dir, "absent")
			}
			var c VersionCache
			for i := range 2 {
				v, err := c.Version(t.Context(), path)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("call %d: Version = %q, %v; want error containing %q", i, v, err, tt.wantErr)
				}
			}
			wantRuns := 2 // failures are not cached
			if tt.missing {
				wantRuns = 0
			}
			if got := runs(); got != wantRuns {
				t.Errorf("%d execs, want %d", got, wantRuns)
			}
			if len(c.Entries) != 0 {
				t.Errorf("entries = %v, want nothing cached", c.Entries)
			}
		})
	}
}

func TestVersionCacheConcurrent(t *testing.T) {
	dir := t.TempDir()
	path, runs := fakeBinary(t, dir, versionOutput, 0)
	var c VersionCache
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if v, err := c.Version(t.Context(), path); err != nil || v != "0.4.17" {
				t.Errorf("Version = %q, %v", v, err)
			}
		})
	}
	wg.Wait()
	if got := runs(); got != 1 {
		t.Errorf("20 concurrent calls made %d execs, want 1", got)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{versionOutput, "0.4.17", true},
		{"Autonomi Node v0.4.10-rc.1\n", "0.4.10-rc.1", true},
		{"Autonomi Node v0.4.7\r\nNetwork version: ant/1.0/1\r\n", "0.4.7", true},
		{"", "", false},
		{"Network version: ant/1.0/1\nAutonomi Node v0.4.17\n", "", false},
		{" Autonomi Node v0.4.17", "", false},
	}
	for _, tt := range tests {
		got, err := parseVersion(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseVersion(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
