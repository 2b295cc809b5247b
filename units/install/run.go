package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/wnm-project/wnm/units/run"
)

// Runner runs one command, argv[0] looked up on PATH, with stdin as its standard input (nil for
// none), and returns its standard output. A command that exits non-zero gives an [*ExitError]; a
// program that cannot be found gives an error wrapping [exec.ErrNotFound]. It is the seam tests
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

// ExecRunner runs commands with os/exec, in the C locale so that the messages install matches
// ("no crontab for", "No such process") are the untranslated ones. It never uses a shell.
type ExecRunner struct{}

// Run runs argv.
func (ExecRunner) Run(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("run: empty argv")
	}
	path, err := run.LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Env = run.CLocale(os.Environ())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return stdout.Bytes(), &ExitError{Argv: argv, Code: ee.ExitCode(), Stderr: strings.TrimSpace(stderr.String())}
	}
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return stdout.Bytes(), nil
}
