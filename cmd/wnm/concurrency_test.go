package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/poll"
	"github.com/wnm-project/wnm/worker/store"
)

// buildWnm builds the real binary for tests that need several processes.
func buildWnm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wnm")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// slowMachine initialises wnm in a scratch HOME with one node whose metrics port accepts and never
// answers, so that a cycle holds the lock for about surveyTimeout.
func slowMachine(t *testing.T, bin string, surveyTimeout time.Duration) (env []string, home string) {
	t.Helper()
	home = t.TempDir()
	env = append(os.Environ(), "HOME="+home)
	cmd := exec.Command(bin, "init", "--rewards_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"--process_manager", "setsid+user", "--survey_timeout", strconv.FormatInt(surveyTimeout.Milliseconds(), 10), "--port_start", "31", "--metrics_port_start", "32", "--rpc_port_start", "33")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	db := filepath.Join(home, ".local/share/autonomi/colony.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	port := l.Addr().(*net.TCPAddr).Port
	root := filepath.Join(home, ".local/share/autonomi/node/antnode0001")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	err = st.Write(context.Background(), func(w *store.Writer) error {
		return w.InsertNode(store.Node{ID: 1, MachineID: 1, ManagerType: "setsid+user", NodeName: "0001", Service: "antnode0001.service",
			User: "u", Binary: filepath.Join(root, "antnode"), RootDir: root, Port: 31001, MetricsPort: port, Network: "evm-arbitrum-one",
			Status: store.StatusRunning, Timestamp: time.Now().Unix() - 3600, Age: time.Now().Unix() - 3600, Host: "127.0.0.1", Method: "setsid+user", Layout: "1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return env, home
}

type run struct {
	code   int
	took   time.Duration
	stderr string
}

func runWnm(bin string, env []string, args ...string) run {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	r := run{took: time.Since(start), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
	}
	return r
}

func TestConcurrentRunsOneCycles(t *testing.T) {
	bin := buildWnm(t)
	env, home := slowMachine(t, bin, 10*time.Second)
	first := make(chan run, 1)
	go func() { first <- runWnm(bin, env, "run") }()
	// Wait until the first cycle holds the lock (its pid is in wnm_active).
	lockFile := filepath.Join(home, ".local/share/autonomi/wnm_active")
	poll.Until(t, 10*time.Second, "the first cycle to take the lock", func() bool {
		b, _ := os.ReadFile(lockFile)
		return strings.HasPrefix(string(b), "pid=")
	})
	second := runWnm(bin, env, "run")
	if second.code != exitBusy || !strings.Contains(second.stderr, "another cycle is running") {
		t.Errorf("second run: exit %d, stderr %q; want %d and 'another cycle is running'", second.code, second.stderr, exitBusy)
	}
	// The second run must give up at once rather than wait for the lock: it has to be back while
	// the first cycle still waits on its silent node (survey_timeout, 10 s).
	select {
	case r := <-first:
		t.Errorf("second run (%v) came back only after the first cycle ended: it waited for the lock", second.took)
		first <- r
	default:
	}
	r := <-first
	if r.code != 0 || !strings.Contains(r.stderr, "msg=cycle") {
		t.Errorf("first run: exit %d, stderr %q; want a completed cycle", r.code, r.stderr)
	}
	if strings.Contains(second.stderr, "msg=cycle") {
		t.Error("the second run also ran a cycle")
	}
}

func TestKilledCycleDoesNotBlockTheNext(t *testing.T) {
	bin := buildWnm(t)
	env, home := slowMachine(t, bin, 3*time.Second)
	cmd := exec.Command(bin, "run")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lockFile := filepath.Join(home, ".local/share/autonomi/wnm_active")
	poll.Until(t, 10*time.Second, "the cycle to take the lock", func() bool {
		b, _ := os.ReadFile(lockFile)
		return strings.HasPrefix(string(b), fmt.Sprintf("pid=%d ", cmd.Process.Pid))
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if r := runWnm(bin, env, "run"); r.code != 0 || !strings.Contains(r.stderr, "msg=cycle") {
		t.Errorf("run after a SIGKILLed cycle: exit %d, stderr %q", r.code, r.stderr)
	}
}
