// Package setsid is the [units.Manager] for machines without a service manager: it runs each
// antnode as a detached process in its own session and remembers it in a pid file,
// <RootDir>/node.pid, that records the pid and the process start time, so a recycled pid is never
// mistaken for the node. It owns that pid file and the node's stdout.log; it must not decide
// anything, touch the firewall, parse metrics, or delete a node's directory.
//
// Nodes started this way do not come back after a reboot and are not restarted when they exit;
// the worker cycle sees them Stopped and starts them again.
package setsid

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
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
)

const (
	// DefaultStopTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
	DefaultStopTimeout = 10 * time.Second
	// PIDFile is the name of the pid file in a node's root dir.
	PIDFile = "node.pid"
	// StdoutLog is the name of the file in a node's log dir that receives its stdout and stderr.
	StdoutLog = "stdout.log"

	startWatch  = 300 * time.Millisecond // default for Manager.startWatch
	launchWait  = 10 * time.Second       // how long Start waits for the launcher's pid record
	killWait    = 5 * time.Second        // how long Stop waits for a SIGKILLed node to vanish
	pollEvery   = 20 * time.Millisecond
	tailBytes   = 2048 // how much of stdout.log an early-exit error quotes
	defaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Options configure a [Manager].
type Options struct {
	// Mode is gen.ModeUser (nodes run as the current user) or gen.ModeSudo (wnm runs as root).
	Mode gen.Mode
	// NodeStorage is the directory holding the antnode<id> node directories; Discover scans it.
	NodeStorage string
	// User is the account nodes run as in sudo mode ("ant" when that account exists). Empty means
	// the current user. In user mode it must be empty or name the current user.
	User string
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL; zero means
	// [DefaultStopTimeout].
	StopTimeout time.Duration
	// Logger receives debug lines about what the manager did; nil discards them.
	Logger *slog.Logger
	// Now drives the start watch and the stop deadlines; nil means time.Now. It must advance.
	Now func() time.Time
	// Launcher is the program that starts nodes: a build of wnm (or a test binary) that calls
	// [LaunchIfAsked] first. Empty means this executable.
	Launcher string
}

// Manager starts antnode processes with setsid and tracks them through pid files. It implements
// [units.Manager]. Its methods are safe for concurrent use on different nodes.
type Manager struct {
	mode        gen.Mode
	storage     string
	cred        *credential // nil: run nodes as the current user
	home        string      // HOME of the account nodes run as
	stopTimeout time.Duration
	startWatch  time.Duration // how long Start watches a new node for an early exit
	launcher    string        // the program run with LaunchVerb
	procs       procTable     // how scan reads the process table

	scanMu    sync.Mutex // guards the cached process table of findNode
	scanned   []nodeProc
	scannedAt time.Time
	log       *slog.Logger
	now       func() time.Time
}

var _ units.Manager = (*Manager)(nil)

// credential is the account a node process runs as, when it differs from wnm's own.
type credential struct {
	name     string
	uid, gid uint32
	groups   []uint32
}

func init() {
	units.Register(units.Setsid, func(spec units.Spec, o units.Options) (units.Manager, error) {
		so := Options{Mode: spec.Mode, NodeStorage: o.NodeStorage, Logger: o.Logger} // real time: it paces process watches
		if spec.Sudo() && o.NodeAccount != "" {
			if _, err := user.Lookup(o.NodeAccount); err == nil {
				so.User = o.NodeAccount
			}
		}
		return New(so)
	})
}

// New returns a setsid manager. It fails on an unknown mode, a relative node storage path, a User
// that does not exist, or a User other than the current one in user mode.
func New(o Options) (*Manager, error) {
	if o.Mode != gen.ModeUser && o.Mode != gen.ModeSudo {
		return nil, fmt.Errorf("setsid mode %q: want user or sudo", o.Mode)
	}
	if !filepath.IsAbs(o.NodeStorage) {
		return nil, fmt.Errorf("setsid node storage %q is not an absolute path", o.NodeStorage)
	}
	if o.StopTimeout < 0 {
		return nil, fmt.Errorf("setsid stop timeout %v is negative", o.StopTimeout)
	}
	m := &Manager{
		mode:        o.Mode,
		storage:     filepath.Clean(o.NodeStorage),
		stopTimeout: o.StopTimeout,
		startWatch:  startWatch,
		log:         o.Logger,
		now:         o.Now,
		procs:       osProcs{},
	}
	if m.stopTimeout == 0 {
		m.stopTimeout = DefaultStopTimeout
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.launcher = o.Launcher
	if m.launcher == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("setsid: find wnm's own executable to launch nodes with: %w", err)
		}
		m.launcher = self
	}
	m.home = os.Getenv("HOME")
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		m.home = u.HomeDir
	}
	if o.User != "" {
		cred, home, err := lookupUser(o.User)
		if err != nil {
			return nil, err
		}
		if cred != nil && o.Mode == gen.ModeUser {
			return nil, fmt.Errorf("setsid user mode runs nodes as the current user, not %q", o.User)
		}
		m.cred, m.home = cred, home
	}
	if m.home == "" {
		m.home = "/"
	}
	return m, nil
}

// lookupUser resolves name to a credential, or to nil when name is the account wnm runs as.
func lookupUser(name string) (*credential, string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, "", fmt.Errorf("setsid user %q: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, "", fmt.Errorf("setsid user %q: uid %q gid %q: %w", name, u.Uid, u.Gid, err)
	}
	home := u.HomeDir
	if home == "" {
		home = "/"
	}
	if int(uid) == os.Geteuid() && int(gid) == os.Getegid() {
		return nil, home, nil
	}
	c := &credential{name: name, uid: uint32(uid), gid: uint32(gid)}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, "", fmt.Errorf("setsid user %q: groups: %w", name, err)
	}
	for _, s := range ids {
		if g, err := strconv.ParseUint(s, 10, 32); err == nil {
			c.groups = append(c.groups, uint32(g))
		}
	}
	return c, home, nil
}

// Name returns "setsid+user" or "setsid+sudo".
func (m *Manager) Name() string { return units.Spec{Kind: units.Setsid, Mode: m.mode}.String() }

// Create validates the node; setsid has nothing to register.
func (m *Manager) Create(_ context.Context, n gen.Node) error {
	if err := check(n); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	return nil
}

// Start starts the node's binary detached, in its own session, unless the node already runs.
// stdout and stderr are appended to <LogDir>/stdout.log. Start watches the new process for a short
// while and fails, quoting the exit status and the end of stdout.log, if it exits meanwhile.
func (m *Manager) Start(ctx context.Context, n gen.Node) error {
	if err := check(n); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	st, _, err := m.inspect(ctx, n)
	if err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	if st.State == units.Running {
		m.log.Debug("node already running", "node", n.ID, "pid", st.PID)
		return nil
	}
	if fi, err := os.Stat(n.RootDir); err != nil {
		return fmt.Errorf("start node %d: root dir: %w", n.ID, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("start node %d: root dir %q is not a directory", n.ID, n.RootDir)
	}
	if fi, err := os.Stat(n.Binary); err != nil {
		return fmt.Errorf("start node %d: binary: %w", n.ID, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("start node %d: binary %q is not a regular file", n.ID, n.Binary)
	}
	if err := m.makeLogDir(n.LogDir); err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	return m.spawn(ctx, n)
}

// spawn starts the node's process, records it in the pid file and watches it briefly.
func (m *Manager) spawn(ctx context.Context, n gen.Node) error {
	logPath := filepath.Join(n.LogDir, StdoutLog)
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	defer out.Close()
	var offset int64
	if fi, err := out.Stat(); err == nil {
		offset = fi.Size()
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("start node %d: %w", n.ID, err)
	}
	defer devnull.Close()

	args := n.Args()
	pidPath := filepath.Join(n.RootDir, PIDFile)
	child, err := run.Start(run.Spec{
		Path:        m.launcher,
		Args:        launchArgs(m.launcher, pidPath, m.cred, args),
		Dir:         n.RootDir,
		Env:         m.environ(n),
		Stdin:       devnull,
		Stdout:      out,
		Stderr:      out,
		SysProcAttr: sysProcAttr(),
	})
	if err != nil {
		return fmt.Errorf("start node %d: %s: %w", n.ID, strings.Join(args, " "), err)
	}
	pid := child.PID
	m.forgetScan()
	// Reap the child so a long-lived caller keeps no zombies. When wnm exits first, the node is
	// reparented to init, which reaps it.
	exited := make(chan struct{})
	go func() {
		_ = child.Wait() // how it ended is read from child.State
		close(exited)
	}()
	exitErr := func() error {
		if rec, err := readPIDFile(pidPath); err == nil && rec.PID == pid {
			_ = os.Remove(pidPath)
		}
		return fmt.Errorf("start node %d: %s exited with %v within %v; %s ends: %s",
			n.ID, strings.Join(args, " "), child.State(), m.startWatch, logPath, tail(logPath, offset))
	}

	// The launcher records the pid before it becomes the node. Wait for that record: until then
	// the process is not known to be tracked, so a launcher that never writes it is killed.
	recorded := m.now().Add(launchWait)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		if rec, err := readPIDFile(pidPath); err == nil && rec.PID == pid {
			break
		}
		if !m.now().Before(recorded) {
			_ = child.Kill()
			return fmt.Errorf("start node %d: killed pid %d: it did not record its pid in %s within %v", n.ID, pid, pidPath, launchWait)
		}
		select {
		case <-exited:
			return exitErr()
		case <-ctx.Done():
			// The launcher records the pid on its own; the node is tracked whatever happens here.
			return fmt.Errorf("start node %d: pid %d started, watch cut short: %w", n.ID, pid, ctx.Err())
		case <-tick.C:
		}
	}
	m.log.Debug("node started", "node", n.ID, "pid", pid, "binary", n.Binary)

	deadline := m.now().Add(m.startWatch)
	for m.now().Before(deadline) {
		select {
		case <-exited:
			return exitErr()
		case <-ctx.Done():
			return fmt.Errorf("start node %d: pid %d started, watch cut short: %w", n.ID, pid, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// makeLogDir creates the log dir, owned by the node's account when nodes run as another user.
func (m *Manager) makeLogDir(dir string) error {
	_, err := os.Stat(dir)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("log dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	if m.cred != nil {
		if err := os.Chown(dir, int(m.cred.uid), int(m.cred.gid)); err != nil {
			return fmt.Errorf("log dir for user %q: %w", m.cred.name, err)
		}
	}
	return nil
}

// environ returns the node's environment: a minimal fixed base plus the node's own pairs, which
// win over the base. Nothing of wnm's own environment leaks through.
func (m *Manager) environ(n gen.Node) []string {
	keys := []string{"PATH", "HOME", "LANG"}
	vals := map[string]string{"PATH": defaultPATH, "HOME": m.home, "LANG": "C.UTF-8"}
	for _, kv := range n.Env {
		if _, ok := vals[kv[0]]; !ok {
			keys = append(keys, kv[0])
		}
		vals[kv[0]] = kv[1]
	}
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, k+"="+vals[k])
	}
	return env
}

// tail returns the end of what was appended to the file at path after offset, or a note when
// there is nothing.
func tail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > tailBytes {
		offset = fi.Size() - tailBytes
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, tailBytes))
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if s == "" {
		return "(no output)"
	}
	return s
}

// Status reports whether the node's own process runs. A pid file that names a dead process, a
// zombie, or a live process with another start time or command line gives Stopped.
func (m *Manager) Status(ctx context.Context, n gen.Node) (units.Status, error) {
	if err := check(n); err != nil {
		return units.Status{}, fmt.Errorf("status: %w", err)
	}
	st, _, err := m.inspect(ctx, n)
	if err != nil {
		return st, fmt.Errorf("status of node %d: %w", n.ID, err)
	}
	return st, nil
}

// Stop sends SIGTERM to the node's process, waits up to the stop timeout, then sends SIGKILL (to
// the node's whole process group when the node leads one) and waits again. It then removes the
// pid file. A node that is not running is success; a pid file that names another process is
// removed and that process is left alone.
func (m *Manager) Stop(ctx context.Context, n gen.Node) error {
	if err := check(n); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	st, rec, err := m.inspect(ctx, n)
	if err != nil {
		return fmt.Errorf("stop node %d: %w", n.ID, err)
	}
	if st.State == units.Running {
		if err := m.terminate(ctx, n, rec); err != nil {
			return err
		}
	}
	// Whatever else still runs with the node's root dir (a second copy started behind a lost pid
	// file, a launcher between fork and exec) goes too: a stopped node has no process.
	others, err := m.findNode(ctx, n)
	if err != nil {
		return fmt.Errorf("stop node %d: %w", n.ID, err)
	}
	for _, o := range others {
		m.log.Debug("stopping a process of the node found by its --root-dir", "node", n.ID, "pid", o.PID)
		if err := m.terminate(ctx, n, o); err != nil {
			return err
		}
	}
	return removePIDFile(n)
}

// StopStrays stops node processes that run inside the node storage (their --root-dir is an
// antnode<digits> directory directly in it) under the node account, but whose root dir keep does
// not know: processes that no record tracks. It returns the pids it stopped.
func (m *Manager) StopStrays(ctx context.Context, keep func(rootDir string) bool) ([]int, error) {
	procs, err := m.scan(ctx, func(root string) bool {
		if filepath.Dir(root) != m.storage {
			return false
		}
		if _, ok := nodeID(filepath.Base(root)); !ok {
			return false
		}
		return !keep(root)
	}, m.trackedPIDs(keep))
	if err != nil {
		return nil, fmt.Errorf("stray node processes: %w", err)
	}
	var pids []int
	var errs []error
	for _, p := range procs {
		id, _ := nodeID(filepath.Base(p.root))
		if err := m.terminate(ctx, gen.Node{ID: id, RootDir: p.root}, p.pidRecord); err != nil {
			errs = append(errs, err)
			continue
		}
		pids = append(pids, p.PID)
	}
	return pids, errors.Join(errs...)
}

// trackedPIDs returns the pids named by the pid files of the node directories keep accepts. The
// scan for strays need not read their command lines, which on a full host is most of its work: a
// live pid named in a tracked node's pid file is either that node or, after the node died and its
// pid was reused, some other process. A stray node that happens to hold exactly that pid is found
// by a later scan, once the tracked node's pid file changes: the cycle sees that node stopped and
// starts it again, or Stop removes the file. Reading a small pid file costs less than the stat and
// command line read it saves. Unreadable and unparsable pid files name nothing.
func (m *Manager) trackedPIDs(keep func(rootDir string) bool) map[int]bool {
	d, err := os.Open(m.storage)
	if err != nil {
		return nil
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil
	}
	pids := make(map[int]bool, len(names))
	buf := make([]byte, 0, 64)
	for _, name := range names {
		if _, ok := nodeID(name); !ok {
			continue
		}
		if !keep(filepath.Join(m.storage, name)) {
			continue
		}
		if buf, err = readFileAt(d, name+"/"+PIDFile, buf); err != nil {
			continue
		}
		if rec, err := parsePIDFile(buf); err == nil {
			pids[rec.PID] = true
		}
	}
	return pids
}

// terminate ends the process rec names, which inspect has found to be the node's.
func (m *Manager) terminate(ctx context.Context, n gen.Node, rec pidRecord) error {
	defer m.forgetScan()
	if err := signalTerm(rec.PID); err != nil {
		if isNoProcess(err) {
			return nil
		}
		return fmt.Errorf("stop node %d: SIGTERM to pid %d: %w", n.ID, rec.PID, err)
	}
	gone, err := m.waitGone(ctx, rec, m.stopTimeout)
	if err != nil {
		return fmt.Errorf("stop node %d: waiting for pid %d: %w", n.ID, rec.PID, err)
	}
	if gone {
		m.log.Debug("node stopped", "node", n.ID, "pid", rec.PID)
		return nil
	}
	m.log.Debug("node ignored SIGTERM, killing", "node", n.ID, "pid", rec.PID, "stop_timeout_seconds", m.stopTimeout.Seconds())
	if err := signalKill(rec.PID); err != nil {
		if isNoProcess(err) {
			return nil
		}
		return fmt.Errorf("stop node %d: SIGKILL to pid %d: %w", n.ID, rec.PID, err)
	}
	gone, err = m.waitGone(ctx, rec, killWait)
	if err != nil {
		return fmt.Errorf("stop node %d: waiting for pid %d: %w", n.ID, rec.PID, err)
	}
	if !gone {
		return fmt.Errorf("stop node %d: pid %d still alive %v after SIGKILL", n.ID, rec.PID, killWait)
	}
	return nil
}

// waitGone polls until the process rec names has exited (or is a zombie, or the pid now belongs to
// a newer process) or until timeout has passed.
func (m *Manager) waitGone(ctx context.Context, rec pidRecord, timeout time.Duration) (bool, error) {
	deadline := m.now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		p := probe(ctx, rec.PID)
		if !p.alive || p.zombie || (p.err == nil && rec.StartMS != 0 && !sameStart(p.startMS, rec.StartMS)) {
			return true, nil
		}
		if !m.now().Before(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
}

// Remove stops the node and removes its pid file. The node's directory stays.
func (m *Manager) Remove(ctx context.Context, n gen.Node) error {
	if err := m.Stop(ctx, n); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	return removePIDFile(n)
}

func removePIDFile(n gen.Node) error {
	if err := os.Remove(filepath.Join(n.RootDir, PIDFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("node %d: %w", n.ID, err)
	}
	return nil
}

// Discover returns the ids of the antnode<digits> directories under the node storage, sorted.
// Other names are ignored; a missing node storage holds no nodes.
func (m *Manager) Discover(ctx context.Context) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(m.storage)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discover setsid nodes: %w", err)
	}
	seen := map[int]bool{}
	var ids []int
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		id, ok := nodeID(e.Name())
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids, nil
}

// nodeID parses a node directory name, antnode followed by decimal digits only.
func nodeID(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "antnode")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.Atoi(digits)
	if err != nil {
		return 0, false
	}
	return id, true
}

// check refuses a node that cannot be run safely: [gen.Node.Check], plus environment names that
// are not portable variable names.
func check(n gen.Node) error {
	if err := n.Check(); err != nil {
		return err
	}
	for _, kv := range n.Env {
		if !validEnvName(kv[0]) {
			return fmt.Errorf("node %d: environment variable name %q is not a letter or underscore followed by letters, digits or underscores", n.ID, kv[0])
		}
	}
	return nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
