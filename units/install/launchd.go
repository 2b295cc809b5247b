package install

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
)

// plistPath is where the job's plist goes: the user's LaunchAgents (domain gui/<uid>, runs
// while the user is logged in) or /Library/LaunchDaemons (domain system, runs from boot).
func (in *installer) plistPath() string {
	name := gen.ScheduleLabel + ".plist"
	if in.t.Mode == gen.ModeSudo {
		return filepath.Join("/Library/LaunchDaemons", name)
	}
	return filepath.Join(in.o.Host.Home, "Library/LaunchAgents", name)
}

// launchdDomain is the launchctl domain the job is loaded into.
func (in *installer) launchdDomain() string {
	if in.t.Mode == gen.ModeSudo {
		return "system"
	}
	return "gui/" + strconv.Itoa(in.o.Host.UID)
}

func (in *installer) installLaunchd(ctx context.Context) error {
	data, err := gen.SchedulePlist(in.s)
	if err != nil {
		return err
	}
	if err := in.mkdirLog(); err != nil {
		return err
	}
	path := in.plistPath()
	changed, err := in.writeFiles([]file{{path, data}})
	if err != nil {
		return err
	}
	if !changed {
		in.say("already installed, nothing changed: the %s %s runs %q every minute", in.t, gen.ScheduleLabel, strings.Join(in.s.Args(), " "))
		return nil
	}
	// bootstrap fails on a job that is loaded already, so the old one goes first; it may well
	// not be loaded.
	if err := in.bootout(ctx); err != nil {
		return err
	}
	if _, _, err := in.command(ctx, nil, "launchctl", "bootstrap", in.launchdDomain(), in.path(path)); err != nil {
		// Take the plist away again, so that the next install sees a change and retries.
		if _, rerr := units.Remove(in.path(path)); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("load the launchd job: %w", err)
	}
	in.say("installed: the %s %s runs %q every minute; see `launchctl print %s/%s` and `log show --predicate 'process == \"wnm\"'`",
		in.t, gen.ScheduleLabel, strings.Join(in.s.Args(), " "), in.launchdDomain(), gen.ScheduleLabel)
	return nil
}

// bootout unloads the job, taking "not loaded" as success.
func (in *installer) bootout(ctx context.Context) error {
	_, _, err := in.command(ctx, nil, "launchctl", "bootout", in.launchdDomain()+"/"+gen.ScheduleLabel)
	if err == nil || notLoadedLaunchd(err) {
		return nil
	}
	return fmt.Errorf("unload the launchd job: %w", err)
}

// notLoadedLaunchd reports whether a launchctl bootout failure means the job was not loaded:
// exit status 3 (ESRCH, "No such process") or 113 ("Could not find service").
func notLoadedLaunchd(err error) bool {
	if code := run.ExitCode(err); code == 3 || code == 113 {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "No such process") || strings.Contains(msg, "Could not find service")
}

// uninstallLaunchd unloads the job and removes its plist. The log file stays.
func (in *installer) uninstallLaunchd(ctx context.Context) (bool, error) {
	path := in.plistPath()
	if !in.exists(path) {
		return false, nil
	}
	if err := in.bootout(ctx); err != nil {
		return true, err
	}
	c, err := units.Remove(in.path(path))
	if err != nil {
		return true, err
	}
	if c {
		in.say("removed %s", in.path(path))
	}
	return true, nil
}
