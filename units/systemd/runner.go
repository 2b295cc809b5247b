package systemd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Runner runs one command given as an argument vector (argv[0] is the program, looked up on PATH)
// and returns its combined stdout and stderr. err is nil when the command exited 0; when it ran
// and failed, err has an ExitCode() int method (as *exec.ExitError has). It is the seam tests
// replace to record or fake what the manager runs.
type Runner interface {
	Run(ctx context.Context, argv []string) (out []byte, err error)
}

// RunnerFunc adapts a function to a [Runner].
type RunnerFunc func(ctx context.Context, argv []string) ([]byte, error)

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, argv []string) ([]byte, error) { return f(ctx, argv) }

// ExecRunner returns the real [Runner]: it runs the program directly (never through a shell) in
// the C locale, so that messages are the untranslated ones.
func ExecRunner() Runner { return execRunner{} }

type execRunner struct{}

func (execRunner) Run(ctx context.Context, argv []string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("run: empty argv")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = cLocale(os.Environ())
	return cmd.CombinedOutput()
}

// cLocale returns env with every locale variable replaced by LC_ALL=C.
func cLocale(env []string) []string {
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

// run runs argv through r and, on failure, returns an error that carries the argv and the
// trimmed output and wraps the runner's error (so [exitCode] still finds the exit status).
func run(ctx context.Context, r Runner, argv ...string) ([]byte, error) {
	out, err := r.Run(ctx, argv)
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 2048 {
			msg = msg[:2048] + "…"
		}
		if msg == "" {
			msg = "(no output)"
		}
		return out, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, msg)
	}
	return out, nil
}

// exitCode returns the exit status err carries, or -1 when it carries none (the program did not
// run, or was killed by a signal).
func exitCode(err error) int {
	var e interface{ ExitCode() int }
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	return -1
}
