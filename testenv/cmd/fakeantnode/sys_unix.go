//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// cpuTime is the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// execSelf replaces this process with the executable at exe, keeping argv, environment and pid.
// It returns only on failure.
func execSelf(exe string) error {
	if err := syscall.Exec(exe, os.Args, os.Environ()); err != nil {
		return fmt.Errorf("re-exec %s: %w", exe, err)
	}
	return nil
}

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit, so that fleet mode can hold a
// listener (and some connections) per port. It returns the soft limit in force afterwards.
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("get RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur >= lim.Max {
		return uint64(lim.Cur), nil
	}
	want := lim
	want.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		// macOS refuses RLIM_INFINITY and anything above kern.maxfilesperproc.
		want.Cur = min(lim.Max, 10240)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return uint64(lim.Cur), fmt.Errorf("set RLIMIT_NOFILE to %d: %w", want.Cur, err)
		}
	}
	return uint64(want.Cur), nil
}
