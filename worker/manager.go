package worker

import (
	"fmt"
	"log/slog"
	"os/user"
	"strings"

	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/setsid"
	"github.com/wnm-project/wnm/worker/config"
)

// NotAvailableError reports a process manager this build cannot drive yet.
type NotAvailableError struct{ Manager string }

func (e NotAvailableError) Error() string {
	return fmt.Sprintf("process manager %s is not yet available in this version of wnm (setsid+user and setsid+sudo are)", e.Manager)
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
	}
	return nil, NotAvailableError{cfg.ProcessManager}
}
