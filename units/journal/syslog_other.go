//go:build windows || plan9

package journal

import (
	"errors"
	"log/slog"
)

// SyslogHandler is not available on this system; [DialSyslog] always fails.
type SyslogHandler struct{ slog.Handler }

// DialSyslog fails: this system has no syslog socket.
func DialSyslog(network, addr string, level slog.Leveler) (*SyslogHandler, error) {
	return nil, errors.New("syslog is not available on this system")
}

// Close does nothing.
func (h *SyslogHandler) Close() error { return nil }
