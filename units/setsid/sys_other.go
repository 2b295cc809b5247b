//go:build !unix

package setsid

import (
	"errors"
	"syscall"
)

func sysProcAttr(*credential) *syscall.SysProcAttr { return nil }

func signalTerm(int) error { return errors.ErrUnsupported }

func signalKill(int) error { return errors.ErrUnsupported }

func isNoProcess(error) bool { return false }
