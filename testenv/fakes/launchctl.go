package fakes

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"howett.net/plist"
)

// launchctl's exit statuses for the errors callers meet.
const (
	exitNoSuchFile = 2   // bootstrap of a missing plist
	exitIOError    = 5   // bootstrap of a job already loaded
	exitNotFound   = 113 // bootout, kickstart, print of a job that is not loaded
)

// LaunchctlMain runs the fake launchctl on os.Args and exits: the func() form for
// testscript.Main and for testenv/fakes/cmd/launchctl.
func LaunchctlMain() { os.Exit(Launchctl(os.Args[1:], os.Stdout, os.Stderr)) }

// Launchctl runs the fake launchctl with args (without the program name) and returns its exit
// status. It understands bootstrap <domain> <plist>..., bootout <domain>/<label> (or <domain>
// <plist>), kickstart [-k] [-p] <domain>/<label> and print <domain>/<label>, in the domains
// system, gui/<uid> and user/<uid>. It reads the environment of the process.
func Launchctl(args []string, stdout, stderr io.Writer) int {
	return launchctl(args, stdout, stderr, os.Getenv)
}

// lctl is one run of the fake launchctl.
type lctl struct {
	getenv         env
	stdout, stderr io.Writer
	state          string // .../launchctl
}

// launchdJob is what the fake reads from a plist.
type launchdJob struct {
	Label                string            `plist:"Label"`
	Program              string            `plist:"Program"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	WorkingDirectory     string            `plist:"WorkingDirectory"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables"`
	StandardOutPath      string            `plist:"StandardOutPath"`
	StandardErrorPath    string            `plist:"StandardErrorPath"`
	RunAtLoad            bool              `plist:"RunAtLoad"`
	KeepAlive            any               `plist:"KeepAlive"`
	UserName             string            `plist:"UserName"`
}

var (
	domainRe = regexp.MustCompile(`^(system|(gui|user)/[0-9]+)$`)
	labelRe  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

func launchctl(args []string, stdout, stderr io.Writer, getenv env) int {
	l := &lctl{getenv: getenv, stdout: stdout, stderr: stderr}
	if err := record(getenv, "launchctl", args); err != nil {
		fmt.Fprintf(stderr, "fake launchctl: %v\n", err)
		return exitFailure
	}
	var err error
	if l.state, err = stateDir(getenv, "launchctl"); err != nil {
		fmt.Fprintf(stderr, "fake launchctl: %v\n", err)
		return exitFailure
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: launchctl <subcommand> ... | help [subcommand]")
		return exitFailure
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "bootstrap":
		return l.bootstrap(rest)
	case "bootout":
		return l.bootout(rest)
	case "kickstart":
		return l.kickstart(rest)
	case "print":
		return l.print(rest)
	}
	fmt.Fprintf(stderr, "Unrecognized subcommand: %s\n", sub)
	return exitFailure
}

// target splits domain/label and checks both.
func (l *lctl) target(s string) (domain, label string, ok bool) {
	i := strings.LastIndex(s, "/")
	if i < 0 {
		fmt.Fprintf(l.stderr, "Unrecognized target specifier: %s\n", s)
		return "", "", false
	}
	domain, label = s[:i], s[i+1:]
	if !domainRe.MatchString(domain) || !labelRe.MatchString(label) {
		fmt.Fprintf(l.stderr, "Unrecognized target specifier: %s\n", s)
		return "", "", false
	}
	return domain, label, true
}

// dir returns the state dir of one job in one domain.
func (l *lctl) path(domain, label, suffix string) string {
	return filepath.Join(l.state, strings.ReplaceAll(domain, "/", "_"), label+suffix)
}

func readJob(path string) (launchdJob, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return launchdJob{}, err
	}
	var j launchdJob
	if _, err := plist.Unmarshal(b, &j); err != nil {
		return launchdJob{}, fmt.Errorf("%s: %w", path, err)
	}
	if !labelRe.MatchString(j.Label) {
		return launchdJob{}, fmt.Errorf("%s: label %q", path, j.Label)
	}
	return j, nil
}

func (l *lctl) bootstrap(args []string) int {
	if len(args) < 2 || !domainRe.MatchString(args[0]) {
		fmt.Fprintln(l.stderr, "Usage: launchctl bootstrap <domain-target> [service-path, service-path2, ...]")
		return exitFailure
	}
	domain := args[0]
	for _, p := range args[1:] {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(l.stderr, "Bootstrap failed: 2: No such file or directory\n")
			return exitNoSuchFile
		}
		j, err := readJob(p)
		if err != nil {
			fmt.Fprintf(l.stderr, "Bootstrap failed: 5: Input/output error (%v)\n", err)
			return exitIOError
		}
		loaded := l.path(domain, j.Label, ".plist")
		if exists(loaded) {
			fmt.Fprintf(l.stderr, "Bootstrap failed: 5: Input/output error\n")
			return exitIOError
		}
		if err := os.MkdirAll(filepath.Dir(loaded), 0o755); err != nil {
			return exitFailure
		}
		if err := os.WriteFile(loaded, b, 0o644); err != nil {
			return exitFailure
		}
		if err := os.WriteFile(l.path(domain, j.Label, ".source"), []byte(p), 0o644); err != nil {
			return exitFailure
		}
		if j.RunAtLoad {
			if r := l.spawn(domain, j); r != 0 {
				return r
			}
		}
	}
	return 0
}

func (l *lctl) spawn(domain string, j launchdJob) int {
	argv := j.ProgramArguments
	if j.Program != "" {
		if len(argv) == 0 {
			argv = []string{j.Program}
		} else {
			argv = append([]string{j.Program}, argv[1:]...)
		}
	}
	var env [][2]string
	for k, v := range j.EnvironmentVariables {
		env = append(env, [2]string{k, v})
	}
	out := j.StandardOutPath
	if out == "" {
		out = l.path(domain, j.Label, ".log")
	}
	rec, err := spawn(job{argv: argv, dir: j.WorkingDirectory, env: env, out: out}, l.getenv)
	if err != nil {
		// launchd logs a spawn failure and leaves the job loaded but not running.
		fmt.Fprintf(l.stderr, "fake launchctl: spawn %s: %v\n", j.Label, err)
		return 0
	}
	if err := writePID(l.path(domain, j.Label, pidSuffix), rec); err != nil {
		fmt.Fprintf(l.stderr, "fake launchctl: %v\n", err)
		return exitFailure
	}
	return 0
}

// loaded returns the job as it was bootstrapped, or false with launchctl's complaint printed.
func (l *lctl) loaded(domain, label, verb string) (launchdJob, bool) {
	j, err := readJob(l.path(domain, label, ".plist"))
	if err != nil {
		switch verb {
		case "bootout":
			fmt.Fprintf(l.stderr, "Boot-out failed: 113: Could not find specified service\n")
		case "print":
			fmt.Fprintf(l.stderr, "Bad request.\nCould not find service %q in domain for port\n", label)
		default:
			fmt.Fprintf(l.stderr, "Could not find service %q in domain for port\n", label)
		}
		return launchdJob{}, false
	}
	return j, true
}

func (l *lctl) bootout(args []string) int {
	var domain, label string
	switch {
	case len(args) == 1:
		var ok bool
		if domain, label, ok = l.target(args[0]); !ok {
			return exitFailure
		}
	case len(args) == 2 && domainRe.MatchString(args[0]):
		j, err := readJob(args[1])
		if err != nil {
			fmt.Fprintf(l.stderr, "Boot-out failed: 2: No such file or directory\n")
			return exitNoSuchFile
		}
		domain, label = args[0], j.Label
	default:
		fmt.Fprintln(l.stderr, "Usage: launchctl bootout <domain-target> [service-path1, service-path2, ...] | <service-target>")
		return exitFailure
	}
	if _, ok := l.loaded(domain, label, "bootout"); !ok {
		return exitNotFound
	}
	if rec, ok := running(l.path(domain, label, pidSuffix)); ok {
		if err := terminate(rec); err != nil {
			fmt.Fprintf(l.stderr, "Boot-out failed: %v\n", err)
			return exitFailure
		}
	}
	for _, suffix := range []string{pidSuffix, ".plist", ".source"} {
		_ = os.Remove(l.path(domain, label, suffix))
	}
	return 0
}

func (l *lctl) kickstart(args []string) int {
	kill, printPID := false, false
	var targets []string
	for _, a := range args {
		switch a {
		case "-k":
			kill = true
		case "-p":
			printPID = true
		case "-s":
		default:
			targets = append(targets, a)
		}
	}
	if len(targets) != 1 {
		fmt.Fprintln(l.stderr, "Usage: launchctl kickstart [-k] [-p] <service-target>")
		return exitFailure
	}
	domain, label, ok := l.target(targets[0])
	if !ok {
		return exitFailure
	}
	j, ok := l.loaded(domain, label, "kickstart")
	if !ok {
		return exitNotFound
	}
	pidPath := l.path(domain, label, pidSuffix)
	if rec, ok := running(pidPath); ok {
		if !kill {
			if printPID {
				fmt.Fprintf(l.stdout, "service already running, pid = %d\n", rec.PID)
			}
			return 0
		}
		if err := terminate(rec); err != nil {
			fmt.Fprintf(l.stderr, "fake launchctl: %v\n", err)
			return exitFailure
		}
	}
	if r := l.spawn(domain, j); r != 0 {
		return r
	}
	if rec, ok := running(pidPath); ok && printPID {
		fmt.Fprintf(l.stdout, "service spawned with pid: %d\n", rec.PID)
	}
	return 0
}

func (l *lctl) print(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(l.stderr, "Usage: launchctl print <domain-target> | <service-target>")
		return exitFailure
	}
	domain, label, ok := l.target(args[0])
	if !ok {
		return exitFailure
	}
	j, ok := l.loaded(domain, label, "print")
	if !ok {
		return exitNotFound
	}
	source, _ := os.ReadFile(l.path(domain, label, ".source"))
	rec, running := running(l.path(domain, label, pidSuffix))
	state := "not running"
	if running {
		state = "running"
	}
	fmt.Fprintf(l.stdout, "%s/%s = {\n", domain, label)
	fmt.Fprintf(l.stdout, "\tactive count = %d\n", map[bool]int{true: 1}[running])
	fmt.Fprintf(l.stdout, "\tpath = %s\n", source)
	fmt.Fprintf(l.stdout, "\tstate = %s\n\n", state)
	if len(j.ProgramArguments) > 0 {
		fmt.Fprintf(l.stdout, "\tprogram = %s\n\targuments = {\n", j.ProgramArguments[0])
		for _, a := range j.ProgramArguments {
			fmt.Fprintf(l.stdout, "\t\t%s\n", a)
		}
		fmt.Fprintf(l.stdout, "\t}\n\n")
	}
	if j.WorkingDirectory != "" {
		fmt.Fprintf(l.stdout, "\tworking directory = %s\n", j.WorkingDirectory)
	}
	if j.StandardOutPath != "" {
		fmt.Fprintf(l.stdout, "\tstdout path = %s\n", j.StandardOutPath)
	}
	if j.StandardErrorPath != "" {
		fmt.Fprintf(l.stdout, "\tstderr path = %s\n", j.StandardErrorPath)
	}
	if running {
		fmt.Fprintf(l.stdout, "\tpid = %d\n", rec.PID)
	}
	fmt.Fprintf(l.stdout, "\truns = 1\n\tlast exit code = (never exited)\n}\n")
	return 0
}
