package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/worker"
)

func TestInterruptedExitCodes(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		err := errors.Join(fmt.Errorf("%w after 1 of 3 actions", worker.ErrInterrupted), signalled{tc.sig})
		if got := exitCode(err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, tc.want)
		}
	}
}

// The first SIGTERM cancels the cycle's context with a cause that names it.
func TestOnSignal(t *testing.T) {
	ctx, stop := onSignal()
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	var sg signalled
	if !errors.As(context.Cause(ctx), &sg) || sg.sig != syscall.SIGTERM {
		t.Fatalf("cause = %v, want SIGTERM", context.Cause(ctx))
	}
}
