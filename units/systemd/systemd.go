// Package systemd is the [units.Manager] that runs each antnode as a systemd service,
// antnode0001.service and so on (the names anm and wnm-python use), as system units in sudo mode
// and user units in user mode. It owns the node unit files in its unit dir and talks to systemd
// through go-systemd's D-Bus API, falling back to running systemctl when no bus can be reached.
// It also reads units other tools wrote ([ParseUnit], [ScanUnits]) and checks user-mode lingering
// ([EnsureLinger]).
//
// Units are rendered by package gen; this package never writes unit text itself. It must not
// decide anything, touch the firewall, parse metrics, or delete a node's directories.
//
// See systemd.service(5), systemd.unit(5) and org.freedesktop.systemd1(5).
package systemd

import (
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

	"github.com/coreos/go-systemd/v22/dbus"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
)

// Default unit dirs.
const (
	// SystemUnitDir is where sudo mode writes units.
	SystemUnitDir = "/etc/systemd/system"
	// UserUnitDir is where user mode writes units, below the user's home.
	UserUnitDir = ".config/systemd/user"
)

// Options configure a [Manager].
type Options struct {
	// Mode is gen.ModeSudo (system units, nodes run as gen.Node.User) or gen.ModeUser (the
	// current user's units).
	Mode gen.Mode
	// UnitDir is where unit files go; empty means [SystemUnitDir] in sudo mode and
	// ~/[UserUnitDir] in user mode. systemd must look there: it has to be on its unit search path.
	UnitDir string
	// Transport is how the manager reaches systemd: see [ClientOptions.Transport].
	Transport string
	// Runner runs systemctl and loginctl; nil means [run.Exec].
	Runner run.Runner
	// Dial connects to systemd over D-Bus: see [ClientOptions.Dial] (the system manager in sudo
	// mode, the user's in user mode).
	Dial func(ctx context.Context) (*dbus.Conn, error)
	// Logger receives debug lines about what the manager did, and the lingering warning; nil
	// discards them.
	Logger *slog.Logger
}

// Manager runs nodes as systemd services. It implements [units.Manager]. Its methods are safe
// for concurrent use.
type Manager struct {
	mode    gen.Mode
	unitDir string
	runner  run.Runner
	client  *Client
	log     *slog.Logger

	mu       sync.Mutex
	lingered bool // user mode: lingering was checked
}

var _ units.Manager = (*Manager)(nil)

func init() {
	units.Register(units.Systemd, func(spec units.Spec, o units.Options) (units.Manager, error) {
		return New(Options{Mode: spec.Mode, Logger: o.Logger})
	})
}

// New returns a systemd manager. It fails on an unknown mode or transport, or a relative unit
// dir. It does not connect to systemd: the first method that needs systemd does.
func New(o Options) (*Manager, error) {
	m := &Manager{mode: o.Mode, unitDir: o.UnitDir, runner: o.Runner, log: o.Logger}
	if m.mode != gen.ModeSudo && m.mode != gen.ModeUser {
		return nil, fmt.Errorf("systemd mode %q: want user or sudo", o.Mode)
	}
	if m.unitDir == "" {
		m.unitDir = SystemUnitDir
		if m.mode == gen.ModeUser {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("systemd user unit dir: %w", err)
			}
			m.unitDir = filepath.Join(home, UserUnitDir)
		}
	}
	if !filepath.IsAbs(m.unitDir) {
		return nil, fmt.Errorf("systemd unit dir %q is not an absolute path", m.unitDir)
	}
	m.unitDir = filepath.Clean(m.unitDir)
	if m.runner == nil {
		m.runner = run.Exec()
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	c, err := NewClient(ClientOptions{User: m.mode == gen.ModeUser, Transport: o.Transport, Runner: m.runner, Dial: o.Dial, Logger: m.log})
	if err != nil {
		return nil, err
	}
	m.client = c
	return m, nil
}

// Name returns "systemd+sudo" or "systemd+user".
func (m *Manager) Name() string { return units.Spec{Kind: units.Systemd, Mode: m.mode}.String() }

// UnitDir returns the directory the manager writes unit files to.
func (m *Manager) UnitDir() string { return m.unitDir }

// via names the transport in use, for debug lines.
func (m *Manager) via(ctx context.Context) string {
	v, _ := m.client.Via(ctx)
	return v
}

// Close releases the D-Bus connection, if one was made. The manager may be used again after
// Close; it then connects anew.
func (m *Manager) Close() { m.client.Close() }

// unitName is the node's unit: the name it has on disk when it was adopted (anm's
// antnode007.service keeps its name), else wnm's antnodeNNNN.service.
func unitName(n gen.Node) string {
	if n.Unit != "" {
		return n.Unit
	}
	return gen.UnitName(n.ID)
}

// unitPath returns the path of the node's unit file.
func (m *Manager) unitPath(n gen.Node) string { return filepath.Join(m.unitDir, unitName(n)) }

// render checks the node and renders its unit.
func (m *Manager) render(n gen.Node) ([]byte, error) {
	return gen.SystemdUnit(n, m.mode)
}

// Create writes the node's unit file (atomically, and only when its content changed), reloads
// systemd once if it changed, and enables the unit so that it starts at boot. In sudo mode it
// first makes the node's root dir, binary and log dir belong to the node's account (creating the
// log dir if needed), since the node writes its data and replaces its own binary when it
// upgrades itself. In user mode it checks lingering once and logs the command to run when it is
// off. A node that cannot be rendered safely is refused and no file is touched.
func (m *Manager) Create(ctx context.Context, n gen.Node) error {
	if _, err := m.install(ctx, n, true); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if m.mode == gen.ModeUser {
		m.checkLinger(ctx)
	}
	return nil
}

// install renders and writes the unit, reloads systemd if the file changed, and enables it when
// enable is set or the file changed. It reports whether the file changed.
func (m *Manager) install(ctx context.Context, n gen.Node, enable bool) (bool, error) {
	text, err := m.render(n)
	if err != nil {
		return false, err
	}
	owner, err := m.owner(n)
	if err != nil {
		return false, err
	}
	if owner != nil {
		if err := own(n, owner); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(m.unitDir, 0o755); err != nil {
		return false, fmt.Errorf("node %d: unit dir: %w", n.ID, err)
	}
	unit := unitName(n)
	changed, err := units.WriteFile(m.unitPath(n), text, 0o644)
	if err != nil {
		return false, fmt.Errorf("node %d: %w", n.ID, err)
	}
	if changed {
		m.log.Debug("unit written", "node", n.ID, "unit", unit)
		if err := m.client.Reload(ctx); err != nil {
			return changed, fmt.Errorf("node %d: %w", n.ID, err)
		}
	}
	if enable || changed {
		if err := m.client.Enable(ctx, unit); err != nil {
			return changed, fmt.Errorf("node %d: %w", n.ID, err)
		}
	}
	return changed, nil
}

// checkLinger runs [EnsureLinger] for the current user once per manager and logs a warning with
// the command to run when lingering stays off.
func (m *Manager) checkLinger(ctx context.Context) {
	m.mu.Lock()
	done := m.lingered
	m.lingered = true
	m.mu.Unlock()
	if done {
		return
	}
	on, hint, err := EnsureLinger(ctx, m.runner, "")
	if !on {
		m.log.Warn("user units stop at logout and do not start at boot until lingering is enabled", "run", hint, "err", err)
	}
}

// Start starts the node's unit; a running node is success. It first brings the unit file up to
// date with the node (rewriting it, reloading systemd and re-enabling the unit only if it
// changed), so a node always starts with the command line wnm would write today.
func (m *Manager) Start(ctx context.Context, n gen.Node) error {
	if _, err := m.install(ctx, n, false); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := m.client.Start(ctx, unitName(n)); err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	m.log.Debug("node started", "node", n.ID, "unit", unitName(n), "via", m.via(ctx))
	return nil
}

// Stop stops the node's unit and waits until systemd reports it stopped. A unit that is not
// running, or not loaded at all, is success.
func (m *Manager) Stop(ctx context.Context, n gen.Node) error {
	if err := n.Check(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if err := m.stop(ctx, n); err != nil {
		return fmt.Errorf("stop node %d: %w", n.ID, err)
	}
	return nil
}

func (m *Manager) stop(ctx context.Context, n gen.Node) error {
	id := n.ID
	if _, err := m.client.Via(ctx); err != nil {
		return err
	}
	unit := unitName(n)
	if p, err := m.client.Properties(ctx, unit); err == nil && p.Stopped() {
		return nil
	}
	if err := m.client.Stop(ctx, unit); err != nil {
		// A unit that went away meanwhile, or was never loaded, is stopped all the same.
		if p, perr := m.client.Properties(ctx, unit); perr == nil && p.Stopped() {
			return nil
		}
		return err
	}
	m.log.Debug("node stopped", "node", id, "unit", unit, "via", m.via(ctx))
	return nil
}

// Remove stops the node, disables its unit, deletes the unit file and reloads systemd. Each step
// is skipped when there is nothing to do, so removing a removed node is success. The node's
// directories are left alone.
func (m *Manager) Remove(ctx context.Context, n gen.Node) error {
	if err := n.Check(); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if err := m.stop(ctx, n); err != nil {
		return fmt.Errorf("remove node %d: %w", n.ID, err)
	}
	path, unit := m.unitPath(n), unitName(n)
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() {
		if err := m.client.Disable(ctx, unit); err != nil {
			return fmt.Errorf("remove node %d: %w", n.ID, err)
		}
	}
	removed, err := units.Remove(path)
	if err != nil {
		return fmt.Errorf("remove node %d: %w", n.ID, err)
	}
	if removed {
		if err := m.client.Reload(ctx); err != nil {
			return fmt.Errorf("remove node %d: %w", n.ID, err)
		}
		m.log.Debug("unit removed", "node", n.ID, "unit", unit)
	}
	return nil
}

// Status reports the node's state from the unit's ActiveState and SubState, with its MainPID.
func (m *Manager) Status(ctx context.Context, n gen.Node) (units.Status, error) {
	if err := n.Check(); err != nil {
		return units.Status{}, fmt.Errorf("status: %w", err)
	}
	p, err := m.client.Properties(ctx, unitName(n))
	if err != nil {
		return units.Status{State: units.Unknown, Detail: err.Error()}, fmt.Errorf("status of node %d: %w", n.ID, err)
	}
	return statusOf(p), nil
}

// statusOf maps a unit's properties to a node state. A main process that runs (active, or still
// activating or deactivating with a MainPID) is Running; a unit that is inactive, failed, not
// loaded, or waiting to be restarted (activating/auto-restart) is Stopped.
func statusOf(p Properties) units.Status {
	detail := fmt.Sprintf("%s (%s)", p.ActiveState, p.SubState)
	if p.MainPID > 0 {
		detail += ", pid " + strconv.Itoa(p.MainPID)
	}
	if p.LoadState != "loaded" && p.LoadState != "" {
		detail = "unit " + p.LoadState + ", " + detail
	}
	switch p.ActiveState {
	case "active", "reloading", "activating", "deactivating":
		if p.MainPID > 0 {
			return units.Status{State: units.Running, PID: p.MainPID, Detail: detail}
		}
		if p.ActiveState == "active" || p.ActiveState == "reloading" {
			return units.Status{State: units.Unknown, Detail: detail + ": active without a main process"}
		}
		return units.Status{State: units.Stopped, Detail: detail}
	case "inactive", "failed":
		return units.Status{State: units.Stopped, Detail: detail}
	}
	return units.Status{State: units.Unknown, Detail: detail}
}

// unitFile matches the node unit names anm (3 and 4 digits) and wnm write.
var unitFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^antnode([0-9]+)\.service$`) })

// Discover returns the ids of the node units in the unit dir (antnode<digits>.service files),
// sorted and without repeats. A missing unit dir holds no nodes.
func (m *Manager) Discover(_ context.Context) ([]int, error) {
	entries, err := os.ReadDir(m.unitDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	var ids []int
	for _, e := range entries {
		id, ok := unitID(e.Name())
		if ok && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// UnitID returns the node id of a node unit's file name: antnode0007.service and anm's older
// antnode007.service are node 7.
func UnitID(name string) (int, bool) { return unitID(name) }

func unitID(name string) (int, bool) {
	sub := unitFile().FindStringSubmatch(name)
	if sub == nil {
		return 0, false
	}
	id, err := strconv.Atoi(sub[1])
	return id, err == nil
}

// owner returns the account the node's files must belong to, or nil (see [units.NodeAccount]).
func (m *Manager) owner(n gen.Node) (*units.Account, error) {
	a, err := units.NodeAccount(m.mode == gen.ModeSudo, n.User)
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", n.ID, err)
	}
	return a, nil
}

// own gives the node's root dir, binary and log dir (created if missing) to a.
func own(n gen.Node, a *units.Account) error {
	if err := os.MkdirAll(n.LogDir, 0o755); err != nil {
		return fmt.Errorf("node %d: log dir: %w", n.ID, err)
	}
	for _, p := range []string{n.RootDir, n.Binary, n.LogDir} {
		if err := os.Lchown(p, a.UID, a.GID); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("node %d: give %s to %s: %w", n.ID, p, a.Name, err)
		}
	}
	return nil
}
