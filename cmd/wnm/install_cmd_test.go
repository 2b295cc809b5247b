package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tree lists everything under dir: each path with its type, mode and a hash of its content (or
// its link target), so that any write shows.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		desc := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// noRunCommands unsets WNM_RUN_COMMANDS for the test: kong reads it from the process's
// environment, and with it install would run the host's service managers.
func noRunCommands(t *testing.T) {
	t.Setenv("WNM_RUN_COMMANDS", "")
	os.Unsetenv("WNM_RUN_COMMANDS")
}

// hostPaths are where a live install would write; a test run must never create them.
var hostPaths = []string{
	"/etc/systemd/system/wnm.service", "/etc/systemd/system/wnm.timer",
	"/etc/systemd/system/timers.target.wants/wnm.timer",
	"/Library/LaunchDaemons/com.autonomi.wnm.plist", "/Library/Logs/autonomi", "/var/log/antnode",
}

func hostState() map[string]bool {
	m := map[string]bool{}
	for _, p := range hostPaths {
		_, err := os.Lstat(p)
		m[p] = err == nil
	}
	return m
}

// TestInstallWritesOnlyUnderRoot runs install and uninstall in-process with --root and with
// --print, for every scheduler and mode, and compares a listing of the whole sandbox (home,
// root and a neighbour directory) before and after: --print changes nothing at all, and --root
// changes nothing outside the prefix. No service-manager command runs (none would be found
// recorded), and the host paths a live install writes are untouched.
func TestInstallWritesOnlyUnderRoot(t *testing.T) {
	noRunCommands(t)
	sandbox := t.TempDir()
	home := filepath.Join(sandbox, "home")
	root := filepath.Join(sandbox, "root")
	for _, d := range []string{home, filepath.Join(sandbox, "neighbour")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(sandbox, "neighbour", "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := hostState()
	for _, sched := range []string{"systemd", "launchd", "cron"} {
		for _, mode := range []string{"system", "user"} {
			for _, print := range []bool{true, false} {
				name := fmt.Sprintf("%s/%s/print=%v", sched, mode, print)
				t.Run(name, func(t *testing.T) {
					before := tree(t, sandbox)
					args := []string{"--scheduler", sched, "--mode", mode, "--root", root}
					if print {
						args = append(args, "--print")
					}
					for _, verb := range [][]string{{"install", "--binary", "/opt/wnm dir/wnm"}, {"uninstall"}} {
						var stdout, stderr bytes.Buffer
						e := &env{
							stdout: &stdout, stderr: &stderr, home: home, goos: "linux", euid: 1000, now: time.Now,
							environ: []string{"HOME=" + home, "USER=alice", "PATH=/nonexistent"},
						}
						if code := e.main(append(verb, args...)); code != 0 {
							t.Fatalf("wnm %s: exit %d\n%s%s", strings.Join(append(verb, args...), " "), code, stdout.String(), stderr.String())
						}
						if strings.Contains(stdout.String(), "\nran ") || strings.HasPrefix(stdout.String(), "ran ") {
							t.Errorf("wnm %s ran a command under --root:\n%s", verb[0], stdout.String())
						}
					}
					after := tree(t, sandbox)
					outside := func(m map[string]string) map[string]string {
						o := map[string]string{}
						for k, v := range m {
							if k != "root" && !strings.HasPrefix(k, "root"+string(filepath.Separator)) {
								o[k] = v
							}
						}
						return o
					}
					if print {
						if diff := cmp.Diff(before, after); diff != "" {
							t.Errorf("--print changed the tree (-before +after):\n%s", diff)
						}
					} else if diff := cmp.Diff(outside(before), outside(after)); diff != "" {
						t.Errorf("--root changed the tree outside the prefix (-before +after):\n%s", diff)
					}
					if diff := cmp.Diff(host, hostState()); diff != "" {
						t.Errorf("host paths changed (-before +after):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestInstallHints checks the errors an operator gets, with what to do about them.
func TestInstallHints(t *testing.T) {
	noRunCommands(t)
	t.Setenv("WNM_ROOT", "")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"system mode without root", []string{"install", "--mode", "system", "--scheduler", "cron", "--binary", exe}, exitFailure,
			"installing the crontab line (system): root is needed (run it with sudo for the system-wide scheduler, or pass --mode user)"},
		{"relative binary", []string{"install", "--mode", "user", "--scheduler", "cron", "--binary", "wnm"}, exitUsage, `--binary "wnm" is not an absolute path`},
		{"missing binary", []string{"install", "--mode", "user", "--scheduler", "cron", "--binary", "/nonexistent/wnm"}, exitFailure, "wnm binary: stat /nonexistent/wnm"},
		{"launchd on linux", []string{"install", "--mode", "user", "--scheduler", "launchd", "--binary", exe}, exitFailure,
			"launchd on linux: scheduler not available here; pick another with --scheduler (cron works everywhere)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := &env{stdout: &stdout, stderr: &stderr, home: home, goos: "linux", euid: 1000, now: time.Now,
				environ: []string{"HOME=" + home, "USER=alice", "PATH=/nonexistent"}}
			if code := e.main(tt.args); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("wnm %s = %d\n%s%s\nwant %d and %q", strings.Join(tt.args, " "), code, stdout.String(), stderr.String(), tt.code, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("wnm %s printed %q", strings.Join(tt.args, " "), stdout.String())
			}
		})
	}
}
