//go:build unix

package setsid

import (
	"errors"
	"syscall"
)

// sysProcAttr puts the node in a new session, detached from wnm's terminal and process group, and
// switches to the node's account when c is set.
func sysProcAttr(c *credential) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setsid: true}
	if c != nil {
		a.Credential = &syscall.Credential{Uid: c.uid, Gid: c.gid, Groups: c.groups}
	}
	return a
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
