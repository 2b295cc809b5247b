//go:build !unix

package fakes

import (
	"errors"
	"syscall"
)

func detached() *syscall.SysProcAttr { return nil }

func signalGroup(int, bool) error { return errors.ErrUnsupported }
