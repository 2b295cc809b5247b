//go:build unix

package setsid

import (
	"errors"
	"fmt"
	"syscall"
)

// sysProcAttr puts the launcher (and so the node) in a new session, detached from wnm's terminal
// and process group. The launcher switches to the node's account itself, after it has recorded
// the pid.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// becomeAccount switches the launcher to the node's account: groups, then gid, then uid.
func becomeAccount(c *credential) error {
	groups := make([]int, len(c.groups))
	for i, g := range c.groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", groups, err)
	}
	if err := syscall.Setgid(int(c.gid)); err != nil {
		return fmt.Errorf("setgid %d: %w", c.gid, err)
	}
	if err := syscall.Setuid(int(c.uid)); err != nil {
		return fmt.Errorf("setuid %d: %w", c.uid, err)
	}
	return nil
}

// signalTerm asks the process to stop; antnode exits 0 on SIGTERM.
func signalTerm(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// signalKill kills the process and, when it leads its own process group (a node started by
// setsid does), every process left in that group.
func signalKill(pid int) error {
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		if err := syscall.Kill(-pid, syscall.SIGKILL); err == nil {
			return nil
		}
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

// isNoProcess reports whether a signal failed because the process is gone.
func isNoProcess(err error) bool { return errors.Is(err, syscall.ESRCH) }

// execNode replaces the launcher with the node binary, keeping the pid.
func execNode(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }
