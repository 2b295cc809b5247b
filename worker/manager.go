package worker

import (
	"log/slog"
	"os/user"
	"strings"

	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/launchd"
	"github.com/wnm-project/wnm/units/setsid"
	"github.com/wnm-project/wnm/units/systemd"
	"github.com/wnm-project/wnm/worker/config"
)

// NotAvailableError reports a process manager this build cannot drive.
type NotAvailableError struct{ Manager string }

func (e NotAvailableError) Error() string {
	return "process manager " + e.Manager + " is not available in this version of wnm"
}

// NewManager returns the node manager for the configured process_manager.
func NewManager(cfg config.Config, p config.Platform, log *slog.Logger) (units.Manager, error) {
	base, mode, _ := strings.Cut(cfg.ProcessManager, "+")
	switch base {
	case "setsid":
		o := setsid.Options{Mode: mode, NodeStorage: cfg.NodeStorage, Logger: log} // real time: it paces process watches
		if mode == "sudo" {
			if _, err := user.Lookup(nodeAccount); err == nil {
				o.User = nodeAccount
			}
		}
		m, err := setsid.New(o)
		if err != nil {
			return nil, err
		}
		return m, nil
	case "systemd":
		m, err := systemd.New(systemd.Options{Mode: mode, Logger: log})
		if err != nil {
			return nil, err
		}
		return m, nil
	case "launchd":
		m, err := launchd.New(launchd.Options{Mode: mode, Logger: log})
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, NotAvailableError{cfg.ProcessManager}
}
