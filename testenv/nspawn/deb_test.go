package nspawn_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/nspawn"
)

// The Debian package test needs a debootstrapped Debian and two builds of the package, which
// testenv/scripts/deb-test.sh (make deb-test, run by .ci/run) prepares and passes in these.
const (
	envDebRoot = "WNM_DEB_ROOT" // a debootstrapped Debian with systemd, booted read-only
	envDebOld  = "WNM_DEB_OLD"  // the package as built from this commit
	envDebNew  = "WNM_DEB_NEW"  // the same with a higher version, for the upgrade
)

// TestDebPackage installs the Debian package in a real systemd on a real Debian and checks that it
// behaves like a Debian-native daemon: installing enables and starts the timer, whose first tick
// before `wnm init` is a clean skip with no failed unit; after init the next tick runs a cycle;
// `wnm install` defers to the package; a disabled timer stays disabled across an upgrade; mask
// works; remove stops the timer and leaves the data; purge leaves nothing of the package.
func TestDebPackage(t *testing.T) {
	root, oldDeb, newDeb := os.Getenv(envDebRoot), os.Getenv(envDebOld), os.Getenv(envDebNew)
	if root == "" || oldDeb == "" || newDeb == "" {
		t.Skipf("needs %s, %s and %s: run testenv/scripts/deb-test.sh (make deb-test)", envDebRoot, envDebOld, envDebNew)
	}
	for _, p := range []string{root, oldDeb, newDeb} {
		if !filepath.IsAbs(p) {
			t.Fatalf("%q is not an absolute path", p)
		}
	}
	m := nspawn.Boot(t, nspawn.Options{
		Directory: root,
		Bind: []nspawn.Bind{
			{Src: oldDeb, Dst: "/debs/old.deb", ReadOnly: true},
			{Src: newDeb, Dst: "/debs/new.deb", ReadOnly: true},
		},
	})
	run := func(argv ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		out, errOut, err := m.Run(ctx, argv...)
		if err != nil {
			t.Fatalf("%v\nstdout: %s", err, out)
		}
		return out + errOut
	}
	try := func(argv ...string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		out, errOut, err := m.Run(ctx, argv...)
		return strings.TrimSpace(out + errOut), err
	}
	state := func(what, unit string) string {
		t.Helper()
		out, _ := try("systemctl", what, unit) // is-enabled and is-active exit non-zero for "disabled", "inactive"
		return out
	}
	want := func(what, unit, wantState string) {
		t.Helper()
		if got := state(what, unit); got != wantState {
			status, _ := try("systemctl", "status", "--no-pager", "--full", "wnm.timer", "wnm.service")
			journal, _ := try("journalctl", "--no-pager", "-n", "40", "-u", "wnm.timer", "-u", "wnm.service")
			t.Fatalf("systemctl %s %s = %q, want %q\n%s\n%s", what, unit, got, wantState, status, journal)
		}
	}
	noFailed := func(when string) {
		t.Helper()
		if out := run("systemctl", "list-units", "--failed", "--plain", "--no-legend"); strings.TrimSpace(out) != "" {
			t.Fatalf("%s: failed units:\n%s", when, out)
		}
	}
	show := func(unit string, props ...string) map[string]string {
		t.Helper()
		out := run(append([]string{"systemctl", "show", unit}, func() []string {
			var a []string
			for _, p := range props {
				a = append(a, "--property="+p)
			}
			return a
		}()...)...)
		kv := map[string]string{}
		for _, line := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				kv[k] = v
			}
		}
		return kv
	}
	mono := func(v string) uint64 { n, _ := strconv.ParseUint(v, 10, 64); return n }

	// Install: the ant account, the timer enabled and started, a hint about init.
	out := run("dpkg", "-i", "/debs/old.deb")
	if !strings.Contains(out, "wnm init --rewards_address") {
		t.Errorf("dpkg -i does not say how to initialise wnm:\n%s", out)
	}
	run("getent", "passwd", "ant")
	sameVersion := func(when string) {
		t.Helper()
		pkg := strings.TrimSpace(run("dpkg-query", "-W", "-f=${Version}", "wnm"))
		if bin := run("wnm", "version"); !strings.HasPrefix(bin, "wnm version "+pkg+"\n") {
			t.Errorf("%s: the package is version %s, its binary says:\n%s", when, pkg, bin)
		}
	}
	sameVersion("installed")
	want("is-enabled", "wnm.timer", "enabled")
	want("is-active", "wnm.timer", "active")
	if out := run("systemctl", "cat", "wnm.service"); !strings.Contains(out, "/lib/systemd/system/wnm.service\n") || strings.Contains(out, "# /etc/") || !strings.Contains(out, "ExecStart=/usr/bin/wnm run") {
		t.Fatalf("wnm.service is not the packaged unit:\n%s", out)
	}
	if _, err := try("test", "-e", "/etc/systemd/system/wnm.service"); err == nil {
		t.Fatal("the package wrote /etc/systemd/system/wnm.service")
	}

	// The first tick, before init: skipped on its condition, nothing failed.
	nspawn.PollEvery(t, 3*time.Minute, time.Second, "the first tick of wnm.timer", func() error {
		if p := show("wnm.service", "ConditionTimestampMonotonic"); mono(p["ConditionTimestampMonotonic"]) == 0 {
			return fmt.Errorf("wnm.service not triggered yet")
		}
		return nil
	})
	p := show("wnm.service", "ConditionResult", "Result", "NRestarts")
	if p["ConditionResult"] != "no" || p["Result"] != "success" {
		t.Fatalf("first tick: %v, want ConditionResult=no Result=success", p)
	}
	status, _ := try("systemctl", "status", "--no-pager", "wnm.service")
	if !strings.Contains(status, "ConditionPathExists=/var/antctl/colony.db was not met") {
		t.Errorf("systemctl status wnm does not say why it skipped:\n%s", status)
	}
	noFailed("after the first tick")
	if s, _ := try("systemctl", "is-system-running"); s != "running" {
		t.Errorf("system state %q after the first tick, want running", s)
	}

	// wnm install, by hand, defers to the package.
	out = run("wnm", "install")
	if !strings.Contains(out, "the wnm package is in charge") {
		t.Errorf("wnm install on a packaged host:\n%s", out)
	}
	if _, err := try("test", "-e", "/etc/systemd/system/wnm.timer"); err == nil {
		t.Fatal("wnm install wrote /etc/systemd/system/wnm.timer on a packaged host")
	}

	// wnm init; the next tick runs a cycle.
	before := mono(show("wnm.service", "ConditionTimestampMonotonic")["ConditionTimestampMonotonic"])
	run("wnm", "init", "--rewards_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "--node_cap", "0")
	nspawn.PollEvery(t, 3*time.Minute, time.Second, "a cycle run by wnm.timer after init", func() error {
		p := show("wnm.service", "ConditionTimestampMonotonic", "ConditionResult", "ExecMainExitTimestampMonotonic")
		if mono(p["ConditionTimestampMonotonic"]) <= before || p["ConditionResult"] != "yes" || mono(p["ExecMainExitTimestampMonotonic"]) == 0 {
			return fmt.Errorf("no cycle yet: %v", p)
		}
		return nil
	})
	if p := show("wnm.service", "Result", "ExecMainStatus"); p["Result"] != "success" || p["ExecMainStatus"] != "0" {
		t.Fatalf("the cycle: %v\n%s", p, run("journalctl", "--no-pager", "-u", "wnm.service"))
	}
	if out := run("journalctl", "--no-pager", "-u", "wnm.service", "-o", "cat"); !strings.Contains(out, "cycle") {
		t.Errorf("the journal shows no cycle:\n%s", out)
	}
	noFailed("after the first cycle")

	// Disable, upgrade: still disabled and stopped.
	run("systemctl", "disable", "--now", "wnm.timer")
	run("dpkg", "-i", "/debs/new.deb")
	want("is-enabled", "wnm.timer", "disabled")
	want("is-active", "wnm.timer", "inactive")
	if v := run("dpkg-query", "-W", "-f=${Version}", "wnm"); !strings.HasSuffix(strings.TrimSpace(filepath.Base(newDeb)), "_"+strings.TrimSpace(v)+"_"+debArch(newDeb)+".deb") {
		t.Errorf("installed version %q is not the upgrade's (%s)", v, filepath.Base(newDeb))
	}
	sameVersion("upgraded")

	// Re-enabled, an upgrade keeps it enabled and running.
	run("systemctl", "enable", "--now", "wnm.timer")
	run("dpkg", "-i", "/debs/new.deb")
	want("is-enabled", "wnm.timer", "enabled")
	want("is-active", "wnm.timer", "active")

	// Mask works (the units are dpkg's in /usr/lib, so /etc is free for the mask) and survives
	// a reinstall. The timer is stopped first: systemd fails a running timer whose unit file is
	// masked under it ("Unit to trigger vanished"), whoever ships it.
	run("systemctl", "stop", "wnm.timer")
	run("systemctl", "mask", "wnm.timer")
	want("is-enabled", "wnm.timer", "masked")
	run("dpkg", "-i", "/debs/new.deb")
	want("is-enabled", "wnm.timer", "masked")
	want("is-active", "wnm.timer", "inactive")
	run("systemctl", "unmask", "wnm.timer")
	run("systemctl", "start", "wnm.timer")
	want("is-active", "wnm.timer", "active")

	// Remove: the timer stops, nodes' data stays, and dpkg says so.
	out = run("dpkg", "-r", "wnm")
	if !strings.Contains(out, "data (/var/antctl) are left") {
		t.Errorf("dpkg -r does not say what it leaves:\n%s", out)
	}
	want("is-active", "wnm.timer", "inactive")
	run("test", "-e", "/var/antctl/colony.db")
	if _, err := try("test", "-e", "/usr/bin/wnm"); err == nil {
		t.Error("/usr/bin/wnm is still there after dpkg -r")
	}
	noFailed("after remove")

	// Purge: nothing of the package is left; the data and the ant account are.
	run("dpkg", "-P", "wnm")
	if out, err := try("dpkg-query", "-W", "-f=${db:Status-Abbrev}", "wnm"); err == nil && strings.TrimSpace(out) != "" {
		t.Errorf("dpkg still knows wnm after purge: %q", out)
	}
	left := run("sh", "-c", "find /etc /usr /var/lib/systemd /var/lib/dpkg/info -name 'wnm*' -print 2>/dev/null; true")
	if strings.TrimSpace(left) != "" {
		t.Errorf("left after purge:\n%s", left)
	}
	run("test", "-e", "/var/antctl/colony.db")
	run("getent", "passwd", "ant")
	noFailed("after purge")
}

// debArch is the architecture field of a .deb's file name: wnm_<version>_<arch>.deb.
func debArch(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".deb")
	return base[strings.LastIndexByte(base, '_')+1:]
}
