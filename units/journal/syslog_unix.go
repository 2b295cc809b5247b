//go:build !windows && !plan9

package journal

import (
	"context"
	"fmt"
	"log/slog"
	"log/syslog"

	sdjournal "github.com/coreos/go-systemd/v22/journal"
)

// SyslogHandler is a slog.Handler that writes each record as one syslog line: the message and its
// attributes as key=value text, with the severity from the level (debug, info, warning, err), the
// facility user and the tag [Identifier]. On macOS the local syslog socket feeds unified logging,
// so `log show --predicate 'process == "wnm"'` lists the lines. It is safe for concurrent use.
type SyslogHandler struct {
	level slog.Leveler
	w     *syslog.Writer
	scope scope
}

// DialSyslog connects to a syslog daemon and returns a [SyslogHandler] that logs at level and
// above (nil means info). Empty network and addr mean the local socket (/var/run/syslog on macOS,
// /dev/log on Linux); tests pass "unixgram" and a socket of their own.
func DialSyslog(network, addr string, level slog.Leveler) (*SyslogHandler, error) {
	w, err := syslog.Dial(network, addr, syslog.LOG_USER|syslog.LOG_INFO, Identifier)
	if err != nil {
		return nil, fmt.Errorf("connect to syslog %q: %w", network+":"+addr, err)
	}
	if level == nil {
		level = slog.LevelInfo
	}
	return &SyslogHandler{level: level, w: w}, nil
}

// Close closes the connection to the syslog daemon.
func (h *SyslogHandler) Close() error { return h.w.Close() }

// Enabled reports whether records at level l are logged.
func (h *SyslogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs returns a handler whose lines also carry attrs.
func (h *SyslogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.scope = h.scope.withAttrs(attrs)
	return &h2
}

// WithGroup returns a handler that qualifies later attribute keys with name.
func (h *SyslogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.scope = h.scope.withGroup(name)
	return &h2
}

// Handle writes r to syslog.
func (h *SyslogHandler) Handle(_ context.Context, r slog.Record) error {
	text := line(r.Message, h.scope.pairs(r))
	var err error
	switch Priority(r.Level) {
	case sdjournal.PriErr:
		err = h.w.Err(text)
	case sdjournal.PriWarning:
		err = h.w.Warning(text)
	case sdjournal.PriInfo:
		err = h.w.Info(text)
	default:
		err = h.w.Debug(text)
	}
	if err != nil {
		return fmt.Errorf("write to syslog: %w", err)
	}
	return nil
}
