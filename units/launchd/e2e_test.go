package launchd

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/fakes"
	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/units"
)

// TestMain puts the fake launchctl on PATH (a copy of this test binary that runs
// fakes.LaunchctlMain when called as launchctl). Under -race, a binary sleeps a second when it
// exits (GORACE atexit_sleep_ms); the fake runs once per call, so that sleep is turned off.
func TestMain(m *testing.M) {
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	testscript.Main(m, map[string]func(){"launchctl": fakes.LaunchctlMain})
}

// TestFakeLaunchctlEndToEnd drives the manager through the fake launchctl, which really runs the
// plist's ProgramArguments: the fake antnode comes up on its metrics port, stops, comes back,
// and goes away with its plist. Its paths hold a space and a %, and its environment reaches the
// process through EnvironmentVariables.
func TestFakeLaunchctlEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fake antnode")
	}
	bin := fakeantnode.Build(t)
	dir := t.TempDir()
	state, log := filepath.Join(dir, "state"), filepath.Join(dir, "calls.log")
	t.Setenv(fakes.EnvState, state)
	t.Setenv(fakes.EnvLog, log)
	t.Cleanup(func() {
		if err := fakes.KillAll(state); err != nil {
			t.Errorf("KillAll: %v", err)
		}
	})
	n := testNode(t, filepath.Join(dir, "Application Support 100%"), 1)
	n.Port, n.MetricsPort = fakeantnode.FreePort(t), fakeantnode.FreePort(t)
	n.Env = [][2]string{{"FAKEANTNODE_VERSION", "9.8.7"}}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Binary, b, 0o755); err != nil {
		t.Fatal(err)
	}
	agents := filepath.Join(dir, "LaunchAgents")
	m, err := New(Options{Mode: "user", UID: 501, PlistDir: agents})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := m.Create(ctx, n); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := m.Start(ctx, n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if md := waitMetrics(t, n, true); !strings.Contains(md, `"9.8.7"`) {
		t.Errorf("node does not report the version its EnvironmentVariables set:\n%s", md)
	}
	st := wantState(t, m, n, units.Running)
	p, err := process.NewProcess(int32(st.PID))
	if err != nil {
		t.Fatal(err)
	}
	if argv, _ := p.CmdlineSlice(); !slices.Contains(argv, n.RootDir) {
		t.Errorf("pid %d runs %q, want the node's root dir in it", st.PID, argv)
	}
	if out, _ := os.ReadFile(filepath.Join(n.LogDir, gen.LaunchdLog)); !strings.Contains(string(out), "Node started") {
		t.Errorf("%s lacks the node's start lines:\n%s", gen.LaunchdLog, out)
	}
	if err := m.Start(ctx, n); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if err := m.Stop(ctx, n); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	wantState(t, m, n, units.Stopped)
	waitMetrics(t, n, false)
	if err := m.Start(ctx, n); err != nil {
		t.Fatalf("restart: %v", err)
	}
	waitMetrics(t, n, true)
	st2 := wantState(t, m, n, units.Running)
	if st2.PID == st.PID {
		t.Errorf("restart kept pid %d", st.PID)
	}
	if err := m.Remove(ctx, n); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(agents, gen.PlistName(1))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plist after Remove: %v", err)
	}
	wantState(t, m, n, units.Stopped)
	waitMetrics(t, n, false)

	target := "gui/501/com.autonomi.antnode-1"
	print := "launchctl print " + target
	bootstrap := "launchctl bootstrap gui/501 " + filepath.Join(agents, gen.PlistName(1)) // t.TempDir has no spaces
	want := []string{
		print, bootstrap, // Start
		print,                                // Status
		print,                                // second Start: running
		print, "launchctl bootout " + target, // Stop
		print,            // Status
		print, bootstrap, // restart
		print,                                // Status
		print, "launchctl bootout " + target, // Remove
		print, // Status
	}
	calls, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(string(calls)), "\n")); diff != "" {
		t.Errorf("launchctl calls (-want +got):\n%s", diff)
	}
}

func waitMetrics(t *testing.T, n gen.Node, up bool) string {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/metadata", n.MetricsPort)
	client := &http.Client{Timeout: time.Second}
	var body string
	var err error
	if !poll.Wait(20*time.Second, 50*time.Millisecond, func() bool {
		body, err = get(client, url)
		return (err == nil) == up
	}) {
		t.Fatalf("node on metrics port %d: want up=%v, last error %v", n.MetricsPort, up, err)
	}
	return body
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

func wantState(t *testing.T, m *Manager, n gen.Node, want units.State) units.Status {
	t.Helper()
	st, err := m.Status(t.Context(), n)
	if err != nil || st.State != want {
		t.Fatalf("Status = %+v, %v; want %v", st, err, want)
	}
	return st
}
