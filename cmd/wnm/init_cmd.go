package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/anm"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/survey"
)

type initCmd struct{}

func (initCmd) Help() string {
	return "Validates every setting, then creates the database with this machine's row in one step: " +
		"an invalid setting leaves no file behind. A rewards address is required. A second init fails; " +
		"change settings later by passing them to any command."
}

// Run initialises the machine. Everything is validated before the database file is created, and
// the file appears atomically, so a failure leaves nothing behind.
func (initCmd) Run(s *session) error {
	ctx := context.Background()
	if s.cli.MigrateAnm {
		return s.migrateAnm(ctx)
	}
	if raw, ok := s.cli.flagValues()["dry_run"]; ok {
		if dry, err := config.Parse(config.MustLookup("dry_run"), raw, s.env.home); err == nil && dry == true {
			return usageErr{errors.New("dry run is not supported during init")}
		}
	}
	st, err := s.load(ctx, readOnly)
	if err != nil {
		return err
	}
	defer st.close()
	if st.stored != nil {
		return fmt.Errorf("machine already initialized in %s", config.Printable(st.resolved.DBPath))
	}
	if st.st != nil {
		return fmt.Errorf("%s exists but holds no machine; move it away or pass --dbpath", config.Printable(st.resolved.DBPath))
	}
	cfg := st.resolved.Config
	if cfg.RewardsAddress == "" {
		return errors.New("rewards_address: a rewards address is required: wnm init --rewards_address 0x…")
	}
	if err := st.resolved.Validate(); err != nil {
		return err
	}
	if err := s.checkAnm(cfg); err != nil {
		return err
	}
	boot, err := survey.BootTime(ctx)
	if err != nil {
		s.logger().Warn("cannot read the boot time; the first cycle will resurvey", "err", err)
	}
	m := worker.MachineFromConfig(cfg, survey.CPUCount(), boot)
	db, err := worker.CreateStore(ctx, cfg.DBPath, m)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer db.Close()
	s.logger().Info("machine initialized", "db", cfg.DBPath, "process_manager", cfg.ProcessManager,
		"node_storage", cfg.NodeStorage, "node_cap", cfg.NodeCap, "boot_time", boot.Unix())
	fmt.Fprintf(s.env.stdout, "Initialized wnm in %s (%s, nodes in %s, node_cap %d)\n", cfg.DBPath, cfg.ProcessManager, cfg.NodeStorage, cfg.NodeCap)
	return nil
}

// checkAnm keeps a plain init from running beside an active anm (its cron job in place): in sudo
// mode wnm would adopt anm's system units while anm goes on acting on them, so init refuses and
// names the takeover; in user mode wnm's nodes are apart from anm's, and a warning says what that
// means.
func (s *session) checkAnm(cfg config.Config) error {
	if s.env.goos != "linux" {
		return nil
	}
	cron := anm.Path(s.anmRoot(), anm.FileCron)
	if _, err := os.Stat(cron); err != nil {
		return nil
	}
	if m, _ := units.DetectMode(cfg.ProcessManager); m == gen.ModeSudo {
		return fmt.Errorf("anm is active on this machine (%s runs it every minute): wnm would manage anm's node units "+
			"while anm goes on acting on them. Take anm over instead: sudo wnm init --migrate_anm (it carries anm's "+
			"settings over and moves its cron job aside; --dry_run shows it first). Nothing was changed", config.Printable(cron))
	}
	s.logger().Warn("anm is active on this machine; its system nodes stay anm's. wnm's user-mode nodes skip the ports "+
		"that anm's running nodes hold, but cannot see a stopped one's. To hand anm's nodes to wnm: sudo wnm init --migrate_anm", "cron", cron)
	return nil
}
