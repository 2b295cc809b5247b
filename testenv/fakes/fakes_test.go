package fakes

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"howett.net/plist"

	"github.com/wnm-project/wnm/testenv/poll"
)

// rig is a private world for the fakes: a state dir, a unit dir, a log, and the environment
// the fakes see.
type rig struct {
	t     *testing.T
	dir   string
	env   map[string]string
	state string
	units string
	log   string
}

func newRig(t *testing.T) *rig {
	dir := t.TempDir()
	r := &rig{t: t, dir: dir, state: filepath.Join(dir, "state"), units: filepath.Join(dir, "units dir"), log: filepath.Join(dir, "calls.log")}
	if err := os.MkdirAll(r.units, 0o755); err != nil {
		t.Fatal(err)
	}
	r.env = map[string]string{EnvState: r.state, EnvUnitDir: r.units, EnvLog: r.log, "HOME": dir}
	t.Cleanup(func() {
		if err := KillAll(r.state); err != nil {
			t.Errorf("KillAll: %v", err)
		}
	})
	return r
}

func (r *rig) getenv(k string) string { return r.env[k] }

// run runs a fake and returns its exit status, stdout and stderr.
func (r *rig) run(fake func([]string, *bytes.Buffer, *bytes.Buffer, env) int, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	rc := fake(args, &out, &errb, r.getenv)
	return rc, out.String(), errb.String()
}

func sc(args []string, out, errb *bytes.Buffer, getenv env) int {
	return systemctl(args, out, errb, getenv)
}
func lc(args []string, out, errb *bytes.Buffer, getenv env) int {
	return launchctl(args, out, errb, getenv)
}

func (r *rig) want(fake func([]string, *bytes.Buffer, *bytes.Buffer, env) int, wantRC int, args ...string) string {
	r.t.Helper()
	rc, out, errb := r.run(fake, args...)
	if rc != wantRC {
		r.t.Fatalf("%q exited %d, want %d\nstdout: %s\nstderr: %s", args, rc, wantRC, out, errb)
	}
	return out + errb
}

var mainPID = regexp.MustCompile(`(?m)^MainPID=([0-9]+)$`)

func pidOf(t *testing.T, show string) int {
	t.Helper()
	m := mainPID.FindStringSubmatch(show)
	if m == nil {
		t.Fatalf("no MainPID in %q", show)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

func TestSystemctl(t *testing.T) {
	r := newRig(t)
	work := filepath.Join(r.dir, "work 50%")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	unitText := "[Unit]\nDescription=x\n[Service]\nEnvironment=\"GREETING=hello world\"\nWorkingDirectory=" + strings.ReplaceAll(work, "%", "%%") +
		"\nExecStart=/bin/sh -c \"echo \\\"$$GREETING\\\" > out.txt; exec sleep 300\"\n[Install]\nWantedBy=default.target\n"
	unitPath := filepath.Join(r.units, "antnode0001.service")
	if err := os.WriteFile(unitPath, []byte(unitText), 0o644); err != nil {
		t.Fatal(err)
	}

	r.want(sc, 5, "--user", "start", "antnode0009.service")
	r.want(sc, 5, "--user", "stop", "antnode0009.service")
	if out := r.want(sc, 0, "--user", "show", "antnode0009.service", "--property=LoadState,ActiveState,MainPID"); out != "LoadState=not-found\nActiveState=inactive\nMainPID=0\n" {
		t.Errorf("show of a missing unit = %q", out)
	}
	r.want(sc, 1, "--user", "enable", "antnode0009.service")

	r.want(sc, 0, "--user", "enable", "antnode0001.service")
	if out := r.want(sc, 0, "--user", "is-enabled", "antnode0001.service"); out != "enabled\n" {
		t.Errorf("is-enabled = %q, want enabled", out)
	}
	r.want(sc, 0, "--user", "start", "antnode0001")
	pid := pidOf(t, r.want(sc, 0, "--user", "show", "antnode0001.service", "-p", "MainPID"))
	if out := r.want(sc, 0, "--user", "is-active", "antnode0001.service"); out != "active\n" {
		t.Errorf("is-active = %q, want active", out)
	}
	outFile := filepath.Join(work, "out.txt")
	poll.Until(t, 10*time.Second, "the unit's command to write out.txt", func() bool {
		b, _ := os.ReadFile(outFile)
		return string(b) == "hello world\n"
	})
	r.want(sc, 0, "--user", "start", "antnode0001.service") // already running: no second process
	if again := pidOf(t, r.want(sc, 0, "--user", "show", "antnode0001.service", "--property=MainPID")); again != pid {
		t.Errorf("second start changed MainPID from %d to %d", pid, again)
	}

	// A changed unit file without daemon-reload keeps the loaded copy, with systemctl's warning.
	if err := os.WriteFile(unitPath, []byte(strings.Replace(unitText, "hello world", "changed", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r.want(sc, 0, "--user", "stop", "antnode0001.service")
	if alive(pidRecord{PID: pid}) {
		t.Fatalf("pid %d still runs after stop", pid)
	}
	if out := r.want(sc, 3, "--user", "is-active", "antnode0001.service"); out != "inactive\n" {
		t.Errorf("is-active after stop = %q", out)
	}
	if out := r.want(sc, 0, "--user", "restart", "antnode0001.service"); !strings.Contains(out, "changed on disk") {
		t.Errorf("start of a changed unit without daemon-reload printed %q; want the warning", out)
	}
	r.want(sc, 0, "--user", "daemon-reload")
	if out := r.want(sc, 0, "--user", "restart", "antnode0001.service"); out != "" {
		t.Errorf("restart after daemon-reload printed %q", out)
	}
	poll.Until(t, 10*time.Second, "the reloaded command to run", func() bool {
		b, _ := os.ReadFile(outFile)
		return string(b) == "changed\n"
	})
	r.want(sc, 0, "--user", "disable", "--now", "antnode0001.service")
	if out := r.want(sc, 1, "--user", "is-enabled", "antnode0001.service"); out != "disabled\n" {
		t.Errorf("is-enabled after disable = %q", out)
	}
	if out := r.want(sc, 0, "--user", "show", "antnode0001.service", "--property=ActiveState", "--value"); out != "inactive\n" {
		t.Errorf("show --value after disable --now = %q", out)
	}
	r.want(sc, 1, "--user", "frobnicate", "antnode0001.service")
	r.want(sc, 1, "--user", "--bogus", "start", "antnode0001.service")
	r.want(sc, 1, "--user", "start", "../escape.service")

	log, err := os.ReadFile(r.log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if lines[0] != "systemctl --user start antnode0009.service" || len(lines) != 22 {
		t.Errorf("log has %d lines, first %q; want 22, first the first call:\n%s", len(lines), lines[0], log)
	}
}

func TestSystemctlRefusesHostUnits(t *testing.T) {
	r := newRig(t)
	delete(r.env, EnvUnitDir)
	if rc, _, errb := r.run(sc, "start", "ssh.service"); rc == 0 || !strings.Contains(errb, "refusing") {
		t.Errorf("system start without a unit dir or WNM_ROOT = %d, %q; want a refusal", rc, errb)
	}
	delete(r.env, EnvState)
	r.env[EnvUnitDir] = r.units
	if rc, _, errb := r.run(sc, "--user", "daemon-reload"); rc == 0 || !strings.Contains(errb, EnvState) {
		t.Errorf("run without a state dir = %d, %q; want a refusal naming %s", rc, errb, EnvState)
	}
}

func TestSystemctlTimer(t *testing.T) {
	r := newRig(t)
	r.env[EnvUnitDir] = ""
	r.env["WNM_ROOT"] = r.dir
	dir := filepath.Join(r.dir, "etc/systemd/system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wnm.timer"), []byte("[Timer]\nOnBootSec=1min\n[Install]\nWantedBy=timers.target\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.want(sc, 0, "enable", "--now", "wnm.timer")
	if out := r.want(sc, 0, "is-active", "wnm.timer"); out != "active\n" {
		t.Errorf("is-active wnm.timer = %q", out)
	}
	r.want(sc, 0, "disable", "--now", "wnm.timer")
	r.want(sc, 3, "is-active", "wnm.timer")
}

func TestLaunchctl(t *testing.T) {
	r := newRig(t)
	logs := filepath.Join(r.dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	job := map[string]any{
		"Label":                "com.autonomi.antnode-1",
		"ProgramArguments":     []string{"/bin/sh", "-c", `echo "$GREETING" > out.txt; exec sleep 300`},
		"WorkingDirectory":     r.dir,
		"EnvironmentVariables": map[string]string{"GREETING": "hi there"},
		"RunAtLoad":            true,
		"KeepAlive":            true,
		"StandardOutPath":      filepath.Join(logs, "stdout.log"),
		"StandardErrorPath":    filepath.Join(logs, "stdout.log"),
	}
	b, err := plist.MarshalIndent(job, plist.XMLFormat, "\t")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.dir, "com.autonomi.antnode-1.plist")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	target := "gui/501/com.autonomi.antnode-1"

	r.want(lc, 113, "print", target)
	r.want(lc, 113, "bootout", target)
	r.want(lc, 113, "kickstart", "-k", target)
	r.want(lc, 2, "bootstrap", "gui/501", filepath.Join(r.dir, "absent.plist"))
	r.want(lc, 0, "bootstrap", "gui/501", path)
	r.want(lc, 5, "bootstrap", "gui/501", path)
	out := r.want(lc, 0, "print", target)
	pid := printedPID(t, out)
	if !strings.Contains(out, "state = running") {
		t.Errorf("print of a running job:\n%s", out)
	}
	poll.Until(t, 10*time.Second, "the job to write out.txt", func() bool {
		b, _ := os.ReadFile(filepath.Join(r.dir, "out.txt"))
		return string(b) == "hi there\n"
	})
	r.want(lc, 0, "kickstart", target) // running, no -k: nothing happens
	if again := printedPID(t, r.want(lc, 0, "print", target)); again != pid {
		t.Errorf("kickstart without -k changed the pid from %d to %d", pid, again)
	}
	r.want(lc, 0, "kickstart", "-k", target)
	newPID := printedPID(t, r.want(lc, 0, "print", target))
	if newPID == pid || alive(pidRecord{PID: pid}) {
		t.Errorf("kickstart -k: pid %d -> %d, old alive %v; want a new process and the old one gone", pid, newPID, alive(pidRecord{PID: pid}))
	}
	r.want(lc, 0, "bootout", target)
	if alive(pidRecord{PID: newPID}) {
		t.Errorf("pid %d still runs after bootout", newPID)
	}
	r.want(lc, 113, "print", target)
	r.want(lc, 0, "bootstrap", "system", path) // another domain
	r.want(lc, 0, "bootout", "system", path)
	r.want(lc, 1, "print", "nonsense")
	r.want(lc, 1, "load", path)

	log, err := os.ReadFile(r.log)
	if err != nil {
		t.Fatal(err)
	}
	want := "launchctl print gui/501/com.autonomi.antnode-1\n"
	if got := strings.SplitAfter(string(log), "\n")[0]; got != want {
		t.Errorf("first log line = %q, want %q", got, want)
	}
}

var printPID = regexp.MustCompile(`(?m)^\tpid = ([0-9]+)$`)

func printedPID(t *testing.T, out string) int {
	t.Helper()
	m := printPID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no pid in print output:\n%s", out)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

func TestShellWord(t *testing.T) {
	tests := map[string]string{
		"start":                 "start",
		"--property=A,B":        "--property=A,B",
		"gui/501/com.x-1":       "gui/501/com.x-1",
		"/a b/c.plist":          "'/a b/c.plist'",
		"it's":                  `'it'\''s'`,
		"":                      "''",
		"/srv/50%/antnode.conf": "/srv/50%/antnode.conf",
	}
	for in, want := range tests {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseUnitDef(t *testing.T) {
	d, err := parseUnitDef([]byte("[Service]\nEnvironment=\"A=1\" B=2\nWorkingDirectory=-/srv/50%%\nExecStart=\"/srv/my node/antnode\" --x \"a b\"\n[Install]\nWantedBy=x\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := unitDef{exec: []string{"/srv/my node/antnode", "--x", "a b"}, env: [][2]string{{"A", "1"}, {"B", "2"}}, dir: "/srv/50%", install: true}
	if diff := cmp.Diff(want, d, cmp.AllowUnexported(unitDef{})); diff != "" {
		t.Errorf("parseUnitDef mismatch (-want +got):\n%s", diff)
	}
}
