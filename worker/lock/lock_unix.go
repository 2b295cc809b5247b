//go:build linux || darwin

package lock

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxAttempts bounds how often TryLock and Remove start over because the file they
// locked was unlinked or replaced in the meantime; only a concurrent Remove (or an
// operator deleting the file by hand) does that, so a second attempt practically always
// succeeds.
const maxAttempts = 10

// testHookLocked, when set, runs right after a successful flock and before the check that
// the locked file is still the one at the path. Tests use it to replace the file there.
var testHookLocked func()

// TryLock takes the cycle lock at path without waiting. It creates the file (mode 0644)
// if needed, takes an exclusive flock(2) on it and writes "pid=<pid> started=<RFC3339>"
// into it for diagnostics. If another open file description holds the lock, the error
// wraps [ErrBusy] and names the holder from the file's contents.
//
// The lock belongs to the open file description, not the process: a second TryLock in
// the same process is refused too, and the kernel drops the lock when the holder exits,
// however it exits.
func TryLock(path string) (*Lock, error) {
	for attempt := 1; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open lock file: %w", err)
		}
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return nil, closeAfter(f, lockError(f, path, err))
		}
		if testHookLocked != nil {
			testHookLocked()
		}
		// A Remove (or a person) may have unlinked the file between our open and our
		// flock, and someone else may already hold a lock on a new file at path. Holding
		// a lock on an orphaned inode would let two cycles run, so start over.
		same, err := isFileAt(f, path)
		if err != nil {
			return nil, closeAfter(f, err)
		}
		if !same {
			f.Close()
			if attempt == maxAttempts {
				return nil, fmt.Errorf("lock %s: the file was replaced %d times while locking it", path, maxAttempts)
			}
			continue
		}
		// The contents are diagnostics only, so failing to write them must not stop the
		// cycle: on a full disk the cycle is what removes nodes to free space.
		if f.Truncate(0) == nil {
			_, _ = f.WriteAt([]byte(holderLine(os.Getpid(), now())), 0)
		}
		return &Lock{f: f, path: path}, nil
	}
}

// Unlock releases the lock and closes the file. It is a no-op on a nil or already
// released Lock.
//
// The file is deliberately left in place. Deleting it would race with a new locker: a
// process that opened the file just before the unlink would lock the orphaned inode while
// a third process creates and locks a fresh file at the same path, and both would run.
// (TryLock detects that case and starts over, but only Remove, a rare manual operation,
// should ever cause it.) Only the diagnostic contents are cleared, so a contender that
// looks in the moment before the next holder writes its line sees no stale pid.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	_ = f.Truncate(0)
	err := flock(f, syscall.LOCK_UN)
	if err != nil {
		err = fmt.Errorf("unlock %s: %w", l.path, err)
	}
	if cerr := f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close lock file: %w", cerr))
	}
	return err
}

// Remove deletes the lock file at path if no one holds the lock; this is what
// --remove_lockfile does, for wnm-python compatibility. An absent file is not an error.
// If a live process holds the lock, Remove refuses with an error wrapping [ErrBusy]:
// deleting a held lock would let a second cycle start alongside the first.
func Remove(path string) error {
	for attempt := 1; ; attempt++ {
		// Read-only is enough for flock(2), and it works on a root-owned file.
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("open lock file: %w", err)
		}
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return closeAfter(f, lockError(f, path, err))
		}
		// Unlink only the file we hold: if it was replaced since our open, the new file
		// may be locked by a running cycle.
		same, err := isFileAt(f, path)
		if err != nil {
			return closeAfter(f, err)
		}
		if !same {
			f.Close()
			if attempt == maxAttempts {
				return fmt.Errorf("remove lock %s: the file was replaced %d times while locking it", path, maxAttempts)
			}
			continue
		}
		err = os.Remove(path)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("remove lock file: %w", err)
		}
		// Closing releases our flock only after the unlink, so no one can lock this
		// inode and then see it vanish.
		return closeAfter(f, err)
	}
}

// flock calls flock(2) on f, retrying when a signal interrupts it.
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return ferr
}

// lockError turns a failed non-blocking flock into the error to return: a busy error
// naming the holder, or the system error.
func lockError(f *os.File, path string, err error) error {
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return busyError(path, readHolder(f))
	}
	return fmt.Errorf("flock %s: %w", path, err)
}

// readHolder reads the start of the lock file; errors just mean an unknown holder.
func readHolder(f *os.File) string {
	buf := make([]byte, 256)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return string(buf[:n])
}

// isFileAt reports whether path still names the file f has open.
func isFileAt(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat lock file: %w", err)
	}
	cur, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat lock file: %w", err)
	}
	return os.SameFile(held, cur), nil
}

// closeAfter closes f and returns err, joined with the close error if there is one.
func closeAfter(f *os.File, err error) error {
	if cerr := f.Close(); cerr != nil {
		return errors.Join(err, fmt.Errorf("close lock file: %w", cerr))
	}
	return err
}
