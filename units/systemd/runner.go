package systemd

import (
	"context"

	"github.com/wnm-project/wnm/units/run"
)

// Runner runs one command as an argument vector and returns its combined output: the seam tests
// replace to record or fake what the manager runs. See [run.Runner].
type Runner = run.Runner

// RunnerFunc adapts a function to a [Runner].
type RunnerFunc = run.Func

// ExecRunner returns the real [Runner]: no shell, C locale.
func ExecRunner() Runner { return run.Exec() }

// runCmd runs argv through r; a failure carries the argv and the trimmed output.
func runCmd(ctx context.Context, r Runner, argv ...string) ([]byte, error) {
	return run.Checked(ctx, r, argv...)
}

// exitCode returns the exit status err carries, or -1.
func exitCode(err error) int { return run.ExitCode(err) }
