package install

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units/run"
)

func TestChoose(t *testing.T) {
	linux := Host{GOOS: "linux", EUID: 1000, User: "alice", Home: "/home/alice"}
	withSystem := linux
	withSystem.SystemdSystem = true
	withUser := withSystem
	withUser.SystemdUser = true
	root := withSystem
	root.EUID = 0
	mac := Host{GOOS: "darwin", EUID: 501, Home: "/Users/alice"}
	tests := []struct {
		name    string
		h       Host
		want    Scheduler
		mode    gen.Mode
		check   bool
		t       Target
		wantErr string
	}{
		{"root with systemd", root, Auto, "", true, Target{Systemd, gen.ModeSudo}, ""},
		{"user with a user manager", withUser, Auto, "", true, Target{Systemd, gen.ModeUser}, ""},
		{"user without a user manager", withSystem, Auto, "", true, Target{Cron, gen.ModeUser}, ""},
		{"no systemd at all", linux, Auto, gen.ModeSudo, true, Target{Cron, gen.ModeSudo}, ""},
		{"mac", mac, Auto, "", true, Target{Launchd, gen.ModeUser}, ""},
		{"freebsd", Host{GOOS: "freebsd", EUID: 1000}, Auto, "", true, Target{Cron, gen.ModeUser}, ""},
		{"explicit cron", withUser, Cron, "", true, Target{Cron, gen.ModeUser}, ""},
		{"systemd without a user manager", withSystem, Systemd, "", true, Target{}, "no systemd user manager for alice"},
		{"systemd without PID 1", linux, Systemd, gen.ModeSudo, true, Target{}, "systemd is not running"},
		{"systemd on a mac", mac, Systemd, "", true, Target{}, "systemd on darwin"},
		{"launchd on linux", linux, Launchd, "", true, Target{}, "launchd on linux"},
		{"launchd on linux, unchecked", linux, Launchd, "", false, Target{Launchd, gen.ModeUser}, ""},
		{"systemd unchecked", linux, Systemd, gen.ModeSudo, false, Target{Systemd, gen.ModeSudo}, ""},
		{"bad scheduler", linux, "at", "", true, Target{}, `scheduler "at"`},
		{"bad mode", linux, Auto, "root", true, Target{}, `mode "root"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Choose(tt.h, tt.want, tt.mode, tt.check)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Choose = %v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.t {
				t.Errorf("Choose = %v, %v; want %v", got, err, tt.t)
			}
		})
	}
	if _, err := Choose(linux, Launchd, "", true); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Choose(launchd on linux) = %v, want ErrUnavailable", err)
	}
}

func TestTargetString(t *testing.T) {
	for tg, want := range map[Target]string{
		{Systemd, gen.ModeSudo}: "systemd timer (system)",
		{Systemd, gen.ModeUser}: "systemd timer (user)",
		{Launchd, gen.ModeSudo}: "launchd daemon",
		{Launchd, gen.ModeUser}: "launchd agent",
		{Cron, gen.ModeUser}:    "crontab line (user)",
	} {
		if got := tg.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", tg, got, want)
		}
	}
}

// exitError is a failed command's error, with its exit status.
type exitError int

func (e exitError) Error() string { return "exit status " + strconv.Itoa(int(e)) }
func (e exitError) ExitCode() int { return int(e) }

func TestNotLoadedLaunchd(t *testing.T) {
	bootout := []string{"launchctl", "bootout", "gui/501/com.autonomi.wnm"}
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{run.Failed(bootout, exitError(113), []byte("Boot-out failed: 113: Could not find specified service")), true},
		{run.Failed(bootout, exitError(3), []byte("Boot-out failed: 3: No such process")), true},
		{run.Failed(bootout, exitError(5), []byte("Boot-out failed: 5: Input/output error")), false},
		{errors.New("Could not find service \"com.autonomi.wnm\" in domain for uid: 501"), true},
	} {
		if got := notLoadedLaunchd(tt.err); got != tt.want {
			t.Errorf("notLoadedLaunchd(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestStableBinary: a wnm run from a Homebrew keg is scheduled through the prefix's bin/ link,
// which survives `brew upgrade`; anything else, or a link to another file, is kept as it is.
func TestStableBinary(t *testing.T) {
	prefix := t.TempDir()
	keg := filepath.Join(prefix, "Cellar/wnm/0.1.0/bin/wnm")
	other := filepath.Join(prefix, "Cellar/wnm/0.0.9/bin/wnm")
	for _, p := range []string{keg, other} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := StableBinary(keg); got != keg {
		t.Errorf("without links StableBinary = %q, want the keg path", got)
	}
	if err := os.MkdirAll(filepath.Join(prefix, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../Cellar/wnm/0.1.0", filepath.Join(prefix, "opt/wnm")); err != nil {
		t.Fatal(err)
	}
	if got, want := StableBinary(keg), filepath.Join(prefix, "opt/wnm/bin/wnm"); got != want {
		t.Errorf("with opt/wnm StableBinary = %q, want %q", got, want)
	}
	if err := os.MkdirAll(filepath.Join(prefix, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../Cellar/wnm/0.0.9/bin/wnm", filepath.Join(prefix, "bin/wnm")); err != nil {
		t.Fatal(err)
	}
	if got, want := StableBinary(keg), filepath.Join(prefix, "opt/wnm/bin/wnm"); got != want {
		t.Errorf("with bin/wnm pointing at another keg StableBinary = %q, want %q", got, want)
	}
	if err := os.Remove(filepath.Join(prefix, "bin/wnm")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../Cellar/wnm/0.1.0/bin/wnm", filepath.Join(prefix, "bin/wnm")); err != nil {
		t.Fatal(err)
	}
	if got, want := StableBinary(keg), filepath.Join(prefix, "bin/wnm"); got != want {
		t.Errorf("with bin/wnm StableBinary = %q, want %q", got, want)
	}
	if got := StableBinary("/usr/bin/wnm"); got != "/usr/bin/wnm" {
		t.Errorf("StableBinary(/usr/bin/wnm) = %q", got)
	}
}
