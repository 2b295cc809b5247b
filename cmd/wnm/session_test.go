package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/config"
)

// TestMode follows wnm-python's mode detection (docs/compatibility.md, "Modes and directories"): an explicit
// process_manager, then the one recorded in an existing database, then root means sudo.
func TestMode(t *testing.T) {
	home := t.TempDir()
	// A database in the user location that records a sudo manager.
	probe := filepath.Join(home, "probe.db")
	c := config.Defaults(config.Platform{OS: "linux", Mode: gen.ModeUser, Home: home, CPUCount: 1})
	c.RewardsAddress, c.ProcessManager = "faucet", "setsid+sudo"
	st, err := worker.CreateStore(context.Background(), probe, worker.MachineFromConfig(c, 1, time.Unix(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	tests := []struct {
		name    string
		args    []string
		environ []string
		euid    int
		want    gen.Mode
	}{
		{"user by default", nil, nil, 1000, gen.ModeUser},
		{"root means sudo", nil, nil, 0, gen.ModeSudo},
		{"flag wins over root", []string{"--process_manager", "setsid+user"}, nil, 0, gen.ModeUser},
		{"env", nil, []string{"PROCESS_MANAGER=systemd+sudo"}, 1000, gen.ModeSudo},
		{"WNM_ env", nil, []string{"WNM_PROCESS_MANAGER=launchd+user"}, 0, gen.ModeUser},
		{"database records sudo", []string{"--dbpath", probe}, nil, 1000, gen.ModeSudo},
		{"flag wins over database", []string{"--dbpath", probe, "--process_manager", "setsid+user"}, nil, 1000, gen.ModeUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{stdout: io.Discard, stderr: io.Discard, environ: tc.environ, home: home, goos: "linux", euid: tc.euid, now: time.Now}
			var c cli
			p, err := newParser(e, &c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Parse(append([]string{"status"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			s := &session{env: e, cli: &c}
			got, err := s.mode(context.Background())
			if err != nil || got != tc.want {
				t.Errorf("mode = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestMigrateAnmNeedsRoot: run as anm's cron user instead of root, the takeover refuses with a
// message that says so; it never adopts nothing quietly.
func TestMigrateAnmNeedsRoot(t *testing.T) {
	var stdout, stderr strings.Builder
	home := t.TempDir()
	e := &env{stdout: &stdout, stderr: &stderr, environ: []string{"HOME=" + home}, home: home, goos: "linux", euid: 1000, now: time.Now}
	if code := e.main([]string{"init", "--migrate_anm"}); code != exitFailure {
		t.Errorf("exit code %d, want %d", code, exitFailure)
	}
	if !strings.Contains(stderr.String(), "--migrate_anm must run as root") || !strings.Contains(stderr.String(), "sudo wnm init --migrate_anm") {
		t.Errorf("stderr = %q, want the need for root explained", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}
