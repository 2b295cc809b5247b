package launchd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
)

const testWallet = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitError) ExitCode() int { return int(e) }

// recorder records every launchctl call and answers print from the jobs set with set; a job not
// set is not loaded (exit 113).
type recorder struct {
	mu    sync.Mutex
	calls []string
	jobs  map[string]string // target -> print output
	fail  map[string]error  // command line -> error
}

func newRecorder() *recorder {
	return &recorder{jobs: map[string]string{}, fail: map[string]error{}}
}

func (r *recorder) Run(_ context.Context, _ []byte, argv []string) ([]byte, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := strings.Join(argv, " ")
	r.calls = append(r.calls, line)
	if err, ok := r.fail[line]; ok {
		return nil, []byte("Boot-out failed: 5: Input/output error\n"), err
	}
	if len(argv) == 3 && argv[1] == "print" {
		out, ok := r.jobs[argv[2]]
		if !ok {
			return nil, []byte("Bad request.\nCould not find service in domain for port\n"), exitError(113)
		}
		return []byte(out), nil, nil
	}
	return nil, nil, nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) set(target, out string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if out == "" {
		delete(r.jobs, target)
		return
	}
	r.jobs[target] = out
}

func printOutput(target, state string, pid int) string {
	s := fmt.Sprintf("%s = {\n\tactive count = 1\n\tpath = /x.plist\n\tstate = %s\n\n\tprogram = /a/antnode\n\tendpoints = {\n\t\t\"x\" = {\n\t\t\tstate = active\n\t\t}\n\t}\n", target, state)
	if pid > 0 {
		s += fmt.Sprintf("\tpid = %d\n", pid)
	}
	return s + "}\n"
}

func testNode(t *testing.T, storage string, id int) gen.Node {
	t.Helper()
	root := filepath.Join(storage, fmt.Sprintf("antnode%04d", id))
	n := gen.Node{
		ID: id, RootDir: root, Binary: filepath.Join(root, "antnode"),
		LogDir: filepath.Join(storage, "logs", fmt.Sprintf("antnode%04d", id)),
		Port:   55000 + id, MetricsPort: 13000 + id, Host: "127.0.0.1", Wallet: testWallet,
	}
	if err := os.MkdirAll(n.RootDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Binary, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLifecycleCalls(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	m, err := New(Options{Mode: "user", UID: 501, PlistDir: filepath.Join(dir, "LaunchAgents"), Runner: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	n := testNode(t, filepath.Join(dir, "nodes"), 1)
	target := "gui/501/com.autonomi.antnode-1"
	plistPath := filepath.Join(dir, "LaunchAgents", "com.autonomi.antnode-1.plist")
	print := "launchctl print " + target

	steps := []struct {
		name      string
		do        func() error
		wantCalls []string
	}{
		{"create writes the plist only", func() error { return m.Create(ctx, n) }, nil},
		{"start bootstraps a job that is not loaded", func() error { return m.Start(ctx, n) }, []string{print, "launchctl bootstrap gui/501 " + plistPath}},
		{"start leaves a running job alone", func() error {
			rec.set(target, printOutput(target, "running", 77))
			return m.Start(ctx, n)
		}, []string{print}},
		{"start kickstarts a loaded job that does not run", func() error {
			rec.set(target, printOutput(target, "not running", 0))
			return m.Start(ctx, n)
		}, []string{print, "launchctl kickstart -k " + target}},
		{"start of a loaded job with a changed plist boots it out and in", func() error {
			n.Env = [][2]string{{"ANT_LOG", "all"}}
			return m.Start(ctx, n)
		}, []string{print, "launchctl bootout " + target, "launchctl bootstrap gui/501 " + plistPath}},
		{"stop boots out a loaded job", func() error {
			rec.set(target, printOutput(target, "running", 78))
			return m.Stop(ctx, n)
		}, []string{print, "launchctl bootout " + target}},
		{"stop of a job that is not loaded asks only", func() error {
			rec.set(target, "")
			return m.Stop(ctx, n)
		}, []string{print}},
		{"remove", func() error { return m.Remove(ctx, n) }, []string{print}},
		{"remove again", func() error { return m.Remove(ctx, n) }, []string{print}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.wantCalls, rec.take()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", s.name, diff)
		}
		if s.name == "create writes the plist only" {
			want, _ := gen.LaunchdPlist(n, gen.ModeUser)
			got, err := os.ReadFile(plistPath)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("plist on disk (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(n.LogDir); err != nil {
				t.Errorf("Create did not make the log dir: %v", err)
			}
		}
	}
	if _, err := os.Stat(plistPath); !os.IsNotExist(err) {
		t.Errorf("plist still there after Remove: %v", err)
	}
}

func TestBootoutErrors(t *testing.T) {
	rec := newRecorder()
	m, err := New(Options{Mode: "sudo", PlistDir: t.TempDir(), Runner: rec})
	if err != nil {
		t.Fatal(err)
	}
	n := testNode(t, t.TempDir(), 2)
	target := "system/com.autonomi.antnode-2"
	rec.set(target, printOutput(target, "running", 5))
	rec.fail["launchctl bootout "+target] = exitError(5)
	if err := m.Stop(t.Context(), n); err == nil || !strings.Contains(err.Error(), "launchctl bootout system/com.autonomi.antnode-2: exit status 5: Boot-out failed: 5: Input/output error") {
		t.Errorf("Stop with a failing bootout = %v; want the argv and output", err)
	}
	// The job vanished meanwhile: success.
	rec.take()
	m.runner = run.Func(func(ctx context.Context, argv []string) ([]byte, error) {
		out, errOut, err := rec.Run(ctx, nil, argv)
		if argv[1] == "bootout" {
			rec.set(target, "")
		}
		return append(out, errOut...), err
	})
	if err := m.Stop(t.Context(), n); err != nil {
		t.Errorf("Stop of a job that went away during bootout = %v", err)
	}
}

func TestStatus(t *testing.T) {
	target := "gui/501/com.autonomi.antnode-3"
	tests := []struct {
		name string
		out  string // "" means not loaded
		err  error
		want units.Status
	}{
		{"running", printOutput(target, "running", 321), nil, units.Status{State: units.Running, PID: 321, Detail: "running, pid 321"}},
		{"not running", printOutput(target, "not running", 0), nil, units.Status{State: units.Stopped, Detail: "not running"}},
		{"not loaded", "", nil, units.Status{State: units.Stopped, Detail: "not loaded"}},
		{"no state line", target + " = {\n}\n", nil, units.Status{State: units.Unknown, Detail: "launchctl print shows no state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			rec.set(target, tt.out)
			m, err := New(Options{Mode: "user", UID: 501, PlistDir: t.TempDir(), Runner: rec})
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Status(t.Context(), testNode(t, t.TempDir(), 3))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Status (-want +got):\n%s", diff)
			}
		})
	}
	rec := newRecorder()
	m, _ := New(Options{Mode: "user", UID: 501, PlistDir: t.TempDir(), Runner: rec})
	rec.fail["launchctl print "+target] = exitError(1)
	st, err := m.Status(t.Context(), testNode(t, t.TempDir(), 3))
	if err == nil || st.State != units.Unknown {
		t.Errorf("Status when print fails = %+v, %v; want Unknown and an error", st, err)
	}
}

func TestInjectionRefused(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	m, err := New(Options{Mode: "user", PlistDir: dir, Runner: rec})
	if err != nil {
		t.Fatal(err)
	}
	n := testNode(t, t.TempDir(), 4)
	if err := m.Create(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, gen.PlistName(4))
	before, _ := os.ReadFile(path)
	for _, bad := range []gen.Node{
		func() gen.Node {
			b := n
			b.Env = [][2]string{{"A", "</string><key>UserName</key><string>root\n"}}
			return b
		}(),
		func() gen.Node { b := n; b.RootDir += "\x00"; return b }(),
		func() gen.Node { b := n; b.Env = [][2]string{{"A B", "1"}}; return b }(),
	} {
		if err := m.Create(t.Context(), bad); err == nil {
			t.Errorf("Create accepted %+v", bad)
		}
		if err := m.Start(t.Context(), bad); err == nil {
			t.Errorf("Start accepted %+v", bad)
		}
	}
	if calls := rec.take(); len(calls) != 0 {
		t.Errorf("refused nodes ran %q", calls)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Errorf("plist changed although every node was refused:\n%s", after)
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"com.autonomi.antnode-1.plist", "com.autonomi.antnode-12.plist", "com.autonomi.antnode-x.plist", "com.autonomi.wnm.plist", "antnode1.plist", "com.autonomi.antnode-3.plist.bak"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := New(Options{Mode: "user", PlistDir: dir})
	got, err := m.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 12}, got); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		name                          string
		opts                          Options
		wantName, wantDir, wantDomain string
		wantErr                       string
	}{
		{name: "sudo", opts: Options{Mode: "sudo"}, wantName: "launchd+sudo", wantDir: "/Library/LaunchDaemons", wantDomain: "system"},
		{name: "user", opts: Options{Mode: "user", UID: 501}, wantName: "launchd+user", wantDir: home + "/Library/LaunchAgents", wantDomain: "gui/501"},
		{name: "user, current uid", opts: Options{Mode: "user"}, wantName: "launchd+user", wantDir: home + "/Library/LaunchAgents", wantDomain: fmt.Sprintf("gui/%d", os.Getuid())},
		{name: "bad mode", opts: Options{Mode: "daemon"}, wantErr: `mode "daemon"`},
		{name: "negative uid", opts: Options{Mode: "user", UID: -1}, wantErr: "negative"},
		{name: "relative dir", opts: Options{Mode: "user", PlistDir: "agents"}, wantErr: `"agents" is not an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Name() != tt.wantName || m.PlistDir() != tt.wantDir || m.Domain() != tt.wantDomain {
				t.Errorf("New = %s, %s, %s; want %s, %s, %s", m.Name(), m.PlistDir(), m.Domain(), tt.wantName, tt.wantDir, tt.wantDomain)
			}
		})
	}
}
