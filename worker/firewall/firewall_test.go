package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
)

// reply is what a fake ufw answers to one command.
type reply struct {
	out string
	err error
}

// fakeRunner records every argv and answers with the replies in order (the last one repeats).
type fakeRunner struct {
	replies []reply
	calls   [][]string
}

func (f *fakeRunner) Run(ctx context.Context, _ []byte, argv []string) ([]byte, []byte, error) {
	f.calls = append(f.calls, slices.Clone(argv))
	r := reply{}
	if n := len(f.replies); n > 0 {
		r = f.replies[min(len(f.calls), n)-1]
	}
	return []byte(r.out), nil, r.err
}

// logRecorder is a slog.Handler that keeps "LEVEL message" lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Level.String()+" "+r.Message)
	return nil
}

func (l *logRecorder) count(level slog.Level) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.HasPrefix(line, level.String()+" ") {
			n++
		}
	}
	return n
}

var errExit1 = errors.New("exit status 1")

const (
	rulesUpdated = "Rules updated\nRules updated (v6)\n"
	ruleExists   = "Skipping adding existing rule\nSkipping adding existing rule (v6)\n"
	ruleMissing  = "Could not delete non-existent rule\nCould not delete non-existent rule (v6)\n"
	usageError   = "ERROR: Invalid syntax\n\nUsage: ufw COMMAND\n"
)

func TestUFWOpen(t *testing.T) {
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name        string
		port        int
		comment     string
		reply       reply
		wantArgv    [][]string
		wantChanged bool
		wantErr     string
	}{
		{
			name: "adds a rule", port: 55001, comment: "antnode 0001",
			reply:    reply{out: rulesUpdated},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp", "comment", "antnode 0001"}}, wantChanged: true,
		},
		{
			name: "active firewall wording", port: 55001, comment: "antnode 0001",
			reply:    reply{out: "Rule added\nRule added (v6)\n"},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp", "comment", "antnode 0001"}}, wantChanged: true,
		},
		{
			name: "no comment", port: 1, comment: "",
			reply:    reply{out: rulesUpdated},
			wantArgv: [][]string{{"ufw", "allow", "1/udp"}}, wantChanged: true,
		},
		{
			name: "comment stays one argument", port: 65535, comment: `antnode 0001; rm -rf / "$HOME"`,
			reply:    reply{out: rulesUpdated},
			wantArgv: [][]string{{"ufw", "allow", "65535/udp", "comment", `antnode 0001; rm -rf / "$HOME"`}}, wantChanged: true,
		},
		{
			name: "existing rule", port: 55001, comment: "antnode 0001",
			reply:    reply{out: ruleExists},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp", "comment", "antnode 0001"}},
		},
		{
			name: "existing rule with a failing exit status", port: 55001, comment: "antnode 0001",
			reply:    reply{out: ruleExists, err: errExit1},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp", "comment", "antnode 0001"}},
		},
		{
			name: "existing IPv4 rule only", port: 55001,
			reply:    reply{out: "Skipping adding existing rule\n"},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp"}},
		},
		{
			name: "ufw error", port: 55001, comment: "antnode 0001",
			reply:    reply{out: "ERROR: Bad port\n", err: errExit1},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp", "comment", "antnode 0001"}},
			wantErr:  `open firewall port 55001/udp: run ["ufw" "allow" "55001/udp" "comment" "antnode 0001"]: exit status 1: ERROR: Bad port`,
		},
		{
			name: "ufw error despite exit status 0", port: 55001,
			reply:    reply{out: "ERROR: problem running iptables\n"},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp"}},
			wantErr:  `open firewall port 55001/udp: run ["ufw" "allow" "55001/udp"]: error reported despite exit status 0: ERROR: problem running iptables`,
		},
		{
			name: "ufw error next to a skipped rule", port: 55001,
			reply:    reply{out: "Skipping adding existing rule\nERROR: problem running ip6tables\n", err: errExit1},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp"}},
			wantErr:  `open firewall port 55001/udp: run ["ufw" "allow" "55001/udp"]: exit status 1: Skipping adding existing rule` + "\n" + `ERROR: problem running ip6tables`,
		},
		{
			name: "failure without output", port: 55001,
			reply:    reply{err: errExit1},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp"}},
			wantErr:  `open firewall port 55001/udp: run ["ufw" "allow" "55001/udp"]: exit status 1`,
		},
		{
			name: "close's idempotence line does not count for open", port: 55001,
			reply:    reply{out: ruleMissing, err: errExit1},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp"}},
			wantErr:  `open firewall port 55001/udp: run ["ufw" "allow" "55001/udp"]: exit status 1: Could not delete non-existent rule` + "\n" + `Could not delete non-existent rule (v6)`,
		},
		{
			name: "long output is cut", port: 55001,
			reply:    reply{out: "ERROR: Invalid syntax\n" + long, err: errExit1},
			wantArgv: [][]string{{"ufw", "allow", "55001/udp"}},
			wantErr:  `open firewall port 55001/udp: run ["ufw" "allow" "55001/udp"]: exit status 1: ERROR: Invalid syntax` + "\n" + long[:maxOutput-len("ERROR: Invalid syntax\n")] + " [truncated]",
		},
		{name: "port zero", port: 0, wantErr: "firewall port 0 out of range 1-65535"},
		{name: "negative port", port: -5, wantErr: "firewall port -5 out of range 1-65535"},
		{name: "port too high", port: 65536, wantErr: "firewall port 65536 out of range 1-65535"},
		{name: "quote in comment", port: 55001, comment: "node's", wantErr: `firewall comment "node's": contains '\''`},
		{name: "newline in comment", port: 55001, comment: "a\nb", wantErr: `firewall comment "a\nb": contains '\n'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &fakeRunner{replies: []reply{tt.reply}}
			u := NewUFW(nil, WithRunner(run))
			changed, err := u.open(context.Background(), tt.port, tt.comment)
			checkErr(t, fmt.Sprintf("open(%d, %q)", tt.port, tt.comment), err, tt.wantErr)
			if changed != tt.wantChanged {
				t.Errorf("open(%d, %q) changed = %v, want %v", tt.port, tt.comment, changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.wantArgv, run.calls); diff != "" {
				t.Errorf("open(%d, %q) commands (-want +got):\n%s", tt.port, tt.comment, diff)
			}
			// The exported method agrees with the one the test drives.
			run.calls = nil
			checkErr(t, fmt.Sprintf("Open(%d, %q)", tt.port, tt.comment), u.Open(context.Background(), tt.port, tt.comment), tt.wantErr)
		})
	}
}

func TestUFWClose(t *testing.T) {
	argv := [][]string{{"ufw", "delete", "allow", "55001/udp"}}
	tests := []struct {
		name        string
		port        int
		reply       reply
		wantArgv    [][]string
		wantChanged bool
		wantErr     string
	}{
		{name: "deletes a rule", port: 55001, reply: reply{out: rulesUpdated}, wantArgv: argv, wantChanged: true},
		{name: "active firewall wording", port: 55001, reply: reply{out: "Rule deleted\nRule deleted (v6)\n"}, wantArgv: argv, wantChanged: true},
		{name: "no such rule", port: 55001, reply: reply{out: ruleMissing}, wantArgv: argv},
		{name: "no such rule with a failing exit status", port: 55001, reply: reply{out: ruleMissing, err: errExit1}, wantArgv: argv},
		{
			name: "ufw error", port: 55001, reply: reply{out: usageError, err: errExit1}, wantArgv: argv,
			wantErr: `close firewall port 55001/udp: run ["ufw" "delete" "allow" "55001/udp"]: exit status 1: ERROR: Invalid syntax` + "\n\n" + `Usage: ufw COMMAND`,
		},
		{
			name: "open's idempotence line does not count for close", port: 55001, reply: reply{out: ruleExists, err: errExit1}, wantArgv: argv,
			wantErr: `close firewall port 55001/udp: run ["ufw" "delete" "allow" "55001/udp"]: exit status 1: Skipping adding existing rule` + "\n" + `Skipping adding existing rule (v6)`,
		},
		{name: "port zero", port: 0, wantErr: "firewall port 0 out of range 1-65535"},
		{name: "port too high", port: 70000, wantErr: "firewall port 70000 out of range 1-65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &fakeRunner{replies: []reply{tt.reply}}
			u := NewUFW(nil, WithRunner(run))
			changed, err := u.close(context.Background(), tt.port)
			checkErr(t, fmt.Sprintf("close(%d)", tt.port), err, tt.wantErr)
			if changed != tt.wantChanged {
				t.Errorf("close(%d) changed = %v, want %v", tt.port, changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.wantArgv, run.calls); diff != "" {
				t.Errorf("close(%d) commands (-want +got):\n%s", tt.port, diff)
			}
			checkErr(t, fmt.Sprintf("Close(%d)", tt.port), u.Close(context.Background(), tt.port), tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, call string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s = %v, want nil", call, err)
	case want != "" && err == nil:
		t.Errorf("%s = nil, want %q", call, want)
	case want != "" && err.Error() != want:
		t.Errorf("%s error:\n got %q\nwant %q", call, err.Error(), want)
	}
}

// TestUFWOpenTwice follows the real sequence: the first open adds the rule, the second finds it.
func TestUFWOpenTwice(t *testing.T) {
	run := &fakeRunner{replies: []reply{{out: rulesUpdated}, {out: ruleExists}, {out: rulesUpdated}, {out: ruleMissing}}}
	logs := &logRecorder{}
	u := NewUFW(slog.New(logs), WithRunner(run))
	ctx := context.Background()
	for i, step := range []func() error{
		func() error { return u.Open(ctx, 55001, "antnode 0001") },
		func() error { return u.Open(ctx, 55001, "antnode 0001") },
		func() error { return u.Close(ctx, 55001) },
		func() error { return u.Close(ctx, 55001) },
	} {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []string{"INFO firewall open", "DEBUG firewall open: nothing to do", "INFO firewall close", "DEBUG firewall close: nothing to do"}
	if diff := cmp.Diff(want, logs.lines); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

func TestUFWMissingBinary(t *testing.T) {
	notFound := fmt.Errorf("look up %q: %w", "ufw", exec.ErrNotFound)
	run := &fakeRunner{replies: []reply{{err: notFound}}}
	logs := &logRecorder{}
	u := NewUFW(slog.New(logs), WithRunner(run))
	ctx := context.Background()
	for i := range 3 {
		if err := u.Open(ctx, 55001+i, NodeComment(i+1)); err != nil {
			t.Errorf("Open without ufw = %v, want nil", err)
		}
		if err := u.Close(ctx, 55001+i); err != nil {
			t.Errorf("Close without ufw = %v, want nil", err)
		}
	}
	if n := logs.count(slog.LevelWarn); n != 1 {
		t.Errorf("warnings after 6 calls without ufw = %d, want 1; log:\n%s", n, strings.Join(logs.lines, "\n"))
	}
	if len(run.calls) != 6 {
		t.Errorf("runner calls = %d, want 6 (ufw may appear later)", len(run.calls))
	}
	if err := u.Open(ctx, 0, ""); err == nil {
		t.Error("Open(0) without ufw = nil, want a port error")
	}
}

// TestUFWTimeout checks that a ufw stuck on its lock is abandoned after the timeout.
func TestUFWTimeout(t *testing.T) {
	stuck := run.Func(func(ctx context.Context, argv []string) ([]byte, error) {
		<-ctx.Done() // what exec.CommandContext does: it kills the process when ctx ends
		return []byte("partial"), errors.New("signal: killed")
	})
	u := NewUFW(nil, WithRunner(stuck), WithTimeout(time.Millisecond))
	err := u.Open(context.Background(), 55001, "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open with a stuck ufw = %v, want context.DeadlineExceeded", err)
	}
	want := `open firewall port 55001/udp: run ["ufw" "allow" "55001/udp"]: context deadline exceeded: signal: killed: partial`
	if err.Error() != want {
		t.Errorf("Open with a stuck ufw error:\n got %q\nwant %q", err.Error(), want)
	}
}

func TestNull(t *testing.T) {
	logs := &logRecorder{}
	n := NewNull(slog.New(logs))
	ctx := context.Background()
	if err := n.Open(ctx, 55001, "antnode 0001"); err != nil {
		t.Errorf("Null.Open = %v, want nil", err)
	}
	if err := n.Close(ctx, 55001); err != nil {
		t.Errorf("Null.Close = %v, want nil", err)
	}
	if err := n.Open(ctx, 0, ""); err != nil {
		t.Errorf("Null.Open(0) = %v, want nil", err)
	}
	if got := n.Name(); got != "null" {
		t.Errorf("Null.Name() = %q, want %q", got, "null")
	}
	want := []string{"DEBUG firewall open skipped", "DEBUG firewall close skipped", "DEBUG firewall open skipped"}
	if diff := cmp.Diff(want, logs.lines); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		goos, mode, disabled string
		want                 string
	}{
		{"linux", "systemd+sudo", "", "ufw"},
		{"linux", "setsid+sudo", "", "ufw"},
		{"linux", "systemd+sudo", "0", "ufw"},
		{"linux", "systemd+sudo", "false", "ufw"},
		{"linux", "systemd+sudo", "1", "null"},
		{"linux", "setsid+sudo", "TRUE", "null"},
		{"linux", "systemd+sudo", " Yes ", "null"},
		{"linux", "systemd+user", "", "null"},
		{"linux", "setsid+user", "", "null"},
		{"linux", "systemd", "", "null"},
		{"linux", "antctl+sudo", "", "null"},
		{"linux", "", "", "null"},
		{"darwin", "launchd+sudo", "", "null"},
		{"darwin", "systemd+sudo", "", "null"},
		{"freebsd", "setsid+sudo", "", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.goos+"_"+tt.mode+"_"+tt.disabled, func(t *testing.T) {
			spec, _ := units.ParseSpec(tt.mode) // the zero Spec for what wnm does not drive
			if got := selectFor(tt.goos, spec, tt.disabled, nil).Name(); got != tt.want {
				t.Errorf("selectFor(%q, %q, %s=%q) = %s, want %s", tt.goos, tt.mode, EnvDisabled, tt.disabled, got, tt.want)
			}
		})
	}
}

func TestSelectReadsEnvironment(t *testing.T) {
	t.Setenv(EnvDisabled, "yes")
	if got := Select(units.Spec{Kind: units.Systemd, Mode: gen.ModeSudo}, nil).Name(); got != "null" {
		t.Errorf("Select(systemd+sudo) with %s=yes = %s, want null", EnvDisabled, got)
	}
}

func TestNodeComment(t *testing.T) {
	for id, want := range map[int]string{1: "antnode 0001", 42: "antnode 0042", 12345: "antnode 12345"} {
		if got := NodeComment(id); got != want {
			t.Errorf("NodeComment(%d) = %q, want %q", id, got, want)
		}
	}
}
