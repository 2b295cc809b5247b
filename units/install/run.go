package install

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wnm-project/wnm/units/run"
)

// Runner runs one command, argv[0] looked up on PATH, with stdin as its standard input (nil for
// none), and returns its standard output. A command that exits non-zero gives an [*ExitError]; a
// program that cannot be found gives an error wrapping [run.ErrNotFound]. It is the seam tests
// replace; the real one is [ExecRunner].
type Runner interface {
	Run(ctx context.Context, stdin []byte, argv ...string) ([]byte, error)
}

// ExitError is a command that ran and failed.
type ExitError struct {
	Argv   []string
	Code   int    // exit status, -1 when killed by a signal
	Stderr string // trimmed
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: exit status %d", strings.Join(e.Argv, " "), e.Code)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// ExecRunner runs commands through units/run, in the C locale so that the messages install matches
// ("no crontab for", "No such process") are the untranslated ones. It never uses a shell.
type ExecRunner struct{}

// Run runs argv.
func (ExecRunner) Run(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	stdout, stderr, err := run.Input(ctx, stdin, argv)
	var exited interface{ ExitCode() int } // the program ran and failed, or was killed (-1)
	if errors.As(err, &exited) {
		return stdout, &ExitError{Argv: argv, Code: exited.ExitCode(), Stderr: strings.TrimSpace(string(stderr))}
	}
	if err != nil {
		return stdout, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return stdout, nil
}
