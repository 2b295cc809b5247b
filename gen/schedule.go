package gen

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/unit"
	"howett.net/plist"

	"github.com/wnm-project/wnm/templates"
)

// Names of wnm's own scheduler entries: what runs `wnm run` every minute.
const (
	// ScheduleServiceName is wnm's oneshot systemd service, started by [ScheduleTimerName].
	ScheduleServiceName = "wnm.service"
	// ScheduleTimerName is the systemd timer that starts [ScheduleServiceName] every minute.
	ScheduleTimerName = "wnm.timer"
	// ScheduleLabel is the label of wnm's launchd job; its plist is ScheduleLabel + ".plist".
	// launchd sets XPC_SERVICE_NAME to it in the job's environment.
	ScheduleLabel = "com.autonomi.wnm"
	// ScheduleEnvironmentFile is the file the system service reads WNM_* settings from, if it
	// exists (Debian's /etc/default convention).
	ScheduleEnvironmentFile = "/etc/default/wnm"
	// ScheduleInterval is how often the launchd job and the cron line start a cycle, in seconds;
	// the systemd timer starts one this long after the previous one ended.
	ScheduleInterval = 60
	// CronMarker is the comment line written immediately above each crontab line wnm manages:
	// uninstall removes exactly the marker lines and the line after each.
	CronMarker = "# wnm: managed by wnm install; do not edit"
	// SchedulePATH is the PATH the cron line and the launchd job run with: cron's default
	// (/usr/bin:/bin) hides systemctl, ufw and Homebrew's tools.
	SchedulePATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
)

// Schedule is what wnm's own scheduler entries are made from.
type Schedule struct {
	// Binary is the absolute path of the wnm executable to run.
	Binary string
	// Mode is ModeSudo for the system-wide entries root installs (a system unit, a launchd
	// daemon, root's crontab) and ModeUser for a user's own.
	Mode Mode
	// Home is the home directory of the account the entries run as; the launchd job gets it as
	// HOME, which launchd does not set for daemons.
	Home string
	// LogFile is where the launchd job and the cron line append wnm's output (with systemd it
	// goes to the journal instead). Absolute.
	LogFile string
	// Database, when set, is the absolute path of wnm's database: the systemd service then
	// carries ConditionPathExists= on it, so that before `wnm init` a tick is a clean skip rather
	// than a failed unit every minute.
	Database string
	// Packaged marks the units a distribution package ships (in /usr/lib/systemd/system, owned
	// by the package manager) rather than the ones `wnm install` writes; only their header
	// comments differ.
	Packaged bool
}

// PackagedBinary and PackagedDatabase are where the Debian package installs wnm and where the
// system-wide (sudo mode) database lives, which its units refer to.
const (
	PackagedBinary   = "/usr/bin/wnm"
	PackagedDatabase = "/var/antctl/colony.db"
	// PackagedUnitDir is where a package ships unit files; /etc/systemd/system, where `wnm
	// install` writes, overrides it.
	PackagedUnitDir = "/usr/lib/systemd/system"
)

// PackagedSchedule is the schedule the Debian package's units are rendered from: the system
// service running [PackagedBinary], skipped until [PackagedDatabase] exists.
func PackagedSchedule() Schedule {
	return Schedule{Binary: PackagedBinary, Mode: ModeSudo, Home: "/root", LogFile: "/var/log/antnode/wnm.log",
		Database: PackagedDatabase, Packaged: true}
}

// Args returns the command line every scheduler runs: the binary and "run".
func (s Schedule) Args() []string { return []string{s.Binary, "run"} }

// check refuses a schedule no renderer can carry: relative paths, control characters and invalid
// UTF-8 in any of them, and a mode other than sudo or user.
func (s Schedule) check() error {
	if err := s.Mode.check(); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	paths := []struct{ name, v string }{{"wnm binary", s.Binary}, {"home", s.Home}, {"log file", s.LogFile}}
	if s.Database != "" {
		paths = append(paths, struct{ name, v string }{"database", s.Database})
	}
	for _, f := range paths {
		if !strings.HasPrefix(f.v, "/") {
			return fmt.Errorf("schedule: %s %q is not an absolute path", f.name, f.v)
		}
		if !utf8.ValidString(f.v) || strings.ContainsFunc(f.v, unicode.IsControl) {
			return fmt.Errorf("schedule: %s %q contains a control character or invalid UTF-8", f.name, f.v)
		}
	}
	return nil
}

// scheduleService is the data of wnm.service.tmpl.
type scheduleService struct {
	System          bool // a system unit: User=root, EnvironmentFile=, full sandboxing
	ExecStart       []string
	EnvironmentFile string
	Database        string // ConditionPathExists= when set
	Packaged        bool
}

// scheduleTimer is the data of wnm.timer.tmpl.
type scheduleTimer struct {
	Interval int // seconds
	Service  string
	Packaged bool
}

// ScheduleService renders wnm.service (wnm.service.tmpl): a Type=oneshot unit that runs
// `<Binary> run` once, with SuccessExitStatus=75 (another cycle holds the lock) 130 143 (stopped by a signal),
// TimeoutStartSec=55s and KillMode=process, so that nodes a cycle starts with setsid outlive it.
// With a Database it is skipped (ConditionPathExists=) until that file exists.
// The system unit (ModeSudo) also runs as User=root, reads [ScheduleEnvironmentFile] and carries
// sandboxing that leaves the worker what it needs; the user
// unit gets the subset an unprivileged user manager can apply. It has no [Install] section: the
// timer starts it. The result is checked by parsing ExecStart= back.
func ScheduleService(s Schedule) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	// systemd refuses quotes and backslashes in an executable's path ("contains special
	// characters"), and takes a $ there literally while it expands $$ in the arguments, so no
	// quoting carries one in a way every reader agrees on.
	if strings.ContainsAny(s.Binary, `$'"\`) {
		return nil, fmt.Errorf("schedule: wnm binary %q contains a quote, backslash or $, which ExecStart= cannot carry in an executable's path", s.Binary)
	}
	d := scheduleService{System: s.Mode == ModeSudo, ExecStart: s.Args(), EnvironmentFile: ScheduleEnvironmentFile,
		Database: s.Database, Packaged: s.Packaged}
	out, err := renderSchedule("wnm.service.tmpl", d)
	if err != nil {
		return nil, err
	}
	if err := verifyExec(out, s.Args()); err != nil {
		return nil, fmt.Errorf("schedule: rendered %s does not read back: %w", ScheduleServiceName, err)
	}
	return out, nil
}

// ScheduleTimer renders wnm.timer (wnm.timer.tmpl): OnBootSec= and OnUnitInactiveSec= one
// interval, so that a cycle starts a minute after boot (or at once when the timer is enabled
// later, see systemd.timer(5)) and then a minute after each cycle ends, never overlapping;
// AccuracySec=1s; WantedBy=timers.target. It is the same for both modes.
func ScheduleTimer(s Schedule) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return renderSchedule("wnm.timer.tmpl", scheduleTimer{Interval: ScheduleInterval, Service: ScheduleServiceName, Packaged: s.Packaged})
}

// scheduleJob is wnm's launchd.plist(5). The encoder writes keys sorted.
type scheduleJob struct {
	Label                string            `plist:"Label"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	StartInterval        int               `plist:"StartInterval"`
	RunAtLoad            bool              `plist:"RunAtLoad"`
	AbandonProcessGroup  bool              `plist:"AbandonProcessGroup"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables"`
	StandardOutPath      string            `plist:"StandardOutPath"`
	StandardErrorPath    string            `plist:"StandardErrorPath"`
}

// scheduleComment is inserted after the plist's DOCTYPE line; the encoder writes no comments.
const scheduleComment = "<!-- generated by wnm install; do not edit -->\n"

// SchedulePlist renders wnm's launchd job, encoded by a plist encoder (every value escaped):
// Label [ScheduleLabel], ProgramArguments [Schedule.Args], StartInterval [ScheduleInterval],
// RunAtLoad, AbandonProcessGroup (launchd would otherwise kill the nodes a cycle starts with
// setsid when the cycle exits), PATH and HOME in EnvironmentVariables, and stdout and stderr
// appended to LogFile. The plist is the same for an agent and a daemon; where it goes differs.
func SchedulePlist(s Schedule) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	job := scheduleJob{
		Label:                ScheduleLabel,
		ProgramArguments:     s.Args(),
		StartInterval:        ScheduleInterval,
		RunAtLoad:            true,
		AbandonProcessGroup:  true,
		EnvironmentVariables: map[string]string{"PATH": "/opt/homebrew/bin:" + SchedulePATH, "HOME": s.Home},
		StandardOutPath:      s.LogFile,
		StandardErrorPath:    s.LogFile,
	}
	out, err := plist.MarshalIndent(job, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("schedule: encode %s.plist: %w", ScheduleLabel, err)
	}
	i := bytes.Index(out, []byte("<!DOCTYPE plist"))
	if i < 0 || bytes.IndexByte(out[i:], '\n') < 0 {
		return nil, fmt.Errorf("schedule: encode %s.plist: no DOCTYPE line in the encoder's output", ScheduleLabel)
	}
	at := i + bytes.IndexByte(out[i:], '\n') + 1
	var b bytes.Buffer
	b.Write(out[:at])
	b.WriteString(scheduleComment)
	b.Write(out[at:])
	if !bytes.HasSuffix(out, []byte("\n")) {
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// scheduleCron is the data of wnm.cron.tmpl.
type scheduleCron struct {
	Marker  string
	Path    string
	Command string // shell-quoted, % escaped for cron
}

// ScheduleCron renders wnm's crontab lines (wnm.cron.tmpl): a PATH=[SchedulePATH] line and a
// line that runs `<Binary> run` every minute with its output appended to LogFile (cron would
// otherwise mail it), each preceded by a [CronMarker] line. Paths are shell-quoted and % is
// escaped, since cron turns a bare % into a newline. It refuses a path with a backslash, which
// cron's own escaping would change.
func ScheduleCron(s Schedule) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	for _, p := range []string{s.Binary, s.LogFile} {
		if strings.Contains(p, `\`) {
			return nil, fmt.Errorf("schedule: path %q contains a backslash, which cron would change", p)
		}
	}
	cmd := templates.ShellQuote(s.Binary) + " run >>" + templates.ShellQuote(s.LogFile) + " 2>&1"
	return renderSchedule("wnm.cron.tmpl", scheduleCron{
		Marker:  CronMarker,
		Path:    SchedulePATH,
		Command: strings.ReplaceAll(cmd, "%", `\%`),
	})
}

// renderSchedule executes one of wnm's own templates.
func renderSchedule(name string, data any) ([]byte, error) {
	tmpl, err := parsed()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("schedule: render %s: %w", strings.TrimSuffix(name, ".tmpl"), err)
	}
	return b.Bytes(), nil
}

// verifyExec parses a rendered unit the way systemd reads it and compares its ExecStart= with
// want.
func verifyExec(text []byte, want []string) error {
	opts, err := unit.DeserializeOptions(bytes.NewReader(text))
	if err != nil {
		return err
	}
	var execs []string
	for _, o := range opts {
		if o.Section == "Service" && o.Name == "ExecStart" {
			execs = append(execs, o.Value)
		}
	}
	if len(execs) != 1 {
		return fmt.Errorf("%d ExecStart= lines, want 1", len(execs))
	}
	argv, err := SplitExec(execs[0])
	if err != nil {
		return err
	}
	if !slices.Equal(argv, want) {
		return fmt.Errorf("ExecStart reads back as %q, want %q", argv, want)
	}
	return nil
}
