// Package run is wnm's one seam for running programs: an argv and an optional input in, standard
// output and standard error out, always without a shell and in the C locale, with errors that carry
// the argv and the output. The service managers, the firewall and the installer run commands only
// through a [Runner], so tests replace it to record or fake what would run; the setsid manager
// starts its detached nodes with [Start], and the survey asks a binary its version with [Output].
// No other package imports os/exec (the repository's dependency test and depguard hold it to that).
package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Runner runs one command given as an argument vector (argv[0] is the program, looked up on PATH
// and then in the sbin directories), with stdin as its standard input (nil for none), and returns
// its standard output and standard error apart. err is nil when the command exited 0; when it ran
// and failed, err has an ExitCode() int method; a program that cannot be found gives an error
// wrapping [ErrNotFound]. It is the one seam through which wnm runs a program and waits for it:
// the service managers, the installer and the firewall take a Runner, and tests replace it to
// record or fake what would run.
type Runner interface {
	Run(ctx context.Context, stdin []byte, argv []string) (stdout, stderr []byte, err error)
}

// Func adapts a function that answers a command with one output to a [Runner]: the output is the
// standard output, the standard error is empty and the standard input is not read. Tests use it
// for fakes.
type Func func(ctx context.Context, argv []string) ([]byte, error)

// Run calls f with argv.
func (f Func) Run(ctx context.Context, _ []byte, argv []string) ([]byte, []byte, error) {
	out, err := f(ctx, argv)
	return out, nil, err
}

// ErrNotFound is what a runner's error wraps when the program cannot be found, so callers need not
// import os/exec to recognise it.
var ErrNotFound = exec.ErrNotFound

// Exec returns the real [Runner]: no shell, the C locale (so that the messages callers match are
// the untranslated ones), argv[0] found with [LookPath].
func Exec() Runner { return execRunner{} }

type execRunner struct{}

func (execRunner) Run(ctx context.Context, stdin []byte, argv []string) ([]byte, []byte, error) {
	if len(argv) == 0 {
		return nil, nil, errors.New("run: empty argv")
	}
	path, err := LookPath(argv[0])
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Env = CLocale(os.Environ())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// Output runs argv directly (argv[0] must be a path; nothing is looked up) in the C locale and
// returns its standard output and standard error apart. A child that inherits the pipes and
// outlives the program delays the return by at most waitDelay. When the program fails, err has an
// ExitCode() int method, as with a [Runner].
func Output(ctx context.Context, argv []string, waitDelay time.Duration) (stdout, stderr []byte, err error) {
	if len(argv) == 0 {
		return nil, nil, errors.New("run: empty argv")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = CLocale(os.Environ())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = waitDelay
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// sbinDirs are searched after PATH: cron runs jobs with PATH=/usr/bin:/bin, which hides ufw and
// other administration tools in /usr/sbin, and sudo or a service can leave PATH shorter still.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// LookPath finds name on PATH, then in the sbin (and standard bin) directories.
func LookPath(name string) (string, error) {
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

// CLocale returns env with every locale variable replaced by LC_ALL=C, so messages are the
// untranslated ones. LANGUAGE goes too: gettext (ufw is a Python program) reads it before LC_ALL.
func CLocale(env []string) []string {
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

// Checked runs argv through r without input and returns its output, the standard output followed
// by the standard error. On failure the error carries the argv and the trimmed output and wraps
// the runner's error, so [ExitCode] still finds the status.
func Checked(ctx context.Context, r Runner, argv ...string) ([]byte, error) {
	stdout, stderr, err := r.Run(ctx, nil, argv)
	out := slices.Concat(stdout, stderr)
	if err != nil {
		return out, Failed(argv, err, out)
	}
	return out, nil
}

// Failed is the error of a command that failed: "<argv>: <err>: <output trimmed to 2 KiB>", or
// "(no output)" in its place. It wraps err.
func Failed(argv []string, err error, output []byte) error {
	msg := strings.TrimSpace(string(output))
	if len(msg) > 2048 {
		msg = msg[:2048] + "…"
	}
	if msg == "" {
		msg = "(no output)"
	}
	return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, msg)
}

// ExitCode returns the exit status err carries, or -1 when it carries none (the program did not
// run, or was killed by a signal).
func ExitCode(err error) int {
	var e interface{ ExitCode() int }
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	return -1
}

// Spec describes a program to start in the background: Path is run with Args (Args[0] included)
// in Dir, with Env as its whole environment and the given standard streams (nil is /dev/null).
// SysProcAttr carries the platform's process attributes, such as a new session.
type Spec struct {
	Path                  string
	Args                  []string
	Dir                   string
	Env                   []string
	Stdin, Stdout, Stderr *os.File
	SysProcAttr           *syscall.SysProcAttr
}

// Child is a program started with [Start].
type Child struct {
	PID int
	cmd *exec.Cmd
}

// Start starts s and returns without waiting for it.
func Start(s Spec) (*Child, error) {
	cmd := &exec.Cmd{Path: s.Path, Args: s.Args, Dir: s.Dir, Env: s.Env, SysProcAttr: s.SysProcAttr}
	// Assigned one by one: a nil *os.File in an io.Reader or io.Writer field is not nil.
	if s.Stdin != nil {
		cmd.Stdin = s.Stdin
	}
	if s.Stdout != nil {
		cmd.Stdout = s.Stdout
	}
	if s.Stderr != nil {
		cmd.Stderr = s.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &Child{PID: cmd.Process.Pid, cmd: cmd}, nil
}

// Wait waits for the child to exit and reaps it. Call it at most once.
func (c *Child) Wait() error { return c.cmd.Wait() }

// State describes how the child ended ("exit status 1", "signal: killed"); it is only meaningful
// after Wait has returned.
func (c *Child) State() string {
	if c.cmd.ProcessState == nil {
		return "still running"
	}
	return c.cmd.ProcessState.String()
}

// Kill sends the child SIGKILL.
func (c *Child) Kill() error { return c.cmd.Process.Kill() }
