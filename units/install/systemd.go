package install

import (
	"context"
	"path/filepath"
	"strings"

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
		sc, done, err := in.systemd()
		if err != nil {
			return err
		}
		defer done()
		if changed {
			if err := in.systemctl(ctx, sc, sc.Reload, "daemon-reload"); err != nil {
				return err
			}
		}
		if !enabled {
			enableNow := func(ctx context.Context) error { return sc.EnableNow(ctx, gen.ScheduleTimerName) }
			if err := in.systemctl(ctx, sc, enableNow, "enable", "--now", gen.ScheduleTimerName); err != nil {
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
	sc, done, err := in.systemd()
	if err != nil {
		return true, err
	}
	defer done()
	disableNow := func(ctx context.Context) error { return sc.DisableNow(ctx, gen.ScheduleTimerName) }
	if err := in.systemctl(ctx, sc, disableNow, "disable", "--now", gen.ScheduleTimerName); err != nil && !systemd.NotLoaded(err) {
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
	if err := in.systemctl(ctx, sc, sc.Reload, "daemon-reload"); err != nil {
		return true, err
	}
	return true, nil
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

// systemd returns a client of the mode's systemd manager. On the live system (with
// [Options.DBus]) it talks D-Bus when a bus answers and runs systemctl otherwise; under a root
// prefix it runs systemctl only, and only with [Options.Exec] (see [installer.Run]). done releases
// the connection.
func (in *installer) systemd() (c *systemd.Client, done func(), err error) {
	transport := systemd.TransportSystemctl
	if !in.rooted && in.o.DBus {
		transport = systemd.TransportAuto
	}
	c, err = systemd.NewClient(systemd.ClientOptions{User: in.t.Mode == gen.ModeUser, Transport: transport, Runner: in, Logger: in.log})
	if err != nil {
		return nil, nil, err
	}
	return c, c.Close, nil
}

// systemctl runs one verb through c and, when it went over D-Bus, reports the systemctl command
// it amounts to (systemctl itself is reported as it runs; see [installer.Run]).
func (in *installer) systemctl(ctx context.Context, c *systemd.Client, verb func(context.Context) error, args ...string) error {
	if err := verb(ctx); err != nil {
		return err
	}
	if via, _ := c.Via(ctx); via == systemd.TransportDBus {
		in.say("ran %s (over D-Bus)", quoteArgv(in.systemctlArgv(args...)))
	}
	return nil
}
