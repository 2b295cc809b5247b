package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Root with a colony.db that is not a database: wnm fails naming that file, and never falls back
// to the sudo mode's /var/antctl.
func TestUnreadableDatabaseIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content []byte
		args    []string
	}{
		{"garbage in the user location", []byte("this is not a database, just some bytes\n"), nil},
		{"truncated header", []byte("SQLite format 3\x00\x10\x00"), nil},
		{"garbage at --dbpath", bytes.Repeat([]byte{0xff}, 4096), []string{"--dbpath", "DB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			db := filepath.Join(home, ".local/share/autonomi/colony.db")
			if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(db, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"status"}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "DB", db))
			}
			var stdout, stderr bytes.Buffer
			e := &env{stdout: &stdout, stderr: &stderr, home: home, goos: "linux", euid: 0, now: time.Now}
			code := e.main(args)
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			msg := stderr.String()
			if !strings.Contains(msg, db) {
				t.Errorf("error does not name %s:\n%s", db, msg)
			}
			if strings.Contains(msg, "/var/antctl") {
				t.Errorf("error names /var/antctl:\n%s", msg)
			}
		})
	}
}
