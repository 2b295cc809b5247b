package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/alecthomas/kong"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/lock"
)

// Exit codes. They are documented in the README and in `wnm --help`.
const (
	exitOK      = 0  // success, including a cycle whose node operations failed (they are logged)
	exitFailure = 1  // a fatal condition: bad configuration, no database, immutable change, failed init
	exitUsage   = 2  // an unknown flag, bad arguments, or a command that is not available yet
	exitBusy    = 75 // another cycle holds the lock (EX_TEMPFAIL): try again later
)

// cli is the command tree. Settings flags and the global flags are accepted before or after the
// command name.
type cli struct {
	globals
	compatFlags `kong:"-"`    // embedded in the parser after the settings, so help lists them last
	settings    *settingFlags // one flag per setting, built from the settings table

	Run       runCmd       `cmd:"" default:"withargs" help:"Run one survey, decide and act cycle (the default; what the timer runs)"`
	Init      initCmd      `cmd:"" help:"Create the database and record this machine's settings"`
	Plan      planCmd      `cmd:"" help:"Show what the next cycle would do and why, changing nothing"`
	Survey    surveyCmd    `cmd:"" help:"Read the host and every node and print the observation"`
	Status    statusCmd    `cmd:"" help:"List the nodes with their state, versions, ports and metrics"`
	History   historyCmd   `cmd:"" help:"List the recorded cycles and forced actions: plans, reasons, results, status changes"`
	ReportCmd reportCmd    `cmd:"" name:"report" help:"Print a report: node-status, node-status-details, influx-resources, machine-config, machine-metrics"`
	Node      nodeCmd      `cmd:"" help:"Act on nodes now: add, remove, start, stop, restart, upgrade, disable, enable, survey"`
	Teardown  teardownCmd  `cmd:"" help:"Remove every node (needs --confirm)"`
	ConfigCmd configCmd    `cmd:"" name:"config" help:"Show the settings and where they come from, or save new values"`
	Install   installCmd   `cmd:"" help:"Install the timer (systemd), launchd job or cron line that runs wnm every minute"`
	Uninstall uninstallCmd `cmd:"" help:"Remove what install created, leaving nodes and data alone"`
	Version   versionCmd   `cmd:"" help:"Print the version, commit, build date and Go version (--json for JSON)"`
	DistFiles distFilesCmd `cmd:"" name:"dist-files" hidden:"" help:"Write the files the packages ship: units and man page"`
}

// globals are flags that do not map to a stored setting.
type globals struct {
	Config string `short:"c" name:"config" placeholder:"FILE" type:"existingfile" help:"Read settings from this config file too (wins over the default files)" group:"run"`
	Quiet  bool   `short:"q" name:"quiet" help:"Log errors only (overrides --loglevel)" group:"run"`
	JSON   bool   `name:"json" help:"Print JSON instead of text (status, survey, plan, history, version, config show, reports, forced actions)" group:"run"`
}

// compatFlags are wnm-python's action flags. Those that later work implements parse but report
// that they are not available yet.
type compatFlags struct {
	InitFlag           bool    `name:"init" help:"Same as the init command" group:"compatibility"`
	VersionFlag        bool    `name:"version" help:"Print the wnm version and exit" group:"compatibility"`
	RemoveLockfile     bool    `name:"remove_lockfile" aliases:"remove-lockfile" help:"Delete a stale lock file and exit (refused while a cycle holds it)" group:"compatibility"`
	Verbose            bool    `short:"v" help:"With a cycle or forced action: log the machine config, the metrics and the decision at INFO (all three --show_* flags)" group:"compatibility"`
	ShowMachineConfig  bool    `name:"show_machine_config" aliases:"show-machine-config" help:"With a cycle or forced action: log the machine's settings row at INFO" group:"compatibility"`
	ShowMachineMetrics bool    `name:"show_machine_metrics" aliases:"show-machine-metrics" help:"With a cycle or forced action: log the host figures and node counts at INFO" group:"compatibility"`
	ShowDecisions      bool    `name:"show_decisions" aliases:"show-decisions" help:"With a cycle or forced action: log the decision's features and the reasons for what it did not do at INFO" group:"compatibility"`
	ForceAction        *string `name:"force_action" aliases:"force-action" placeholder:"ACTION" help:"Act now instead of deciding: add, remove, upgrade, start, stop, disable, teardown, survey, nullop, update_config, disable_config or wnm-db-migration (the same as wnm node VERB)" group:"compatibility"`
	ServiceName        *string `name:"service_name" aliases:"service-name" placeholder:"NAMES" help:"Comma-separated node names (antnode0003,antnode0007) for a forced action or a node report" group:"compatibility"`
	Count              *int    `name:"count" placeholder:"N" help:"Number of nodes a forced action chooses when none is named (default 1)" group:"compatibility"`
	Report             *string `name:"report" placeholder:"NAME" help:"Print a report (node-status, node-status-details, influx-resources, machine-config, machine-metrics); the same as wnm report NAME" group:"compatibility"`
	ReportFormat       *string `name:"report_format" aliases:"report-format" placeholder:"FORMAT" help:"Format of --report: text, json, env or config" group:"compatibility"`
	MigrateAnm         bool    `name:"migrate_anm" aliases:"migrate-anm" help:"With --init: take over an anm installation" group:"compatibility"`
	Import             bool    `name:"import" help:"With --init: adopt nodes that already exist" group:"compatibility"`
	Confirm            bool    `name:"confirm" help:"Confirm a teardown or --force_action wnm-db-migration" group:"compatibility"`
}

// notYet is returned for features that a later release implements.
type notYet string

func (n notYet) Error() string { return string(n) + " is not yet available in this version of wnm" }

// usageErr marks an error in how wnm was called.
type usageErr struct{ error }

// env is what Main gets from the process: streams, environment and identity. Tests replace it.
type env struct {
	stdout, stderr io.Writer
	environ        []string
	home           string
	goos           string
	euid           int
	now            func() time.Time
}

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	var ny notYet
	var ue usageErr
	var na units.NotAvailableError
	var sg signalled
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &sg):
		return sg.ExitCode()
	case errors.Is(err, lock.ErrBusy):
		return exitBusy
	case errors.As(err, &ny), errors.As(err, &ue), errors.As(err, &na):
		return exitUsage
	default:
		return exitFailure
	}
}

type kongExit int

// Main runs wnm with args and returns its exit code. It is the only place that maps errors to exit
// codes; nothing else calls os.Exit.
func Main(args []string, stdout, stderr io.Writer) int {
	home, _ := os.UserHomeDir()
	e := &env{stdout: stdout, stderr: stderr, environ: os.Environ(), home: home, goos: runtime.GOOS, euid: os.Geteuid(), now: time.Now}
	return e.main(args)
}

// newParser builds the command tree over c, writing to e's streams.
func newParser(e *env, c *cli) (*kong.Kong, error) {
	c.settings = newSettingFlags(settingHelp(e.platform(gen.ModeUser)))
	return kong.New(c,
		c.settings.option(),
		kong.Embed(&c.compatFlags),
		kong.Name("wnm"),
		kong.Description("wnm keeps a fleet of Autonomi antnode processes at the size this machine can carry.\n\n"+
			"Settings are read, highest first, from the command line, the environment (WNM_<NAME>, or the bare "+
			"upper-case name except for HOST, ENVIRONMENT, COUNT, INTERVAL, REPORT and DRY_RUN), ~/.local/share/wnm/.env, "+
			"the config files ~/.local/share/wnm/config, ~/wnm/config and -c FILE, the database, and the defaults. "+
			"Supplied settings are saved in the database and used by the same run.\n\n"+
			"Exit codes: 0 success; 1 fatal error (bad setting, no database, immutable change); "+
			"2 usage error or unavailable command; 75 another cycle is running; 130 or 143 stopped by SIGINT or SIGTERM after recording."),
		kong.Writers(e.stdout, e.stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.ExplicitGroups([]kong.Group{
			{Key: "settings", Title: "Settings (saved in the database):"},
			{Key: "run", Title: "This run:"},
			{Key: "compatibility", Title: "wnm-python compatibility:"},
		}),
	)
}

func (e *env) main(args []string) (code int) {
	// The version needs no command line: answer before building one (its flags come from the
	// settings table, and kong's model costs milliseconds).
	if len(args) == 1 && (args[0] == "--version" || args[0] == "version") {
		return exitCode(versionCmd{}.Run(&session{env: e, cli: &cli{}}))
	}
	var c cli
	parser, err := newParser(e, &c)
	if err != nil {
		panic(err) // the command tree itself is wrong: a programming error
	}
	defer func() {
		if r := recover(); r != nil {
			k, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(k)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		printError(e.stderr, err)
		return exitUsage
	}
	s := &session{env: e, cli: &c}
	err = s.dispatch(kctx)
	if err != nil {
		if errors.Is(err, lock.ErrBusy) {
			s.logger().Info(err.Error())
		} else {
			printError(e.stderr, err)
		}
	}
	return exitCode(err)
}

// printError writes err to w as "wnm: error: …" lines, one per joined error. A control character
// in an error (a newline in a path, an escape sequence) is written escaped, as in a Go string,
// so that an error never prints a value raw.
func printError(w io.Writer, err error) {
	for _, l := range errorLines(err) {
		fmt.Fprintf(w, "wnm: error: %s\n", escapeControl(l))
	}
}

// errorLines splits err into the messages of the errors it joins, keeping a wrapper's prefix on
// the first.
func errorLines(err error) []string {
	var join interface{ Unwrap() []error }
	if !errors.As(err, &join) {
		return []string{err.Error()}
	}
	prefix, _ := strings.CutSuffix(err.Error(), join.(error).Error())
	var lines []string
	for _, e := range join.Unwrap() {
		lines = append(lines, errorLines(e)...)
	}
	if len(lines) > 0 {
		lines[0] = prefix + lines[0]
	}
	return lines
}

// escapeControl replaces every control character in s by its Go escape.
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dispatch runs the compatibility action flags first, then the chosen command.
func (s *session) dispatch(kctx *kong.Context) error {
	c := s.cli
	u := usage{cmd: kctx.Command()}
	switch {
	case c.VersionFlag || c.RemoveLockfile || c.InitFlag:
		u.cmd = ""
	case c.Report != nil:
		u.report = true
		if c.ForceAction != nil && *c.ForceAction == "survey" {
			u.forced = "survey"
		}
	case c.ForceAction != nil:
		u.forced = *c.ForceAction
	case strings.HasPrefix(u.cmd, "node "):
		u.forced = strings.Fields(u.cmd)[1]
	case u.cmd == "teardown":
		u.forced = "teardown"
	case strings.HasPrefix(u.cmd, "report"):
		u.report = true
	}
	if err := s.checkFlags(u); err != nil {
		return err
	}
	switch {
	case c.VersionFlag:
		return c.Version.Run(s)
	case c.RemoveLockfile:
		return s.removeLockfile()
	case c.InitFlag:
		return c.Init.Run(s)
	case c.MigrateAnm && kctx.Command() != "init":
		return usageErr{errors.New("--migrate_anm goes with init: wnm init --migrate_anm (or wnm --init --migrate_anm)")}
	case c.Report != nil:
		if c.ForceAction != nil && *c.ForceAction == "survey" {
			// As wnm-python: the survey runs first and its result is logged, not printed.
			s.logResult = true
			if err := s.forceAction("survey"); err != nil {
				return err
			}
		}
		return s.report(*c.Report, "")
	case c.ForceAction != nil:
		return s.forceAction(*c.ForceAction)
	}
	return kctx.Run(s)
}

// flagValues returns the settings given on the command line, by setting name, in text form.
func (c *cli) flagValues() map[string]string { return c.settings.values() }

// settingHelp renders each setting's help with its default and unit, by setting name.
func settingHelp(p config.Platform) map[string]string {
	d := config.Defaults(p)
	vars := map[string]string{}
	for _, s := range config.Settings {
		def := d.Get(s.Name)
		switch {
		case s.DefaultHelp != "":
			def = s.DefaultHelp
		case strings.HasPrefix(def, p.Home+"/") && p.Home != "":
			def = "~" + strings.TrimPrefix(def, p.Home)
		case def == "" || (s.Kind == config.Int && def == "0" && !s.Persist):
			def = "none"
		}
		if s.Unit != "" && def != "none" && !strings.HasPrefix(def, "none") {
			def += " " + s.Unit
		}
		vars[s.Name] = fmt.Sprintf("%s (default: %s)", s.Help, def)
	}
	return vars
}

// logger builds the run's logger from --loglevel and -q.
func (s *session) logger() *slog.Logger {
	if s.log == nil {
		s.log = newLogger(s)
	}
	return s.log
}

func (s *session) getenv(key string) string {
	for _, kv := range s.env.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}
