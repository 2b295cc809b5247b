package fakeantnode_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/worker/survey/openmetrics"
)

const rewards = "0x1234567890abcdef1234567890abcdef12345678"

// proc is a running fake antnode whose stdout is read line by line.
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	stderr  syncBuffer

	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced whenever a line arrives or stdout ends
	eof   bool

	done    chan struct{}
	waitErr error
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs bin with args and extra environment (FAKEANTNODE_* variables of the test process
// are dropped) and stops it with SIGKILL when the test ends, if it still runs.
func start(t testing.TB, bin string, env []string, args ...string) *proc {
	t.Helper()
	var (
		cmd *exec.Cmd
		p   *proc
		out io.ReadCloser
		err error
	)
	// A binary the test has just copied can still be open for writing in a child that a parallel
	// test forked in between (the descriptor lives until that child's exec), and exec then fails
	// with ETXTBSY: try again while that lasts.
	poll.Wait(5*time.Second, 10*time.Millisecond, func() bool {
		cmd = exec.Command(bin, args...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "FAKEANTNODE_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
		p = &proc{cmd: cmd, more: make(chan struct{}), done: make(chan struct{})}
		cmd.Stderr = &p.stderr
		if out, err = cmd.StdoutPipe(); err != nil {
			t.Fatal(err)
		}
		p.started = time.Now()
		err = cmd.Start()
		return !errors.Is(err, syscall.ETXTBSY)
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.eof = true
		close(p.more)
		p.mu.Unlock()
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// line waits for a stdout line starting with prefix and returns it.
func (p *proc) line(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for i := 0; ; {
		p.mu.Lock()
		for ; i < len(p.lines); i++ {
			if strings.HasPrefix(p.lines[i], prefix) {
				l := p.lines[i]
				p.mu.Unlock()
				return l
			}
		}
		more, eof := p.more, p.eof
		p.mu.Unlock()
		if eof {
			t.Fatalf("stdout ended without a line starting with %q; stdout %q, stderr %q", prefix, p.output(), p.stderr.String())
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no stdout line starting with %q within %v; stdout %q", prefix, timeout, p.output())
		}
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// exit waits for the process to end and returns its exit code and how long the wait took.
func (p *proc) exit(t testing.TB, timeout time.Duration) (int, time.Duration) {
	t.Helper()
	begin := time.Now()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("process still running after %v; stdout %q", timeout, p.output())
	}
	took := time.Since(begin)
	var ee *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0, took
	case errors.As(p.waitErr, &ee):
		return ee.ExitCode(), took
	}
	t.Fatalf("wait: %v", p.waitErr)
	return 0, 0
}

func (p *proc) signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// metricsPort reads the metrics port from the "Metrics server on" line.
func (p *proc) metricsPort(t testing.TB) int {
	t.Helper()
	l := p.line(t, "Metrics server on ", 10*time.Second)
	m := regexp.MustCompile(`^Metrics server on http://127\.0\.0\.1:(\d+)/metrics$`).FindStringSubmatch(l)
	if m == nil {
		t.Fatalf("bad metrics line %q", l)
	}
	port, _ := strconv.Atoi(m[1])
	return port
}

// nodeArgs is a typical node command line; extra flags go before the EVM subcommand.
func nodeArgs(root string, extra ...string) []string {
	args := []string{"--rewards-address", rewards, "--root-dir", root, "--enable-metrics-server"}
	args = append(args, extra...)
	return append(args, "evm-arbitrum-one")
}

type response struct {
	status int
	ctype  string
	body   string
}

func fetch(client *http.Client, url string) (response, error) {
	resp, err := client.Get(url)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}, err
}

var quick = &http.Client{Timeout: 2 * time.Second}

// get fetches url, retrying connection errors until timeout (the server may still be starting).
func get(t *testing.T, url string, timeout time.Duration) response {
	t.Helper()
	var r response
	var err error
	if !poll.Wait(timeout, 50*time.Millisecond, func() bool { r, err = fetch(quick, url); return err == nil }) {
		t.Fatalf("GET %s: %v", url, err)
	}
	return r
}

func parse(t *testing.T, body string) map[string]*openmetrics.Family {
	t.Helper()
	fams, err := openmetrics.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("openmetrics.Parse: %v\n%s", err, body)
	}
	return fams
}

// value sums every sample of the family name (a gauge, counter or untyped value).
func value(t *testing.T, fams map[string]*openmetrics.Family, name string) float64 {
	t.Helper()
	mf := fams[name]
	if mf == nil || len(mf.Metrics) == 0 {
		t.Fatalf("metric %s missing", name)
	}
	switch mf.Type {
	case openmetrics.Gauge, openmetrics.Counter, openmetrics.Untyped:
	default:
		t.Fatalf("metric %s: a %s, not a gauge, counter or untyped value", name, mf.Type)
	}
	var sum float64
	for _, m := range mf.Metrics {
		sum += m.Value
	}
	return sum
}

// label is the value of label l on the first sample of the family name.
func label(t *testing.T, fams map[string]*openmetrics.Family, name, l string) string {
	t.Helper()
	if mf := fams[name]; mf != nil && len(mf.Metrics) > 0 {
		for _, lp := range mf.Metrics[0].Labels {
			if lp.Name == l {
				return lp.Value
			}
		}
	}
	t.Fatalf("metric %s{%s} missing", name, l)
	return ""
}

// copyFile copies src to dst with mode 0755, as wnm does when it installs a node binary.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func versionOf(t *testing.T, bin string, env ...string) string {
	t.Helper()
	p := start(t, bin, env, "--version")
	if code, _ := p.exit(t, 10*time.Second); code != 0 {
		t.Fatalf("%s --version exited %d: %s", bin, code, p.stderr.String())
	}
	return p.output()
}

func TestVersion(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()
	text := func(v string) string {
		return "Autonomi Node v" + v + "\nNetwork version: ant/1.0/1\nPackage version: 2026.2.3.2\nGit info: stable / 1a2b3c4 / 2026-02-20"
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the binary to run
		env   []string
		want  string
	}{
		{
			name:  "built default",
			setup: func(t *testing.T, dir string) string { return bin },
			want:  text("0.4.17"),
		},
		{
			name: "version file beside the binary",
			setup: func(t *testing.T, dir string) string {
				b := filepath.Join(dir, "antnode")
				copyFile(t, bin, b)
				if err := os.WriteFile(b+".version", []byte("0.4.18\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return b
			},
			want: text("0.4.18"),
		},
		{
			name: "trailer beats version file",
			setup: func(t *testing.T, dir string) string {
				b := filepath.Join(dir, "antnode")
				fakeantnode.Release(t, bin, "0.5.0", b)
				if err := os.WriteFile(b+".version", []byte("0.4.18\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return b
			},
			want: text("0.5.0"),
		},
		{
			name:  "FAKEANTNODE_VERSION overrides",
			setup: func(t *testing.T, dir string) string { return bin },
			env:   []string{"FAKEANTNODE_VERSION=0.4.10-rc.1"},
			want:  text("0.4.10-rc.1"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.setup(t, t.TempDir())
			if diff := cmp.Diff(tt.want, versionOf(t, b, tt.env...)); diff != "" {
				t.Errorf("%s --version mismatch (-want +got):\n%s", b, diff)
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		env        []string
		wantCode   int
		wantStderr string
		wantStdout string
	}{
		{name: "unknown flag", args: []string{"--rewards-address", rewards, "--frobnicate", "evm-arbitrum-one"}, wantCode: 2, wantStderr: "--frobnicate"},
		{name: "no rewards address", args: []string{"evm-arbitrum-one"}, wantCode: 1, wantStderr: "--rewards-address"},
		{name: "crate version needs rewards address", args: []string{"--crate-version"}, wantCode: 1, wantStderr: "--rewards-address"},
		{name: "crate version", args: []string{"--rewards-address", rewards, "--crate-version"}, wantStdout: "Crate version: 0.4.17"},
		{name: "protocol version", args: []string{"--rewards-address", rewards, "--protocol-version", "--network-id", "2"}, wantStdout: "Network version: ant/1.0/2"},
		{name: "no EVM network", args: []string{"--rewards-address", rewards, "--root-dir", "unused"}, wantCode: 1, wantStderr: "EVM"},
		{name: "unknown subcommand", args: []string{"--rewards-address", rewards, "evm-mainnet"}, wantCode: 2, wantStderr: "evm-mainnet"},
		{name: "bad knob", args: []string{"--version"}, env: []string{"FAKEANTNODE_CRASH_AFTER=soon"}, wantCode: 2, wantStderr: "FAKEANTNODE_CRASH_AFTER"},
		{name: "release without out", args: []string{"release", "--version", "1"}, wantCode: 2, wantStderr: "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, bin, tt.env, tt.args...)
			code, _ := p.exit(t, 10*time.Second)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr %q", code, tt.wantCode, p.stderr.String())
			}
			if !strings.Contains(p.stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", p.stderr.String(), tt.wantStderr)
			}
			if !strings.Contains(p.output(), tt.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", p.output(), tt.wantStdout)
			}
		})
	}
}

// metricNames are the families a healthy node must serve (those a real antnode publishes), under the
// names openmetrics.Parse gives them: counters with _total.
var metricNames = []string{
	"ant_node_put_record_ok_total",
	"ant_node_put_record_err_total",
	"ant_node_replication_triggered_total",
	"ant_node_peer_added_to_routing_table_total",
	"ant_node_peer_removed_from_routing_table_total",
	"ant_node_current_reward_wallet_balance",
	"ant_node_total_forwarded_rewards",
	"ant_node_uptime",
	"libp2p_bandwidth_bytes_total",
	"libp2p_kad_query_result_get_record_ok_total",
	"ant_networking_records_stored",
	"ant_networking_relay_reservation_health",
	"ant_networking_connected_peers",
	"ant_networking_connected_relay_clients",
	"ant_networking_estimated_network_size",
	"ant_networking_relay_peers_percentage",
	"ant_networking_open_connections",
	"ant_networking_peers_in_routing_table",
	"ant_networking_relay_peers_in_routing_table",
	"ant_networking_shunned_count_total",
	"ant_networking_bad_peers_count_total",
	"ant_networking_node_versions",
	"ant_networking_process_memory_used_mb",
	"ant_networking_process_cpu_usage_percentage",
	"ant_networking_relevant_records",
	"ant_networking_max_records",
	"ant_networking_received_payment_count",
	"ant_networking_live_time",
	"ant_networking_shunned_by_close_group",
	"ant_networking_shunned_by_old_close_group",
}

func TestNode(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()
	root := filepath.Join(t.TempDir(), "antnode0001")
	nodePort := fakeantnode.FreePort(t)
	p := start(t, bin, nil, nodeArgs(root, "--port", strconv.Itoa(nodePort))...)

	for _, want := range []string{"EVM network: ArbitrumOne", "Node started", "PeerId is 12D3KooW"} {
		p.line(t, want, 10*time.Second)
	}
	id := strings.TrimPrefix(p.line(t, "PeerId is ", time.Second), "PeerId is ")
	base := fmt.Sprintf("http://127.0.0.1:%d", p.metricsPort(t))

	t.Run("metrics", func(t *testing.T) {
		r := get(t, base+"/metrics", 10*time.Second)
		if r.status != 200 || r.ctype != "application/openmetrics-text;charset=utf-8;version=1.0.0" {
			t.Fatalf("GET /metrics: status %d, content type %q", r.status, r.ctype)
		}
		if !strings.HasSuffix(r.body, "\n# EOF\n") {
			t.Errorf("/metrics body does not end with # EOF")
		}
		fams := parse(t, r.body)
		var missing []string
		for _, name := range metricNames {
			if fams[name] == nil {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			t.Errorf("/metrics lacks %v; has %v", missing, slices.Sorted(maps.Keys(fams)))
		}
		if label(t, fams, "ant_node_put_record_ok_total", "record_type") != "Chunk" || len(fams["ant_node_put_record_ok_total"].Metrics) < 2 {
			t.Errorf("ant_node_put_record_ok_total has no record_type series: %v", fams["ant_node_put_record_ok_total"])
		}
		if got := value(t, fams, "ant_networking_max_records"); got != 16384 {
			t.Errorf("max_records = %v, want 16384", got)
		}
	})

	t.Run("uptime counts real seconds", func(t *testing.T) {
		var up, elapsed float64
		if !poll.Wait(10*time.Second, 100*time.Millisecond, func() bool {
			up = value(t, parse(t, get(t, base+"/metrics", 5*time.Second).body), "ant_node_uptime")
			elapsed = time.Since(p.started).Seconds()
			if up > elapsed+1 {
				t.Fatalf("uptime %v s after %v s", up, elapsed)
			}
			return up >= 1
		}) {
			t.Fatalf("uptime still %v after %v", up, elapsed)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		r := get(t, base+"/metadata", 5*time.Second)
		fams := parse(t, r.body)
		if got := label(t, fams, "ant_node_antnode_version_info", "antnode_version"); got != "0.4.17" {
			t.Errorf("metadata version %q, want 0.4.17", got)
		}
		if got := label(t, fams, "ant_networking_peer_id_info", "peer_id"); got != id {
			t.Errorf("metadata peer id %q, want %q from stdout", got, id)
		}
		if got := label(t, fams, "ant_networking_identify_protocol_str_info", "identify_protocol_str"); got != "ant/1.0/1" {
			t.Errorf("metadata protocol %q, want ant/1.0/1", got)
		}
	})

	t.Run("metrics_extended", func(t *testing.T) {
		fams := parse(t, get(t, base+"/metrics_extended", 5*time.Second).body)
		for _, name := range []string{"ant_node_uptime", "ant_networking_shunned_count_across_time_frames"} {
			if fams[name] == nil {
				t.Errorf("/metrics_extended lacks %s", name)
			}
		}
	})

	t.Run("other paths", func(t *testing.T) {
		r := get(t, base+"/", 5*time.Second)
		if r.status != 404 || r.body != "Not found try localhost:[port]/metrics" {
			t.Errorf("GET /: %d %q, want 404 and antnode's hint", r.status, r.body)
		}
	})

	t.Run("files", func(t *testing.T) {
		pid, err := os.ReadFile(filepath.Join(root, "antnode.pid"))
		if err != nil || string(pid) != strconv.Itoa(p.cmd.Process.Pid) {
			t.Errorf("antnode.pid = %q, %v; want %d", pid, err, p.cmd.Process.Pid)
		}
		st, err := os.Stat(filepath.Join(root, "secret-key"))
		if err != nil || st.Size() != 32 || st.Mode().Perm() != 0o600 {
			t.Errorf("secret-key: %v, %v; want 32 bytes, mode 0600", st, err)
		}
		log, err := os.ReadFile(filepath.Join(root, "logs", "antnode.log"))
		if err != nil || !strings.Contains(string(log), "node started") {
			t.Errorf("logs/antnode.log = %q, %v; want a start line", log, err)
		}
	})

	t.Run("node port is taken", func(t *testing.T) {
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", nodePort))
		if err == nil {
			pc.Close()
			t.Errorf("UDP port %d is free while the node runs", nodePort)
		}
	})

	p.signal(t, syscall.SIGTERM)
	if code, _ := p.exit(t, 5*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

func TestStopSignals(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			p := start(t, bin, nil, nodeArgs(root)...)
			get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", p.metricsPort(t)), 10*time.Second)
			p.signal(t, sig)
			// A stop that waited on its connections would take the 10 s shutdown grace; a
			// loaded machine may take a few seconds to schedule a quick one.
			code, took := p.exit(t, 20*time.Second)
			if code != 0 || took >= 5*time.Second {
				t.Errorf("after %v: exit code %d in %v, want 0 in under 5s", sig, code, took)
			}
			if _, err := os.Stat(filepath.Join(root, "antnode.pid")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("antnode.pid still there after %v (stat error %v)", sig, err)
			}
		})
	}
}

func TestIdentityIsStable(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()
	root := t.TempDir()
	var ids []string
	var keys [][]byte
	for range 2 {
		p := start(t, bin, nil, nodeArgs(root)...)
		ids = append(ids, strings.TrimPrefix(p.line(t, "PeerId is ", 10*time.Second), "PeerId is "))
		p.metricsPort(t)
		p.signal(t, syscall.SIGTERM)
		if code, _ := p.exit(t, 5*time.Second); code != 0 {
			t.Fatalf("exit code %d, want 0", code)
		}
		key, err := os.ReadFile(filepath.Join(root, "secret-key"))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	if ids[0] != ids[1] || !bytes.Equal(keys[0], keys[1]) {
		t.Errorf("restart changed identity: peer ids %q, keys %x", ids, keys)
	}
	other := start(t, bin, nil, nodeArgs(t.TempDir())...)
	if id := strings.TrimPrefix(other.line(t, "PeerId is ", 10*time.Second), "PeerId is "); id == ids[0] {
		t.Errorf("a fresh root dir got the same peer id %q", id)
	}
}

func TestRelease(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	fakeantnode.Release(t, bin, "1.2.3", a)
	// wnm copies the binary into each node dir; the copy keeps the version.
	installed := filepath.Join(dir, "node1", "antnode")
	if err := os.MkdirAll(filepath.Dir(installed), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, a, installed)
	// A release made from a released binary, over an existing file, replaces the trailer.
	b := filepath.Join(dir, "b")
	copyFile(t, bin, b)
	fakeantnode.Release(t, a, "20.0.0-rc.1", b)

	for path, want := range map[string]string{a: "1.2.3", installed: "1.2.3", b: "20.0.0-rc.1", bin: "0.4.17"} {
		if got, _, _ := strings.Cut(versionOf(t, path), "\n"); got != "Autonomi Node v"+want {
			t.Errorf("%s --version: %q, want v%s", path, got, want)
		}
	}
	sizes := map[string]int64{}
	for _, path := range []string{bin, a, b} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v, want 0755", path, st.Mode().Perm())
		}
		sizes[path] = st.Size()
	}
	trailer := func(v string) int64 { return int64(len("\n#fakeantnode-version=" + v + "\n")) }
	if sizes[a] != sizes[bin]+trailer("1.2.3") || sizes[b] != sizes[bin]+trailer("20.0.0-rc.1") {
		t.Errorf("sizes %v: want the built binary plus one trailer each", sizes)
	}
}

func TestKnobs(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()

	t.Run("start delay", func(t *testing.T) {
		t.Parallel()
		const delay = 2 * time.Second
		port := fakeantnode.FreePort(t)
		p := start(t, bin, []string{"FAKEANTNODE_START_DELAY=" + delay.String()},
			nodeArgs(t.TempDir(), "--metrics-server-port", strconv.Itoa(port))...)
		p.line(t, "PeerId is ", 10*time.Second)
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			if early := time.Since(p.started); early < delay {
				t.Errorf("metrics port open %v after start, before the %v delay", early, delay)
			}
		}
		if got := p.metricsPort(t); got != port {
			t.Errorf("metrics port %d, want %d", got, port)
		}
		if took := time.Since(p.started); took < delay {
			t.Errorf("metrics server announced %v after start, want at least %v", took, delay)
		}
		if r := get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), 5*time.Second); r.status != 200 {
			t.Errorf("GET /metrics after the delay: status %d", r.status)
		}
	})

	t.Run("hang", func(t *testing.T) {
		t.Parallel()
		p := start(t, bin, []string{"FAKEANTNODE_HANG_METRICS=1"}, nodeArgs(t.TempDir())...)
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", p.metricsPort(t))
		_, err := fetch(&http.Client{Timeout: 300 * time.Millisecond}, url)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("GET %s on a hanging node: %v, want a timeout", url, err)
		}
		// A client waiting on a hanging connection does not keep the node from stopping.
		go fetch(&http.Client{Timeout: 10 * time.Second}, url)
		p.signal(t, syscall.SIGTERM)
		if code, took := p.exit(t, 20*time.Second); code != 0 || took >= 5*time.Second {
			t.Errorf("SIGTERM while hanging: exit %d in %v, want 0 in under 5s (the waiting client holds on for 10s)", code, took)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		p := start(t, bin, []string{"FAKEANTNODE_GARBAGE_METRICS=1"}, nodeArgs(t.TempDir())...)
		for _, path := range []string{"/metrics", "/metadata"} {
			r := get(t, fmt.Sprintf("http://127.0.0.1:%d%s", p.metricsPort(t), path), 5*time.Second)
			if r.status != 200 {
				t.Errorf("GET %s: status %d, want 200", path, r.status)
			}
			if fams, err := openmetrics.Parse(strings.NewReader(r.body)); err == nil {
				t.Errorf("openmetrics.Parse(%q) = %d families, want an error", r.body, len(fams))
			}
		}
	})

	t.Run("http status", func(t *testing.T) {
		t.Parallel()
		p := start(t, bin, []string{"FAKEANTNODE_HTTP_STATUS=503"}, nodeArgs(t.TempDir())...)
		port := p.metricsPort(t)
		for _, path := range []string{"/metrics", "/metrics_extended", "/metadata", "/other"} {
			if r := get(t, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), 5*time.Second); r.status != 503 {
				t.Errorf("GET %s: status %d, want 503", path, r.status)
			}
		}
	})

	t.Run("version", func(t *testing.T) {
		t.Parallel()
		p := start(t, bin, []string{"FAKEANTNODE_VERSION=7.7.7"}, nodeArgs(t.TempDir())...)
		fams := parse(t, get(t, fmt.Sprintf("http://127.0.0.1:%d/metadata", p.metricsPort(t)), 5*time.Second).body)
		if got := label(t, fams, "ant_node_antnode_version_info", "antnode_version"); got != "7.7.7" {
			t.Errorf("metadata version %q, want 7.7.7", got)
		}
	})

	t.Run("cpu burn", func(t *testing.T) {
		t.Parallel()
		p := start(t, bin, []string{"FAKEANTNODE_CPU_BURN=1"}, nodeArgs(t.TempDir())...)
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", p.metricsPort(t))
		var cpu float64
		if !poll.Wait(15*time.Second, 200*time.Millisecond, func() bool {
			cpu = value(t, parse(t, get(t, url, 5*time.Second).body), "ant_networking_process_cpu_usage_percentage")
			return cpu >= 5
		}) {
			t.Fatalf("cpu usage still %v%% with FAKEANTNODE_CPU_BURN", cpu)
		}
	})

	for _, dest := range []string{"data-dir", "dir", "stdout"} {
		t.Run("crash logging to "+dest, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "node")
			logDir := map[string]string{"data-dir": filepath.Join(root, "logs"), "dir": filepath.Join(t.TempDir(), "logs"), "stdout": root}[dest]
			flagVal := map[string]string{"data-dir": "data-dir", "dir": logDir, "stdout": "stdout"}[dest]
			p := start(t, bin, []string{"FAKEANTNODE_CRASH_AFTER=300ms"}, nodeArgs(root, "--log-output-dest", flagVal)...)
			if code, _ := p.exit(t, 10*time.Second); code != 1 {
				t.Errorf("exit code %d after FAKEANTNODE_CRASH_AFTER, want 1", code)
			}
			b, err := os.ReadFile(filepath.Join(logDir, "critical_failure.log"))
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^\[\d{4}-\d\d-\d\dT[^\]]+\] .*crash.*\n$`).Match(b) {
				t.Errorf("critical_failure.log = %q, want one line [timestamp] reason", b)
			}
			if _, err := os.Stat(filepath.Join(root, "antnode.pid")); err != nil {
				t.Errorf("a crash should leave antnode.pid behind: %v", err)
			}
			// The next start clears the old failure.
			p = start(t, bin, nil, nodeArgs(root, "--log-output-dest", flagVal)...)
			p.metricsPort(t)
			if _, err := os.Stat(filepath.Join(logDir, "critical_failure.log")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("critical_failure.log not cleared at start (stat error %v)", err)
			}
			if dest == "stdout" && !strings.Contains(p.output(), "INFO fakeantnode] node started") {
				t.Errorf("log lines not on stdout: %q", p.output())
			}
		})
	}

	t.Run("self-upgrade with stop-on-upgrade", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		node, next := filepath.Join(dir, "antnode"), filepath.Join(dir, "next")
		fakeantnode.Release(t, bin, "1.0.0", node)
		fakeantnode.Release(t, bin, "2.0.0", next)
		root := filepath.Join(dir, "root")
		p := start(t, node, []string{"FAKEANTNODE_SELF_UPGRADE_AFTER=300ms", "FAKEANTNODE_UPGRADE_FROM=" + next},
			nodeArgs(root, "--stop-on-upgrade")...)
		if code, _ := p.exit(t, 10*time.Second); code != 0 {
			t.Errorf("exit code %d after self-upgrade with --stop-on-upgrade, want 0; stderr %q", code, p.stderr.String())
		}
		if got, _, _ := strings.Cut(versionOf(t, node), "\n"); got != "Autonomi Node v2.0.0" {
			t.Errorf("after self-upgrade %s --version = %q, want v2.0.0", node, got)
		}
		if st, err := os.Stat(node); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("upgraded binary: %v, %v; want mode 0755", st, err)
		}
		if _, err := os.Stat(filepath.Join(root, "antnode.pid")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("antnode.pid still there after stop-on-upgrade (stat error %v)", err)
		}
	})

	t.Run("self-upgrade with restart", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		node, next := filepath.Join(dir, "antnode"), filepath.Join(dir, "next")
		fakeantnode.Release(t, bin, "1.0.0", node)
		fakeantnode.Release(t, bin, "2.0.0", next)
		root := filepath.Join(dir, "root")
		port := fakeantnode.FreePort(t)
		p := start(t, node, []string{"FAKEANTNODE_SELF_UPGRADE_AFTER=500ms", "FAKEANTNODE_UPGRADE_FROM=" + next},
			nodeArgs(root, "--metrics-server-port", strconv.Itoa(port))...)
		url := fmt.Sprintf("http://127.0.0.1:%d/metadata", port)
		seen := map[string]bool{}
		if !poll.Wait(15*time.Second, 50*time.Millisecond, func() bool {
			if r, err := fetch(quick, url); err == nil && r.status == 200 {
				seen[label(t, parse(t, r.body), "ant_node_antnode_version_info", "antnode_version")] = true
			}
			return seen["2.0.0"]
		}) {
			t.Fatalf("versions seen %v, want 2.0.0 after the upgrade; stdout %q", seen, p.output())
		}
		select {
		case <-p.done:
			t.Fatalf("the node exited instead of re-executing itself")
		default:
		}
		pid, err := os.ReadFile(filepath.Join(root, "antnode.pid"))
		if err != nil || string(pid) != strconv.Itoa(p.cmd.Process.Pid) {
			t.Errorf("antnode.pid = %q, %v after re-exec; want the same pid %d", pid, err, p.cmd.Process.Pid)
		}
		p.signal(t, syscall.SIGTERM)
		if code, _ := p.exit(t, 5*time.Second); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
	})
}

// TestFleet runs a fleet of 20 nodes, every 10th of which hangs.
func TestFleet(t *testing.T) {
	bin := fakeantnode.Build(t)
	t.Parallel()
	const count = 20
	var p *proc
	var first int
	// Pick a random range below the Linux ephemeral ports; retry if a port is taken.
	for attempt := 0; ; attempt++ {
		first = 20000 + rand.IntN(12000)
		p = start(t, bin, nil, "fleet", "--metrics-port-start", strconv.Itoa(first), "--count", strconv.Itoa(count),
			"--version", "0.4.99", "--hang-fraction", "0.1")
		if p.waitReady(t) {
			break
		}
		if attempt >= 5 || !strings.Contains(p.stderr.String(), "listen on port") {
			t.Fatalf("fleet did not start: %v; stderr %q", p.waitErr, p.stderr.String())
		}
	}

	ids := map[string]int{}
	hung := &http.Client{Timeout: 300 * time.Millisecond}
	for i := range count {
		base := fmt.Sprintf("http://127.0.0.1:%d", first+i)
		if i%10 == 9 {
			_, err := fetch(hung, base+"/metrics")
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("port %d (index %d): %v, want a timeout", first+i, i, err)
			}
			continue
		}
		fams := parse(t, get(t, base+"/metrics", 5*time.Second).body)
		for _, name := range metricNames {
			if fams[name] == nil {
				t.Errorf("port %d: /metrics lacks %s", first+i, name)
			}
		}
		meta := parse(t, get(t, base+"/metadata", 5*time.Second).body)
		if v := label(t, meta, "ant_node_antnode_version_info", "antnode_version"); v != "0.4.99" {
			t.Errorf("port %d: version %q, want 0.4.99", first+i, v)
		}
		ids[label(t, meta, "ant_networking_peer_id_info", "peer_id")] = i
	}
	if len(ids) != count-count/10 {
		t.Errorf("fleet served %d distinct peer ids, want %d", len(ids), count-count/10)
	}
	p.signal(t, syscall.SIGTERM)
	if code, _ := p.exit(t, 5*time.Second); code != 0 {
		t.Errorf("fleet exit code %d after SIGTERM, want 0", code)
	}
}

// waitReady waits for the fleet's "ready" line and reports false if the fleet exited first.
func (p *proc) waitReady(t testing.TB) bool {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		p.mu.Lock()
		ready := slices.Contains(p.lines, "ready")
		more, eof := p.more, p.eof
		p.mu.Unlock()
		if ready {
			return true
		}
		if eof {
			<-p.done
			return false
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("fleet not ready after 30s")
		}
	}
}
