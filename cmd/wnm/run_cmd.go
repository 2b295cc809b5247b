package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/lock"
)

type runCmd struct{}

func (runCmd) Help() string {
	return "Takes the cycle lock (wnm_active next to the database; exit 75 if another cycle holds it), " +
		"saves supplied settings that differ from the database, then surveys the host and every node, " +
		"decides and acts. With --dry_run it plans and logs but changes nothing."
}

// Run does one cycle.
func (runCmd) Run(s *session) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := s.load(ctx)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.needMachine(); err != nil {
		return err
	}
	cfg := st.resolved.Config
	if err := st.resolved.Validate(); err != nil {
		return err
	}
	changes, err := st.resolved.Changes(st.stored)
	if err != nil {
		return err
	}
	l, err := lock.TryLock(lock.Path(cfg.DBPath))
	if err != nil {
		return err
	}
	defer l.Unlock()
	_, err = worker.Run(ctx, worker.Options{
		Store:    st.st,
		Config:   cfg,
		Changes:  changes,
		Platform: st.plat,
		Logger:   s.logger(),
		Show:     s.show(),
	})
	return err
}
