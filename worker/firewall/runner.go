package firewall

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Runner runs one command given as an argument vector (argv[0] is the program, looked up on PATH)
// and returns its combined stdout and stderr. err is nil when the command exited 0; a program that
// cannot be found gives an error that wraps [exec.ErrNotFound]. It is the seam tests replace to
// record what the firewall would run.
type Runner interface {
	Run(ctx context.Context, argv []string) (out []byte, err error)
}

// RunnerFunc adapts a function to a [Runner].
type RunnerFunc func(ctx context.Context, argv []string) ([]byte, error)

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, argv []string) ([]byte, error) { return f(ctx, argv) }

// sbinDirs are searched after PATH: cron runs jobs with PATH=/usr/bin:/bin, which hides ufw
// (/usr/sbin/ufw on Debian and Ubuntu) and would silently turn the firewall off.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// execRunner is the real [Runner]. It never uses a shell and runs every command in the C locale,
// so that the messages the firewall matches on are the untranslated ones.
type execRunner struct{}

func (execRunner) Run(ctx context.Context, argv []string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("run: empty argv")
	}
	path, err := lookPath(argv[0])
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Env = cLocaleEnv(os.Environ())
	return cmd.CombinedOutput()
}

// lookPath finds name on PATH, then in [sbinDirs].
func lookPath(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil || strings.ContainsRune(name, filepath.Separator) {
		return path, err
	}
	for _, dir := range sbinDirs {
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("look up %q in PATH and %s: %w", name, strings.Join(sbinDirs, ":"), exec.ErrNotFound)
}

// cLocaleEnv returns env with every locale variable replaced by LC_ALL=C. LANGUAGE is dropped too:
// Python's gettext (ufw is a Python program) reads it before LC_ALL.
func cLocaleEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if name == "LANG" || name == "LANGUAGE" || strings.HasPrefix(name, "LC_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LC_ALL=C")
}
