//go:build !(linux || darwin)

package lock

import (
	"errors"
	"fmt"
)

// TryLock is not implemented on this platform: wnm supports Linux and macOS only. The
// error wraps [errors.ErrUnsupported].
func TryLock(path string) (*Lock, error) {
	return nil, fmt.Errorf("lock %s: %w", path, errors.ErrUnsupported)
}

// Unlock is a no-op on this platform, where no Lock can be taken.
func (l *Lock) Unlock() error {
	return nil
}

// Remove is not implemented on this platform: wnm supports Linux and macOS only. The
// error wraps [errors.ErrUnsupported].
func Remove(path string) error {
	return fmt.Errorf("remove lock %s: %w", path, errors.ErrUnsupported)
}
