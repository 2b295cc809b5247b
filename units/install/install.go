// Package install owns `wnm install` and `wnm uninstall`: it puts in place, and takes away, what
// runs `wnm run` every minute, a systemd timer with its oneshot service (in the system manager or
// a user's), a launchd job, or a crontab line, and makes the service manager pick it up. The
// text of those entries is gen's; install decides where they go, writes them only when their
// bytes differ, and runs the fewest commands that make the manager see them, so that a second
// install changes nothing. Every path is joined onto a root prefix, for packaging and tests.
//
// It must not touch nodes, their units or their data, run a cycle, or decide anything about the
// fleet; and under a root prefix it must not drive the host's service managers unless told to
// (tests put recording fakes on PATH for that).
package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/templates"
	"github.com/wnm-project/wnm/units/run"
)

// Scheduler names what runs wnm every minute.
type Scheduler string

// The schedulers. Auto picks one for the host (see [Choose]).
const (
	Auto    Scheduler = "auto"
	Systemd Scheduler = "systemd"
	Launchd Scheduler = "launchd"
	Cron    Scheduler = "cron"
)

// Host is what install needs to know about the machine and the account it runs for.
type Host struct {
	GOOS string
	EUID int
	UID  int    // the real uid: launchd's gui/<uid> domain
	User string // account name, for lingering
	Home string // absolute
	// SystemdSystem is true when systemd is PID 1 (/run/systemd/system exists).
	SystemdSystem bool
	// SystemdUser is true when the account has a running systemd user manager
	// ($XDG_RUNTIME_DIR/systemd/private exists).
	SystemdUser bool
}

// DetectHost describes this machine for the account running wnm. getenv reads the environment
// (USER, LOGNAME, XDG_RUNTIME_DIR); home is the account's home directory.
func DetectHost(getenv func(string) string, home string) Host {
	h := Host{GOOS: runtime.GOOS, EUID: os.Geteuid(), UID: os.Getuid(), Home: home}
	h.User = getenv("USER")
	if h.User == "" {
		h.User = getenv("LOGNAME")
	}
	if h.User == "" {
		if u, err := user.LookupId(strconv.Itoa(h.UID)); err == nil {
			h.User = u.Username
		}
	}
	if fi, err := os.Stat("/run/systemd/system"); err == nil && fi.IsDir() {
		h.SystemdSystem = true
	}
	if rt := getenv("XDG_RUNTIME_DIR"); rt != "" && h.SystemdSystem {
		if _, err := os.Stat(filepath.Join(rt, "systemd", "private")); err == nil {
			h.SystemdUser = true
		}
	}
	return h
}

// Options say what to install or uninstall, where, and how.
type Options struct {
	// Scheduler is the scheduler to install, or Auto. For uninstall, Auto removes whatever it
	// finds of all three.
	Scheduler Scheduler
	// Mode is gen.ModeSudo for the system-wide entries (root), gen.ModeUser for the account's
	// own; "" picks sudo when the effective uid is 0.
	Mode gen.Mode
	// Binary is the absolute path of the wnm executable the entries run. Uninstall needs none.
	Binary string
	// LogFile is where the launchd job and the cron line append wnm's output. Absolute.
	// Uninstall needs none.
	LogFile string
	// Database is the database the scheduled cycle opens. When set (absolute), the systemd
	// service is skipped (ConditionPathExists=) until it exists, as the package's is, so that
	// installing before `wnm init` gives clean skips instead of a failed unit every minute.
	Database string
	// Root is the prefix every path is written under; "" or "/" is the live system.
	Root string
	// Print shows every file and command of a fresh install (or uninstall) on Out and changes
	// nothing.
	Print bool
	// Exec runs the service-manager commands even under a Root other than "/": tests set it
	// with recording fakes first on PATH. Without it those commands are only reported.
	Exec bool
	// Force installs even where the wnm package's timer ([PackagedTimer]) is in charge.
	Force bool
	// Host describes the machine; see [DetectHost].
	Host Host
	// Runner runs commands; nil means [run.Exec].
	Runner run.Runner
	// DBus lets install talk to systemd over D-Bus on the live system (the system manager, or the
	// user's in user mode), falling back to systemctl through Runner when no bus answers. Without
	// it, and always under a root prefix, systemctl runs.
	DBus bool
	// Out receives one line per step for the operator, and the --print listing.
	Out io.Writer
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// Target is what gets installed: a scheduler in a mode.
type Target struct {
	Scheduler Scheduler
	Mode      gen.Mode
}

// String describes t for people: "systemd timer (system)", "crontab line (user)".
func (t Target) String() string {
	scope := "user"
	if t.Mode == gen.ModeSudo {
		scope = "system"
	}
	switch t.Scheduler {
	case Systemd:
		return "systemd timer (" + scope + ")"
	case Launchd:
		if t.Mode == gen.ModeSudo {
			return "launchd daemon"
		}
		return "launchd agent"
	case Cron:
		return "crontab line (" + scope + ")"
	}
	return string(t.Scheduler)
}

// Errors callers branch on to give the operator a hint.
var (
	// ErrUnavailable is wrapped by [Choose] when the chosen scheduler cannot work on this host.
	ErrUnavailable = errors.New("scheduler not available here")
	// ErrNeedRoot is wrapped by [Install] when the system-wide scheduler is asked for without
	// root on the live system.
	ErrNeedRoot = errors.New("root is needed")
)

// Choose picks the target for want on h. Auto means launchd on macOS; on Linux the systemd timer
// when the manager it belongs to runs (PID 1 for system mode, the account's user manager for user
// mode), else cron; cron elsewhere. With check, an explicit scheduler that cannot work here is
// refused with [ErrUnavailable]; install checks on the live system, not when rendering for
// another machine under a prefix, and uninstall never does (it removes what it finds). An empty
// mode means sudo for effective uid 0, else user.
func Choose(h Host, want Scheduler, mode gen.Mode, check bool) (Target, error) {
	if mode == "" {
		mode = gen.ModeUser
		if h.EUID == 0 {
			mode = gen.ModeSudo
		}
	}
	if mode != gen.ModeSudo && mode != gen.ModeUser {
		return Target{}, fmt.Errorf("mode %q: want sudo or user", mode)
	}
	systemdUp := h.SystemdSystem
	if mode == gen.ModeUser {
		systemdUp = h.SystemdUser
	}
	t := Target{Scheduler: want, Mode: mode}
	switch want {
	case Auto, "":
		switch {
		case h.GOOS == "darwin":
			t.Scheduler = Launchd
		case h.GOOS == "linux" && systemdUp:
			t.Scheduler = Systemd
		default:
			t.Scheduler = Cron
		}
	case Systemd:
		if !check {
			break
		}
		if h.GOOS != "linux" {
			return Target{}, fmt.Errorf("systemd on %s: %w", h.GOOS, ErrUnavailable)
		}
		if !systemdUp && mode == gen.ModeSudo {
			return Target{}, fmt.Errorf("systemd is not running on this machine (no /run/systemd/system): %w", ErrUnavailable)
		}
		if !systemdUp {
			return Target{}, fmt.Errorf("no systemd user manager for %s (no $XDG_RUNTIME_DIR/systemd/private): %w", h.User, ErrUnavailable)
		}
	case Launchd:
		if check && h.GOOS != "darwin" {
			return Target{}, fmt.Errorf("launchd on %s: %w", h.GOOS, ErrUnavailable)
		}
	case Cron:
	default:
		return Target{}, fmt.Errorf("scheduler %q: want auto, systemd, launchd or cron", want)
	}
	return t, nil
}

// installer carries one install or uninstall.
type installer struct {
	o      Options
	t      Target
	s      gen.Schedule
	rooted bool // Root is a prefix, not the live system
	run    run.Runner
	out    io.Writer
	log    *slog.Logger
}

func newInstaller(o Options, installing bool) (*installer, error) {
	root := o.Root
	if root == "" {
		root = "/"
	}
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("root %q is not an absolute path", o.Root)
	}
	o.Root = filepath.Clean(root)
	rooted := o.Root != "/"
	t, err := Choose(o.Host, o.Scheduler, o.Mode, installing && !rooted)
	if err != nil {
		return nil, err
	}
	if t.Mode == gen.ModeSudo && o.Host.EUID != 0 && !rooted && !o.Print && installing {
		return nil, fmt.Errorf("installing the %s: %w", t, ErrNeedRoot)
	}
	if o.Host.Home == "" || !filepath.IsAbs(o.Host.Home) {
		return nil, fmt.Errorf("home directory %q is not an absolute path", o.Host.Home)
	}
	in := &installer{
		o: o, t: t, rooted: rooted, run: o.Runner, out: o.Out, log: o.Logger,
		s: gen.Schedule{Binary: o.Binary, Mode: t.Mode, Home: o.Host.Home, LogFile: o.LogFile, Database: o.Database},
	}
	if in.run == nil {
		in.run = run.Exec()
	}
	if in.out == nil {
		in.out = io.Discard
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	return in, nil
}

// live reports whether service-manager commands run: on the live system, or under a prefix
// when [Options.Exec] says so.
func (in *installer) live() bool { return !in.rooted || in.o.Exec }

// path returns p (a path on the target system) under the root prefix.
func (in *installer) path(p string) string {
	if !in.rooted {
		return p
	}
	return filepath.Join(in.o.Root, p)
}

func (in *installer) say(format string, args ...any) { fmt.Fprintf(in.out, format+"\n", args...) }

// exists reports whether the target-system path p exists (a dangling symlink counts).
func (in *installer) exists(p string) bool {
	_, err := os.Lstat(in.path(p))
	return err == nil
}

// command runs argv, which changes something, and reports it; under a root prefix it only
// reports that it did not run it. It returns the command's standard output and whether it ran; a
// failure carries the argv and the standard error (see [run.Failed]).
func (in *installer) command(ctx context.Context, stdin []byte, argv ...string) ([]byte, bool, error) {
	out, ran, err := in.query(ctx, stdin, argv...)
	if ran && err == nil {
		in.say("ran %s", quoteArgv(argv))
	}
	return out, ran, err
}

// query runs argv, which only reads, without reporting it; under a root prefix it reports that
// it did not run it.
func (in *installer) query(ctx context.Context, stdin []byte, argv ...string) ([]byte, bool, error) {
	if !in.live() {
		in.say("not run (--root %s): %s", in.o.Root, quoteArgv(argv))
		return nil, false, nil
	}
	in.log.Debug("run", "argv", argv)
	stdout, stderr, err := in.run.Run(ctx, stdin, argv)
	if err != nil {
		return stdout, true, run.Failed(argv, err, stderr)
	}
	return stdout, true, nil
}

// Run makes the installer the [run.Runner] of its systemd client: argv runs and is reported as
// [installer.command] runs and reports it.
func (in *installer) Run(ctx context.Context, stdin []byte, argv []string) ([]byte, []byte, error) {
	if !in.live() {
		in.say("not run (--root %s): %s", in.o.Root, quoteArgv(argv))
		return nil, nil, nil
	}
	in.log.Debug("run", "argv", argv)
	stdout, stderr, err := in.run.Run(ctx, stdin, argv)
	if err == nil {
		in.say("ran %s", quoteArgv(argv))
	}
	return stdout, stderr, err
}

// mkdirLog creates the log file's directory, so that cron's shell redirection and launchd can
// open the file.
func (in *installer) mkdirLog() error {
	dir := in.path(filepath.Dir(in.o.LogFile))
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	in.say("created %s", dir)
	return nil
}

// Install installs the scheduler o describes. A second run with the same options changes
// nothing and runs no command that changes anything; a different binary path is detected and
// the entries are rewritten.
func Install(ctx context.Context, o Options) error {
	in, err := newInstaller(o, true)
	if err != nil {
		return err
	}
	if o.Print {
		return in.printInstall()
	}
	if in.packaged() && !o.Force {
		in.sayPackaged()
		return nil
	}
	switch in.t.Scheduler {
	case Systemd:
		return in.installSystemd(ctx)
	case Launchd:
		return in.installLaunchd(ctx)
	default:
		return in.installCron(ctx)
	}
}

// Uninstall stops and removes what Install created: with Auto, whichever of the timer, the
// launchd job and the crontab lines it finds for the mode. It leaves nodes, data and log files
// alone. Finding nothing is success.
func Uninstall(ctx context.Context, o Options) error {
	in, err := newInstaller(o, false)
	if err != nil {
		return err
	}
	kinds := []Scheduler{in.t.Scheduler}
	if o.Scheduler == Auto || o.Scheduler == "" {
		kinds = []Scheduler{Systemd, Launchd, Cron}
	}
	if o.Print {
		in.printUninstall(kinds)
		return nil
	}
	found := false
	var errs []error
	for _, k := range kinds {
		var ok bool
		var err error
		switch k {
		case Systemd:
			ok, err = in.uninstallSystemd(ctx)
		case Launchd:
			ok, err = in.uninstallLaunchd(ctx)
		case Cron:
			ok, err = in.uninstallCron(ctx, o.Scheduler == Cron)
		}
		found = found || ok
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !found {
		in.say("wnm is not installed (no %s found); nothing to do", notFoundWhat(kinds, in.t.Mode))
	} else {
		in.say("uninstalled; nodes and their data are left as they are")
	}
	return nil
}

// notFoundWhat lists what uninstall looked for: "systemd timer (user), launchd agent or crontab
// line (user)".
func notFoundWhat(kinds []Scheduler, mode gen.Mode) string {
	var names []string
	for _, k := range kinds {
		names = append(names, Target{Scheduler: k, Mode: mode}.String())
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// quoteArgv renders argv as a shell would need it typed.
func quoteArgv(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = templates.ShellQuote(a)
	}
	return strings.Join(out, " ")
}

// fileMode is the mode of every file install writes: systemd and launchd want unit files and
// plists world-readable and not writable by others (launchd refuses a group- or world-writable
// plist).
const fileMode fs.FileMode = 0o644
