package install_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/nspawn"
)

// wnmInside is where the wnm binary is bind-mounted in the container: a path with a space, which
// the unit's ExecStart= must quote. The fake antnode goes next to it.
const (
	wnmInside  = "/opt/wnm tools/wnm"
	fakeInside = "/opt/wnm tools/fakeantnode"
)

// thresholds let a node be added whatever the shared host's CPU, memory and load: the container
// sees the host's.
var thresholds = []string{
	"--cpu_less_than", "100", "--cpu_remove", "100", "--mem_less_than", "100", "--mem_remove", "100",
	"--hd_less_than", "100", "--hd_remove", "100",
	"--max_load_average_allowed", "1000", "--desired_load_average", "1000",
	"--delay_start", "1", "--delay_upgrade", "1", "--delay_remove", "1", "--delay_restart", "1",
}

const rewards = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

// buildWNM compiles cmd/wnm (CGO_ENABLED=0, as shipped) into a temp dir.
func buildWNM(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the module")
	}
	out := filepath.Join(t.TempDir(), "wnm")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/wnm")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/wnm: %v\n%s", err, b)
	}
	return out
}

// realSystemd is one container with wnm in it, run as root or as a user with lingering.
type realSystemd struct {
	t    *testing.T
	m    *nspawn.Machine
	user string // "" is root
}

// exec runs argv as the test's user and returns stdout; a failure fails the test.
func (r *realSystemd) exec(argv ...string) string {
	r.t.Helper()
	out, errOut, err := r.try(argv...)
	if err != nil {
		r.t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	return out
}

func (r *realSystemd) try(argv ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(r.t.Context(), 2*time.Minute)
	defer cancel()
	return r.m.Exec(ctx, nspawn.Cmd{User: r.user}, argv...)
}

// systemctl runs systemctl (--user for a user) as the test's user.
func (r *realSystemd) systemctl(args ...string) (string, error) {
	if r.user != "" {
		args = append([]string{"--user"}, args...)
	}
	out, _, err := r.try(append([]string{"systemctl"}, args...)...)
	return strings.TrimSpace(out), err
}

// show reads properties of a unit.
func (r *realSystemd) show(unit string, props ...string) map[string]string {
	out, _ := r.systemctl("show", "--property="+strings.Join(props, ","), unit)
	got := map[string]string{}
	for line := range strings.Lines(out) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			got[k] = v
		}
	}
	return got
}

// nodeAlive checks that node 1's antnode process runs.
func (r *realSystemd) nodeAlive() error {
	out, _, err := r.m.Run(r.t.Context(), "pgrep", "-f", "/antnode0001/antnode ")
	if err != nil {
		return fmt.Errorf("no process of node 1 (pgrep: %w)", err)
	}
	if strings.TrimSpace(out) == "" {
		return fmt.Errorf("no process of node 1")
	}
	return nil
}

func (r *realSystemd) journal() []map[string]any {
	if r.user != "" {
		return r.m.UserJournal(r.user, "wnm.service")
	}
	return r.m.Journal("wnm.service")
}

// TestRealSystemd installs wnm's timer in a container booted with systemd, as root (system
// units) and as a user with lingering (user units), and checks what an operator relies on:
// the timer is enabled and active; starting the service runs a cycle that succeeds; a node that
// a cycle starts with setsid outlives the cycle (KillMode=process); the timer starts the next
// cycle by itself within its interval; the journal holds the cycle summary and the actions with
// their WNM_* fields, so that journalctl -u wnm WNM_ACTION=add finds the add; a second install
// changes nothing; uninstall leaves no unit file and no enabled timer, and the node running.
func TestRealSystemd(t *testing.T) {
	nspawn.Require(t)
	wnm := buildWNM(t)
	fake := fakeantnode.Build(t)
	for _, user := range []string{"", "alice"} {
		name := "system"
		if user != "" {
			name = "user"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each boots its own container and mostly waits on the timer
			m := nspawn.Boot(t, nspawn.Options{Bind: []nspawn.Bind{
				{Src: wnm, Dst: wnmInside, ReadOnly: true}, {Src: fake, Dst: fakeInside, ReadOnly: true},
			}})
			r := &realSystemd{t: t, m: m, user: user}
			unitDir := "/etc/systemd/system"
			manager := "setsid+sudo"
			antnode := "/var/lib/wnm-test/bin/antnode"
			if user != "" {
				u := m.AddUser(user)
				m.EnableLinger(user)
				unitDir = u.Home + "/.config/systemd/user"
				manager = "setsid+user"
				antnode = u.Home + "/.local/bin/antnode"
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("wnm.service status:\n%s", m.MustRunQuiet("sh", "-c", "systemctl status --no-pager wnm.service wnm.timer; journalctl --no-pager -n 50 -o cat"))
				}
			})
			r.exec("mkdir", "-p", filepath.Dir(antnode))
			r.exec(fakeInside, "release", "--version", "0.4.17", "--out", antnode)
			r.exec(append([]string{wnmInside, "init", "--rewards_address", rewards, "--process_manager", manager,
				"--node_cap", "1", "--antnode_path", antnode}, thresholds...)...)

			out := r.exec(wnmInside, "install")
			t.Logf("wnm install:\n%s", out)
			if !strings.Contains(out, "installed: the systemd timer ("+name+")") {
				t.Fatalf("wnm install:\n%s", out)
			}
			service := r.exec("cat", unitDir+"/wnm.service")
			if !strings.Contains(service, `ExecStart="`+wnmInside+`" run`) {
				t.Errorf("wnm.service does not run %q:\n%s", wnmInside, service)
			}
			if got, err := r.systemctl("is-enabled", "wnm.timer"); got != "enabled" {
				t.Errorf("systemctl is-enabled wnm.timer = %q (%v), want enabled", got, err)
			}
			if got, err := r.systemctl("is-active", "wnm.timer"); got != "active" {
				t.Errorf("systemctl is-active wnm.timer = %q (%v), want active", got, err)
			}

			// Cycles started by hand succeed; one of them adds the node, which runs on after it.
			var p map[string]string
			var last time.Time
			lastErr := errors.New("no cycle yet")
			nspawn.Poll(t, 2*time.Minute, "a cycle that adds a node", func() error {
				// systemd refuses a sixth start within 10 s (StartLimitBurst=5).
				if time.Since(last) < 2500*time.Millisecond {
					return lastErr
				}
				last = time.Now()
				if _, err := r.systemctl("start", "wnm.service"); err != nil {
					t.Fatalf("systemctl start wnm.service: %v", err)
				}
				p = r.show("wnm.service", "Result", "ExecMainStatus", "InvocationID", "ActiveState")
				if p["Result"] != "success" || p["ExecMainStatus"] != "0" || p["ActiveState"] != "inactive" {
					t.Fatalf("after a cycle: Result=%q ExecMainStatus=%q ActiveState=%q, want success, 0 and inactive", p["Result"], p["ExecMainStatus"], p["ActiveState"])
				}
				lastErr = r.nodeAlive()
				return lastErr
			})

			// The timer starts the next one by itself, a minute after that one ended.
			first := p["InvocationID"]
			nspawn.Poll(t, 2*time.Minute, "a cycle started by the timer", func() error {
				q := r.show("wnm.service", "Result", "InvocationID", "ActiveState")
				if q["InvocationID"] == first || q["ActiveState"] != "inactive" {
					return fmt.Errorf("wnm.service %s, invocation %s", q["ActiveState"], q["InvocationID"])
				}
				if q["Result"] != "success" {
					return fmt.Errorf("the timer's cycle ended with Result=%q", q["Result"])
				}
				return nil
			})

			if err := r.nodeAlive(); err != nil {
				t.Errorf("after the timer's cycle: %v", err)
			}
			if out := r.exec(wnmInside, "status", "--json"); !strings.Contains(out, `"status": "RUNNING"`) {
				t.Errorf("wnm status after the timer's cycle shows no RUNNING node:\n%s", out)
			}

			// journalctl -u wnm WNM_ACTION=add lists the add.
			match := []string{"journalctl", "--no-pager", "-o", "cat", "WNM_ACTION=add", "WNM_NODE=1"}
			if user != "" {
				u, err := m.LookupUser(t.Context(), user)
				if err != nil {
					t.Fatal(err)
				}
				match = append(match, "_SYSTEMD_USER_UNIT=wnm.service", "_UID="+strconv.Itoa(u.UID))
			} else {
				match = append(match, "--unit=wnm.service")
			}
			if out := m.MustRun(match...); !strings.Contains(out, "action=add node=1") {
				t.Errorf("%s printed %q, want the add of node 1", strings.Join(match, " "), out)
			}

			// The journal has each cycle's summary with its attributes as fields.
			var summary map[string]any
			for _, e := range r.journal() {
				if msg, _ := e["MESSAGE"].(string); strings.HasPrefix(msg, "cycle ") && e["WNM_CYCLE"] != nil {
					summary = e
				}
			}
			if summary == nil {
				t.Fatalf("no cycle summary in the journal of wnm.service:\n%s", strings.Join(nspawn.Messages(r.journal()), "\n"))
			}
			for field, want := range map[string]string{"PRIORITY": "6", "SYSLOG_IDENTIFIER": "wnm", "WNM_NODES": "1", "WNM_DRY_RUN": "false"} {
				if got, _ := summary[field].(string); got != want {
					t.Errorf("cycle summary %s = %q, want %q (entry %v)", field, got, want, summary)
				}
			}
			for _, field := range []string{"WNM_CYCLE", "WNM_DURATION_SECONDS", "WNM_REASON"} {
				if _, ok := summary[field]; !ok {
					t.Errorf("cycle summary has no %s field (entry %v)", field, summary)
				}
			}

			// A second install changes nothing.
			if out := r.exec(wnmInside, "install"); !strings.Contains(out, "already installed, nothing changed") || strings.Contains(out, "\nran ") {
				t.Errorf("second wnm install:\n%s", out)
			}

			// Uninstall leaves no unit file and no enabled timer.
			out = r.exec(wnmInside, "uninstall")
			if !strings.Contains(out, "uninstalled") {
				t.Errorf("wnm uninstall:\n%s", out)
			}
			left := r.exec("find", unitDir, "-name", "wnm.*")
			if strings.TrimSpace(left) != "" {
				t.Errorf("files left after uninstall:\n%s", left)
			}
			if got, _ := r.systemctl("is-enabled", "wnm.timer"); got == "enabled" {
				t.Errorf("systemctl is-enabled wnm.timer = %q after uninstall", got)
			}
			if got, _ := r.systemctl("is-active", "wnm.timer"); got == "active" {
				t.Errorf("systemctl is-active wnm.timer = %q after uninstall", got)
			}
			if out := r.exec(wnmInside, "uninstall"); !strings.Contains(out, "wnm is not installed") {
				t.Errorf("second wnm uninstall:\n%s", out)
			}
			if err := r.nodeAlive(); err != nil {
				t.Errorf("after uninstall: %v", err)
			}
		})
	}
}
