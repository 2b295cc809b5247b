package run

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExec(t *testing.T) {
	r := Exec()
	out, errOut, err := r.Run(context.Background(), nil, []string{"sh", "-c", "echo $LC_ALL $LANG; echo oops >&2; exit 3"})
	if ExitCode(err) != 3 {
		t.Fatalf("exit code = %d (%v), want 3", ExitCode(err), err)
	}
	if got := string(out); got != "C\n" {
		t.Errorf("stdout = %q, want the C locale", got)
	}
	if got := string(errOut); got != "oops\n" {
		t.Errorf("stderr = %q, want oops", got)
	}
	out, err = Checked(context.Background(), r, "sh", "-c", "echo bad thing; echo worse >&2; exit 2")
	if err == nil || !strings.Contains(err.Error(), "sh -c echo bad thing; echo worse >&2; exit 2: exit status 2: bad thing\nworse") || ExitCode(err) != 2 {
		t.Errorf("Checked error = %v", err)
	}
	if string(out) != "bad thing\nworse\n" {
		t.Errorf("Checked output = %q, want stdout then stderr", out)
	}
	if _, err := Checked(context.Background(), r, "sh", "-c", "exit 4"); err == nil || !strings.HasSuffix(err.Error(), "exit status 4: (no output)") {
		t.Errorf("Checked error without output = %v", err)
	}
	out, _, err = r.Run(context.Background(), []byte("in"), []string{"sh", "-c", "cat; echo ' done'"})
	if err != nil || string(out) != "in done\n" {
		t.Errorf("Run with stdin = %q, %v; want the input echoed", out, err)
	}
	if _, _, err := r.Run(context.Background(), nil, []string{"wnm-no-such-program"}); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing program: %v, want ErrNotFound", err)
	}
	if ExitCode(errors.New("x")) != -1 {
		t.Error("ExitCode of a plain error is not -1")
	}
}

func TestCLocale(t *testing.T) {
	in := []string{"PATH=/usr/bin", "LANG=de_DE.UTF-8", "LANGUAGE=de:en", "LC_MESSAGES=fr_FR", "LC_ALL=de_DE", "HOME=/root", "LCX=kept"}
	want := []string{"PATH=/usr/bin", "HOME=/root", "LCX=kept", "LC_ALL=C"}
	if diff := cmp.Diff(want, CLocale(in)); diff != "" {
		t.Errorf("CLocale (-want +got):\n%s", diff)
	}
}

func TestExecTable(t *testing.T) {
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Setenv("LANGUAGE", "de")
	t.Setenv("LC_MESSAGES", "de_DE.UTF-8")
	ctx := context.Background()
	tests := []struct {
		name       string
		argv       []string
		wantOut    string
		wantErrOut string
		wantErr    bool
		notFound   bool
	}{
		{name: "C locale", argv: []string{"sh", "-c", `echo "$LC_ALL|$LANG|$LANGUAGE|$LC_MESSAGES"`}, wantOut: "C|||\n"},
		{name: "arguments are not split", argv: []string{"sh", "-c", `printf '%s\n' "$@"`, "sh", "a b", "c;d"}, wantOut: "a b\nc;d\n"},
		{name: "output and exit status", argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, wantOut: "out\n", wantErrOut: "err\n", wantErr: true},
		{name: "missing program", argv: []string{"wnm-no-such-program"}, wantErr: true, notFound: true},
		{name: "empty argv", argv: nil, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := Exec().Run(ctx, nil, tt.argv)
			if got := string(out); got != tt.wantOut {
				t.Errorf("Run(%q) stdout = %q, want %q", tt.argv, got, tt.wantOut)
			}
			if got := string(errOut); got != tt.wantErrOut {
				t.Errorf("Run(%q) stderr = %q, want %q", tt.argv, got, tt.wantErrOut)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("Run(%q) error = %v, want error %v", tt.argv, err, tt.wantErr)
			}
			if errors.Is(err, exec.ErrNotFound) != tt.notFound {
				t.Errorf("Run(%q) error = %v, want not-found %v", tt.argv, err, tt.notFound)
			}
		})
	}
}

// TestLookPathSbin checks the fallback that finds ufw when cron's PATH leaves out /usr/sbin.
func TestLookPathSbin(t *testing.T) {
	sbin := t.TempDir()
	tool := filepath.Join(sbin, "wnm-fake-ufw")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\necho fake\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := sbinDirs
	sbinDirs = []string{filepath.Join(t.TempDir(), "missing"), sbin}
	t.Cleanup(func() { sbinDirs = old })
	t.Setenv("PATH", t.TempDir())

	got, err := LookPath("wnm-fake-ufw")
	if err != nil || got != tool {
		t.Errorf("LookPath(wnm-fake-ufw) = %q, %v; want %q", got, err, tool)
	}
	if _, err := LookPath("wnm-no-such-program"); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("LookPath(wnm-no-such-program) = %v, want exec.ErrNotFound", err)
	}
}
