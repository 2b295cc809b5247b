package nspawn

import "syscall"

// sysProcAttr makes systemd-nspawn get SIGTERM, which powers the container off, if the test
// process dies without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
