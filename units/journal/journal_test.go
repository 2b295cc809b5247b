package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdjournal "github.com/coreos/go-systemd/v22/journal"
	"github.com/google/go-cmp/cmp"
)

func TestFieldName(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"action", "WNM_ACTION"},
		{"node", "WNM_NODE"},
		{"reason", "WNM_REASON"},
		{"cycle", "WNM_CYCLE"},
		{"duration_seconds", "WNM_DURATION_SECONDS"},
		{"nodeID", "WNM_NODE_ID"},
		{"port2Start", "WNM_PORT2_START"},
		{"host.load1", "WNM_HOST_LOAD1"},
		{"dry-run", "WNM_DRY_RUN"},
		{"é x", "WNM___X"},
		{"", "WNM_"},
		{strings.Repeat("k", 80), "WNM_" + strings.Repeat("K", 60)},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := FieldName(tt.key); got != tt.want {
				t.Errorf("FieldName(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestPriority(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  sdjournal.Priority
	}{
		{slog.LevelDebug - 4, sdjournal.PriDebug},
		{slog.LevelDebug, sdjournal.PriDebug},
		{slog.LevelInfo, sdjournal.PriInfo},
		{slog.LevelInfo + 2, sdjournal.PriInfo},
		{slog.LevelWarn, sdjournal.PriWarning},
		{slog.LevelError, sdjournal.PriErr},
		{slog.LevelError + 4, sdjournal.PriErr},
	}
	for _, tt := range tests {
		if got := Priority(tt.level); got != tt.want {
			t.Errorf("Priority(%v) = %d, want %d", tt.level, got, tt.want)
		}
	}
}

// sent is one entry a fake SendFunc received.
type sent struct {
	Msg    string
	Pri    sdjournal.Priority
	Fields map[string]string
}

type recorder struct {
	entries []sent
	err     error
}

func (r *recorder) send(msg string, p sdjournal.Priority, fields map[string]string) error {
	if r.err != nil {
		return r.err
	}
	r.entries = append(r.entries, sent{msg, p, fields})
	return nil
}

type stringer struct{}

func (stringer) LogValue() slog.Value { return slog.StringValue("resolved") }

func TestHandler(t *testing.T) {
	when := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want []sent
	}{
		{
			name: "action line",
			log: func(l *slog.Logger) {
				l.With("cycle", int64(1700000000123)).Info("action", "action", "upgrade", "node", 3, "reason", "outdated version")
			},
			want: []sent{{
				Msg: `action cycle=1700000000123 action=upgrade node=3 reason="outdated version"`,
				Pri: sdjournal.PriInfo,
				Fields: map[string]string{
					"SYSLOG_IDENTIFIER": "wnm", "WNM_CYCLE": "1700000000123", "WNM_ACTION": "upgrade",
					"WNM_NODE": "3", "WNM_REASON": "outdated version",
				},
			}},
		},
		{
			name: "levels and kinds",
			log: func(l *slog.Logger) {
				l.Debug("not logged")
				l.Warn("w", "err", errors.New("boom: it\nbroke"), "at", when, "took", 1500*time.Millisecond)
				l.Error("e", "actions", []string{"add", "survey"}, "ok", false, "lazy", stringer{}, "f", 0.5)
			},
			want: []sent{
				{
					Msg: `w err="boom: it\nbroke" at=2026-03-01T12:00:00Z took=1.5s`,
					Pri: sdjournal.PriWarning,
					Fields: map[string]string{
						"SYSLOG_IDENTIFIER": "wnm", "WNM_ERR": "boom: it\nbroke", "WNM_AT": "2026-03-01T12:00:00Z", "WNM_TOOK": "1.5s",
					},
				},
				{
					Msg: "e actions=add,survey ok=false lazy=resolved f=0.5",
					Pri: sdjournal.PriErr,
					Fields: map[string]string{
						"SYSLOG_IDENTIFIER": "wnm", "WNM_ACTIONS": "add,survey", "WNM_OK": "false", "WNM_LAZY": "resolved", "WNM_F": "0.5",
					},
				},
			},
		},
		{
			name: "groups",
			log: func(l *slog.Logger) {
				l.WithGroup("host").With("cpu", 12).WithGroup("").Info("g", slog.Group("disk", "used", 3), slog.Group("", "inline", 1), slog.Attr{}, "", "")
			},
			want: []sent{{
				Msg:    `g host.cpu=12 host.disk.used=3 host.inline=1 host.=""`,
				Pri:    sdjournal.PriInfo,
				Fields: map[string]string{"SYSLOG_IDENTIFIER": "wnm", "WNM_HOST_CPU": "12", "WNM_HOST_DISK_USED": "3", "WNM_HOST_INLINE": "1", "WNM_HOST_": ""},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			tt.log(slog.New(NewHandler(Options{Send: r.send})))
			if diff := cmp.Diff(tt.want, r.entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerFallback(t *testing.T) {
	r := recorder{err: errors.New("socket gone")}
	var buf bytes.Buffer
	text := slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	h := NewHandler(Options{Send: r.send, Fallback: text, Level: slog.LevelDebug})
	slog.New(h).With("cycle", 7).WithGroup("g").Debug("kept", "node", 1)
	if got, want := buf.String(), "level=DEBUG msg=kept cycle=7 g.node=1\n"; got != want {
		t.Errorf("fallback wrote %q, want %q", got, want)
	}
	noFallback := NewHandler(Options{Send: r.send})
	err := noFallback.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "lost", 0))
	if err == nil || !strings.Contains(err.Error(), "socket gone") {
		t.Errorf("Handle without a fallback = %v, want the send error", err)
	}
}

// TestHandlerSocket sends through go-systemd's real journal.Send to a fake journald: a unixgram
// socket in a temporary directory, which the journal package is pointed at (see journalSocket).
func TestHandlerSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "socket")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	old := journalSocket
	journalSocket = sock
	t.Cleanup(func() { journalSocket = old })
	if !Available() {
		t.Fatalf("Available() = false with a listener on %s", sock)
	}

	l := slog.New(NewHandler(Options{}))
	l.With("cycle", 42).Info("cycle", "nodes", 5, "actions", []string{"add"}, "reason", "room to grow")
	l.Warn("action failed", "action", "upgrade", "node", 2, "err", "copy failed:\nno space")

	want := []map[string]string{
		{
			"PRIORITY": "6", "MESSAGE": `cycle cycle=42 nodes=5 actions=add reason="room to grow"`, "SYSLOG_IDENTIFIER": "wnm",
			"WNM_CYCLE": "42", "WNM_NODES": "5", "WNM_ACTIONS": "add", "WNM_REASON": "room to grow",
		},
		{
			"PRIORITY": "4", "MESSAGE": `action failed action=upgrade node=2 err="copy failed:\nno space"`, "SYSLOG_IDENTIFIER": "wnm",
			"WNM_ACTION": "upgrade", "WNM_NODE": "2", "WNM_ERR": "copy failed:\nno space",
		},
	}
	for i, w := range want {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65536)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read entry %d: %v", i, err)
		}
		got, err := parseNative(buf[:n])
		if err != nil {
			t.Fatalf("entry %d: %v\n%q", i, err, buf[:n])
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("entry %d (-want +got):\n%s", i, diff)
		}
	}
}

// parseNative decodes one datagram of the journal's native protocol: NAME=value lines, or NAME,
// newline, a 64-bit little-endian length, the value and a newline for values with newlines.
func parseNative(b []byte) (map[string]string, error) {
	out := map[string]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return nil, errors.New("unterminated line")
		}
		ln := string(b[:nl])
		b = b[nl+1:]
		if k, v, ok := strings.Cut(ln, "="); ok {
			out[k] = v
			continue
		}
		if len(b) < 8 {
			return nil, errors.New("short length")
		}
		size := binary.LittleEndian.Uint64(b[:8])
		b = b[8:]
		if uint64(len(b)) < size+1 || b[size] != '\n' {
			return nil, errors.New("bad binary value")
		}
		out[ln] = string(b[:size])
		b = b[size+1:]
	}
	return out, nil
}

func TestChoose(t *testing.T) {
	yes := func() bool { return true }
	no := func() bool { return false }
	tests := []struct {
		name string
		env  Env
		vars map[string]string
		want Target
	}{
		{"terminal", Env{GOOS: "linux", StderrIsFD2: true, JournalStream: no}, nil, Text},
		{"systemd", Env{GOOS: "linux", StderrIsFD2: true, JournalStream: yes}, nil, Journal},
		{"replaced stderr", Env{GOOS: "linux", StderrIsFD2: false, JournalStream: yes}, nil, Text},
		{"launchd job", Env{GOOS: "darwin", StderrIsFD2: true, JournalStream: no, LaunchdLabel: "com.autonomi.wnm"},
			map[string]string{"XPC_SERVICE_NAME": "com.autonomi.wnm"}, Syslog},
		{"macOS terminal", Env{GOOS: "darwin", StderrIsFD2: true, JournalStream: no, LaunchdLabel: "com.autonomi.wnm"},
			map[string]string{"XPC_SERVICE_NAME": "application.com.apple.Terminal.1"}, Text},
		{"label on linux", Env{GOOS: "linux", StderrIsFD2: true, JournalStream: no, LaunchdLabel: "com.autonomi.wnm"},
			map[string]string{"XPC_SERVICE_NAME": "com.autonomi.wnm"}, Text},
		{"override text", Env{GOOS: "linux", StderrIsFD2: true, JournalStream: yes}, map[string]string{"WNM_LOG_TARGET": "text"}, Text},
		{"override journal", Env{GOOS: "linux"}, map[string]string{"WNM_LOG_TARGET": "journal"}, Journal},
		{"override syslog", Env{GOOS: "linux"}, map[string]string{"WNM_LOG_TARGET": "syslog"}, Syslog},
		{"bad override", Env{GOOS: "linux", StderrIsFD2: true, JournalStream: no}, map[string]string{"WNM_LOG_TARGET": "loud"}, Text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.Getenv = func(k string) string { return tt.vars[k] }
			if got := Choose(tt.env); got != tt.want {
				t.Errorf("Choose() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStderrIsJournalStream(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"unset", "", false},
		{"another file", "1:1", false},
		{"unparseable", "journal", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JOURNAL_STREAM", tt.value)
			if got := StderrIsJournalStream(); got != tt.want {
				t.Errorf("StderrIsJournalStream() with JOURNAL_STREAM=%q = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}
