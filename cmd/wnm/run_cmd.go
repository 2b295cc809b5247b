package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/lock"
)

type runCmd struct {
	// CPUProfile is for developers: where the cycle's time goes (go tool pprof FILE).
	CPUProfile string `name:"cpuprofile" placeholder:"FILE" type:"path" hidden:"" help:"Write a CPU profile of the cycle (pprof format) to FILE"`
}

func (runCmd) Help() string {
	return "Takes the cycle lock (wnm_active next to the database; exit 75 if another cycle holds it), " +
		"saves supplied settings that differ from the database, then surveys the host and every node, " +
		"decides and acts. With --dry_run it plans and logs but changes nothing."
}

// signalled is the cause of a cycle cut short by SIGINT or SIGTERM; wnm then exits 128 + the
// signal number (130, 143), as a shell reports a command killed by it.
type signalled struct{ sig syscall.Signal }

func (s signalled) Error() string { return "received " + s.sig.String() }

// ExitCode is 128 + the signal number.
func (s signalled) ExitCode() int { return 128 + int(s.sig) }

// onSignal returns a context cancelled, with a [signalled] cause, by the first SIGINT or SIGTERM.
// A second one gets the default action (the process dies), for an operator who will not wait for
// the action under way.
func onSignal() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			signal.Stop(ch)
			if s, ok := sig.(syscall.Signal); ok {
				cancel(signalled{s})
			} else {
				cancel(fmt.Errorf("received %v", sig))
			}
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// loadForCycle loads what a cycle or a forced action acts on: the machine must exist, the settings
// must be valid, and the changes are those the run saves. The database is opened read-only in a
// dry run. The caller closes the state.
func (s *session) loadForCycle(ctx context.Context) (*state, []config.Change, error) {
	st, err := s.load(ctx, readOnlyIfDryRun)
	if err != nil {
		return nil, nil, err
	}
	if err := st.needMachine(); err != nil {
		st.close()
		return nil, nil, err
	}
	if err := st.resolved.Validate(); err != nil {
		st.close()
		return nil, nil, err
	}
	changes, err := st.resolved.Changes(st.stored)
	if err != nil {
		st.close()
		return nil, nil, err
	}
	return st, changes, nil
}

// Run does one cycle.
func (r runCmd) Run(s *session) (err error) {
	if r.CPUProfile != "" {
		stop, err := startCPUProfile(r.CPUProfile)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	ctx, stop := onSignal()
	defer stop()
	st, changes, err := s.loadForCycle(ctx)
	if err != nil {
		return err
	}
	defer st.close()
	cfg := st.resolved.Config
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

// startCPUProfile starts writing a CPU profile to path and returns what ends it.
func startCPUProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile %s: %w", path, err)
		}
		return nil
	}, nil
}
