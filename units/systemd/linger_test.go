package systemd

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnsureLinger(t *testing.T) {
	sudo := "sudo "
	if os.Geteuid() == 0 {
		sudo = ""
	}
	tests := []struct {
		name        string
		user        string
		lingering   bool
		loginctl    answer
		wantEnabled bool
		wantHint    string
		wantErr     string
		wantCalls   []string
	}{
		{name: "already lingering", user: "alice", lingering: true, wantEnabled: true},
		{name: "enabled by loginctl", user: "alice", wantEnabled: true, wantCalls: []string{"loginctl enable-linger alice"}},
		{
			name: "refused", user: "alice",
			loginctl:  answer{out: "Could not enable linger: Access denied\n", err: exitError(1)},
			wantHint:  sudo + "loginctl enable-linger alice",
			wantErr:   "enable lingering for alice: loginctl enable-linger alice: exit status 1: Could not enable linger: Access denied",
			wantCalls: []string{"loginctl enable-linger alice"},
		},
		{name: "current user", user: "", wantEnabled: true, wantCalls: []string{"loginctl enable-linger " + currentUser(t)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			withLingerDir(t, dir)
			if tt.lingering {
				if err := os.WriteFile(filepath.Join(dir, tt.user), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rec := newRecorder()
			rec.answers["loginctl enable-linger alice"] = tt.loginctl
			on, hint, err := EnsureLinger(t.Context(), rec, tt.user)
			if on != tt.wantEnabled || hint != tt.wantHint {
				t.Errorf("EnsureLinger = %v, %q; want %v, %q", on, hint, tt.wantEnabled, tt.wantHint)
			}
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("EnsureLinger error = %v, want %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, rec.take()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCreateWarnsWithoutLinger: a user-mode Create whose lingering cannot be enabled still
// succeeds and logs the exact command to run, once.
func TestCreateWarnsWithoutLinger(t *testing.T) {
	dir := t.TempDir()
	withLingerDir(t, filepath.Join(dir, "linger"))
	rec := newRecorder()
	me := currentUser(t)
	rec.answers["loginctl enable-linger "+me] = answer{out: "Access denied", err: exitError(1)}
	var logs bytes.Buffer
	m, err := New(Options{Mode: "user", UnitDir: filepath.Join(dir, "units"), Transport: TransportSystemctl, Runner: rec,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{1, 2} {
		if err := m.Create(t.Context(), testNode(t, filepath.Join(dir, "nodes"), id)); err != nil {
			t.Fatalf("Create %d: %v", id, err)
		}
	}
	if got := strings.Count(logs.String(), "level=WARN"); got != 1 {
		t.Errorf("%d warnings logged, want one:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), `run="loginctl enable-linger `+me+`"`) && !strings.Contains(logs.String(), `run="sudo loginctl enable-linger `+me+`"`) {
		t.Errorf("warning does not name the command to run:\n%s", logs.String())
	}
}
