package firewall

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/netns"
	"github.com/wnm-project/wnm/units/run"
)

// ufwPaths are ufw's files, which the test replaces with private copies: the rules and ufw.conf
// in /etc/ufw, the defaults file, and /lib/ufw (ufw-init, used when the firewall is enabled). Its
// lock file is in /run, which the test hides behind a tmpfs.
var ufwPaths = []string{"/etc/ufw", "/etc/default/ufw", "/lib/ufw"}

// TestUFWReal drives the installed ufw through [UFW] inside throwaway network and mount
// namespaces in which ufw's files are private copies. It runs whenever the test runs as root with
// ufw and unshare installed (see [netns.Require]); it never runs ufw on the host and checks that
// the host's ufw files are byte-for-byte unchanged afterwards.
func TestUFWReal(t *testing.T) {
	if netns.InChild(t) {
		testUFWInside(t)
		return
	}
	netns.Require(t, "ufw")
	watched := append(slices.Clone(ufwPaths), "/run/ufw.lock")
	before := snapshot(t, watched)
	if _, ok := before["/etc/ufw/user.rules"]; !ok {
		t.Fatalf("host has no /etc/ufw/user.rules to compare; files: %v", slices.Sorted(maps.Keys(before)))
	}
	netns.Reexec(t, netns.Config{Private: ufwPaths, Tmpfs: []string{"/run"}})
	if diff := cmp.Diff(before, snapshot(t, watched)); diff != "" {
		t.Errorf("host ufw files changed (-before +after):\n%s", diff)
	}
}

// testUFWInside is the isolated half of TestUFWReal.
func testUFWInside(t *testing.T) {
	const port = 55001
	comment := NodeComment(1)
	ctx := t.Context()
	ufw := func(args ...string) string {
		t.Helper()
		out, err := run.Checked(ctx, run.Exec(), append([]string{"ufw"}, args...)...)
		if err != nil {
			t.Fatalf("ufw %q: %v\n%s", args, err, out)
		}
		return string(out)
	}

	// /etc/ufw is a private copy here: pin it to "inactive" and to "no rule for the port", whatever
	// the host's firewall looks like, so that the checks below have a known start.
	conf := "/etc/ufw/ufw.conf"
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(string(data), "ENABLED=yes", "ENABLED=no")), 0o644); err != nil {
		t.Fatal(err)
	}
	ufw("delete", "allow", udp(port))
	confBefore := readFile(t, conf)
	if got := ufw("status"); !strings.Contains(got, "Status: inactive") {
		t.Fatalf("ufw status before the test = %q, want inactive", got)
	}

	u := NewUFW(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	rule := fmt.Sprintf("ufw allow %s comment '%s'", udp(port), comment)
	tuple := fmt.Sprintf("### tuple ### allow udp %d 0.0.0.0/0 any 0.0.0.0/0 in comment=%s\n", port, hex.EncodeToString([]byte(comment)))

	for i, want := range []bool{true, false} {
		changed, err := u.open(ctx, port, comment)
		if err != nil || changed != want {
			t.Fatalf("open #%d = %v, %v; want %v, nil", i+1, changed, err, want)
		}
	}
	if n := countLines(ufw("show", "added"), rule); n != 1 {
		t.Errorf("`ufw show added` lists %q %d times after two opens, want once", rule, n)
	}
	if n := strings.Count(readFile(t, "/etc/ufw/user.rules"), tuple); n != 1 {
		t.Errorf("user.rules holds %q %d times after two opens, want once:\n%s", tuple, n, readFile(t, "/etc/ufw/user.rules"))
	}

	for i, want := range []bool{true, false} {
		changed, err := u.close(ctx, port)
		if err != nil || changed != want {
			t.Fatalf("close #%d = %v, %v; want %v, nil", i+1, changed, err, want)
		}
	}
	if added := ufw("show", "added"); strings.Contains(added, udp(port)) {
		t.Errorf("`ufw show added` after two closes still lists the port:\n%s", added)
	}
	if rules := readFile(t, "/etc/ufw/user.rules"); strings.Contains(rules, fmt.Sprint(port)) {
		t.Errorf("user.rules after two closes still mentions %d:\n%s", port, rules)
	}

	if got := ufw("status"); !strings.Contains(got, "Status: inactive") {
		t.Errorf("ufw status after the test = %q, want inactive: the firewall got enabled", got)
	}
	if got := readFile(t, conf); got != confBefore {
		t.Errorf("ufw.conf changed:\n got %q\nwant %q", got, confBefore)
	}
}

// testWriter sends log output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func countLines(text, line string) int {
	n := 0
	for l := range strings.Lines(text) {
		if strings.TrimRight(l, "\n") == line {
			n++
		}
	}
	return n
}

// snapshot records every file under paths (following a symlink at the top, as /lib is one on
// merged-/usr systems): its mode and, for regular files, its bytes. Missing paths are left out.
func snapshot(t *testing.T, paths []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, root := range paths {
		root, err := filepath.EvalSymlinks(root)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := os.Lstat(path)
			if err != nil {
				return err
			}
			entry := info.Mode().String()
			if info.Mode().IsRegular() {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				entry += "\n" + string(data)
			}
			out[path] = entry
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestSnapshot checks the detector TestUFWReal relies on: a changed byte, a changed mode or a new
// file under a watched path (reached through a symlink) shows up; an untouched tree compares equal.
func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	ufwDir := filepath.Join(dir, "usr", "lib", "ufw")
	if err := os.MkdirAll(ufwDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/lib", filepath.Join(dir, "lib")); err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(ufwDir, "user.rules")
	if err := os.WriteFile(rules, []byte("COMMIT\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	watched := []string{filepath.Join(dir, "lib", "ufw"), filepath.Join(dir, "missing")}
	tests := []struct {
		name   string
		change func() error
	}{
		{"byte", func() error { return os.WriteFile(rules, []byte("COMMIt\n"), 0o640) }},
		{"mode", func() error { return os.Chmod(rules, 0o644) }},
		{"new file", func() error { return os.WriteFile(filepath.Join(ufwDir, "ufw.lock"), nil, 0o600) }},
	}
	base := snapshot(t, watched)
	if diff := cmp.Diff(base, snapshot(t, watched)); diff != "" {
		t.Fatalf("snapshot of an untouched tree differs:\n%s", diff)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, watched)
			if err := tt.change(); err != nil {
				t.Fatal(err)
			}
			if cmp.Equal(before, snapshot(t, watched)) {
				t.Errorf("snapshot missed a %s change", tt.name)
			}
		})
	}
}
