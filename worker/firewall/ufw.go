package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wnm-project/wnm/units/run"
)

// UFW manages rules through ufw(8): `ufw allow <port>/udp comment <comment>` to open and
// `ufw delete allow <port>/udp` to close. It only edits rules: it never runs `ufw enable`,
// `disable`, `reload` or `reset`, so on a host where ufw is inactive the rules are recorded and
// take effect whenever the administrator enables ufw.
//
// ufw answers a duplicate rule with "Skipping adding existing rule" and a missing one with "Could
// not delete non-existent rule"; both count as success, whatever the exit status. A line starting
// "ERROR:" is a failure, whatever the exit status. When the ufw binary is missing, Open and Close
// succeed and the first such call logs a warning.
type UFW struct {
	logger      *slog.Logger
	run         run.Runner
	timeout     time.Duration
	warnMissing sync.Once
}

var _ Firewall = (*UFW)(nil)

// DefaultTimeout bounds one ufw command. ufw waits for its lock file without a limit, so a stuck
// ufw elsewhere must not stall the worker's cycle.
const DefaultTimeout = 30 * time.Second

// Option configures a [UFW].
type Option func(*UFW)

// WithRunner makes the firewall run its commands through r instead of executing them.
func WithRunner(r run.Runner) Option {
	return func(u *UFW) { u.run = r }
}

// WithTimeout bounds each ufw command by d instead of [DefaultTimeout].
func WithTimeout(d time.Duration) Option {
	return func(u *UFW) { u.timeout = d }
}

// NewUFW returns a ufw-backed firewall that logs to logger (nil discards).
func NewUFW(logger *slog.Logger, opts ...Option) *UFW {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u := &UFW{logger: logger.With("firewall", "ufw"), run: run.Exec(), timeout: DefaultTimeout}
	for _, o := range opts {
		o(u)
	}
	return u
}

// Name returns "ufw".
func (u *UFW) Name() string { return "ufw" }

// Open adds `allow <port>/udp`, with comment unless it is empty. A comment may not contain a
// single quote or control characters.
func (u *UFW) Open(ctx context.Context, port int, comment string) error {
	_, err := u.open(ctx, port, comment)
	return err
}

// Close deletes `allow <port>/udp`, whatever its comment.
func (u *UFW) Close(ctx context.Context, port int) error {
	_, err := u.close(ctx, port)
	return err
}

// ufwOp describes one kind of rule change: how to log it and what ufw prints when the change was
// already in place.
type ufwOp struct {
	verb    string // "open" or "close"
	already string // prefix of ufw's "nothing to do" line
}

var (
	opOpen  = ufwOp{verb: "open", already: "Skipping adding existing rule"}
	opClose = ufwOp{verb: "close", already: "Could not delete non-existent rule"}
)

// open is Open that also reports whether a rule was added (false when it was there already or
// ufw is missing).
func (u *UFW) open(ctx context.Context, port int, comment string) (changed bool, err error) {
	if err := checkPort(port); err != nil {
		return false, err
	}
	if err := checkComment(comment); err != nil {
		return false, err
	}
	argv := []string{"ufw", "allow", udp(port)}
	if comment != "" {
		argv = append(argv, "comment", comment)
	}
	return u.apply(ctx, opOpen, port, argv)
}

// close is Close that also reports whether a rule was deleted.
func (u *UFW) close(ctx context.Context, port int) (changed bool, err error) {
	if err := checkPort(port); err != nil {
		return false, err
	}
	return u.apply(ctx, opClose, port, []string{"ufw", "delete", "allow", udp(port)})
}

func udp(port int) string { return strconv.Itoa(port) + "/udp" }

func (u *UFW) apply(ctx context.Context, op ufwOp, port int, argv []string) (bool, error) {
	runCtx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	stdout, stderr, err := u.run.Run(runCtx, nil, argv)
	out := slices.Concat(stdout, stderr)
	if errors.Is(err, run.ErrNotFound) {
		u.warnMissing.Do(func() {
			u.logger.WarnContext(ctx, "ufw is not installed; firewall rules are not managed", "err", err)
		})
		u.logger.DebugContext(ctx, "firewall "+op.verb+" skipped: no ufw", "port", port)
		return false, nil
	}
	text := strings.TrimSpace(string(out))
	if ctxErr := runCtx.Err(); err != nil && ctxErr != nil {
		return false, fmt.Errorf("%s firewall port %s: run %q: %w: %w%s", op.verb, udp(port), argv, ctxErr, err, outputSuffix(text))
	}
	if _, ok := findLine(text, "ERROR:"); ok {
		if err == nil {
			err = errors.New("error reported despite exit status 0")
		}
		return false, fmt.Errorf("%s firewall port %s: run %q: %w%s", op.verb, udp(port), argv, err, outputSuffix(text))
	}
	if _, already := findLine(text, op.already); already {
		u.logger.DebugContext(ctx, "firewall "+op.verb+": nothing to do", "port", port, "output", text)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s firewall port %s: run %q: %w%s", op.verb, udp(port), argv, err, outputSuffix(text))
	}
	u.logger.InfoContext(ctx, "firewall "+op.verb, "port", port, "proto", "udp")
	return true, nil
}

// findLine returns the first line of text that starts with prefix.
func findLine(text, prefix string) (string, bool) {
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, prefix) {
			return line, true
		}
	}
	return "", false
}

// maxOutput caps the command output kept in an error; ufw follows a syntax error with its whole
// usage text.
const maxOutput = 1024

// outputSuffix formats trimmed command output for the end of an error message.
func outputSuffix(text string) string {
	if text == "" {
		return ""
	}
	if len(text) > maxOutput {
		text = strings.ToValidUTF8(text[:maxOutput], "") + " [truncated]"
	}
	return ": " + text
}
