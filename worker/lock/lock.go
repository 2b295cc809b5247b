// Package lock owns the cycle lock: an exclusive flock(2) on a file named wnm_active next
// to the database, so that two cycles (a timer and a manual run, or cron overlapping
// itself) never act on the same nodes at once.
//
// The kernel lock is the only truth. The file's contents ("pid=… started=…") are
// diagnostics for the "another cycle is running" message, and the file's existence means
// nothing, so a SIGKILLed holder never blocks the next run (unlike wnm-python's
// exists-then-create lock file). This package must not log, retry with sleeps or decide
// what a busy lock means for the caller: it reports [ErrBusy] and the caller chooses.
package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// FileName is the lock file's name, kept from wnm-python so that an old wnm-python cron
// job still finds a file there and backs off.
const FileName = "wnm_active"

// ErrBusy is wrapped by the errors of [TryLock] and [Remove] when another open file
// description (usually another wnm process) holds the lock.
var ErrBusy = errors.New("another cycle is running")

// Path returns the lock file's path for the database at dbPath: FileName in the same
// directory, so that each database has exactly one lock whatever mode reaches it.
func Path(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), FileName)
}

// Lock is a held cycle lock. It is released by [Lock.Unlock] or, if the process dies
// first, by the kernel. A Lock is not safe for concurrent use.
type Lock struct {
	f    *os.File
	path string
}

// now is the clock used for the "started" stamp; tests replace it.
var now = time.Now

// holderLine is the diagnostic line a holder writes into the lock file.
func holderLine(pid int, t time.Time) string {
	return fmt.Sprintf("pid=%d started=%s\n", pid, t.Format(time.RFC3339))
}

var holderRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^pid=([0-9]+) started=(\S+)$`) })

// describeHolder turns lock file contents into the parenthesised part of a busy error.
// The contents can be empty or stale (a holder writes them just after taking the lock,
// and a file from wnm-python holds epoch seconds), so anything unexpected is shown raw.
func describeHolder(contents string) string {
	s := strings.TrimSpace(contents)
	if m := holderRE().FindStringSubmatch(s); m != nil {
		return fmt.Sprintf("pid %s, started %s", m[1], m[2])
	}
	if s == "" {
		return "holder unknown"
	}
	const maxShown = 80
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return fmt.Sprintf("holder unknown, lock file says %q", s)
}

// busyError is the error for a lock held elsewhere.
func busyError(path, contents string) error {
	return fmt.Errorf("lock %s: %w (%s)", path, ErrBusy, describeHolder(contents))
}
