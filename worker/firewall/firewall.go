// Package firewall opens and closes the UDP port of each antnode in the host firewall.
//
// It owns the [Firewall] interface, its backends ([UFW] and [Null]) and [Select], which picks one
// for a process-manager mode. Backends are idempotent: opening an open port or closing a closed one
// succeeds. The package must not enable, disable, reset or reload the firewall itself, must not
// touch any port other than the one it is given, and must not be called outside the worker's act
// step. Commands run through a [Runner], never through a shell.
package firewall

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/wnm-project/wnm/units"
)

// Firewall opens and closes one node's UDP port. Implementations are safe to call repeatedly with
// the same port: a second Open or Close is a success that changes nothing.
type Firewall interface {
	// Open allows inbound UDP traffic to port, labelling the rule with comment ("" for none).
	Open(ctx context.Context, port int, comment string) error
	// Close removes the rule that Open added for port.
	Close(ctx context.Context, port int) error
	// Name is the backend's short name, as shown in logs and reports ("ufw", "null").
	Name() string
}

// EnvDisabled names the environment variable that turns the firewall off when set to 1, true or
// yes (in any case).
const EnvDisabled = "WNM_FIREWALL_DISABLED"

// NodeComment returns the rule comment for the node with the given id, "antnode 0001" for id 1.
func NodeComment(id int) string {
	return fmt.Sprintf("antnode %04d", id)
}

// Select returns the firewall for a process manager: [UFW] for the Linux managers that run with
// root rights (systemd+sudo and setsid+sudo) unless [EnvDisabled] says otherwise, and [Null] for
// every other manager (the zero Spec included) and every other OS. A missing ufw binary does not
// change the choice; [UFW] itself turns that into a warning.
func Select(spec units.Spec, logger *slog.Logger) Firewall {
	return selectFor(runtime.GOOS, spec, os.Getenv(EnvDisabled), logger)
}

func selectFor(goos string, spec units.Spec, disabled string, logger *slog.Logger) Firewall {
	mode := spec.String()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case isTrue(disabled):
		logger.Debug("firewall disabled by environment", "env", EnvDisabled, "value", disabled, "mode", mode)
		return NewNull(logger)
	case goos != "linux":
		logger.Debug("no firewall management on this OS", "os", goos, "mode", mode)
		return NewNull(logger)
	case spec.Sudo() && (spec.Kind == units.Systemd || spec.Kind == units.Setsid):
		logger.Debug("firewall selected", "firewall", "ufw", "mode", mode)
		return NewUFW(logger)
	default:
		logger.Debug("no firewall management in this mode", "mode", mode)
		return NewNull(logger)
	}
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// checkPort refuses ports that cannot name a UDP port.
func checkPort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("firewall port %d out of range 1-65535", port)
	}
	return nil
}

// checkComment refuses comments that ufw rejects (a single quote) or that would make a rule
// unreadable in `ufw status` (control characters such as newlines).
func checkComment(comment string) error {
	for _, r := range comment {
		if r == '\'' || r < 0x20 || r == 0x7f {
			return fmt.Errorf("firewall comment %q: contains %q", comment, r)
		}
	}
	return nil
}

// Null is the firewall that does nothing: every call succeeds and is logged at debug level. It is
// used where wnm must not manage a firewall (user modes, macOS, or [EnvDisabled] set).
type Null struct {
	logger *slog.Logger
}

var _ Firewall = (*Null)(nil)

// NewNull returns a [Null] firewall that logs to logger (nil discards).
func NewNull(logger *slog.Logger) *Null {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Null{logger: logger.With("firewall", "null")}
}

// Open logs the request and succeeds.
func (n *Null) Open(ctx context.Context, port int, comment string) error {
	n.logger.DebugContext(ctx, "firewall open skipped", "port", port, "comment", comment)
	return nil
}

// Close logs the request and succeeds.
func (n *Null) Close(ctx context.Context, port int) error {
	n.logger.DebugContext(ctx, "firewall close skipped", "port", port)
	return nil
}

// Name returns "null".
func (n *Null) Name() string { return "null" }
