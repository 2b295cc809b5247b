package fakes

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoginctl(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name string
		vars map[string]string
		dir  func(state string) string // where the flag files must be
	}{
		{"under WNM_ROOT", map[string]string{"WNM_ROOT": root}, func(string) string { return filepath.Join(root, "var/lib/systemd/linger") }},
		{"in the state dir", map[string]string{"WNM_ROOT": "/"}, func(state string) string { return filepath.Join(state, "linger") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv, _ := fakeEnv(t, tt.vars)
			run := func(args ...string) (int, string, string) {
				var out, errb bytes.Buffer
				rc := loginctl(args, &out, &errb, getenv)
				return rc, out.String(), errb.String()
			}
			if rc, out, _ := run("show-user", "alice", "--property=Linger"); rc != 0 || out != "Linger=no\n" {
				t.Errorf("show-user before = %d, %q", rc, out)
			}
			if rc, _, errs := run("enable-linger"); rc != 0 {
				t.Fatalf("enable-linger = %d, %q", rc, errs)
			}
			flag := filepath.Join(tt.dir(getenv(EnvState)), "alice")
			if _, err := os.Stat(flag); err != nil {
				t.Errorf("enable-linger made no flag file: %v", err)
			}
			if rc, out, _ := run("show-user", "alice", "--property=Linger"); rc != 0 || out != "Linger=yes\n" {
				t.Errorf("show-user after = %d, %q", rc, out)
			}
			if rc, _, errs := run("disable-linger", "alice"); rc != 0 {
				t.Fatalf("disable-linger = %d, %q", rc, errs)
			}
			if _, err := os.Stat(flag); err == nil {
				t.Errorf("disable-linger left the flag file")
			}
			if rc, _, errs := run("enable-linger", "../etc"); rc == 0 || !strings.Contains(errs, "Failed to look up user") {
				t.Errorf("enable-linger ../etc = %d, %q; want a refusal", rc, errs)
			}
		})
	}
}

func TestLoginctlDeny(t *testing.T) {
	getenv, _ := fakeEnv(t, map[string]string{EnvLingerDeny: "1"})
	var errb bytes.Buffer
	if rc := loginctl([]string{"enable-linger", "alice"}, &bytes.Buffer{}, &errb, getenv); rc == 0 || !strings.Contains(errb.String(), "Access denied") {
		t.Errorf("enable-linger with %s=1 = %d, %q; want Access denied", EnvLingerDeny, rc, errb.String())
	}
}
