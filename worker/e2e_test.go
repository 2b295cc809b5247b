package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/testenv/ports"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

const testAddr = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

// fleet is a real setsid+user installation in a scratch directory: a real database, real fake
// antnode processes on real loopback ports, and a clock the test moves. Only the host figures are
// pinned (to an idle machine), so that the shared test machine's load cannot change the plans.
type fleet struct {
	t      *testing.T
	dir    string
	bin    string // the fake antnode build
	cfg    config.Config
	plat   config.Platform
	st     *store.Store
	now    time.Time
	boot   time.Time
	log    *slog.Logger
	logBuf *syncBuffer
	last   *Result
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.WriteString(string(p))
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFleet(t *testing.T, change func(*config.Config)) *fleet {
	t.Helper()
	return newFleetAt(t, t.TempDir(), change)
}

// newFleetAt is newFleet in dir, an empty directory.
func newFleetAt(t *testing.T, dir string, change func(*config.Config)) *fleet {
	t.Helper()
	f := &fleet{t: t, dir: dir, bin: fakeantnode.Build(t), now: time.Unix(1_900_000_000, 0), boot: time.Unix(1_899_990_000, 0)}
	f.logBuf = &syncBuffer{}
	f.log = slog.New(slog.NewTextHandler(io.MultiWriter(f.logBuf, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.plat = config.Platform{OS: "linux", Mode: gen.ModeUser, Home: filepath.Join(dir, "home"), CPUCount: 2}
	c := config.Defaults(f.plat)
	c.RewardsAddress = testAddr
	c.ProcessManager = "setsid+user"
	c.NodeStorage = filepath.Join(dir, "nodes")
	c.AntnodePath = filepath.Join(dir, "bin", "antnode")
	c.DBPath = filepath.Join(dir, "colony.db")
	c.NodeCap = 3
	c.DelayStart, c.DelayUpgrade, c.DelayRemove = 60, 60, 60
	c.SurveyTimeout = 1000
	r := ports.Thousands(t, 3, 20)
	c.PortStart, c.MetricsPortStart, c.RPCPortStart = r[0], r[1], r[2]
	if change != nil {
		change(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	f.cfg = c
	f.release("0.4.17")
	st, err := store.Create(context.Background(), c.DBPath, MachineFromConfig(c, 2, f.boot))
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	t.Cleanup(func() {
		f.killAll()
		st.Close()
	})
	return f
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// release puts a fake antnode of version v at antnode_path, as `antup node` would.
func (f *fleet) release(v string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(f.cfg.AntnodePath), 0o755); err != nil {
		f.t.Fatal(err)
	}
	fakeantnode.Release(f.t, f.bin, v, f.cfg.AntnodePath)
}

// pinned wraps the real survey, replacing the host figures with an idle machine's.
func (f *fleet) pinned(ctx context.Context, o survey.Options) survey.Observation {
	obs := survey.Survey(ctx, o)
	k := func(v float64) survey.Reading { return survey.Reading{Value: v, Known: true} }
	h := &obs.Host
	h.CPUPercent, h.MemPercent, h.DiskPercent = k(10), k(20), k(30)
	h.Load1, h.Load5, h.Load15 = k(0.1), k(0.1), k(0.1)
	h.DiskReadBps, h.DiskWriteBps, h.NetRecvBps, h.NetSendBps = k(0), k(0), k(0), k(0)
	h.BootTime = k(float64(f.boot.Unix()))
	return obs
}

// changedSettings lists the settings whose values differ between old and new, as cmd/wnm does
// for the settings a run supplies.
func changedSettings(old, new config.Config) []config.Change {
	var out []config.Change
	for _, s := range config.Settings {
		if fmt.Sprint(old.Value(s.Name)) != fmt.Sprint(new.Value(s.Name)) {
			out = append(out, config.Change{Name: s.Name})
		}
	}
	return out
}

// cycle advances the clock by step and runs one cycle.
func (f *fleet) cycle(step time.Duration, change func(*config.Config)) *Result {
	f.t.Helper()
	f.now = f.now.Add(step)
	cfg := f.cfg
	var changes []config.Change
	if change != nil {
		change(&cfg)
		changes = changedSettings(f.cfg, cfg)
		f.cfg = cfg
	}
	r, err := Run(context.Background(), Options{
		Store: f.st, Config: cfg, Changes: changes, Platform: f.plat, Logger: f.log,
		Now: func() time.Time { return f.now }, Survey: f.pinned,
		// The fleet's port ranges were checked free; other processes on a shared host must not
		// move its ids (TestAddsSkipHeldPorts covers held ports).
		HeldPorts: func(context.Context) (map[int]bool, error) { return nil, nil },
	})
	if err != nil {
		f.t.Fatalf("cycle: %v", err)
	}
	for _, a := range r.Results {
		if !a.OK {
			f.t.Errorf("action %v failed: %s", a.Action, a.Error)
		}
	}
	f.last = r
	return r
}

func (f *fleet) nodes() map[int]store.Node {
	f.t.Helper()
	ns, err := f.st.Nodes(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[int]store.Node{}
	for _, n := range ns {
		out[n.ID] = n
	}
	return out
}

func (f *fleet) statuses() string {
	var b strings.Builder
	for id := 1; id <= 50; id++ {
		if n, ok := f.nodes()[id]; ok {
			fmt.Fprintf(&b, "%d:%s ", id, n.Status)
		}
	}
	return strings.TrimSpace(b.String())
}

// metrics fetches a node's metrics endpoint body, or "" if it does not answer.
func (f *fleet) get(id int, path string) string {
	c := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d%s", f.cfg.MetricsPortStart*1000+id, path))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return ""
	}
	return string(b)
}

// waitUp polls until every listed node answers on its metrics port (a real process needs real time
// to start), failing after a deadline.
func (f *fleet) waitUp(ids ...int) {
	f.t.Helper()
	for _, id := range ids {
		poll.Until(f.t, 15*time.Second, fmt.Sprintf("node %d to answer on its metrics port", id), func() bool { return f.get(id, "/metrics") != "" })
	}
}

func (f *fleet) waitDown(ids ...int) {
	f.t.Helper()
	for _, id := range ids {
		poll.Until(f.t, 15*time.Second, fmt.Sprintf("node %d to stop answering", id), func() bool { return f.get(id, "/metrics") == "" })
	}
}

func (f *fleet) pid(id int) int {
	b, err := os.ReadFile(filepath.Join(f.cfg.NodeStorage, fmt.Sprintf("antnode%04d", id), "node.pid"))
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscanf(string(b), "%d", &pid)
	return pid
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

func (f *fleet) killAll() {
	for id := 1; id <= 50; id++ {
		if pid := f.pid(id); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func kinds(r *Result) string {
	var ks []string
	for _, a := range r.Plan.Actions {
		s := a.Kind.String()
		if a.Node != 0 {
			s += fmt.Sprint(a.Node)
		}
		ks = append(ks, s)
	}
	return strings.Join(ks, ",")
}

// grow runs cycles until the fleet has node_cap running nodes.
func (f *fleet) grow() {
	f.t.Helper()
	for i := 0; i < 20; i++ {
		r := f.cycle(61*time.Second, nil)
		if r.Plan.Counts.Running == f.cfg.NodeCap {
			return
		}
		var ids []int
		for id, n := range f.nodes() {
			if n.Status == store.StatusRestarting || n.Status == store.StatusUpgrading {
				ids = append(ids, id)
			}
		}
		f.waitUp(ids...)
	}
	f.t.Fatalf("fleet did not grow to %d: %s", f.cfg.NodeCap, f.statuses())
}

func TestFleetGrowsToCapWithinLimits(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 3 })
	// First cycle: one add (max_concurrent_starts 1).
	r := f.cycle(time.Second, nil)
	if got := kinds(r); got != "add1" {
		t.Fatalf("first cycle = %s, want add1", got)
	}
	f.waitUp(1)
	// Within delay_start nothing more starts: the restarting node holds the only start slot.
	r = f.cycle(30*time.Second, nil)
	if got := kinds(r); got != "survey" {
		t.Fatalf("cycle inside delay_start = %s, want survey (%s)", got, f.statuses())
	}
	for step := 0; step < 10 && f.last.Plan.Counts.Running < 3; step++ {
		f.cycle(31*time.Second, nil) // f.last keeps the result
		restarting := 0
		for _, n := range f.nodes() {
			if n.Status == store.StatusRestarting {
				restarting++
			}
		}
		if restarting > f.cfg.MaxStarts {
			t.Fatalf("%d nodes restarting at once, limit %d", restarting, f.cfg.MaxStarts)
		}
		for id := range f.nodes() {
			f.waitUp(id)
		}
	}
	if got := f.statuses(); got != "1:RUNNING 2:RUNNING 3:RUNNING" {
		t.Fatalf("statuses = %s", got)
	}
	for id := 1; id <= 3; id++ {
		if !alive(f.pid(id)) {
			t.Errorf("node %d process is not running", id)
		}
		if n := f.nodes()[id]; n.Port != f.cfg.PortStart*1000+id || n.MetricsPort != f.cfg.MetricsPortStart*1000+id || n.Wallet != testAddr {
			t.Errorf("node %d row: port %d metrics %d wallet %s", id, n.Port, n.MetricsPort, n.Wallet)
		}
	}
	// At the cap: idle.
	if got := kinds(f.cycle(61*time.Second, nil)); got != "survey" {
		t.Errorf("full fleet cycle = %s, want survey", got)
	}
	// Every cycle is in the history, newest first, with its plan, results and status changes.
	cycles, err := f.st.Cycles(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cycles) < 5 {
		t.Fatalf("%d cycles recorded", len(cycles))
	}
	first := cycles[len(cycles)-1]
	if !strings.Contains(string(first.Plan), `"kind":"add"`) || !strings.Contains(string(first.Plan), `"reason":"add new node (1/1)"`) ||
		!strings.Contains(string(first.Results), `"ok":true`) || first.NodeCount != 0 || first.CPUPercent != 10 {
		t.Errorf("first cycle row: plan %s results %s nodes %d cpu %v", first.Plan, first.Results, first.NodeCount, first.CPUPercent)
	}
	if !strings.Contains(string(cycles[0].Plan), `"kind":"survey"`) || cycles[0].NodeCount != 3 {
		t.Errorf("last cycle row: plan %s nodes %d", cycles[0].Plan, cycles[0].NodeCount)
	}
	var sawChange bool
	for _, c := range cycles {
		sawChange = sawChange || strings.Contains(string(c.Changes), `"to":"RUNNING"`)
	}
	if !sawChange {
		t.Error("no cycle recorded a node becoming RUNNING")
	}
}

func TestLoweringCapRemovesYoungest(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 3; c.MaxStarts, c.MaxOperations = 3, 3 })
	f.grow()
	pids := map[int]int{1: f.pid(1), 2: f.pid(2), 3: f.pid(3)}
	// The same run that lowers node_cap uses it.
	r := f.cycle(61*time.Second, func(c *config.Config) { c.NodeCap = 1 })
	if got := kinds(r); got != "remove3" {
		t.Fatalf("after lowering the cap: %s, want remove3 (youngest first, one at a time)", got)
	}
	for i := 0; i < 10 && len(f.nodes()) > 1; i++ {
		f.cycle(61*time.Second, nil)
	}
	if got := f.statuses(); got != "1:RUNNING" {
		t.Fatalf("statuses = %s, want 1:RUNNING", got)
	}
	for _, id := range []int{2, 3} {
		if alive(pids[id]) {
			t.Errorf("node %d (pid %d) still runs", id, pids[id])
		}
		if _, err := os.Stat(filepath.Join(f.cfg.NodeStorage, fmt.Sprintf("antnode%04d", id))); !os.IsNotExist(err) {
			t.Errorf("node %d directory still exists (%v)", id, err)
		}
	}
	if !alive(pids[1]) {
		t.Error("node 1 was stopped")
	}
}

func TestUpgradeRollsThroughFleet(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 3; c.MaxStarts, c.MaxOperations, c.MaxUpgrades = 3, 3, 1 })
	f.grow()
	f.release("0.4.18")
	for i := 0; i < 20; i++ {
		r := f.cycle(61*time.Second, nil)
		upgrading := 0
		for _, n := range f.nodes() {
			if n.Status == store.StatusUpgrading {
				upgrading++
			}
		}
		if upgrading > 1 {
			t.Fatalf("%d nodes upgrading at once, limit 1", upgrading)
		}
		for id := range f.nodes() {
			f.waitUp(id)
		}
		if kinds(r) == "survey" && r.Plan.Counts.Running == 3 {
			break
		}
	}
	for id := 1; id <= 3; id++ {
		if md := f.get(id, "/metadata"); !strings.Contains(md, `antnode_version="0.4.18"`) {
			t.Errorf("node %d metadata: %q", id, md)
		}
		if n := f.nodes()[id]; n.Version != "0.4.18" || n.Status != store.StatusRunning {
			t.Errorf("node %d: %s %s", id, n.Version, n.Status)
		}
	}
}

func TestKilledNodeIsRestarted(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 2; c.MaxStarts, c.MaxOperations = 2, 2 })
	f.grow()
	old := f.pid(2)
	syscall.Kill(old, syscall.SIGKILL)
	f.waitDown(2)
	r := f.cycle(61*time.Second, nil)
	if got := kinds(r); got != "start2" {
		t.Fatalf("after SIGKILL: %s, want start2", got)
	}
	if !hasTransition(r, 2, decide.Stopped) {
		t.Errorf("node 2 was not seen STOPPED: %v", r.Plan.Transitions)
	}
	f.waitUp(2)
	if p := f.pid(2); p == old || !alive(p) {
		t.Errorf("node 2 pid %d (old %d) not restarted", p, old)
	}
}

func hasTransition(r *Result, id int, to decide.Status) bool {
	for _, tr := range r.Plan.Transitions {
		if tr.Node == id && tr.To == to {
			return true
		}
	}
	return false
}

func TestVanishedNodeIsRemovedAsDead(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 2; c.MaxStarts, c.MaxOperations = 2, 2 })
	f.grow()
	pid := f.pid(2)
	syscall.Kill(pid, syscall.SIGKILL)
	if err := os.RemoveAll(filepath.Join(f.cfg.NodeStorage, "antnode0002")); err != nil {
		t.Fatal(err)
	}
	f.waitDown(2)
	r := f.cycle(61*time.Second, nil)
	if !hasTransition(r, 2, decide.Dead) || !strings.Contains(kinds(r), "remove2") {
		t.Fatalf("plan %s, transitions %v: want node 2 DEAD and removed", kinds(r), r.Plan.Transitions)
	}
	if _, ok := f.nodes()[2]; ok {
		t.Errorf("dead node 2 still has a row: %s", f.statuses())
	}
}

func TestRebootTriggersOneResurvey(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1 })
	f.cycle(time.Second, nil)
	f.waitUp(1)
	f.boot = f.boot.Add(2 * time.Hour)
	if got := kinds(f.cycle(61*time.Second, nil)); got != "resurvey" {
		t.Fatalf("after a boot time change: %s, want resurvey", got)
	}
	if got := kinds(f.cycle(61*time.Second, nil)); got == "resurvey" {
		t.Fatalf("second cycle after the reboot resurveyed again")
	}
	// A second of jitter is no reboot.
	f.boot = f.boot.Add(time.Second)
	if got := kinds(f.cycle(61*time.Second, nil)); got == "resurvey" {
		t.Fatalf("one second of boot time jitter caused a resurvey")
	}
}

func TestHangingNodeDoesNotStallCycle(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 2; c.MaxStarts, c.MaxOperations = 2, 2; c.SurveyTimeout = 500 })
	f.grow()
	// SIGSTOP node 2: the kernel still accepts connections on its metrics port, nobody answers.
	pid := f.pid(2)
	syscall.Kill(pid, syscall.SIGSTOP)
	defer syscall.Kill(pid, syscall.SIGCONT)
	start := time.Now()
	r := f.cycle(61*time.Second, nil)
	if took := time.Since(start); took > 20*time.Second { // without survey_timeout it waits for good
		t.Errorf("cycle with a hanging node took %v", took)
	}
	if !hasTransition(r, 2, decide.Stopped) {
		t.Errorf("hanging node 2 not seen down: %v", r.Plan.Transitions)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 2 })
	f.cycle(time.Second, nil)
	f.waitUp(1)
	f.st.Close()
	before, err := os.ReadFile(f.cfg.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), f.cfg.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	pid := f.pid(1)
	r := f.cycle(61*time.Second, func(c *config.Config) { c.DryRun = true; c.NodeCap = 0 })
	if got := kinds(r); !strings.Contains(got, "remove1") {
		t.Fatalf("dry run planned %s, want remove1", got)
	}
	st.Close()
	after, err := os.ReadFile(f.cfg.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("dry run changed the database")
	}
	if !alive(pid) || f.pid(1) != pid {
		t.Error("dry run stopped node 1")
	}
	f.st, _ = store.Open(context.Background(), f.cfg.DBPath)
}

// A node that upgrades itself exits 0 (--stop-on-upgrade); the next cycle starts it again on its new
// binary, and wnm does not downgrade it to the older antnode_path.
func TestSelfUpgradedNodeIsRestarted(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "antnode-0.4.18")
	f := newFleet(t, func(c *config.Config) {
		c.NodeCap = 1
		c.Environment = "FAKEANTNODE_SELF_UPGRADE_AFTER=500ms FAKEANTNODE_UPGRADE_FROM=" + newer
	})
	fakeantnode.Release(t, f.bin, "0.4.18", newer)
	f.cycle(time.Second, nil)
	f.waitUp(1)
	old := f.pid(1)
	poll.Until(t, 15*time.Second, "node 1 to stop after its self-upgrade", func() bool { return !alive(old) })
	r := f.cycle(61*time.Second, nil)
	if got := kinds(r); got != "start1" {
		t.Fatalf("after the self-upgrade exit: %s, want start1", got)
	}
	f.waitUp(1)
	if md := f.get(1, "/metadata"); !strings.Contains(md, `antnode_version="0.4.18"`) {
		t.Errorf("restarted node runs %q, want 0.4.18", md)
	}
	for i := 0; i < 3; i++ {
		if got := kinds(f.cycle(61*time.Second, nil)); got != "survey" {
			t.Errorf("cycle after the self-upgrade: %s, want survey (no downgrade)", got)
		}
	}
}

// A node that cannot start makes its add fail, and the failed add leaves no row and no files.
func TestFailedAddLeavesNothing(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 1; c.Environment = "FAKEANTNODE_CRASH_AFTER=1ms" })
	f.now = f.now.Add(time.Second)
	r, err := Run(context.Background(), Options{Store: f.st, Config: f.cfg, Platform: f.plat, Logger: f.log,
		Now: func() time.Time { return f.now }, Survey: f.pinned, HeldPorts: func(context.Context) (map[int]bool, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 1 || r.Results[0].Kind != decide.Add || r.Results[0].OK {
		t.Fatalf("results %+v, want one failed add", r.Results)
	}
	if n := f.nodes(); len(n) != 0 {
		t.Errorf("rows after a failed add: %v", n)
	}
	for _, dir := range []string{filepath.Join(f.cfg.NodeStorage, "antnode0001"), filepath.Join(f.plat.Dirs().Logs, "antnode0001")} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s left behind (%v)", dir, err)
		}
	}
	cycles, _ := f.st.Cycles(context.Background(), 1)
	if len(cycles) != 1 || !strings.Contains(string(cycles[0].Results), `"ok":false`) {
		t.Errorf("the failure is not in the cycle history: %+v", cycles)
	}
}

// A cycle killed between an add's intent and its end leaves a row marked "add"; the next cycle
// undoes it (no process runs for it), and finishes an interrupted remove.
func TestInterruptedActionsAreReconciled(t *testing.T) {
	f := newFleet(t, func(c *config.Config) { c.NodeCap = 2; c.MaxStarts, c.MaxOperations = 2, 2 })
	f.grow()
	ctx := context.Background()
	// Node 2 was being removed when the cycle died: its row says so, its process still runs.
	pid2 := f.pid(2)
	err := f.st.Write(ctx, func(w *store.Writer) error {
		n, err := w.Node(2)
		if err != nil {
			return err
		}
		n.WNMIntent, n.WNMIntentAt = "remove", f.now.UnixMilli()
		if err := w.UpdateNode(n); err != nil {
			return err
		}
		// Node 3 was being added: a row and a directory, but no process.
		n3 := n
		n3.ID, n3.NodeName, n3.Service = 3, "0003", "antnode0003.service"
		n3.RootDir, n3.Binary = filepath.Join(f.cfg.NodeStorage, "antnode0003"), filepath.Join(f.cfg.NodeStorage, "antnode0003", "antnode")
		n3.Port, n3.MetricsPort, n3.WNMIntent = f.cfg.PortStart*1000+3, f.cfg.MetricsPortStart*1000+3, "add"
		return w.InsertNode(n3)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(f.cfg.NodeStorage, "antnode0003"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.cycle(61*time.Second, nil)
	nodes := f.nodes()
	if _, ok := nodes[3]; ok {
		t.Error("the interrupted add still has a row")
	}
	if _, err := os.Stat(filepath.Join(f.cfg.NodeStorage, "antnode0003")); !os.IsNotExist(err) {
		t.Errorf("the interrupted add left its directory (%v)", err)
	}
	if n, ok := nodes[2]; ok && (n.Status != store.StatusRemoving || n.WNMIntent != "") {
		t.Errorf("interrupted remove: node 2 is %s with intent %q", n.Status, n.WNMIntent)
	}
	if alive(pid2) {
		t.Error("the interrupted remove left node 2 running")
	}
	if _, err := os.Stat(filepath.Join(f.cfg.NodeStorage, "antnode0002")); !os.IsNotExist(err) {
		t.Errorf("the interrupted remove left node 2's directory (%v)", err)
	}
}
