package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units/install"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/survey"
)

// scheduleFlags are the flags install and uninstall share.
type scheduleFlags struct {
	Scheduler string `name:"scheduler" enum:"auto,systemd,launchd,cron" default:"auto" help:"Scheduler: auto, systemd, launchd or cron"`
	Mode      string `name:"mode" enum:"auto,system,user" default:"auto" help:"System-wide or this user's scheduler; auto picks system for root and for a machine in sudo mode"`
	Print     bool   `name:"print" help:"Show every file and command without changing anything"`
	Root      string `name:"root" placeholder:"DIR" env:"WNM_ROOT" help:"Work under this prefix (packaging and tests); service managers are not driven"`
	// RunCommands drives the service managers even under --root: the testscripts put recording
	// fakes of systemctl, launchctl, crontab and loginctl first on PATH and set it.
	RunCommands bool `name:"run-commands" env:"WNM_RUN_COMMANDS" hidden:""`
}

type installCmd struct {
	scheduleFlags
	Binary string `name:"binary" placeholder:"PATH" env:"WNM_BINARY" help:"The wnm executable the scheduler runs (default: this one)"`
	Force  bool   `name:"force" help:"Install even where the wnm package's timer is in charge"`
}

func (installCmd) Help() string {
	return "Linux: a systemd timer and oneshot service, in /etc/systemd/system as root (plus /etc/default/wnm for " +
		"WNM_* settings) or ~/.config/systemd/user with lingering; cron when no systemd manager runs. macOS: a launchd " +
		"job in /Library/LaunchDaemons or ~/Library/LaunchAgents. Files are rewritten only when they differ, so a " +
		"second install changes nothing and a moved wnm binary is picked up."
}

// Run installs the scheduler.
func (c installCmd) Run(s *session) error {
	o, err := c.options(s, true)
	if err != nil {
		return err
	}
	bin := c.Binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("find the wnm executable: %w; pass --binary", err)
		}
		bin = install.StableBinary(bin) // Homebrew: bin/wnm, not the Cellar path an upgrade removes
	}
	if !filepath.IsAbs(bin) {
		return usageErr{fmt.Errorf("--binary %q is not an absolute path", bin)}
	}
	if (o.Root == "" || o.Root == "/") && !o.Print {
		// The scheduler will run this file: it must be there, and executable.
		fi, err := os.Stat(bin)
		if err != nil {
			return fmt.Errorf("wnm binary: %w", err)
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("wnm binary %s is not an executable file", bin)
		}
	}
	o.Binary = filepath.Clean(bin)
	o.Force = c.Force
	return hint(install.Install(context.Background(), o), o)
}

type uninstallCmd struct {
	scheduleFlags
}

func (uninstallCmd) Help() string {
	return "Disables and removes the timer and service, unloads and removes the launchd job, or removes wnm's crontab " +
		"lines (every other line is kept). With --scheduler auto it removes whichever it finds. Nodes, their units, " +
		"data and logs are left alone. Finding nothing to remove is success."
}

// Run uninstalls the scheduler.
func (c uninstallCmd) Run(s *session) error {
	o, err := c.options(s, false)
	if err != nil {
		return err
	}
	return hint(install.Uninstall(context.Background(), o), o)
}

// options resolves the flags into install options: the host, the target and its log file.
func (f scheduleFlags) options(s *session, installing bool) (install.Options, error) {
	host := install.DetectHost(s.getenv, s.env.home)
	host.GOOS, host.EUID = s.env.goos, s.env.euid
	mode := map[string]gen.Mode{"system": gen.ModeSudo, "user": gen.ModeUser}[f.Mode]
	if mode == "" {
		// The scheduler runs wnm the way this machine runs it: system-wide for root, and for a
		// machine whose database (or --process_manager) says sudo mode.
		m, err := s.mode(context.Background())
		if err != nil {
			return install.Options{}, err
		}
		mode = gen.ModeUser
		if m == gen.ModeSudo || s.env.euid == 0 {
			mode = gen.ModeSudo
		}
	}
	rooted := f.Root != "" && filepath.Clean(f.Root) != "/"
	sched := install.Scheduler(f.Scheduler)
	t, err := install.Choose(host, sched, mode, installing && !rooted)
	if errors.Is(err, install.ErrUnavailable) {
		return install.Options{}, fmt.Errorf("%w; pick another with --scheduler (cron works everywhere)", err)
	}
	if err != nil {
		return install.Options{}, err
	}
	cmode := gen.ModeUser
	if t.Mode == gen.ModeSudo {
		cmode = gen.ModeSudo
		if u, err := user.Lookup("root"); err == nil && filepath.IsAbs(u.HomeDir) {
			host.Home = u.HomeDir // the system job runs as root, whoever installs it
		}
		if t.Scheduler == install.Launchd && host.GOOS != "darwin" {
			host.Home = "/var/root" // root's home on a Mac, for a daemon rendered elsewhere
		}
	}
	goos := host.GOOS
	if t.Scheduler == install.Launchd {
		goos = "darwin" // rendering a Mac's job elsewhere (--root) still wants the Mac's log path
	}
	plat := config.Platform{OS: goos, Mode: cmode, Home: host.Home, CPUCount: survey.CPUCount()}
	// The database the scheduled cycle will open: the mode's default, or the dbpath this account's
	// settings name. The service waits for it (ConditionPathExists=), as the package's does.
	// Uninstall needs no database, and must work whatever the settings say.
	var db string
	if installing {
		r, err := config.Resolve(s.sources(plat), config.Defaults(plat), false, host.Home)
		if err != nil {
			return install.Options{}, err
		}
		db = r.DBPath
	}
	o := install.Options{
		Scheduler: sched,
		Mode:      t.Mode,
		LogFile:   filepath.Join(plat.Dirs().Logs, "wnm.log"),
		Database:  db,
		Root:      f.Root,
		Print:     f.Print,
		Exec:      f.RunCommands,
		Host:      host,
		Out:       s.env.stdout,
		Logger:    s.logger(),
		DBus:      !rooted,
	}
	return o, nil
}

// hint adds what the operator can do about a failed install or uninstall.
func hint(err error, o install.Options) error {
	if (errors.Is(err, fs.ErrPermission) || errors.Is(err, install.ErrNeedRoot)) && o.Host.EUID != 0 {
		return fmt.Errorf("%w (run it with sudo for the system-wide scheduler, or pass --mode user)", err)
	}
	return err
}
