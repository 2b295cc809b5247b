package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/ports"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/lock"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// The chaos harness. It runs a setsid+user fleet of fake antnodes through growth, shrink and
// rolling upgrades, one cycle per process, and SIGKILLs cycles at random points inside their
// actions. After each killed cycle one clean cycle runs and the invariants are checked:
//
//   - every live node process has a row, and every RUNNING row a live process;
//   - no row keeps an intent, no node directory or log directory lacks a row, every pid file names
//     a live node process, and no temporary file of an interrupted step is left;
//   - PRAGMA integrity_check says ok;
//
// and at the end the fleet converges to node_cap on the latest version within 3 clean cycles.
//
// The cycle process is this test binary (TestMain runs chaosCycleMain when envChaosCycle is set):
// the real worker, store, lock and setsid manager with real node processes, and the host figures
// pinned to an idle machine, so that the shared test machine's load cannot change the plans.
//
// WNM_CHAOS_N sets the number of kills per seed (default 24; `make chaos N=300`), WNM_CHAOS_SEEDS
// a comma-separated list of seeds (default 1).
const envChaosCycle = "WNM_CHAOS_CYCLE"

// chaosSpec is what one cycle process runs with.
type chaosSpec struct {
	Config   config.Config
	Platform config.Platform
	Boot     int64
}

// chaosCycleMain runs one cycle as `wnm run` does: take the lock, open the store, run. It exits 75
// when the lock is busy and 1 when the cycle cannot run.
func chaosCycleMain(specPath string) int {
	b, err := os.ReadFile(specPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var sp chaosSpec
	if err := json.Unmarshal(b, &sp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := lock.TryLock(lockPathFor(sp.Config.DBPath))
	if err != nil {
		log.Error("lock", "err", err)
		if errors.Is(err, lock.ErrBusy) {
			return 75
		}
		return 1
	}
	defer l.Unlock()
	ctx := context.Background()
	st, err := store.Open(ctx, sp.Config.DBPath)
	if err != nil {
		log.Error("open", "err", err)
		return 1
	}
	defer st.Close()
	boot := time.Unix(sp.Boot, 0)
	// The parent changes settings between cycles: every persisted one is saved, as if supplied.
	var all []config.Change
	for _, s := range config.Settings {
		if s.Persist {
			all = append(all, config.Change{Name: s.Name})
		}
	}
	_, err = Run(ctx, Options{
		Store: st, Config: sp.Config, Changes: all, Platform: sp.Platform, Logger: log,
		Survey: func(ctx context.Context, o survey.Options) survey.Observation {
			return pinHost(survey.Survey(ctx, o), boot)
		},
	})
	if err != nil {
		log.Error("cycle", "err", err)
		return 1
	}
	return 0
}

func lockPathFor(db string) string { return filepath.Join(filepath.Dir(db), "wnm_active") }

// pinHost replaces the host figures with an idle machine's.
func pinHost(obs survey.Observation, boot time.Time) survey.Observation {
	k := func(v float64) survey.Reading { return survey.Reading{Value: v, Known: true} }
	h := &obs.Host
	h.CPUPercent, h.MemPercent, h.DiskPercent = k(10), k(20), k(30)
	h.Load1, h.Load5, h.Load15 = k(0.1), k(0.1), k(0.1)
	h.DiskReadBps, h.DiskWriteBps, h.NetRecvBps, h.NetSendBps = k(0), k(0), k(0), k(0)
	h.BootTime = k(float64(boot.Unix()))
	return obs
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos harness: not with -short")
	}
	n := envInt("WNM_CHAOS_N", 24)
	seeds := []uint64{1}
	if s := os.Getenv("WNM_CHAOS_SEEDS"); s != "" {
		seeds = nil
		for _, f := range strings.Split(s, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("WNM_CHAOS_SEEDS: %q is not a number", f)
			}
			seeds = append(seeds, v)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runChaos(t, seed, n) })
	}
}

type chaos struct {
	t       *testing.T
	r       *rand.Rand
	dir     string
	bin     string
	self    string
	spec    chaosSpec
	version int // patch number of the latest release, 0.4.<version>
	stats   struct{ runs, kills, inAction, early, missed, violations, cleanCycles, busy int }
	// the logs of the last killed and the last clean cycle, shown with the first violation
	killedLog, cleanLog []string
}

func runChaos(t *testing.T, seed uint64, kills int) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &chaos{t: t, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), dir: dir, bin: fakeantnode.Build(t), self: self, version: 17}
	plat := config.Platform{OS: "linux", Mode: gen.ModeUser, Home: filepath.Join(dir, "home"), CPUCount: 2}
	c := config.Defaults(plat)
	c.RewardsAddress = testAddr
	c.ProcessManager = "setsid+user"
	c.NodeStorage = filepath.Join(dir, "nodes")
	c.AntnodePath = filepath.Join(dir, "bin", "antnode")
	c.DBPath = filepath.Join(dir, "colony.db")
	c.NodeCap = 4
	c.DelayStart, c.DelayUpgrade, c.DelayRemove = 1, 1, 1
	c.MaxStarts, c.MaxUpgrades, c.MaxRemovals, c.MaxOperations = 5, 5, 5, 10
	c.SurveyTimeout = 1000
	// Harnesses of different seeds may run at once: each holds its own port ranges.
	r := ports.Thousands(t, 3, 10)
	c.PortStart, c.MetricsPortStart, c.RPCPortStart = r[0], r[1], r[2]
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	boot := time.Now().Add(-time.Hour).Unix()
	h.spec = chaosSpec{Config: c, Platform: plat, Boot: boot}
	h.release()
	st, err := store.Create(context.Background(), c.DBPath, MachineFromConfig(c, 2, time.Unix(boot, 0)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Cleanup(func() { killStorage(c.NodeStorage) })

	for h.stats.kills < kills {
		switch x := h.r.IntN(10); {
		case x < 3:
			h.spec.Config.NodeCap = 1 + h.r.IntN(5)
		case x < 5:
			h.version++
			h.release()
		}
		h.killedCycle()
		h.cleanCycle()
		h.check()
		if h.stats.violations > 0 {
			break
		}
	}
	h.converge()
	t.Logf("seed %d: %d cycles killed (%d inside actions, %d before the decision), %d missed (the cycle ended first), %d clean cycles (%d found the lock still busy and ran again), %d invariant violations",
		seed, h.stats.kills, h.stats.inAction, h.stats.early, h.stats.missed, h.stats.cleanCycles, h.stats.busy, h.stats.violations)
}

// release puts fake antnode 0.4.<version> at antnode_path, as `antup node` would.
func (h *chaos) release() {
	h.t.Helper()
	path := h.spec.Config.AntnodePath
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		h.t.Fatal(err)
	}
	fakeantnode.Release(h.t, h.bin, fmt.Sprintf("0.4.%d", h.version), path)
}

// start starts one cycle process and returns it with its log lines.
func (h *chaos) start() (*exec.Cmd, <-chan string) {
	h.t.Helper()
	b, err := json.Marshal(h.spec)
	if err != nil {
		h.t.Fatal(err)
	}
	specPath := filepath.Join(h.dir, "spec.json")
	if err := os.WriteFile(specPath, b, 0o644); err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(h.self, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChaosCycle+"="+specPath)
	out, err := cmd.StderrPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	h.stats.runs++
	return cmd, lines
}

// killedCycle runs a cycle and SIGKILLs it: mostly at a random point after its decision (inside
// its actions), sometimes at a random point of its start-up.
func (h *chaos) killedCycle() {
	cmd, lines := h.start()
	exited := make(chan error, 1)
	early := h.r.IntN(5) == 0
	delay := time.Duration(h.r.IntN(450)) * time.Millisecond
	if early {
		delay = time.Duration(h.r.IntN(150)) * time.Millisecond
	}
	decided, summarised := false, false
	var timer <-chan time.Time
	if early {
		timer = time.After(delay)
	}
	var last []string
	for lines != nil {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			last = append(last, l)
			if strings.Contains(l, "msg=decision") && !early {
				decided = true
				timer = time.After(delay)
			}
			if strings.Contains(l, "msg=cycle ") {
				summarised = true
			}
		case <-timer:
			_ = cmd.Process.Kill()
			timer = nil
			h.stats.kills++
			switch {
			case early && !decided:
				h.stats.early++
			case decided && !summarised:
				h.stats.inAction++
			}
		}
	}
	h.killedLog = last
	go func() { exited <- cmd.Wait() }()
	err := <-exited
	if timer != nil {
		// The cycle ended before the kill.
		h.stats.missed++
		if err != nil {
			h.t.Errorf("cycle failed: %v\n%s", err, strings.Join(last, "\n"))
			h.stats.violations++
		}
	}
}

// cleanCycle runs a cycle to its end; it must succeed. A cycle that finds the lock busy (exit 75)
// is run again shortly, as the next timer tick would: for a moment after a kill, a child forked by
// the killed cycle that has not yet exec'd can still share the lock's open file.
func (h *chaos) cleanCycle() {
	h.t.Helper()
	for attempt := 1; ; attempt++ {
		cmd, lines := h.start()
		var out []string
		for l := range lines {
			out = append(out, l)
		}
		h.cleanLog = out
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 75 && attempt < 50 {
			h.stats.busy++
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			h.stats.violations++
			h.t.Errorf("clean cycle: %v\n%s", err, strings.Join(out, "\n"))
		}
		h.stats.cleanCycles++
		return
	}
}

func (h *chaos) violation(format string, a ...any) {
	h.t.Helper()
	h.stats.violations++
	h.t.Errorf("after %d kills: "+format, append([]any{h.stats.kills}, a...)...)
	if h.stats.violations == 1 {
		h.t.Logf("the killed cycle's log:\n%s\nthe clean cycle's log:\n%s", strings.Join(h.killedLog, "\n"), strings.Join(h.cleanLog, "\n"))
	}
}

// nodes reads the node rows without touching anything else.
func (h *chaos) nodes() []store.Node {
	h.t.Helper()
	st, err := store.Open(context.Background(), h.spec.Config.DBPath)
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	ns, err := st.Nodes(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return ns
}

// check verifies the invariants.
func (h *chaos) check() {
	h.t.Helper()
	c := h.spec.Config
	ns := h.nodes()
	byRoot := map[string]store.Node{}
	for _, n := range ns {
		byRoot[filepath.Clean(n.RootDir)] = n
		if n.WNMIntent != "" {
			h.violation("node %d keeps its %q intent after a clean cycle", n.ID, n.WNMIntent)
		}
	}
	live := map[string]int{}
	for pid, root := range nodeProcs(c.NodeStorage) {
		live[root] = pid
		if _, ok := byRoot[root]; !ok {
			h.violation("pid %d runs node %s, which has no row", pid, root)
		}
	}
	for root, n := range byRoot {
		if n.Status == store.StatusRunning && live[root] == 0 {
			h.violation("node %d is RUNNING but no process runs it", n.ID)
		}
	}
	for _, parent := range []string{c.NodeStorage, h.spec.Platform.Dirs().Logs} {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if !nodeDirName().MatchString(e.Name()) {
				continue
			}
			id, _ := strconv.Atoi(strings.TrimPrefix(e.Name(), "antnode"))
			found := false
			for _, n := range ns {
				found = found || n.ID == id
			}
			if !found {
				h.violation("directory %s has no row", filepath.Join(parent, e.Name()))
			}
		}
	}
	for root := range byRoot {
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if leftover().MatchString(e.Name()) {
				h.violation("temporary file %s left", filepath.Join(root, e.Name()))
			}
			if e.Name() == "node.pid" {
				b, _ := os.ReadFile(filepath.Join(root, e.Name()))
				pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
				if live[root] == 0 || pid != live[root] {
					n := byRoot[root]
					out, _ := os.ReadFile(filepath.Join(h.spec.Platform.Dirs().Logs, filepath.Base(root), "stdout.log"))
					h.violation("%s/node.pid names pid %d; the node's process is %d; node %d is %s; stdout.log:\n%s",
						root, pid, live[root], n.ID, n.Status, out)
				}
			}
		}
	}
	if res := integrity(h.t, c.DBPath); res != "ok" {
		h.violation("integrity_check: %s", res)
	}
}

// integrity runs PRAGMA integrity_check on a read-only connection.
func integrity(t *testing.T, path string) string {
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var res []string
	err = sqlitex.ExecuteTransient(conn, "PRAGMA integrity_check", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { res = append(res, s.ColumnText(0)); return nil },
	})
	if err != nil {
		return err.Error()
	}
	return strings.Join(res, "; ")
}

// converge runs up to 3 clean cycles, delay_start apart, until node_cap nodes run the latest version.
func (h *chaos) converge() {
	h.t.Helper()
	want := fmt.Sprintf("0.4.%d", h.version)
	var state string
	for i := 0; i < 3; i++ {
		time.Sleep(1100 * time.Millisecond)
		h.cleanCycle()
		h.check()
		running, latest := 0, 0
		var b strings.Builder
		for _, n := range h.nodes() {
			fmt.Fprintf(&b, "%d:%s:%s ", n.ID, n.Status, n.Version)
			if n.Status == store.StatusRunning {
				running++
				if n.Version == want {
					latest++
				}
			}
		}
		state = b.String()
		if running == h.spec.Config.NodeCap && latest == running && len(h.nodes()) == running {
			return
		}
	}
	h.violation("no convergence to node_cap %d on %s within 3 clean cycles: %s", h.spec.Config.NodeCap, want, state)
}
