package systemd

import (
	"context"
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
	"github.com/wnm-project/wnm/units/run"
)

// TestMain puts the fake systemctl on PATH (a copy of this test binary that runs
// fakes.SystemctlMain when called as systemctl). Under -race, a binary sleeps a second when it
// exits (GORACE atexit_sleep_ms); the fake runs once per call, so that sleep is turned off.
func TestMain(m *testing.M) {
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	testscript.Main(m, map[string]func(){"systemctl": fakes.SystemctlMain})
}

// onlySystemctl runs systemctl (the fake, first on PATH) and records anything else instead of
// running it: loginctl must never run for real in tests.
type onlySystemctl struct{ others []string }

func (r *onlySystemctl) Run(ctx context.Context, stdin []byte, argv []string) ([]byte, []byte, error) {
	if argv[0] != "systemctl" {
		r.others = append(r.others, strings.Join(argv, " "))
		return nil, nil, nil
	}
	return run.Exec().Run(ctx, stdin, argv)
}

// TestFakeSystemctlEndToEnd drives the systemctl transport through the fake systemctl, which
// really runs the unit's ExecStart: the fake antnode comes up on its metrics port, stops, comes
// back, and goes away with its unit. Its paths hold a space and a %, and its environment reaches
// the process through the unit's Environment= line.
func TestFakeSystemctlEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the fake antnode")
	}
	bin := fakeantnode.Build(t)
	for _, mode := range []string{"user", "sudo"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			state, log, unitDir := filepath.Join(dir, "state"), filepath.Join(dir, "calls.log"), filepath.Join(dir, "units")
			t.Setenv(fakes.EnvState, state)
			t.Setenv(fakes.EnvLog, log)
			t.Setenv(fakes.EnvUnitDir, unitDir)
			t.Setenv(EnvTransport, TransportSystemctl)
			t.Cleanup(func() {
				if err := fakes.KillAll(state); err != nil {
					t.Errorf("KillAll: %v", err)
				}
			})
			withLingerDir(t, filepath.Join(dir, "linger"))

			n := testNode(t, filepath.Join(dir, "node store 100%"), 1)
			n.Port, n.MetricsPort = fakeantnode.FreePort(t), fakeantnode.FreePort(t)
			n.Env = [][2]string{{"FAKEANTNODE_VERSION", "9.8.7"}}
			copyFile(t, bin, n.Binary)

			runner := &onlySystemctl{}
			m, err := New(Options{Mode: gen.Mode(mode), UnitDir: unitDir, Runner: runner})
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
			metadata := waitMetrics(t, n, true)
			if !strings.Contains(metadata, `"9.8.7"`) {
				t.Errorf("node does not report the version its Environment= set:\n%s", metadata)
			}
			st := wantState(t, m, n, units.Running)
			if argv := cmdline(t, st.PID); !slices.Contains(argv, n.Binary) || !slices.Contains(argv, n.RootDir) {
				t.Errorf("pid %d runs %q, want the node's binary and root dir", st.PID, argv)
			}
			if err := m.Start(ctx, n); err != nil {
				t.Fatalf("second Start: %v", err)
			}
			if again := wantState(t, m, n, units.Running); again.PID != st.PID {
				t.Errorf("second Start replaced pid %d with %d", st.PID, again.PID)
			}

			if err := m.Stop(ctx, n); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			wantState(t, m, n, units.Stopped)
			if pidAlive(st.PID) {
				t.Errorf("pid %d still runs after Stop", st.PID)
			}
			waitMetrics(t, n, false)
			if err := m.Stop(ctx, n); err != nil {
				t.Fatalf("second Stop: %v", err)
			}

			if err := m.Start(ctx, n); err != nil {
				t.Fatalf("restart: %v", err)
			}
			waitMetrics(t, n, true)
			st2 := wantState(t, m, n, units.Running)
			if err := m.Remove(ctx, n); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if _, err := os.Stat(filepath.Join(unitDir, gen.UnitName(1))); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("unit file after Remove: %v", err)
			}
			if pidAlive(st2.PID) {
				t.Errorf("pid %d still runs after Remove", st2.PID)
			}
			wantState(t, m, n, units.Stopped)
			if _, err := os.Stat(n.Binary); err != nil {
				t.Errorf("Remove touched the node's binary: %v", err)
			}

			flag := "--user "
			wantOthers := []string{"loginctl enable-linger " + currentUser(t)}
			if mode == "sudo" {
				flag, wantOthers = "", nil
			}
			show := "systemctl " + flag + "show antnode0001.service --property=LoadState,ActiveState,SubState,MainPID"
			want := []string{
				"systemctl " + flag + "daemon-reload",
				"systemctl " + flag + "enable antnode0001.service",
				"systemctl " + flag + "start antnode0001.service",
				show, // Status
				"systemctl " + flag + "start antnode0001.service",
				show, // Status
				show, "systemctl " + flag + "stop antnode0001.service",
				show, // Status
				show, // second Stop: nothing to do
				"systemctl " + flag + "start antnode0001.service",
				show, // Status
				show, "systemctl " + flag + "stop antnode0001.service", "systemctl " + flag + "disable antnode0001.service", "systemctl " + flag + "daemon-reload",
				show, // Status
			}
			calls, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(string(calls)), "\n")); diff != "" {
				t.Errorf("systemctl calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantOthers, runner.others); diff != "" {
				t.Errorf("other commands (-want +got):\n%s", diff)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// waitMetrics polls the node's /metadata until it answers (up) or stops answering (!up), and
// returns the last body.
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

func pidAlive(pid int) bool {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return false
	}
	st, err := p.Status()
	return err == nil && !slices.Contains(st, process.Zombie)
}

func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	argv, err := p.CmdlineSlice()
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	return argv
}
