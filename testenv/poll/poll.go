// Package poll waits, in tests, for something another process or goroutine brings about: a port
// that answers, a lock that is taken, a process that exits. Each wait has a deadline, so that a
// test fails with a message rather than hanging, and none assumes how fast the machine is.
package poll

import (
	"testing"
	"time"
)

// Interval is how often Until and UntilErr check their condition.
const Interval = 20 * time.Millisecond

// Wait calls cond every interval until it returns true, and reports whether it did before timeout
// passed. cond is called at least once, and once more at the deadline. It is for callers that fail
// in their own way (a testscript command, a process to kill first); others use Until.
func Wait(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(interval, left))
	}
}

// Until calls cond every Interval until it returns true, and fails t if timeout passes first:
// "timed out after <timeout> waiting for <what>".
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Wait(timeout, Interval, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// UntilErr calls cond every Interval until it returns nil, and fails t with cond's last error if
// timeout passes first.
func UntilErr(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	var last error
	if !Wait(timeout, Interval, func() bool { last = cond(); return last == nil }) {
		t.Fatalf("timed out after %v: %v", timeout, last)
	}
}
