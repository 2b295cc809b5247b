//go:build !unix

package setsid

import (
	"errors"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func becomeAccount(*credential) error { return errors.ErrUnsupported }

func signalTerm(int) error { return errors.ErrUnsupported }

func signalKill(int) error { return errors.ErrUnsupported }

func isNoProcess(error) bool { return false }

func execNode(string, []string, []string) error { return errors.ErrUnsupported }
