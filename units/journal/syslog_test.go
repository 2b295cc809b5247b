//go:build !windows && !plan9

package journal

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestSyslogHandler(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h, err := DialSyslog("unixgram", sock, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })

	l := slog.New(h).With("cycle", 9)
	l.Debug("dropped")
	l.Info("action", "action", "add", "node", 4)
	l.WithGroup("g").Warn("w", "k", "two words")
	l.Error("e")
	l.Log(context.Background(), slog.LevelDebug-1, "also dropped")

	// <facility*8+severity> then a timestamp, host and tag: user.info is 14, warning 12, err 11.
	want := []string{
		`^<14>.* wnm\[\d+\]: action cycle=9 action=add node=4\n?$`,
		`^<12>.* wnm\[\d+\]: w cycle=9 g.k="two words"\n?$`,
		`^<11>.* wnm\[\d+\]: e cycle=9\n?$`,
	}
	for i, w := range want {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read line %d: %v", i, err)
		}
		if !regexp.MustCompile(w).Match(buf[:n]) {
			t.Errorf("line %d = %q, want a match for %s", i, buf[:n], w)
		}
	}
	if err := conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Read(make([]byte, 4096)); err == nil {
		t.Errorf("an extra line was written (%d bytes): debug records must be dropped", n)
	}
}

func TestDialSyslogFails(t *testing.T) {
	_, err := DialSyslog("unixgram", filepath.Join(t.TempDir(), "absent"), nil)
	if err == nil {
		t.Fatal("DialSyslog to a missing socket succeeded")
	}
}
