package setsid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/process"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// startSlack is how far a process's start time may be from the recorded one and still count as
// the same process: start times are derived from clock ticks and the boot time, so they jitter.
const startSlack = time.Second

// pidRecord is the content of a node's pid file.
type pidRecord struct {
	PID     int
	StartMS int64 // process start time, ms since the Unix epoch; 0 in a pid-only file
}

// formatPIDFile renders a pid file: the pid on the first line, so tools that expect a bare pid
// file still read it, and the start time in ms since the epoch on the second.
func formatPIDFile(r pidRecord) []byte {
	return fmt.Appendf(nil, "%d\n%d\n", r.PID, r.StartMS)
}

// parsePIDFile reads what formatPIDFile wrote. It also accepts a bare pid, as wnm-python wrote;
// such a node is then recognised by its command line alone.
func parsePIDFile(b []byte) (pidRecord, error) {
	f := strings.Fields(string(b))
	if len(f) != 1 && len(f) != 2 {
		return pidRecord{}, fmt.Errorf("pid file %q: want a pid and a start time", truncate(string(b)))
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid < 1 || pid > math.MaxInt32 {
		return pidRecord{}, fmt.Errorf("pid file: pid %q is not a positive 32-bit number", truncate(f[0]))
	}
	r := pidRecord{PID: pid}
	if len(f) == 2 {
		r.StartMS, err = strconv.ParseInt(f[1], 10, 64)
		if err != nil || r.StartMS < 1 {
			return pidRecord{}, fmt.Errorf("pid file: start time %q is not a positive number of ms", truncate(f[1]))
		}
	}
	return r, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// procInfo is what probe learnt about a pid.
type procInfo struct {
	alive   bool
	zombie  bool
	startMS int64
	argv    []string
	err     error // set when the process lives but could not be read
}

// cacheBootTime makes gopsutil read the boot time once per wnm process instead of once per start
// time it computes (each read parses /proc/stat): a scan of the process table computes one per
// process. Every path into gopsutil's process package calls it first, so the setting is never
// written while a start time is being computed.
var cacheBootTime = sync.OnceFunc(func() { process.EnableBootTimeCache(true) })

// probe reads a process's state, start time and command line.
func probe(ctx context.Context, pid int) procInfo {
	cacheBootTime()
	p, err := process.NewProcessWithContext(ctx, int32(pid))
	if errors.Is(err, process.ErrorProcessNotRunning) {
		return procInfo{}
	}
	// Any read error below may just mean the process exited meanwhile; look again before blaming it.
	failed := func(what string, err error) procInfo {
		if ok, perr := process.PidExistsWithContext(ctx, int32(pid)); perr == nil && !ok {
			return procInfo{}
		}
		return procInfo{alive: true, err: fmt.Errorf("read %s of pid %d: %w", what, pid, err)}
	}
	if err != nil {
		return failed("existence", err)
	}
	st, err := p.StatusWithContext(ctx)
	if err != nil {
		return failed("state", err)
	}
	if slices.Contains(st, process.Zombie) {
		return procInfo{alive: true, zombie: true}
	}
	start, err := p.CreateTimeWithContext(ctx)
	if err != nil {
		return failed("start time", err)
	}
	argv, err := p.CmdlineSliceWithContext(ctx)
	if err != nil {
		return failed("command line", err)
	}
	return procInfo{alive: true, startMS: start, argv: argv}
}

// createTime returns a process's start time in ms since the epoch.
func createTime(ctx context.Context, pid int) (int64, error) {
	cacheBootTime()
	p, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return 0, err
	}
	return p.CreateTimeWithContext(ctx)
}

func sameStart(a, b int64) bool {
	d := a - b
	return d >= -startSlack.Milliseconds() && d <= startSlack.Milliseconds()
}

func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// inspect finds the node's process through its pid file. The process counts as the node's only
// when it is alive, not a zombie, started when the pid file says (within startSlack), and has the
// node's binary path as one of its arguments (argv[0] for a binary, argv[1] for a script run by
// its interpreter). An error means the process lives but could not be examined: Unknown.
func (m *Manager) inspect(ctx context.Context, n gen.Node) (units.Status, pidRecord, error) {
	st, rec, err := m.inspectPIDFile(ctx, n)
	if err != nil || st.State != units.Stopped {
		return st, rec, err
	}
	// No live process behind the pid file: look for the node by its command line before calling it
	// stopped, so that a lost or stale pid file cannot hide a running node.
	found, ferr := m.findNode(ctx, n)
	if ferr != nil {
		return units.Status{State: units.Unknown, Detail: ferr.Error()}, pidRecord{}, ferr
	}
	if len(found) == 0 {
		return st, rec, nil
	}
	f := found[0]
	return units.Status{State: units.Running, PID: f.PID,
		Detail: fmt.Sprintf("pid %d found by its --root-dir (%s)", f.PID, st.Detail)}, f, nil
}

// inspectPIDFile is inspect through the pid file alone.
func (m *Manager) inspectPIDFile(ctx context.Context, n gen.Node) (units.Status, pidRecord, error) {
	stopped := func(format string, a ...any) (units.Status, pidRecord, error) {
		return units.Status{State: units.Stopped, Detail: fmt.Sprintf(format, a...)}, pidRecord{}, nil
	}
	if _, err := os.Stat(n.RootDir); errors.Is(err, fs.ErrNotExist) {
		return stopped("root dir missing")
	} else if err != nil {
		return units.Status{State: units.Unknown, Detail: err.Error()}, pidRecord{}, err
	}
	b, err := os.ReadFile(filepath.Join(n.RootDir, PIDFile))
	if errors.Is(err, fs.ErrNotExist) {
		return stopped("no pid file")
	} else if err != nil {
		return units.Status{State: units.Unknown, Detail: err.Error()}, pidRecord{}, err
	}
	rec, err := parsePIDFile(b)
	if err != nil {
		return stopped("%v", err)
	}
	p := probe(ctx, rec.PID)
	switch {
	case !p.alive:
		return stopped("pid %d is not running", rec.PID)
	case p.zombie:
		return stopped("pid %d is a zombie", rec.PID)
	case p.err != nil:
		return units.Status{State: units.Unknown, PID: rec.PID, Detail: p.err.Error()}, rec, p.err
	case rec.StartMS != 0 && !sameStart(p.startMS, rec.StartMS):
		return stopped("pid %d started at %s, not at the recorded %s: another process", rec.PID, msTime(p.startMS), msTime(rec.StartMS))
	case !slices.Contains(p.argv, n.Binary):
		argv0 := ""
		if len(p.argv) > 0 {
			argv0 = p.argv[0]
		}
		return stopped("pid %d runs %q, not %s: another process", rec.PID, truncate(argv0), n.Binary)
	}
	return units.Status{State: units.Running, PID: rec.PID, Detail: fmt.Sprintf("pid %d", rec.PID)}, rec, nil
}

// readPIDFile reads and parses a pid file.
func readPIDFile(path string) (pidRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pidRecord{}, err
	}
	return parsePIDFile(b)
}

// rootDirIn returns the --root-dir that a command line passes, given as /proc shows it: the
// arguments each followed by a NUL. Trailing NULs are dropped first, as gopsutil does, so the
// arguments are those CmdlineSlice returns.
func rootDirIn(cmdline []byte) (string, bool) {
	cmdline = bytes.TrimRight(cmdline, "\x00")
	for len(cmdline) > 0 {
		arg, rest, more := bytes.Cut(cmdline, []byte{0})
		if v, ok := bytes.CutPrefix(arg, []byte("--root-dir")); ok {
			switch {
			case len(v) == 0 && more:
				next, _, _ := bytes.Cut(rest, []byte{0})
				return filepath.Clean(string(next)), true
			case len(v) > 0 && v[0] == '=':
				return filepath.Clean(string(v[1:])), true
			}
		}
		if !more {
			break
		}
		cmdline = rest
	}
	return "", false
}

// nodeProc is a live process found by its command line.
type nodeProc struct {
	pidRecord
	root string // its --root-dir
}

// procTable is how scan reads the process table: [osProcs] outside tests.
type procTable interface {
	// pids lists the processes on the machine.
	pids(ctx context.Context) ([]int, error)
	// owner returns pid's effective uid from one cheap look (on Linux, a stat of /proc/<pid>: the
	// kernel gives that directory the effective uid as owner, even for a process that is not
	// dumpable, whose other /proc files show root); errors.ErrUnsupported when there is no such
	// look. Any other error: the process is gone or cannot be examined.
	owner(pid int) (uint32, error)
	// cmdline returns pid's arguments, each followed by a NUL, in buf[:0] (grown when short).
	cmdline(ctx context.Context, pid int, buf []byte) ([]byte, error)
}

// scan lists the live, non-zombie processes owned by the account nodes run as (or wnm's) whose
// command line passes a --root-dir that want accepts. It is how a node is found when its pid file
// is missing or stale: the pid file is a shortcut, never the only record. The pids in skip are
// passed over unread.
//
// Most processes on a node host are not candidates, and each look at one costs a read of /proc,
// so the cheap looks come first: the owner (one stat) before the command line (which makes the
// kernel read the other process's memory), and the command line before anything else.
func (m *Manager) scan(ctx context.Context, want func(root string) bool, skip map[int]bool) ([]nodeProc, error) {
	cacheBootTime()
	pids, err := m.procs.pids(ctx)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	// The node account's processes, and wnm's own account's: a launcher runs as wnm's account
	// until it has recorded the pid and switched to the node's.
	uid, node := uint32(os.Getuid()), uint32(os.Getuid())
	if m.cred != nil {
		node = m.cred.uid
	}
	self := os.Getpid()
	buf := make([]byte, 0, 4096)
	var out []nodeProc
	for _, pid := range pids {
		if pid == self || skip[pid] {
			continue
		}
		// The owner check below compares the real uid. The pre-filter sees the effective uid,
		// which equals the real one for every node process: the launcher sets all of its uids at
		// once (setuid as root) and a node binary is not set-uid. A process whose effective uid
		// is neither account's is therefore no node of ours, whatever its command line.
		if euid, err := m.procs.owner(pid); err == nil {
			if euid != uid && euid != node {
				continue
			}
		} else if !errors.Is(err, errors.ErrUnsupported) {
			continue // gone meanwhile
		}
		buf, err = m.procs.cmdline(ctx, pid, buf)
		if err != nil || len(buf) == 0 {
			continue // gone meanwhile, or a kernel thread
		}
		root, ok := rootDirIn(buf)
		if !ok || !want(root) {
			continue
		}
		// Not NewProcessWithContext: it checks that the pid exists and reads its start time,
		// both read below only for the few processes that got this far.
		p := &process.Process{Pid: int32(pid)}
		uids, err := p.UidsWithContext(ctx)
		if err != nil || len(uids) == 0 || (uids[0] != uid && uids[0] != node) {
			continue
		}
		if st, err := p.StatusWithContext(ctx); err == nil && slices.Contains(st, process.Zombie) {
			continue
		}
		start, err := p.CreateTimeWithContext(ctx)
		if err != nil {
			continue
		}
		out = append(out, nodeProc{pidRecord: pidRecord{PID: pid, StartMS: start}, root: root})
	}
	return out, nil
}

// scanFresh is how long one scan of the process table serves findNode: a cycle that asks about
// many stopped nodes (after a reboot every pid file is stale) reads the table once, not once per
// node. Start and Stop drop it, and every hit is checked against the live process.
const scanFresh = 2 * time.Second

// findNode returns the live processes of node n found by their command line.
func (m *Manager) findNode(ctx context.Context, n gen.Node) ([]pidRecord, error) {
	root := filepath.Clean(n.RootDir)
	m.scanMu.Lock()
	procs, at := m.scanned, m.scannedAt
	m.scanMu.Unlock()
	if at.IsZero() || m.now().Sub(at) > scanFresh || m.now().Before(at) {
		all, err := m.scan(ctx, func(string) bool { return true }, nil)
		if err != nil {
			return nil, err
		}
		m.scanMu.Lock()
		m.scanned, m.scannedAt = all, m.now()
		m.scanMu.Unlock()
		procs = all
	}
	var out []pidRecord
	for _, p := range procs {
		if p.root != root {
			continue
		}
		if q := probe(ctx, p.PID); !q.alive || q.zombie || (q.err == nil && !sameStart(q.startMS, p.StartMS)) {
			continue
		}
		out = append(out, p.pidRecord)
	}
	return out, nil
}

// forgetScan drops the cached process table after wnm started or stopped a process.
func (m *Manager) forgetScan() {
	m.scanMu.Lock()
	m.scanned, m.scannedAt = nil, time.Time{}
	m.scanMu.Unlock()
}
