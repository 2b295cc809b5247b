package install

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/coreos/go-systemd/v22/dbus"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/templates"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/systemd"
)

// systemdDir is where the mode's manager reads unit files from: /etc/systemd/system, or the
// user's ~/.config/systemd/user.
func (in *installer) systemdDir() string {
	if in.t.Mode == gen.ModeSudo {
		return "/etc/systemd/system"
	}
	return filepath.Join(in.o.Host.Home, ".config/systemd/user")
}

// wantsLink is the symlink `systemctl enable wnm.timer` creates; its presence is how install
// tells, without asking the manager, that the timer is enabled.
func (in *installer) wantsLink() string {
	return filepath.Join(in.systemdDir(), "timers.target.wants", gen.ScheduleTimerName)
}

// systemdFiles renders the service and the timer.
func (in *installer) systemdFiles() ([]file, error) {
	svc, err := gen.ScheduleService(in.s)
	if err != nil {
		return nil, err
	}
	timer, err := gen.ScheduleTimer(in.s)
	if err != nil {
		return nil, err
	}
	paths := in.systemdPaths()
	return []file{{paths[0], svc}, {paths[1], timer}}, nil
}

// systemdPaths are the service's and the timer's paths.
func (in *installer) systemdPaths() []string {
	dir := in.systemdDir()
	return []string{filepath.Join(dir, gen.ScheduleServiceName), filepath.Join(dir, gen.ScheduleTimerName)}
}

// file is one file install writes, at its path on the target system.
type file struct {
	path string
	data []byte
}

// systemctlArgv is systemctl with --user in user mode, followed by args.
func (in *installer) systemctlArgv(args ...string) []string {
	argv := []string{"systemctl"}
	if in.t.Mode == gen.ModeUser {
		argv = append(argv, "--user")
	}
	return append(argv, args...)
}

// writeFiles writes fs under the root, creating their directory, and reports whether any
// changed.
func (in *installer) writeFiles(fs []file) (bool, error) {
	changed := false
	for _, f := range fs {
		p := in.path(f.path)
		if err := mkdirAll(filepath.Dir(p)); err != nil {
			return changed, err
		}
		c, err := units.WriteFile(p, f.data, fileMode)
		if err != nil {
			return changed, err
		}
		if c {
			in.say("wrote %s", p)
		} else {
			in.say("unchanged %s", p)
		}
		changed = changed || c
	}
	return changed, nil
}

func (in *installer) installSystemd(ctx context.Context) error {
	files, err := in.systemdFiles()
	if err != nil {
		return err
	}
	changed, err := in.writeFiles(files)
	if err != nil {
		return err
	}
	enabled := in.exists(in.wantsLink())
	if changed || !enabled {
		sc, done := in.systemctl(ctx)
		defer done()
		if changed {
			if err := sc(ctx, "daemon-reload"); err != nil {
				return err
			}
		}
		if !enabled {
			if err := sc(ctx, "enable", "--now", gen.ScheduleTimerName); err != nil {
				return err
			}
		}
	}
	if in.t.Mode == gen.ModeUser {
		in.linger(ctx)
	}
	verb := "installed"
	if !changed && (enabled || !in.live()) {
		verb = "already installed, nothing changed"
	}
	in.say("%s: the %s runs %q every minute; see `%s` and `%s`", verb, in.t, strings.Join(in.s.Args(), " "),
		quoteArgv(in.systemctlArgv("list-timers", gen.ScheduleTimerName)), in.journalctl())
	if in.s.Database != "" && !in.exists(in.s.Database) {
		in.say("until %s exists (wnm init creates it), each tick is skipped: `%s` shows the condition", in.s.Database,
			quoteArgv(in.systemctlArgv("status", gen.ScheduleServiceName)))
	}
	return nil
}

func (in *installer) journalctl() string {
	if in.t.Mode == gen.ModeUser {
		return "journalctl --user -u wnm"
	}
	return "journalctl -u wnm"
}

// uninstallSystemd disables and stops the timer, removes both units and reloads the manager.
// A cycle that is running is left to finish. It reports whether anything was installed.
func (in *installer) uninstallSystemd(ctx context.Context) (bool, error) {
	paths := in.systemdPaths()
	present := in.exists(in.wantsLink())
	for _, p := range paths {
		present = present || in.exists(p)
	}
	if !present {
		return false, nil
	}
	if in.t.Mode == gen.ModeSudo && in.packaged() && !in.exists(paths[0]) && !in.exists(paths[1]) {
		// The enable link is the package's: deb-systemd-helper made it for the packaged timer.
		in.say("the wnm package's timer (%s) is not install's to remove; `systemctl disable --now wnm.timer` stops it, `apt remove wnm` removes it", PackagedTimer)
		return false, nil
	}
	sc, done := in.systemctl(ctx)
	defer done()
	if err := sc(ctx, "disable", "--now", gen.ScheduleTimerName); err != nil && !notLoaded(err) {
		return true, err
	}
	for _, p := range paths {
		c, err := units.Remove(in.path(p))
		if err != nil {
			return true, err
		}
		if c {
			in.say("removed %s", in.path(p))
		}
	}
	if err := sc(ctx, "daemon-reload"); err != nil {
		return true, err
	}
	return true, nil
}

// notLoaded reports whether a systemctl failure says the unit does not exist, which uninstall
// takes as already done.
func notLoaded(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "does not exist") || strings.Contains(msg, "not loaded") || strings.Contains(msg, "NoSuchUnit")
}

// linger makes the user manager outlive the user's sessions, so that the timer runs at boot and
// after logout, or tells the operator the command that does it.
func (in *installer) linger(ctx context.Context) {
	name := in.o.Host.User
	if name == "" {
		in.say("warning: unknown user name; run `sudo loginctl enable-linger <user>` so the timer runs while you are logged out")
		return
	}
	if in.lingering(name) {
		return
	}
	if _, _, err := in.command(ctx, nil, "loginctl", "enable-linger", name); err != nil {
		in.say("warning: could not enable lingering (%v); run `sudo loginctl enable-linger %s` so the timer runs at boot and while %s is logged out", err, templates.ShellQuote(name), name)
	}
}

// lingering reports whether logind keeps name's user manager running without a session.
func (in *installer) lingering(name string) bool {
	if !in.rooted {
		on, err := systemd.Lingering(name)
		return err == nil && on
	}
	return in.exists(filepath.Join("/var/lib/systemd/linger", name))
}

// systemctlFunc runs one systemctl verb (args after "systemctl [--user]").
type systemctlFunc func(ctx context.Context, args ...string) error

// systemctl returns how this install talks to the mode's manager: over D-Bus on the live system
// when [Options.Systemd] connects, else by running systemctl. Either way each verb is reported
// as the systemctl command it amounts to. done releases the connection.
func (in *installer) systemctl(ctx context.Context) (sc systemctlFunc, done func()) {
	user := in.t.Mode == gen.ModeUser
	if !in.rooted && in.o.Systemd != nil {
		conn, err := in.o.Systemd(ctx, user)
		if err == nil {
			return func(ctx context.Context, args ...string) error {
				if err := dbusVerb(ctx, conn, args); err != nil {
					return err
				}
				in.say("ran %s (over D-Bus)", quoteArgv(in.systemctlArgv(args...)))
				return nil
			}, conn.Close
		}
		in.log.Debug("no D-Bus connection to systemd; using systemctl", "user", user, "err", err)
	}
	return func(ctx context.Context, args ...string) error {
		_, _, err := in.command(ctx, nil, in.systemctlArgv(args...)...)
		return err
	}, func() {}
}

// SystemdConn is the part of go-systemd's *dbus.Conn that install uses.
type SystemdConn interface {
	ReloadContext(ctx context.Context) error
	EnableUnitFilesContext(ctx context.Context, files []string, runtime, force bool) (bool, []dbus.EnableUnitFileChange, error)
	DisableUnitFilesContext(ctx context.Context, files []string, runtime bool) ([]dbus.DisableUnitFileChange, error)
	StartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	Close()
}

var _ SystemdConn = (*dbus.Conn)(nil)

// DialSystemd connects to the system manager (root: its private socket, else the system bus)
// or, with user, to the user's manager over the session bus. It is the usual
// [Options.Systemd].
func DialSystemd(ctx context.Context, user bool) (SystemdConn, error) {
	if user {
		return dbus.NewUserConnectionContext(ctx)
	}
	c, err := dbus.NewSystemdConnectionContext(ctx)
	if err == nil {
		return c, nil
	}
	return dbus.NewSystemConnectionContext(ctx)
}

// dbusVerb does what `systemctl args...` does, for the verbs install uses: daemon-reload,
// enable --now UNIT and disable --now UNIT.
func dbusVerb(ctx context.Context, c SystemdConn, args []string) error {
	what := "systemctl " + strings.Join(args, " ") + " over D-Bus"
	switch {
	case len(args) == 1 && args[0] == "daemon-reload":
		if err := c.ReloadContext(ctx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	case len(args) == 3 && args[0] == "enable" && args[1] == "--now":
		if _, _, err := c.EnableUnitFilesContext(ctx, []string{args[2]}, false, true); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		// systemctl enable reloads the manager so that it sees the new symlinks.
		if err := c.ReloadContext(ctx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := dbusJob(ctx, func(ch chan<- string) (int, error) { return c.StartUnitContext(ctx, args[2], "replace", ch) }); err != nil {
			return fmt.Errorf("%s: start: %w", what, err)
		}
	case len(args) == 3 && args[0] == "disable" && args[1] == "--now":
		if err := dbusJob(ctx, func(ch chan<- string) (int, error) { return c.StopUnitContext(ctx, args[2], "replace", ch) }); err != nil && !notLoaded(err) {
			return fmt.Errorf("%s: stop: %w", what, err)
		}
		if _, err := c.DisableUnitFilesContext(ctx, []string{args[2]}, false); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := c.ReloadContext(ctx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	default:
		return fmt.Errorf("%s: not a verb install knows", what)
	}
	return nil
}

// dbusJob submits a start or stop job and waits for its result.
func dbusJob(ctx context.Context, submit func(chan<- string) (int, error)) error {
	ch := make(chan string, 1) // buffered: go-systemd's dispatcher must never block on it
	if _, err := submit(ch); err != nil {
		return err
	}
	select {
	case r := <-ch:
		if r != "done" {
			return errors.New("job " + r)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the job: %w", ctx.Err())
	}
}
