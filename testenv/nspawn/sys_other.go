//go:build !linux

package nspawn

import "syscall"

// sysProcAttr has nothing to set where systemd-nspawn cannot run; [Available] says why.
func sysProcAttr() *syscall.SysProcAttr { return nil }
