package nspawn_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/nspawn"
)

// wnmInside is where the wnm binary is bind-mounted in the containers.
const wnmInside = "/opt/wnm/wnm"

// statInside holds the steady /proc/stat FIFO (nspawn.IdleProcStat) that wnm reads in the fleet.
const statInside = "/run/wnm-test-stat"

// TestMain removes the wnm build when the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if wnmBuild.dir != "" {
		os.RemoveAll(wnmBuild.dir)
	}
	os.Exit(code)
}

var wnmBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// envWNM names a prebuilt wnm binary to test instead of building cmd/wnm (a release build, or one
// built with -overlay to try a change).
const envWNM = "WNM_NSPAWN_WNM"

// buildWNM compiles cmd/wnm (CGO_ENABLED=0) once per test process, unless [envWNM] names a
// binary.
func buildWNM(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envWNM); p != "" {
		if !filepath.IsAbs(p) {
			t.Fatalf("%s=%q: want an absolute path", envWNM, p)
		}
		return p
	}
	wnmBuild.once.Do(func() {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			wnmBuild.err = fmt.Errorf("cannot locate the module")
			return
		}
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "wnm-nspawn-build-")
		if err != nil {
			wnmBuild.err = err
			return
		}
		wnmBuild.dir = dir
		out := filepath.Join(dir, "wnm")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/wnm")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			wnmBuild.err = fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, b)
			return
		}
		wnmBuild.path = out
	})
	if wnmBuild.err != nil {
		t.Fatalf("build wnm: %v", wnmBuild.err)
	}
	return wnmBuild.path
}

// fleetMode is one way of running wnm with systemd in the container.
type fleetMode struct {
	manager   string // process_manager
	user      string // who runs wnm and owns the nodes' units: "" is root
	nodeUID   string // whom the node processes must run as ("ant" in sudo mode)
	transport string // WNM_SYSTEMD_TRANSPORT for wnm: "dbus" or "systemctl"
}

// fleet is wnm driving fake antnodes under systemd in a container.
type fleet struct {
	t           *testing.T
	m           *nspawn.Machine
	mode        fleetMode
	antnodePath string
	baseFlags   []string
	log         strings.Builder // every wnm run's output, shown when the test fails
}

func TestSystemdFleet(t *testing.T) {
	tests := []struct {
		name string
		mode fleetMode
	}{
		{"sudo/dbus", fleetMode{manager: "systemd+sudo", nodeUID: "ant", transport: "dbus"}},
		{"sudo/systemctl", fleetMode{manager: "systemd+sudo", nodeUID: "ant", transport: "systemctl"}},
		{"user/dbus", fleetMode{manager: "systemd+user", user: "alice", nodeUID: "alice", transport: "dbus"}},
		{"user/systemctl", fleetMode{manager: "systemd+user", user: "alice", nodeUID: "alice", transport: "systemctl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each mode boots its own container, and most of its time is spent waiting for
			// cycles and units: the modes overlap (go test -parallel, GOMAXPROCS by default).
			t.Parallel()
			f := newFleet(t, tt.mode)
			f.init()

			// Growth: cycles add nodes until node_cap units run, enabled, as the right user.
			f.cycleUntil(4*time.Minute, "3 nodes running under systemd", func() error { return f.checkRunning(1, 2, 3) })
			f.checkServing(1, 2, 3)
			f.checkJournal(1)

			// systemd, not wnm, brings a killed node back (Restart=always).
			f.checkRestartAfterKill(2)

			// A new antnode version at antnode_path rolls through the fleet.
			f.release("0.4.18")
			f.cycleUntil(6*time.Minute, "every node upgraded to 0.4.18", func() error {
				if err := f.checkVersions("0.4.18", 1, 2, 3); err != nil {
					return err
				}
				return f.checkRunning(1, 2, 3)
			})

			// Lowering node_cap stops, disables and deletes the surplus units and directories.
			before := f.status()
			f.baseFlags = append(f.baseFlags, "--node_cap", "1")
			f.cycleUntil(4*time.Minute, "the fleet shrunk to 1 node", func() error {
				if n := len(f.status()); n != 1 {
					return fmt.Errorf("%d nodes in wnm status, want 1", n)
				}
				return nil
			})
			after := f.status()
			for id, n := range before {
				if _, kept := after[id]; kept {
					if err := f.checkRunning(id); err != nil {
						t.Errorf("kept node %d: %v", id, err)
					}
					continue
				}
				f.checkGone(id, n.RootDir)
			}
		})
	}
}

func newFleet(t *testing.T, mode fleetMode) *fleet {
	t.Helper()
	nspawn.Require(t)
	wnm := buildWNM(t)
	// wnm reads an idle CPU from a steady /proc/stat; memory, disk and load are the host's.
	statDir := t.TempDir()
	nspawn.IdleProcStat(t, statDir)
	m := bootWithBinds(t, nspawn.Bind{Src: wnm, Dst: wnmInside, ReadOnly: true}, nspawn.Bind{Src: statDir, Dst: statInside, ReadOnly: true})
	f := &fleet{t: t, m: m, mode: mode}
	switch mode.user {
	case "":
		m.AddUser("ant")
		f.antnodePath = "/var/lib/wnm-test/bin/antnode"
	default:
		u := m.AddUser(mode.user)
		m.EnableLinger(mode.user)
		f.antnodePath = u.Home + "/.local/bin/antnode"
	}
	f.run("mkdir", "-p", filepath.Dir(f.antnodePath))
	f.release("0.4.17")
	// Generous host thresholds: the container sees the shared host's memory, disk and load.
	f.baseFlags = []string{
		"--cpu_less_than", "50", "--cpu_remove", "100", "--mem_less_than", "100", "--mem_remove", "100",
		"--hd_less_than", "100", "--hd_remove", "100",
		"--max_load_average_allowed", "1000", "--desired_load_average", "1000",
		"--delay_start", "1", "--delay_upgrade", "1", "--delay_remove", "1", "--delay_restart", "1",
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("wnm output (last 200 lines):\n%s", lastLines(f.log.String(), 200))
			t.Logf("units:\n%s", f.m.MustRunQuiet("sh", "-c", "systemctl list-units --all --no-pager 'antnode*'; find /etc/systemd/system /home -name 'antnode*' 2>&1"))
		}
	})
	return f
}

// run runs argv in the container as the mode's user and returns stdout; errors fail the test.
func (f *fleet) run(argv ...string) string {
	f.t.Helper()
	out, errOut, err := f.m.Exec(f.t.Context(), nspawn.Cmd{User: f.mode.user}, argv...)
	if err != nil {
		f.t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	return out
}

// systemctl runs systemctl as the mode's user (with --user in user mode), whatever its exit.
func (f *fleet) systemctl(args ...string) (string, error) {
	if f.mode.user != "" {
		args = append([]string{"--user"}, args...)
	}
	out, _, err := f.m.Exec(f.t.Context(), nspawn.Cmd{User: f.mode.user}, append([]string{"systemctl"}, args...)...)
	return out, err
}

// show returns properties of a node's unit.
func (f *fleet) show(id int, props ...string) map[string]string {
	f.t.Helper()
	out, _ := f.systemctl("show", "--property="+strings.Join(props, ","), unitName(id))
	got := map[string]string{}
	for line := range strings.Lines(out) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			got[k] = v
		}
	}
	return got
}

func unitName(id int) string { return fmt.Sprintf("antnode%04d.service", id) }

// release puts a fake antnode of version v at antnode_path, as antup would.
func (f *fleet) release(v string) {
	f.t.Helper()
	f.run(fakeInside, "release", "--version", v, "--out", f.antnodePath)
}

func (f *fleet) init() {
	f.t.Helper()
	args := []string{wnmInside, "init", "--rewards_address", rewards, "--process_manager", f.mode.manager,
		"--node_cap", "3", "--antnode_path", f.antnodePath}
	f.wnm(append(args, f.baseFlags...)...)
}

// wnm runs wnm in the container, records its output and returns its stdout and its log
// (stderr); a failure fails the test.
func (f *fleet) wnm(argv ...string) (stdout, log string) {
	f.t.Helper()
	env := []string{"WNM_SYSTEMD_TRANSPORT=" + f.mode.transport}
	out, errOut, err := f.m.Exec(f.t.Context(), nspawn.Cmd{User: f.mode.user, Env: env, ProcStat: statInside + "/stat"}, argv...)
	fmt.Fprintf(&f.log, "$ %s\n%s%s", strings.Join(argv, " "), out, errOut)
	if err != nil {
		f.t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	return out, errOut
}

// cycleUntil runs "wnm run" about once a second until check passes. A cycle that logs an error
// fails the test at once: with fake antnodes under a working systemd, no action should fail.
func (f *fleet) cycleUntil(timeout time.Duration, what string, check func() error) {
	f.t.Helper()
	start := time.Now()
	cycles := 0
	nspawn.PollEvery(f.t, timeout, time.Second, what, func() error {
		cycles++
		_, log := f.wnm(append([]string{wnmInside, "run"}, f.baseFlags...)...)
		if line := errorLine(log); line != "" {
			f.t.Fatalf("waiting for %s, wnm run logged an error:\n%s", what, line)
		}
		return check()
	})
	f.t.Logf("%s after %d cycles in %v", what, cycles, time.Since(start).Round(time.Millisecond))
}

// errorLine returns the first line of wnm's log that is at level ERROR, or "".
func errorLine(log string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, "level=ERROR") {
			return line
		}
	}
	return ""
}

// statusRow is the part of "wnm status --json" the tests read.
type statusRow struct {
	ID          int    `json:"id"`
	Service     string `json:"service"`
	Status      string `json:"status"`
	Version     string `json:"version"`
	MetricsPort int    `json:"metrics_port"`
	RootDir     string `json:"root_dir"`
}

// status returns wnm's node rows by id.
func (f *fleet) status() map[int]statusRow {
	f.t.Helper()
	out, _ := f.wnm(wnmInside, "status", "--json")
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		f.t.Fatalf("wnm status --json: %v\n%s", err, out)
	}
	byID := map[int]statusRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	return byID
}

// checkRunning checks that each node's unit is active and enabled, with a main process of the
// mode's node user, and that wnm sees it running.
func (f *fleet) checkRunning(ids ...int) error {
	st := f.status()
	want, err := f.m.LookupUser(f.t.Context(), f.mode.nodeUID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		p := f.show(id, "ActiveState", "UnitFileState", "MainPID")
		if p["ActiveState"] != "active" || p["UnitFileState"] != "enabled" {
			return fmt.Errorf("%s: ActiveState=%q UnitFileState=%q, want active and enabled", unitName(id), p["ActiveState"], p["UnitFileState"])
		}
		uid, _, err := f.m.Run(f.t.Context(), "stat", "-c", "%u", "/proc/"+p["MainPID"])
		if err != nil || strings.TrimSpace(uid) != strconv.Itoa(want.UID) {
			return fmt.Errorf("%s: main pid %s runs as uid %q (%w), want %s (%d)", unitName(id), p["MainPID"], strings.TrimSpace(uid), err, want.Name, want.UID)
		}
		if r, ok := st[id]; !ok || r.Status != "RUNNING" {
			return fmt.Errorf("node %d: wnm status %+v, want RUNNING", id, r)
		}
	}
	return nil
}

// checkServing checks that each node answers on its metrics port inside the container.
func (f *fleet) checkServing(ids ...int) {
	f.t.Helper()
	st := f.status()
	for _, id := range ids {
		port := st[id].MetricsPort
		nspawn.Poll(f.t, time.Minute, fmt.Sprintf("node %d's metrics on port %d", id, port), func() error {
			code, body, err := f.m.HTTPGet(f.t.Context(), port, "/metrics")
			if err == nil && (code != 200 || !strings.Contains(body, "ant_node_")) {
				err = fmt.Errorf("GET /metrics = %d %q", code, body)
			}
			return err
		})
	}
}

// checkJournal checks that a node's stdout reaches the journal through its unit.
func (f *fleet) checkJournal(id int) {
	f.t.Helper()
	journal := func() []map[string]any { return f.m.Journal(unitName(id)) }
	if f.mode.user != "" {
		journal = func() []map[string]any { return f.m.UserJournal(f.mode.user, unitName(id)) }
	}
	waitJournal(f.t, unitName(id), journal, "Node started")
}

// checkRestartAfterKill kills a node's process through systemd and waits for systemd to
// restart it (Restart=always), without any wnm cycle.
func (f *fleet) checkRestartAfterKill(id int) {
	f.t.Helper()
	before := f.show(id, "MainPID", "NRestarts")
	// The main process only: a kill of the whole cgroup can fail on a process that is exiting
	// ("Failed to send signal SIGKILL to auxiliary processes"), and the node is the main process.
	if _, err := f.systemctl("kill", "--kill-whom=main", "--signal=SIGKILL", unitName(id)); err != nil {
		f.t.Fatalf("systemctl kill %s: %v", unitName(id), err)
	}
	nspawn.Poll(f.t, 2*time.Minute, unitName(id)+" restarted by systemd", func() error {
		p := f.show(id, "ActiveState", "MainPID", "NRestarts")
		if p["ActiveState"] != "active" || p["MainPID"] == "0" || p["MainPID"] == before["MainPID"] {
			return fmt.Errorf("ActiveState=%q MainPID=%s (was %s)", p["ActiveState"], p["MainPID"], before["MainPID"])
		}
		was, _ := strconv.Atoi(before["NRestarts"])
		if now, _ := strconv.Atoi(p["NRestarts"]); now <= was {
			return fmt.Errorf("NRestarts=%d, was %d", now, was)
		}
		return nil
	})
	f.checkServing(id)
}

var metadataVersion = regexp.MustCompile(`antnode_version="([^"]*)"`)

// checkVersions checks that wnm records version v for each node, that the node's running
// process reports it on /metadata, and that the unit's binary is that version.
func (f *fleet) checkVersions(v string, ids ...int) error {
	st := f.status()
	for _, id := range ids {
		r, ok := st[id]
		if !ok {
			return fmt.Errorf("node %d missing from wnm status", id)
		}
		if r.Version != v {
			return fmt.Errorf("node %d: wnm records version %q, want %q", id, r.Version, v)
		}
		code, body, err := f.m.HTTPGet(f.t.Context(), r.MetricsPort, "/metadata")
		if err != nil {
			return err
		}
		if got := metadataVersion.FindStringSubmatch(body); code != 200 || got == nil || got[1] != v {
			return fmt.Errorf("node %d: GET /metadata = %d, version %q, want %s", id, code, got, v)
		}
		exe := execPath(f.show(id, "ExecStart")["ExecStart"])
		out, _, err := f.m.Run(f.t.Context(), exe, "--version")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "Autonomi Node v"+v+"\n") {
			return fmt.Errorf("node %d: %s --version = %q, want version %s", id, exe, out, v)
		}
	}
	return nil
}

// execPath extracts the binary from systemctl show's ExecStart= value
// ("{ path=/x/antnode ; argv[]=/x/antnode --port 1 ; ... }").
func execPath(execStart string) string {
	_, rest, ok := strings.Cut(execStart, "path=")
	if !ok {
		return ""
	}
	path, _, _ := strings.Cut(rest, " ")
	return path
}

// checkGone checks that a removed node has no unit file, no enablement symlink, no process and no
// root directory left.
func (f *fleet) checkGone(id int, rootDir string) {
	f.t.Helper()
	p := f.show(id, "LoadState", "ActiveState")
	if p["LoadState"] != "not-found" || p["ActiveState"] == "active" {
		f.t.Errorf("removed %s: LoadState=%q ActiveState=%q, want not-found and inactive", unitName(id), p["LoadState"], p["ActiveState"])
	}
	dirs := "/etc/systemd/system"
	if f.mode.user != "" {
		u, err := f.m.LookupUser(f.t.Context(), f.mode.user)
		if err != nil {
			f.t.Fatal(err)
		}
		dirs = u.Home + "/.config/systemd/user"
	}
	out, _, _ := f.m.Run(f.t.Context(), "find", dirs, "-name", unitName(id))
	if strings.TrimSpace(out) != "" {
		f.t.Errorf("removed %s: files left: %s", unitName(id), out)
	}
	if rootDir == "" {
		f.t.Errorf("removed node %d had no root dir in wnm status", id)
	} else if _, _, err := f.m.Run(f.t.Context(), "test", "!", "-e", rootDir); err != nil {
		f.t.Errorf("removed node %d: root dir %s still exists", id, rootDir)
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}
