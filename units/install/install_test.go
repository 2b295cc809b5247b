package install

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/dbus"
	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
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

// fakeConn records the D-Bus calls and answers each job with result.
type fakeConn struct {
	calls  []string
	result string
	err    error
}

func (f *fakeConn) ReloadContext(context.Context) error {
	f.calls = append(f.calls, "Reload")
	return f.err
}

func (f *fakeConn) EnableUnitFilesContext(_ context.Context, files []string, runtime, force bool) (bool, []dbus.EnableUnitFileChange, error) {
	f.calls = append(f.calls, "EnableUnitFiles "+strings.Join(files, " "))
	return false, nil, f.err
}

func (f *fakeConn) DisableUnitFilesContext(_ context.Context, files []string, runtime bool) ([]dbus.DisableUnitFileChange, error) {
	f.calls = append(f.calls, "DisableUnitFiles "+strings.Join(files, " "))
	return nil, f.err
}

func (f *fakeConn) StartUnitContext(_ context.Context, name, mode string, ch chan<- string) (int, error) {
	f.calls = append(f.calls, "StartUnit "+name+" "+mode)
	ch <- f.result
	return 1, f.err
}

func (f *fakeConn) StopUnitContext(_ context.Context, name, mode string, ch chan<- string) (int, error) {
	f.calls = append(f.calls, "StopUnit "+name+" "+mode)
	ch <- f.result
	return 1, f.err
}

func (f *fakeConn) Close() { f.calls = append(f.calls, "Close") }

func TestDBusVerb(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		result  string
		want    []string
		wantErr string
	}{
		{"daemon-reload", []string{"daemon-reload"}, "done", []string{"Reload"}, ""},
		{"enable --now", []string{"enable", "--now", "wnm.timer"}, "done", []string{"EnableUnitFiles wnm.timer", "Reload", "StartUnit wnm.timer replace"}, ""},
		{"enable --now, start fails", []string{"enable", "--now", "wnm.timer"}, "failed", []string{"EnableUnitFiles wnm.timer", "Reload", "StartUnit wnm.timer replace"}, "start: job failed"},
		{"disable --now", []string{"disable", "--now", "wnm.timer"}, "done", []string{"StopUnit wnm.timer replace", "DisableUnitFiles wnm.timer", "Reload"}, ""},
		{"unknown verb", []string{"restart", "wnm.timer"}, "done", nil, "not a verb install knows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeConn{result: tt.result}
			err := dbusVerb(context.Background(), c, tt.args)
			if diff := cmp.Diff(tt.want, c.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("dbusVerb(%q) = %v, want error %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestExecRunner(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	ctx := context.Background()
	out, err := ExecRunner{}.Run(ctx, []byte("in"), "sh", "-c", `cat; echo " $LC_ALL"`)
	if err != nil || string(out) != "in C\n" {
		t.Errorf("Run(cat) = %q, %v; want stdin echoed in the C locale", out, err)
	}
	_, err = ExecRunner{}.Run(ctx, nil, "sh", "-c", "echo no crontab for alice >&2; exit 1")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || ee.Stderr != "no crontab for alice" {
		t.Fatalf("Run(exit 1) = %#v, want an ExitError with code 1 and the stderr", err)
	}
	if got, want := ee.Error(), "sh -c echo no crontab for alice >&2; exit 1: exit status 1: no crontab for alice"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if _, err := (ExecRunner{}).Run(ctx, nil, "wnm-no-such-program"); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Run(missing program) = %v, want exec.ErrNotFound", err)
	}
}

func TestNotLoaded(t *testing.T) {
	for msg, want := range map[string]bool{
		"systemctl disable --now wnm.timer: exit status 1: Failed to disable unit: Unit file wnm.timer does not exist.": true,
		"Unit wnm.timer not loaded.":                          true,
		"org.freedesktop.systemd1.NoSuchUnit: Unit not found": true,
		"Access denied": false,
	} {
		if got := notLoaded(errors.New(msg)); got != want {
			t.Errorf("notLoaded(%q) = %v, want %v", msg, got, want)
		}
	}
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&ExitError{Code: 113, Stderr: "Boot-out failed: 113: Could not find specified service"}, true},
		{&ExitError{Code: 3, Stderr: "Boot-out failed: 3: No such process"}, true},
		{&ExitError{Code: 5, Stderr: "Boot-out failed: 5: Input/output error"}, false},
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
