// Package launchd is the [units.Manager] that runs each antnode as a launchd job,
// com.autonomi.antnode-<id> (wnm-python's label): a LaunchAgent of the current user in user mode
// (domain gui/<uid>) and a LaunchDaemon in sudo mode (domain system). It owns the node plists in
// its plist dir and drives launchd with launchctl bootstrap, bootout, kickstart and print, never
// the deprecated load and unload. It also reads plists for adoption ([ParsePlist], [ScanPlists]).
//
// Plists are encoded by package gen. This package must not decide anything, touch the firewall,
// parse metrics, or delete a node's directories.
//
// See launchd.plist(5) and launchctl(1).
package launchd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
)

// Default plist dirs.
const (
	// DaemonDir is where sudo mode writes plists.
	DaemonDir = "/Library/LaunchDaemons"
	// AgentDir is where user mode writes plists, below the user's home.
	AgentDir = "Library/LaunchAgents"
)

// exitNotFound is launchctl's exit status for a service that is not loaded in the domain
// ("Could not find service ... in domain").
const exitNotFound = 113

// Options configure a [Manager].
type Options struct {
	// Mode is gen.ModeSudo (daemons in the system domain, nodes run as gen.Node.User) or
	// gen.ModeUser (agents in the current user's gui domain).
	Mode gen.Mode
	// PlistDir is where plists go; empty means [DaemonDir] in sudo mode and ~/[AgentDir] in user
	// mode.
	PlistDir string
	// UID names the gui/<uid> domain in user mode; zero means the current user's uid.
	UID int
	// Runner runs launchctl; nil means [run.Exec].
	Runner run.Runner
	// Logger receives debug lines about what the manager did; nil discards them.
	Logger *slog.Logger
}

// Manager runs nodes as launchd jobs. It implements [units.Manager]. Its methods are safe for
// concurrent use on different nodes.
type Manager struct {
	mode     gen.Mode
	plistDir string
	domain   string
	runner   run.Runner
	log      *slog.Logger
}

var _ units.Manager = (*Manager)(nil)

func init() {
	units.Register(units.Launchd, func(spec units.Spec, o units.Options) (units.Manager, error) {
		return New(Options{Mode: spec.Mode, Logger: o.Logger})
	})
}

// New returns a launchd manager. It fails on an unknown mode, a relative plist dir or a negative
// uid. It runs nothing.
func New(o Options) (*Manager, error) {
	m := &Manager{mode: o.Mode, plistDir: o.PlistDir, runner: o.Runner, log: o.Logger}
	switch m.mode {
	case gen.ModeSudo:
		m.domain = "system"
	case gen.ModeUser:
		uid := o.UID
		if uid < 0 {
			return nil, fmt.Errorf("launchd uid %d is negative", uid)
		}
		if uid == 0 {
			uid = os.Getuid()
		}
		m.domain = "gui/" + strconv.Itoa(uid)
	default:
		return nil, fmt.Errorf("launchd mode %q: want user or sudo", o.Mode)
	}
	if m.plistDir == "" {
		m.plistDir = DaemonDir
		if m.mode == gen.ModeUser {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("launchd agent dir: %w", err)
			}
			m.plistDir = filepath.Join(home, AgentDir)
		}
	}
	if !filepath.IsAbs(m.plistDir) {
		return nil, fmt.Errorf("launchd plist dir %q is not an absolute path", m.plistDir)
	}
	m.plistDir = filepath.Clean(m.plistDir)
	if m.runner == nil {
		m.runner = run.Exec()
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

// Name returns "launchd+sudo" or "launchd+user".
func (m *Manager) Name() string { return units.Spec{Kind: units.Launchd, Mode: m.mode}.String() }

// Domain returns the launchd domain the manager's jobs live in: "system" or "gui/<uid>".
func (m *Manager) Domain() string { return m.domain }

// PlistDir returns the directory the manager writes plists to.
func (m *Manager) PlistDir() string { return m.plistDir }

func (m *Manager) plistPath(id int) string { return filepath.Join(m.plistDir, gen.PlistName(id)) }

func (m *Manager) target(id int) string { return m.domain + "/" + gen.LaunchdLabel(id) }

// Create writes the node's plist (atomically, and only when its content changed) and creates
// its log dir, where launchd appends the node's output. In sudo mode the node's root dir, binary
// and log dir are first given to the node's account, since the node writes its data and replaces
// its own binary when it upgrades itself. The job is not loaded: Start does that. A node that
// cannot be rendered safely is refused and no file is touched.
func (m *Manager) Create(_ context.Context, n gen.Node) error {
	if _, err := m.install(n); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	return nil
}

// install renders and writes the plist and reports whether it changed.
func (m *Manager) install(n gen.Node) (bool, error) {
	data, err := gen.LaunchdPlist(n, m.mode)
	if err != nil {
		return false, err
	}
	owner, err := m.owner(n)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(n.LogDir, 0o755); err != nil {
		return false, fmt.Errorf("node %d: log dir: %w", n.ID, err)
	}
	if owner != nil {
		for _, p := range []string{n.RootDir, n.Binary, n.LogDir} {
			if err := os.Lchown(p, owner.UID, owner.GID); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, fmt.Errorf("node %d: give %s to %s: %w", n.ID, p, owner.Name, err)
			}
		}
	}
	if err := os.MkdirAll(m.plistDir, 0o755); err != nil {
		return false, fmt.Errorf("node %d: plist dir: %w", n.ID, err)
	}
	changed, err := units.WriteFile(m.plistPath(n.ID), data, 0o644)
	if err != nil {
		return false, fmt.Errorf("node %d: %w", n.ID, err)
	}
	if changed {
		m.log.Debug("plist written", "node", n.ID, "plist", m.plistPath(n.ID))
	}
	return changed, nil
}

// job is what launchctl print says about a job.
type job struct {
	loaded  bool
	running bool
	pid     int
	state   string
}

var (
	printState = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\tstate = (.*)$`) })
	printPID   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\tpid = ([0-9]+)$`) })
)

// inspect runs launchctl print on the node's job.
func (m *Manager) inspect(ctx context.Context, id int) (job, error) {
	out, err := run.Checked(ctx, m.runner, "launchctl", "print", m.target(id))
	if err != nil {
		if run.ExitCode(err) == exitNotFound {
			return job{}, nil
		}
		return job{}, err
	}
	return parsePrint(out), nil
}

// parsePrint reads the job's own state and pid lines (one tab in) from launchctl print.
func parsePrint(out []byte) job {
	j := job{loaded: true}
	if sub := printState().FindSubmatch(out); sub != nil {
		j.state = string(bytes.TrimSpace(sub[1]))
	}
	if sub := printPID().FindSubmatch(out); sub != nil {
		j.pid, _ = strconv.Atoi(string(sub[1]))
	}
	j.running = j.state == "running" && j.pid > 0
	return j
}

// Start brings the node's plist up to date and starts the job: a job that is not loaded is
// bootstrapped (RunAtLoad starts it), a loaded job that does not run is kickstarted (booted out
// and bootstrapped again when its plist changed, so the new definition applies), and a running
// job is left alone.
func (m *Manager) Start(ctx context.Context, n gen.Node) error {
	changed, err := m.install(n)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	j, err := m.inspect(ctx, n.ID)
	if err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	switch {
	case j.running:
		m.log.Debug("node already running", "node", n.ID, "pid", j.pid)
		return nil
	case j.loaded && !changed:
		if _, err := run.Checked(ctx, m.runner, "launchctl", "kickstart", "-k", m.target(n.ID)); err != nil {
			return fmt.Errorf("start node %d: %w", n.ID, err)
		}
		return nil
	case j.loaded:
		if err := m.bootout(ctx, n.ID); err != nil {
			return fmt.Errorf("start node %d: %w", n.ID, err)
		}
	}
	if _, err := run.Checked(ctx, m.runner, "launchctl", "bootstrap", m.domain, m.plistPath(n.ID)); err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	m.log.Debug("node started", "node", n.ID, "target", m.target(n.ID))
	return nil
}

// bootout unloads the job, which stops its process; a job that is not loaded is success.
func (m *Manager) bootout(ctx context.Context, id int) error {
	if _, err := run.Checked(ctx, m.runner, "launchctl", "bootout", m.target(id)); err != nil {
		if j, perr := m.inspect(ctx, id); perr == nil && !j.loaded {
			return nil
		}
		return err
	}
	return nil
}

// Stop boots the job out of its domain, which ends the process (KeepAlive would restart a
// process that was merely killed). A job that is not loaded is success. The plist stays, so the
// node starts again at the next boot or login, like an enabled systemd unit.
func (m *Manager) Stop(ctx context.Context, n gen.Node) error {
	if err := n.Check(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	j, err := m.inspect(ctx, n.ID)
	if err != nil {
		return fmt.Errorf("stop node %d: %w", n.ID, err)
	}
	if !j.loaded {
		return nil
	}
	if err := m.bootout(ctx, n.ID); err != nil {
		return fmt.Errorf("stop node %d: %w", n.ID, err)
	}
	m.log.Debug("node stopped", "node", n.ID, "target", m.target(n.ID))
	return nil
}

// Remove stops the node and deletes its plist. Removing a removed node is success; the node's
// directories are left alone.
func (m *Manager) Remove(ctx context.Context, n gen.Node) error {
	if err := m.Stop(ctx, n); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if _, err := units.Remove(m.plistPath(n.ID)); err != nil {
		return fmt.Errorf("remove node %d: %w", n.ID, err)
	}
	return nil
}

// Status reports the node's state from launchctl print: Running with its pid when the job's
// state is running, Stopped when it is not running or not loaded.
func (m *Manager) Status(ctx context.Context, n gen.Node) (units.Status, error) {
	if err := n.Check(); err != nil {
		return units.Status{}, fmt.Errorf("status: %w", err)
	}
	j, err := m.inspect(ctx, n.ID)
	if err != nil {
		return units.Status{State: units.Unknown, Detail: err.Error()}, fmt.Errorf("status of node %d: %w", n.ID, err)
	}
	switch {
	case !j.loaded:
		return units.Status{State: units.Stopped, Detail: "not loaded"}, nil
	case j.running:
		return units.Status{State: units.Running, PID: j.pid, Detail: fmt.Sprintf("running, pid %d", j.pid)}, nil
	case j.state == "":
		return units.Status{State: units.Unknown, Detail: "launchctl print shows no state"}, nil
	}
	return units.Status{State: units.Stopped, Detail: j.state}, nil
}

// plistFile matches the node plist names; like the other patterns it is compiled on first use,
// so that commands that never look at launchd do not pay for it at start-up.
var plistFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^com\.autonomi\.antnode-([0-9]+)\.plist$`) })

func plistID(name string) (int, bool) {
	sub := plistFile().FindStringSubmatch(name)
	if sub == nil {
		return 0, false
	}
	id, err := strconv.Atoi(sub[1])
	return id, err == nil
}

// Discover returns the ids of the node plists (com.autonomi.antnode-<digits>.plist, regular
// files) in the plist dir, sorted and without repeats. A missing dir holds no nodes.
func (m *Manager) Discover(_ context.Context) ([]int, error) {
	entries, err := os.ReadDir(m.plistDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	var ids []int
	for _, e := range entries {
		if id, ok := plistID(e.Name()); ok && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// owner returns the account the node's files must belong to, or nil (see [units.NodeAccount]).
func (m *Manager) owner(n gen.Node) (*units.Account, error) {
	a, err := units.NodeAccount(m.mode == gen.ModeSudo, n.User)
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", n.ID, err)
	}
	return a, nil
}
