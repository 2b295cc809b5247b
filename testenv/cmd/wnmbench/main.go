// Command wnmbench measures wnm as an operator runs it and prints one table, with a goal and a
// verdict per row: the start-up of `wnm --version`, and idle cycles (`wnm run`, nothing to do) on
// fleets of real fake-antnode processes that answer /metrics with a captured real antnode answer.
//
// Every figure is the median of several runs of the real binary. The start-up of a Go program
// that does nothing (this one, with "noop") is measured in the same run, so that a reader on a
// busy machine can compare ratios. The fleets run in a scratch directory that is removed at exit,
// with every process under it killed, also on SIGINT or SIGTERM. Only loopback is used.
//
// Usage:
//
//	wnmbench -wnm BIN -fake BIN -capture FILE [-nodes 50,1000] [-cycles 5] [-starts 30]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "noop" {
		return
	}
	os.Exit(run())
}

type options struct {
	wnm, fake, capture string
	base               string // an earlier wnm to compare with, measured interleaved; "" for none
	nodes              []int
	cycles, starts     int
	portBase           int
	keep               bool
	pause              time.Duration
	profile            string
}

// goals are the targets of the table's rows, by fleet size.
var cycleGoals = map[int]time.Duration{50: 120 * time.Millisecond, 1000: 400 * time.Millisecond}

const startGoal = 10 * time.Millisecond

func run() int {
	var o options
	var nodes string
	flag.StringVar(&o.wnm, "wnm", "", "the wnm binary")
	flag.StringVar(&o.fake, "fake", "", "the fakeantnode binary")
	flag.StringVar(&o.base, "base", "", "an earlier wnm binary to compare with: its start-ups alternate with -wnm's, its cycles run first on the same fleet")
	flag.StringVar(&o.capture, "capture", "", "a captured antnode /metrics answer, served by every fake node")
	flag.StringVar(&nodes, "nodes", "50,1000", "fleet sizes, comma-separated")
	flag.IntVar(&o.cycles, "cycles", 5, "idle cycles measured per fleet")
	flag.IntVar(&o.starts, "starts", 30, "start-ups measured")
	flag.IntVar(&o.portBase, "port-base", 0, "first thousand of the port ranges (0 picks a free one)")
	flag.DurationVar(&o.pause, "pause", time.Second, "pause before each measured cycle (at least survey.MinRateWindow, as between timer ticks)")
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch directory (the processes are still stopped)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of each measured cycle into this directory (wnm run --cpuprofile)")
	flag.Parse()
	for _, s := range strings.Split(nodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 9000 {
			fmt.Fprintf(os.Stderr, "wnmbench: -nodes %q: want sizes from 1 to 9000\n", nodes)
			return 2
		}
		o.nodes = append(o.nodes, n)
	}
	for _, p := range []*string{&o.wnm, &o.fake, &o.capture, &o.profile, &o.base} {
		if (p == &o.profile || p == &o.base) && *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil || *p == "" {
			fmt.Fprintln(os.Stderr, "wnmbench: -wnm, -fake and -capture are required")
			return 2
		}
		*p = abs
	}
	if _, err := os.Stat(o.capture); err != nil {
		fmt.Fprintf(os.Stderr, "wnmbench: -capture: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rows []row
	self, _ := os.Executable()
	bins := [][]string{{self, "noop"}, {o.wnm, "--version"}, {o.wnm, "--help"}}
	if o.base != "" {
		bins = append(bins, []string{o.base, "--version"}, []string{o.base, "--help"})
	}
	starts := medianStarts(ctx, o.starts, bins)
	ref, st, hs := starts[0], starts[1], starts[2]
	var bst, bhs sample
	if o.base != "" {
		bst, bhs = starts[3], starts[4]
	}
	rows = append(rows, row{name: "reference: a Go program that does nothing", value: ms(ref.wall), note: fmt.Sprintf("%d page faults", ref.faults)})
	rows = append(rows, row{name: "wnm --version", before: ms(bst.wall), value: ms(st.wall), goal: "< " + ms(startGoal), pass: verdict(st.wall < startGoal),
		note: fmt.Sprintf("%.1f× the reference (before: %.1f×); %d page faults (before: %d); peak RSS %d KB",
			ratio(st.wall, ref.wall), ratio(bst.wall, ref.wall), st.faults, bst.faults, st.rss)})
	rows = append(rows, row{name: "wnm --help", before: ms(bhs.wall), value: ms(hs.wall),
		note: fmt.Sprintf("%.1f× the reference (before: %.1f×); %d page faults (before: %d)", ratio(hs.wall, ref.wall), ratio(bhs.wall, ref.wall), hs.faults, bhs.faults)})
	failed := false
	for _, n := range o.nodes {
		if ctx.Err() != nil {
			break
		}
		fr, err := benchFleet(ctx, o, n)
		if err != nil {
			fmt.Fprintf(os.Stderr, "wnmbench: %d nodes: %v\n", n, err)
			failed = true
			rows = append(rows, row{name: fmt.Sprintf("idle cycle, %d nodes", n), value: "failed", pass: "FAIL"})
			continue
		}
		goal, ok := cycleGoals[n]
		b := fr.base
		name := fmt.Sprintf("idle cycle, %d nodes, steady state", n)
		if fr.nodes != n {
			name = fmt.Sprintf("idle cycle, %d nodes (%d: host full)", n, fr.nodes)
		}
		r := row{name: name, before: secs(b.wall), value: secs(fr.wall),
			note: fmt.Sprintf("survey %s (before: %s); %.0f× the reference", secs(fr.survey), secs(b.survey), ratio(fr.wall, ref.wall))}
		if ok {
			r.goal, r.pass = "< "+secs(goal), verdict(fr.wall < goal)
		}
		rows = append(rows, r,
			row{name: fmt.Sprintf("  wnm's CPU per cycle, %d nodes", n), before: secs(b.cpu), value: secs(fr.cpu),
				note: fmt.Sprintf("the nodes answering: %s (before: %s); with %d CPUs the cycle cannot take less than %s",
					secs(fr.nodesCPU), secs(b.nodesCPU), runtime.NumCPU(), secs((fr.cpu+fr.nodesCPU)/time.Duration(runtime.NumCPU())))},
			row{name: fmt.Sprintf("  written per cycle, %d nodes", n), before: kb(b.wchar), value: kb(fr.wchar),
				note: fmt.Sprintf("write calls; %s reached the disk (before: %s)", kb(fr.disk), kb(b.disk))},
			row{name: fmt.Sprintf("  peak RSS, %d nodes", n), before: rssKB(b.rss), value: rssKB(fr.rss),
				note: fmt.Sprintf("one fake node: %d KB resident, %d KB of it private", fr.fakeRSS[0], fr.fakeRSS[1])})
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nwnm benchmark: medians of %d start-ups and %d idle cycles; %d CPUs; load average %s\n",
		o.starts, o.cycles, runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	printTable(os.Stdout, rows, o.base != "")
	for _, r := range rows {
		if r.pass == "FAIL" {
			failed = true
		}
	}
	if ctx.Err() != nil {
		return 130
	}
	if failed {
		return 1
	}
	return 0
}

func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

type row struct{ name, before, value, goal, pass, note string }

// printTable prints the rows, with the "before" column when before is set.
func printTable(w io.Writer, rows []row, before bool) {
	width := 4
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	line := func(r row) {
		if before {
			fmt.Fprintf(w, "%-*s  %10s  %10s  %10s  %-4s  %s\n", width, r.name, r.before, r.value, r.goal, r.pass, r.note)
		} else {
			fmt.Fprintf(w, "%-*s  %10s  %10s  %-4s  %s\n", width, r.name, r.value, r.goal, r.pass, r.note)
		}
	}
	line(row{name: "case", before: "before", value: "wnm", goal: "goal", note: "notes"})
	for _, r := range rows {
		if !before {
			r.note = stripBefore(r.note)
		} else if r.name == rows[0].name {
			r.before = ""
		}
		line(r)
	}
}

// stripBefore drops the "(before: …)" parts of a note when nothing was compared.
func stripBefore(s string) string {
	for {
		i := strings.Index(s, " (before: ")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return s
		}
		s = s[:i] + s[i+j+1:]
	}
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func rssKB(kb int64) string { return fmt.Sprintf("%d KB", kb) }

func ms(d time.Duration) string   { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func secs(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
func kb(b int64) string {
	if b < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f KB", float64(b)/1000)
}

type sample struct {
	wall   time.Duration
	rss    int64 // KB
	faults int64 // minor page faults: on a VM these cost tens of µs each, and they do not depend on the load
}

// medianStarts runs each command n times (after two warm-up rounds), one command after the other
// in each round so that a change in the machine's load touches them alike, and returns each one's
// median wall time and median peak RSS.
func medianStarts(ctx context.Context, n int, cmds [][]string) []sample {
	walls := make([][]time.Duration, len(cmds))
	rss := make([][]int64, len(cmds))
	faults := make([][]int64, len(cmds))
	for i := 0; i < n+2 && ctx.Err() == nil; i++ {
		for j, c := range cmds {
			cmd := exec.Command(c[0], c[1:]...)
			cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
			t := time.Now()
			err := cmd.Run()
			d := time.Since(t)
			if err != nil {
				fmt.Fprintf(os.Stderr, "wnmbench: %s: %v\n", strings.Join(c, " "), err)
			}
			if i >= 2 {
				walls[j] = append(walls[j], d)
				rss[j] = append(rss[j], maxRSS(cmd.ProcessState))
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					faults[j] = append(faults[j], ru.Minflt)
				}
			}
		}
	}
	out := make([]sample, len(cmds))
	for j := range cmds {
		out[j] = sample{wall: median(walls[j]), rss: median(rss[j]), faults: median(faults[j])}
	}
	return out
}

func median[T int64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

func oublock(ps *os.ProcessState) int64 {
	if ps == nil {
		return -1
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Oublock * 512
	}
	return -1
}

type fleetResult struct {
	cycleFigures
	base    cycleFigures // the -base binary's, when given
	nodes   int          // the fleet's size: n, or less when the host's limits stopped it
	fakeRSS [2]int64     // resident, private (anonymous)
}

// cycleFigures are the medians of one binary's idle cycles.
type cycleFigures struct {
	wall, survey time.Duration
	wchar, disk  int64
	rss          int64
	// cpu is wnm's own CPU time (user and system) per cycle; nodesCPU is what the fake nodes
	// spent meanwhile, answering its requests. On a machine with few CPUs the two share them,
	// so together they bound how short the wall time can be.
	cpu, nodesCPU time.Duration
}

// benchFleet builds a fleet of n fake nodes with wnm itself in a scratch HOME, waits for the
// steady state, then measures idle cycles. Everything it started is killed before it returns.
func benchFleet(ctx context.Context, o options, n int) (res fleetResult, err error) {
	scratch, err := os.MkdirTemp("", "wnm-bench-")
	if err != nil {
		return res, err
	}
	defer func() {
		killUnder(scratch)
		if o.keep {
			fmt.Fprintf(os.Stderr, "wnmbench: kept %s\n", scratch)
		} else {
			os.RemoveAll(scratch)
		}
	}()
	home := filepath.Join(scratch, "home")
	if err := os.MkdirAll(filepath.Join(home, ".local", "bin"), 0o755); err != nil {
		return res, err
	}
	env := append(cleanEnv(), "HOME="+home)
	// Bringing a fleet up takes minutes: wnm copies (and syncs) the node binary for every node it
	// adds, one after the other. A measured cycle takes seconds at most.
	// With -base the older wnm creates and grows the fleet: a newer one may migrate the database
	// beyond what the older can open.
	bin, timeout := o.wnm, time.Hour
	if o.base != "" {
		bin = o.base
	}
	wnm := func(args ...string) ([]byte, *os.ProcessState, time.Duration, error) {
		c, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(c, bin, args...)
		cmd.Env, cmd.Dir = env, home
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		t := time.Now()
		err := cmd.Run()
		d := time.Since(t)
		if err != nil {
			err = fmt.Errorf("wnm %s: %w\n%s", strings.Join(args, " "), err, tail(out.String(), 20))
		}
		return out.Bytes(), cmd.ProcessState, d, err
	}
	antnode := filepath.Join(home, ".local", "bin", "antnode")
	if out, err := exec.Command(o.fake, "release", "--version", "0.4.17", "--out", antnode).CombinedOutput(); err != nil {
		return res, fmt.Errorf("fakeantnode release: %w: %s", err, out)
	}
	base := o.portBase
	if base == 0 {
		base = freeBase(n)
	}
	// Every threshold is out of reach, so that the machine's own load (this host is shared) never
	// makes a cycle add, remove or stop a node: once the fleet runs, each cycle is idle.
	_, _, _, err = wnm("init", "--rewards_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"--process_manager", "setsid+user", "--node_cap", strconv.Itoa(n),
		"--port_start", strconv.Itoa(base), "--metrics_port_start", strconv.Itoa(base+portSpan(n)), "--rpc_port_start", strconv.Itoa(base+2*portSpan(n)),
		"--delay_start", "1", "--max_concurrent_starts", strconv.Itoa(n), "--max_concurrent_operations", strconv.Itoa(n),
		"--cpu_less_than", "100", "--cpu_remove", "100", "--mem_less_than", "100", "--mem_remove", "100",
		"--hd_less_than", "100", "--hd_remove", "100", "--desired_load_average", "100000", "--max_load_average_allowed", "100000",
		"--environment", "FAKEANTNODE_METRICS_FILE="+o.capture+" GOMAXPROCS=1 GOGC=50",
		// On a loaded machine a thousand fake nodes may take seconds to be scheduled and answer;
		// the default 2 s would then mark some stopped and restart them, and the fleet would
		// never settle. An idle cycle on a quiet machine waits for none of this.
		"--survey_timeout", "10000",
		"--loglevel", "ERROR")
	if err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "wnmbench: starting %d fake nodes (ports %d001…)\n", n, base)
	// The fleet is steady when a cycle is idle with every node running: at n nodes, or, when the
	// host's limits stop the growth (a shared machine whose CPU reads 100 % blocks every add),
	// after three idle cycles at the same size of at least 90 % of n, which the table then names.
	steady, same := false, 0
	for i := 0; i < 40 && ctx.Err() == nil && !steady; i++ {
		out, _, _, err := wnm("run", "--loglevel", "INFO")
		if err != nil {
			return res, err
		}
		line := cycleLine(out)
		total, _ := strconv.Atoi(field(line, "nodes"))
		running, _ := strconv.Atoi(field(line, "running"))
		switch {
		case !strings.Contains(line, "actions=[survey]") || running != total:
			same = 0
		case total == n:
			steady = true
		case total == res.nodes:
			same++
			steady = same >= 2 && total*10 >= n*9
		default:
			same = 0
		}
		res.nodes = total
		if !steady {
			time.Sleep(time.Second)
		}
	}
	if !steady {
		out, _, _, _ := wnm("status")
		return res, fmt.Errorf("the fleet did not reach %d running nodes in 40 cycles:\n%s", n, tail(string(out), 3))
	}
	if res.nodes != n {
		fmt.Fprintf(os.Stderr, "wnmbench: the fleet stopped growing at %d of %d nodes (the host's limits; see wnm history)\n", res.nodes, n)
	}
	res.fakeRSS = fakeRSS(scratch)
	fmt.Fprintf(os.Stderr, "wnmbench: %d nodes running; measuring %d idle cycles\n", n, o.cycles)
	timeout = 5 * time.Minute
	type series struct {
		walls, surveys, cpus, nodeCPUs []time.Duration
		wchars, disks, rss             []int64
	}
	var now, before series
	measure := func(b string, s *series, i int) error {
		// The timer starts a cycle a minute after the last, so a steady-state cycle takes its CPU
		// and I/O rates over the whole minute from the previous cycle's counters. Back to back,
		// the previous counters would be younger than survey.MinRateWindow and the cycle would
		// wait out the rest of that window, which no timer-driven cycle does. A pause of a second
		// is enough for the previous counters to count.
		time.Sleep(o.pause)
		bin = b
		args := []string{"run", "--loglevel", "INFO"}
		if o.profile != "" && b == o.wnm {
			args = append(args, "--cpuprofile", filepath.Join(o.profile, fmt.Sprintf("cycle-%d-%d.pprof", n, i+1)))
		}
		nodesBefore := cpuUnder(scratch)
		out, ps, d, err := wnm(args...)
		if err != nil {
			return err
		}
		s.nodeCPUs = append(s.nodeCPUs, cpuUnder(scratch)-nodesBefore)
		s.cpus = append(s.cpus, ps.UserTime()+ps.SystemTime())
		line := cycleLine(out)
		if !strings.Contains(line, "actions=[survey]") || !strings.Contains(line, fmt.Sprintf(" running=%d ", res.nodes)) {
			return fmt.Errorf("cycle %d of %s was not idle: %s", i+1, b, line)
		}
		s.walls = append(s.walls, d)
		sv, _ := strconv.ParseFloat(field(line, "survey_seconds"), 64)
		s.surveys = append(s.surveys, time.Duration(sv*float64(time.Second)))
		w, err := strconv.ParseInt(field(line, "wchar"), 10, 64)
		if err != nil {
			w = -1
		}
		s.wchars = append(s.wchars, w)
		s.disks = append(s.disks, oublock(ps))
		s.rss = append(s.rss, maxRSS(ps))
		fmt.Fprintf(os.Stderr, "wnmbench: %d nodes, cycle %d of %s: %s\n", n, i+1, b, secs(d))
		return nil
	}
	// The older wnm's cycles first, then one unmeasured cycle of this tree's (it may migrate the
	// database), then its measured cycles.
	if o.base != "" {
		for i := 0; i < o.cycles && ctx.Err() == nil; i++ {
			if err := measure(o.base, &before, i); err != nil {
				return res, err
			}
		}
		bin = o.wnm
		if _, _, _, err := wnm("run", "--loglevel", "ERROR"); err != nil {
			return res, err
		}
	}
	for i := 0; i < o.cycles && ctx.Err() == nil; i++ {
		if err := measure(o.wnm, &now, i); err != nil {
			return res, err
		}
	}
	figures := func(s series) cycleFigures {
		return cycleFigures{wall: median(s.walls), survey: median(s.surveys), wchar: median(s.wchars), disk: median(s.disks), rss: median(s.rss),
			cpu: median(s.cpus), nodesCPU: median(s.nodeCPUs)}
	}
	res.cycleFigures, res.base = figures(now), figures(before)
	return res, ctx.Err()
}

// cleanEnv is this process's environment without HOME and wnm's own variables, so that the
// operator's settings do not leak into the benchmark.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "WNM_") || k == "XDG_CONFIG_HOME" || k == "XDG_DATA_HOME" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func cycleLine(out []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := ""
	for sc.Scan() {
		if strings.Contains(sc.Text(), " msg=cycle ") {
			line = sc.Text()
		}
	}
	return line
}

func field(line, name string) string {
	i := strings.Index(line, " "+name+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(name)+2:]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// freeBase picks the first thousand from 20 up whose three port ranges (node, metrics, RPC) hold
// no listening TCP port, so that the benchmark does not meet another fleet on this machine.
func freeBase(n int) int {
	used := listening()
	span := portSpan(n)
	for base := 20; base+3*span <= 32; base += 3 * span {
		clash := false
		for p := base * 1000; p < (base+3*span)*1000 && !clash; p++ {
			clash = used[p]
		}
		if !clash {
			return base
		}
	}
	return 20
}

// portSpan is how many thousands apart the fleet's node, metrics and RPC port ranges start: room
// for ids up to twice n, so that ids skipped because something else holds one of their ports
// leave enough for n nodes. The ranges stay below 32768, where Linux starts handing out the
// ephemeral ports of outgoing connections.
func portSpan(n int) int { return 2*n/1000 + 1 }

// listening reads the TCP ports in LISTEN state from /proc/net/tcp{,6}.
func listening() map[int]bool {
	used := map[int]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(l)
			if len(fs) < 4 || fs[3] != "0A" {
				continue
			}
			_, port, _ := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(port, 16, 32); err == nil {
				used[int(p)] = true
			}
		}
	}
	return used
}

// underScratch lists the processes whose executable lies under dir.
func underScratch(dir string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		if strings.HasPrefix(exe, dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cpuUnder is the CPU time (user and system) the processes whose executable lies under dir have
// used so far, from /proc/<pid>/stat.
func cpuUnder(dir string) time.Duration {
	var ticks int64
	for _, pid := range underScratch(dir) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses and may hold spaces: utime
		// and stime are the 12th and 13th of them.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 == nil && err2 == nil {
			ticks += u + st
		}
	}
	// The kernel reports USER_HZ ticks, 100 per second on every Linux architecture Go supports.
	return time.Duration(ticks) * (time.Second / 100)
}

// killUnder stops every process whose executable lies under dir: SIGTERM, then SIGKILL for those
// left after five seconds.
func killUnder(dir string) {
	pids := underScratch(dir)
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(pids) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		pids = underScratch(dir)
	}
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
	if len(pids) > 0 {
		time.Sleep(200 * time.Millisecond)
	}
	if left := underScratch(dir); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "wnmbench: %d processes under %s survived SIGKILL: %v\n", len(left), dir, left)
	}
}

// fakeRSS is the median resident set of the fake nodes under dir and the median of its private
// (anonymous) part, in KB. The rest is the executable's pages, shared by every node.
func fakeRSS(dir string) [2]int64 {
	var rss, anon []int64
	for _, pid := range underScratch(dir) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(l, ":")
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch {
			case err != nil:
			case k == "VmRSS":
				rss = append(rss, n)
			case k == "RssAnon":
				anon = append(anon, n)
			}
		}
	}
	return [2]int64{median(rss), median(anon)}
}
