package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const (
	logFile             = "antnode.log"
	criticalFailureFile = "critical_failure.log"
)

// nodeConfig is everything runNode needs; main fills it in.
type nodeConfig struct {
	Args  nodeArgs
	Knobs knobs
	// MetricsBody, when set, is served as /metrics and /metrics_extended (FAKEANTNODE_METRICS_FILE).
	MetricsBody []byte
	Version     string
	EVMNetwork  string
	Exe         string // own executable, for self-upgrade; may be empty
	Stdout      io.Writer
	Stderr      io.Writer
	Getenv      func(string) string
	Now         func() time.Time
}

// nodeLog writes antnode-style log lines.
type nodeLog struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	now  func() time.Time
}

func (l *nodeLog) logf(level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	ts := l.now().UTC().Format("2006-01-02T15:04:05.000000Z")
	var line []byte
	if l.json {
		line, _ = json.Marshal(struct {
			Timestamp string `json:"timestamp"`
			Level     string `json:"level"`
			Target    string `json:"target"`
			Message   string `json:"message"`
		}{ts, level, "fakeantnode", msg})
	} else {
		line = fmt.Appendf(nil, "[%s %s fakeantnode] %s", ts, level, msg)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(line)
}

func (l *nodeLog) infof(format string, args ...any)  { l.logf("INFO", format, args...) }
func (l *nodeLog) errorf(format string, args ...any) { l.logf("ERROR", format, args...) }

// defaultRootDir is antnode's data dir for a peer id when --root-dir is not given.
func defaultRootDir(id string, getenv func(string) string) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("default root dir: %w", err)
	}
	data := filepath.Join(home, ".local", "share")
	switch {
	case runtime.GOOS == "darwin":
		data = filepath.Join(home, "Library", "Application Support")
	case getenv("XDG_DATA_HOME") != "":
		data = getenv("XDG_DATA_HOME")
	}
	return filepath.Join(data, "autonomi", "node", id), nil
}

// cpuMeter turns this process's CPU time into antnode's per-process percentage (0-100 of the
// whole machine), averaged since the previous reading.
type cpuMeter struct {
	mu       sync.Mutex
	now      func() time.Time
	lastWall time.Time
	lastCPU  time.Duration
	pct      float64
}

func newCPUMeter(now func() time.Time) *cpuMeter {
	return &cpuMeter{now: now, lastWall: now(), lastCPU: cpuTime()}
}

func (m *cpuMeter) percent() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	wall, cpu := m.now(), cpuTime()
	if dw := wall.Sub(m.lastWall); dw >= 100*time.Millisecond {
		p := float64(cpu-m.lastCPU) / float64(dw) / float64(runtime.NumCPU()) * 100
		m.pct = math.Round(min(max(p, 0), 100)*10000) / 10000
		m.lastWall, m.lastCPU = wall, cpu
	}
	return m.pct
}

// hangListener accepts connections and never answers them. It reads and discards what the
// client sends so that a connection the client gives up on is closed on this side too.
type hangListener struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

func serveHanging(ln net.Listener) *hangListener {
	h := &hangListener{ln: ln, conns: map[net.Conn]struct{}{}}
	go h.acceptLoop()
	return h
}

func (h *hangListener) acceptLoop() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE; do not spin
			continue
		}
		h.mu.Lock()
		if h.done {
			h.mu.Unlock()
			c.Close()
			return
		}
		h.conns[c] = struct{}{}
		h.mu.Unlock()
		go func() {
			io.Copy(io.Discard, c)
			c.Close()
			h.mu.Lock()
			delete(h.conns, c)
			h.mu.Unlock()
		}()
	}
}

// Close stops accepting and drops every held connection.
func (h *hangListener) Close() error {
	err := h.ln.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	for c := range h.conns {
		c.Close()
	}
	return err
}

// acceptAndClose holds a TCP port (the --rpc port) and closes every connection at once.
func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.Close()
	}
}

// runNode runs one fake node until ctx is cancelled (exit 0), it crashes on purpose (exit 1),
// or it stops for an upgrade (exit 0). It returns the exit code.
func runNode(ctx context.Context, c nodeConfig) int {
	a, k := c.Args, c.Knobs
	start := c.Now()

	root := a.RootDir
	var key []byte
	if root == "" {
		var err error
		if key, err = newKey(); err != nil {
			fmt.Fprintf(c.Stderr, "error: %v\n", err)
			return exitFailure
		}
		if root, err = defaultRootDir(peerID(key), c.Getenv); err != nil {
			fmt.Fprintf(c.Stderr, "error: %v\n", err)
			return exitFailure
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		fmt.Fprintf(c.Stderr, "error: create root dir: %v\n", err)
		return exitFailure
	}
	key, err := loadOrCreateKey(root, key)
	if err != nil {
		fmt.Fprintf(c.Stderr, "error: %v\n", err)
		return exitFailure
	}
	id := peerID(key)

	// Logging: antnode.log in the log dir, or stdout. critical_failure.log goes in the log
	// dir, or the root dir when logging to stdout.
	logW, critDir := c.Stdout, root
	switch a.LogOutputDest {
	case "stdout":
	default:
		dir := a.LogOutputDest
		if dir == "data-dir" {
			dir = filepath.Join(root, "logs")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintf(c.Stderr, "error: create log dir: %v\n", err)
			return exitFailure
		}
		f, err := os.OpenFile(filepath.Join(dir, logFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(c.Stderr, "error: open log file: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		logW, critDir = f, dir
	}
	lg := &nodeLog{w: logW, json: a.LogFormat == "json", now: c.Now}
	critPath := filepath.Join(critDir, criticalFailureFile)
	if err := os.Remove(critPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		lg.errorf("clear %s: %v", critPath, err)
	}
	// fail reports a fatal error the way antnode does and returns the exit code.
	fail := func(format string, args ...any) int {
		reason := fmt.Sprintf(format, args...)
		lg.errorf("critical failure: %s", reason)
		fmt.Fprintf(c.Stderr, "error: %s\n", reason)
		line := fmt.Sprintf("[%s] %s\n", c.Now().UTC().Format(time.RFC3339), reason)
		if err := os.WriteFile(critPath, []byte(line), 0o644); err != nil {
			fmt.Fprintf(c.Stderr, "error: write %s: %v\n", critPath, err)
		}
		return exitFailure
	}

	lg.infof("fakeantnode v%s starting (peer id %s, root dir %s)", c.Version, id, root)
	lg.infof("args: rewards address %s, port %d, network id %d, max log files %d/%d, peers %v",
		a.RewardsAddress, a.Port, a.NetworkID, a.MaxLogFiles, a.MaxArchivedLogFiles, a.Peers)
	pidPath := filepath.Join(root, pidFile)
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail("write pid file: %v", err)
	}

	// closers run on every way out but a crash; a crash leaves the pid file behind.
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		closers = nil
	}
	defer closeAll()
	if a.Port != 0 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(a.Port))))
		if err != nil {
			return fail("bind node port: %v", err)
		}
		closers = append(closers, func() { pc.Close() })
		lg.infof("listening on /ip4/127.0.0.1/udp/%d/quic-v1", a.Port)
	}
	if a.RPC != "" {
		_, port, _ := net.SplitHostPort(a.RPC)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			return fail("bind rpc port: %v", err)
		}
		closers = append(closers, func() { ln.Close() })
		go acceptAndClose(ln)
		lg.infof("rpc server on 127.0.0.1:%s (connections are closed at once)", port)
	}

	fmt.Fprintf(c.Stdout, "EVM network: %s\n", c.EVMNetwork)
	fmt.Fprintln(c.Stdout, "Node started")
	fmt.Fprintf(c.Stdout, "PeerId is %s\n", id)
	lg.infof("node started, EVM network %s", c.EVMNetwork)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if k.CPUBurn {
		lg.infof("FAKEANTNODE_CPU_BURN: spinning one goroutine")
		go burn(ctx)
	}
	after := func(set bool, d time.Duration) <-chan time.Time {
		if !set {
			return nil
		}
		return time.After(d)
	}
	metricsOn := a.EnableMetrics || a.MetricsPort != 0
	openMetrics := after(metricsOn, k.StartDelay)
	crash := after(k.Crash, k.CrashAfter)
	upgrade := after(k.UpgradeFrom != "", k.SelfUpgradeAfter)
	meter := newCPUMeter(c.Now)
	seed := seedOf(id)
	scrape := func() (sample, metadata) {
		s := simulate(seed, c.Now().Sub(start))
		s.CPUUsagePercentage = meter.percent()
		return s, metadata{Version: c.Version, PeerID: id, NetworkID: a.NetworkID}
	}

	for {
		select {
		case <-ctx.Done():
			lg.infof("received stop signal, shutting down")
			closeAll()
			removePID(pidPath, lg)
			return exitOK

		case <-openMetrics:
			openMetrics = nil
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(a.MetricsPort))))
			if err != nil {
				return fail("start metrics server: %v", err)
			}
			if k.HangMetrics {
				h := serveHanging(ln)
				closers = append(closers, func() { h.Close() })
			} else {
				srv := &http.Server{
					Handler:           endpoints{scrape: scrape, status: k.HTTPStatus, garbage: k.GarbageMetrics, body: c.MetricsBody},
					ReadHeaderTimeout: 10 * time.Second,
				}
				go srv.Serve(ln)
				closers = append(closers, func() { srv.Close() })
			}
			port := ln.Addr().(*net.TCPAddr).Port
			fmt.Fprintf(c.Stdout, "Metrics server on http://127.0.0.1:%d/metrics\n", port)
			lg.infof("metrics server on http://127.0.0.1:%d/metrics", port)

		case <-crash:
			return fail("simulated crash after %s (FAKEANTNODE_CRASH_AFTER)", k.CrashAfter)

		case <-upgrade:
			upgrade = nil
			to, changed, err := selfUpgrade(c.Exe, k.UpgradeFrom)
			switch {
			case err != nil:
				lg.errorf("self-upgrade failed: %v", err)
				continue
			case !changed:
				lg.infof("self-upgrade: %s is already the running binary", k.UpgradeFrom)
				continue
			}
			lg.infof("self-upgrade: replaced %s with %s (v%s -> v%s)", c.Exe, k.UpgradeFrom, c.Version, to)
			if a.StopOnUpgrade {
				lg.infof("stopping after upgrade (--stop-on-upgrade)")
				closeAll()
				removePID(pidPath, lg)
				return exitOK
			}
			lg.infof("restarting after upgrade")
			closeAll()
			if err := execSelf(c.Exe); err != nil {
				return fail("%v", err)
			}
		}
	}
}

func removePID(path string, lg *nodeLog) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		lg.errorf("remove pid file: %v", err)
	}
}

// burn spins until ctx is done (FAKEANTNODE_CPU_BURN).
func burn(ctx context.Context) {
	for n := 0; ; n++ {
		if n%(1<<16) == 0 && ctx.Err() != nil {
			return
		}
	}
}
