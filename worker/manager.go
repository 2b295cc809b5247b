package worker

import (
	"log/slog"

	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/config"
)

// NewManager returns the node manager for the configured process_manager: the value is parsed
// into a [units.Spec] and the manager made by [units.Open], so the worker names no backend (the
// program links them; see cmd/wnm). A value no linked backend drives gives a
// [units.NotAvailableError] naming it.
func NewManager(cfg config.Config, _ config.Platform, log *slog.Logger) (units.Manager, error) {
	spec, err := units.ParseSpec(cfg.ProcessManager)
	if err != nil {
		return nil, units.NotAvailableError{Manager: cfg.ProcessManager}
	}
	return openManager(spec, cfg, log)
}

// openManager opens the manager spec names, for the machine cfg describes.
func openManager(spec units.Spec, cfg config.Config, log *slog.Logger) (units.Manager, error) {
	return units.Open(spec, units.Options{NodeStorage: cfg.NodeStorage, NodeAccount: nodeAccount, Logger: log})
}
