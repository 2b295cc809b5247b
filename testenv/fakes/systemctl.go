package fakes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/wnm-project/wnm/gen"
)

// Exit codes of systemctl that callers branch on.
const (
	exitFailure   = 1
	exitInactive  = 3 // is-active: not active
	exitNotLoaded = 5 // start, stop: unit not found or not loaded
)

// SystemctlMain runs the fake systemctl on os.Args and exits: the func() form for
// testscript.Main and for testenv/fakes/cmd/systemctl.
func SystemctlMain() { os.Exit(Systemctl(os.Args[1:], os.Stdout, os.Stderr)) }

// Systemctl runs the fake systemctl with args (without the program name) and returns its exit
// status. It reads the environment of the process.
func Systemctl(args []string, stdout, stderr io.Writer) int {
	return systemctl(args, stdout, stderr, os.Getenv)
}

// sysctl is one run of the fake systemctl.
type sysctl struct {
	getenv         env
	stdout, stderr io.Writer
	user, now      bool
	value          bool
	props          []string
	state          string   // scope state dir: .../systemctl/system or .../systemctl/user
	unitDirs       []string // where unit files are read
}

func systemctl(args []string, stdout, stderr io.Writer, getenv env) int {
	s := &sysctl{getenv: getenv, stdout: stdout, stderr: stderr}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, format+"\n", a...)
		return exitFailure
	}
	if err := record(getenv, "systemctl", args); err != nil {
		return fail("fake systemctl: %v", err)
	}
	var words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--user":
			s.user = true
		case a == "--system":
			s.user = false
		case a == "--now":
			s.now = true
		case a == "--value":
			s.value = true
		case a == "--no-block" || a == "-q" || a == "--quiet" || a == "--no-pager" || a == "--no-ask-password" || a == "--no-reload":
		case strings.HasPrefix(a, "--property="):
			s.props = append(s.props, strings.Split(strings.TrimPrefix(a, "--property="), ",")...)
		case a == "-p" || a == "--property":
			if i+1 == len(args) {
				return fail("option %s requires an argument", a)
			}
			i++
			s.props = append(s.props, strings.Split(args[i], ",")...)
		case strings.HasPrefix(a, "-"):
			return fail("fake systemctl: unknown option %q", a)
		default:
			words = append(words, a)
		}
	}
	if len(words) == 0 {
		return fail("fake systemctl: no verb")
	}
	scope := "system"
	if s.user {
		scope = "user"
	}
	var err error
	if s.state, err = stateDir(getenv, "systemctl", scope); err != nil {
		return fail("fake systemctl: %v", err)
	}
	if s.unitDirs, err = s.findUnitDirs(); err != nil {
		return fail("fake systemctl: %v", err)
	}
	verb, names := words[0], words[1:]
	for i, n := range names {
		if names[i], err = unitName(n); err != nil {
			return fail("%v", err)
		}
	}
	switch verb {
	case "daemon-reload":
		return s.daemonReload()
	case "start", "stop", "restart", "enable", "disable", "is-active", "is-enabled", "show":
		if len(names) == 0 {
			return fail("Too few arguments.")
		}
	default:
		return fail("Unknown command verb %s.", verb)
	}
	rc := 0
	for _, n := range names {
		var r int
		switch verb {
		case "start":
			r = s.start(n)
		case "stop":
			r = s.stop(n)
		case "restart":
			if r = s.stop(n); r == exitNotLoaded {
				r = 0
			}
			if r == 0 {
				r = s.start(n)
			}
		case "enable":
			r = s.enable(n)
		case "disable":
			r = s.disable(n)
		case "is-active":
			r = s.isActive(n)
		case "is-enabled":
			r = s.isEnabled(n)
		case "show":
			r = s.show(n)
		}
		if r != 0 {
			rc = r
		}
	}
	return rc
}

var unitNameRe = regexp.MustCompile(`^[A-Za-z0-9:_.@\\-]+\.(service|timer|target|socket|path|mount)$`)

// unitName adds .service to a bare name, as systemctl does, and refuses names that are not unit
// names (they could escape the state dir).
func unitName(n string) (string, error) {
	if !strings.Contains(n, ".") {
		n += ".service"
	}
	if !unitNameRe.MatchString(n) {
		return "", fmt.Errorf("Unit name %q is not valid.", n) //nolint:staticcheck // systemctl's own wording, which callers match
	}
	return n, nil
}

func (s *sysctl) findUnitDirs() ([]string, error) {
	if v := s.getenv(EnvUnitDir); v != "" {
		return filepath.SplitList(v), nil
	}
	if s.user {
		home := s.getenv("HOME")
		if home == "" {
			return nil, fmt.Errorf("neither %s nor HOME is set", EnvUnitDir)
		}
		return []string{filepath.Join(home, ".config/systemd/user")}, nil
	}
	root := s.getenv("WNM_ROOT")
	if root == "" || filepath.Clean(root) == "/" {
		return nil, fmt.Errorf("neither %s nor a WNM_ROOT other than / is set: refusing to read the host's units", EnvUnitDir)
	}
	return []string{filepath.Join(root, "etc/systemd/system")}, nil
}

// onDisk returns the unit file's path and content, or "" when no unit dir has it.
func (s *sysctl) onDisk(n string) (string, []byte) {
	for _, d := range s.unitDirs {
		p := filepath.Join(d, n)
		if b, err := os.ReadFile(p); err == nil {
			return p, b
		}
	}
	return "", nil
}

func (s *sysctl) path(parts ...string) string {
	return filepath.Join(append([]string{s.state}, parts...)...)
}

// load returns the unit as systemd has it loaded: the copy taken at the first use or the last
// daemon-reload. It warns when the file on disk differs from that copy.
func (s *sysctl) load(n string) ([]byte, bool) {
	loaded := s.path("loaded", n)
	b, err := os.ReadFile(loaded)
	_, disk := s.onDisk(n)
	if err == nil {
		if disk != nil && !bytes.Equal(disk, b) {
			fmt.Fprintf(s.stderr, "Warning: The unit file, source configuration file or drop-ins of %s changed on disk. Run 'systemctl%s daemon-reload' to reload units.\n", n, map[bool]string{true: " --user"}[s.user])
		}
		return b, true
	}
	if disk == nil {
		return nil, false
	}
	if err := os.MkdirAll(filepath.Dir(loaded), 0o755); err == nil {
		_ = os.WriteFile(loaded, disk, 0o644)
	}
	return disk, true
}

func (s *sysctl) daemonReload() int {
	entries, _ := os.ReadDir(s.path("loaded"))
	for _, e := range entries {
		loaded := s.path("loaded", e.Name())
		if _, disk := s.onDisk(e.Name()); disk != nil {
			_ = os.WriteFile(loaded, disk, 0o644)
		} else {
			_ = os.Remove(loaded)
		}
	}
	return 0
}

// unitDef is what the fake takes from a unit file.
type unitDef struct {
	exec    []string // nil: nothing to run (a timer, a target)
	env     [][2]string
	dir     string
	install bool // has an [Install] section
}

func parseUnitDef(text []byte) (unitDef, error) {
	opts, err := unit.DeserializeOptions(bytes.NewReader(text))
	if err != nil {
		return unitDef{}, err
	}
	var d unitDef
	for _, o := range opts {
		if o.Section == "Install" {
			d.install = true
		}
		if o.Section != "Service" {
			continue
		}
		switch o.Name {
		case "ExecStart":
			if d.exec, err = gen.SplitExec(o.Value); err != nil {
				return unitDef{}, err
			}
		case "Environment":
			kv, err := gen.SplitEnvironment(o.Value)
			if err != nil {
				return unitDef{}, err
			}
			d.env = append(d.env, kv...)
		case "WorkingDirectory":
			d.dir = strings.ReplaceAll(strings.TrimPrefix(o.Value, "-"), "%%", "%")
		}
	}
	return d, nil
}

func (s *sysctl) start(n string) int {
	text, ok := s.load(n)
	if !ok {
		fmt.Fprintf(s.stderr, "Failed to start %s: Unit %s not found.\n", n, n)
		return exitNotLoaded
	}
	if _, ok := running(s.path(n + pidSuffix)); ok {
		return 0
	}
	d, err := parseUnitDef(text)
	if err != nil {
		fmt.Fprintf(s.stderr, "Failed to start %s: Unit %s has a bad unit file setting: %v\n", n, n, err)
		return exitFailure
	}
	if d.exec == nil {
		return touch(s.path(n + ".active"))
	}
	rec, err := spawn(job{argv: d.exec, dir: d.dir, env: d.env, out: s.path(n + ".log")}, s.getenv)
	if err != nil {
		fmt.Fprintf(s.stderr, "Job for %s failed because the control process exited with error code: %v\n", n, err)
		return exitFailure
	}
	if err := writePID(s.path(n+pidSuffix), rec); err != nil {
		fmt.Fprintf(s.stderr, "fake systemctl: %v\n", err)
		return exitFailure
	}
	return 0
}

func (s *sysctl) stop(n string) int {
	_, loaded := s.load(n)
	rec, ok := running(s.path(n + pidSuffix))
	_ = os.Remove(s.path(n + ".active"))
	if !ok {
		if !loaded {
			fmt.Fprintf(s.stderr, "Failed to stop %s: Unit %s not loaded.\n", n, n)
			return exitNotLoaded
		}
		return 0
	}
	if err := terminate(rec); err != nil {
		fmt.Fprintf(s.stderr, "Failed to stop %s: %v\n", n, err)
		return exitFailure
	}
	_ = os.Remove(s.path(n + pidSuffix))
	return 0
}

func (s *sysctl) enable(n string) int {
	path, disk := s.onDisk(n)
	if disk == nil {
		fmt.Fprintf(s.stderr, "Failed to enable unit: Unit file %s does not exist.\n", n)
		return exitFailure
	}
	if d, err := parseUnitDef(disk); err == nil && !d.install {
		fmt.Fprintf(s.stderr, "The unit files have no installation config (WantedBy=, RequiredBy=, Also=,\nAlias= settings in the [Install] section, and DefaultInstance= for template\nunits). This means they are not meant to be enabled or disabled using systemctl.\n")
	} else if !exists(s.path("enabled", n)) {
		fmt.Fprintf(s.stderr, "Created symlink %s → %s.\n", s.path("enabled", n), path)
	}
	if r := touch(s.path("enabled", n)); r != 0 {
		return r
	}
	if s.now {
		return s.start(n)
	}
	return 0
}

func (s *sysctl) disable(n string) int {
	if _, disk := s.onDisk(n); disk == nil {
		fmt.Fprintf(s.stderr, "Failed to disable unit: Unit file %s does not exist.\n", n)
		return exitFailure
	}
	if exists(s.path("enabled", n)) {
		fmt.Fprintf(s.stderr, "Removed %q.\n", s.path("enabled", n))
		_ = os.Remove(s.path("enabled", n))
	}
	if s.now {
		if r := s.stop(n); r != 0 && r != exitNotLoaded {
			return r
		}
	}
	return 0
}

// activeState returns the unit's ActiveState, SubState and main pid.
func (s *sysctl) activeState(n string) (string, string, int) {
	if rec, ok := running(s.path(n + pidSuffix)); ok {
		return "active", "running", rec.PID
	}
	if exists(s.path(n + ".active")) {
		return "active", "waiting", 0
	}
	return "inactive", "dead", 0
}

func (s *sysctl) isActive(n string) int {
	st, _, _ := s.activeState(n)
	fmt.Fprintln(s.stdout, st)
	if st != "active" {
		return exitInactive
	}
	return 0
}

func (s *sysctl) isEnabled(n string) int {
	if _, disk := s.onDisk(n); disk == nil {
		fmt.Fprintf(s.stderr, "Failed to get unit file state for %s: No such file or directory\n", n)
		return exitFailure
	}
	if exists(s.path("enabled", n)) {
		fmt.Fprintln(s.stdout, "enabled")
		return 0
	}
	fmt.Fprintln(s.stdout, "disabled")
	return exitFailure
}

func (s *sysctl) show(n string) int {
	loadState := "not-found"
	_, loaded := s.load(n)
	if loaded {
		loadState = "loaded"
	}
	active, sub, pid := s.activeState(n)
	fileState := ""
	path, disk := s.onDisk(n)
	if disk != nil {
		fileState = "disabled"
		if exists(s.path("enabled", n)) {
			fileState = "enabled"
		}
	}
	all := map[string]string{
		"Id": n, "LoadState": loadState, "ActiveState": active, "SubState": sub,
		"MainPID": strconv.Itoa(pid), "ExecMainPID": strconv.Itoa(pid),
		"UnitFileState": fileState, "FragmentPath": path,
	}
	props := s.props
	if len(props) == 0 {
		props = slices.Sorted(maps.Keys(all))
	}
	for _, p := range props {
		v, ok := all[p]
		if !ok {
			continue
		}
		if s.value {
			fmt.Fprintln(s.stdout, v)
		} else {
			fmt.Fprintf(s.stdout, "%s=%s\n", p, v)
		}
	}
	return 0
}

func touch(path string) int {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return exitFailure
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return exitFailure
	}
	return 0
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
