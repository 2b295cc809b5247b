package install

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wnm-project/wnm/gen"
)

// printInstall lists, for a fresh install, every directory, file (path, mode and content) and
// command, and changes nothing.
func (in *installer) printInstall() error {
	in.say("# wnm install --print: the %s; nothing is written or run", in.t)
	switch in.t.Scheduler {
	case Systemd:
		files, err := in.systemdFiles()
		if err != nil {
			return err
		}
		in.printFiles(files)
		in.printCmd(in.systemctlArgv("daemon-reload")...)
		in.printCmd(in.systemctlArgv("enable", "--now", gen.ScheduleTimerName)...)
		if in.t.Mode == gen.ModeUser {
			in.printCmd("loginctl", "enable-linger", in.o.Host.User)
		}
	case Launchd:
		data, err := gen.SchedulePlist(in.s)
		if err != nil {
			return err
		}
		in.printCmd("mkdir", "-p", in.path(filepath.Dir(in.o.LogFile)))
		in.printFiles([]file{{in.plistPath(), data}})
		in.printCmd("launchctl", "bootout", in.launchdDomain()+"/"+gen.ScheduleLabel)
		in.printCmd("launchctl", "bootstrap", in.launchdDomain(), in.path(in.plistPath()))
	default:
		block, err := gen.ScheduleCron(in.s)
		if err != nil {
			return err
		}
		in.printCmd("mkdir", "-p", in.path(filepath.Dir(in.o.LogFile)))
		in.printCmd(crontabArgv("-l")...)
		in.say("--- crontab: these lines are added, or replace wnm's old ones; every other line is kept")
		fmt.Fprint(in.out, string(block))
		in.printCmd(crontabArgv("-")...)
	}
	return nil
}

// printUninstall lists the commands and removals of an uninstall of the chosen target, and
// changes nothing.
func (in *installer) printUninstall(kinds []Scheduler) {
	if len(kinds) > 1 {
		kinds = []Scheduler{in.t.Scheduler}
	}
	in.say("# wnm uninstall --print: the %s; nothing is removed or run", in.t)
	for _, k := range kinds {
		switch k {
		case Systemd:
			in.printCmd(in.systemctlArgv("disable", "--now", gen.ScheduleTimerName)...)
			for _, p := range in.systemdPaths() {
				in.printCmd("rm", "-f", in.path(p))
			}
			in.printCmd(in.systemctlArgv("daemon-reload")...)
		case Launchd:
			in.printCmd("launchctl", "bootout", in.launchdDomain()+"/"+gen.ScheduleLabel)
			in.printCmd("rm", "-f", in.path(in.plistPath()))
		case Cron:
			in.printCmd(crontabArgv("-l")...)
			in.say("--- crontab: each %q line and the line after it are removed; every other line is kept", gen.CronMarker)
			in.printCmd(crontabArgv("-")...)
		}
	}
}

func (in *installer) printFiles(fs []file) {
	for _, f := range fs {
		in.say("--- %s (mode %04o)", in.path(f.path), fileMode)
		fmt.Fprint(in.out, string(f.data))
	}
}

func (in *installer) printCmd(argv ...string) { in.say("$ %s", quoteArgv(argv)) }

// mkdirAll creates dir and its parents with mode 0755.
func mkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}
