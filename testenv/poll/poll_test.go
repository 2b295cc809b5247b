package poll

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/convention"
)

func TestWait(t *testing.T) {
	var calls atomic.Int32
	if !Wait(10*time.Second, time.Millisecond, func() bool { return calls.Add(1) == 3 }) {
		t.Fatal("Wait gave up on a condition that became true on the third call")
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("cond called %d times, want 3 (it held on the third)", got)
	}

	calls.Store(0)
	begin := time.Now()
	if Wait(50*time.Millisecond, 10*time.Millisecond, func() bool { calls.Add(1); return false }) {
		t.Fatal("Wait reported true for a condition that never held")
	}
	if took := time.Since(begin); took < 50*time.Millisecond {
		t.Errorf("Wait gave up after %v, before its 50ms timeout", took)
	}
	if got := calls.Load(); got < 2 {
		t.Errorf("cond called %d times in 50ms at a 10ms interval, want it checked again at the deadline", got)
	}

	calls.Store(0)
	if !Wait(0, time.Hour, func() bool { return calls.Add(1) == 1 }) {
		t.Error("a zero timeout must still check the condition once")
	}
}

// recorder is a testing.TB that records a Fatalf and ends the goroutine, as testing does.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func run(f func(t testing.TB)) string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestUntil(t *testing.T) {
	if msg := run(func(t testing.TB) { Until(t, time.Second, "nothing", func() bool { return true }) }); msg != "" {
		t.Errorf("Until failed on a condition that held: %q", msg)
	}
	msg := run(func(t testing.TB) { Until(t, 30*time.Millisecond, "the port", func() bool { return false }) })
	if want := "timed out after 30ms waiting for the port"; msg != want {
		t.Errorf("Until failed with %q, want %q", msg, want)
	}
}

func TestUntilErr(t *testing.T) {
	n := 0
	if msg := run(func(t testing.TB) {
		UntilErr(t, 10*time.Second, func() error {
			if n++; n < 3 {
				return errors.New("not yet")
			}
			return nil
		})
	}); msg != "" {
		t.Errorf("UntilErr failed on a condition that came to hold: %q", msg)
	}
	n = 0
	msg := run(func(t testing.TB) {
		UntilErr(t, 30*time.Millisecond, func() error { n++; return fmt.Errorf("attempt %d refused", n) })
	})
	if !strings.HasPrefix(msg, "timed out after 30ms: attempt ") || !strings.HasSuffix(msg, fmt.Sprintf("attempt %d refused", n)) {
		t.Errorf("UntilErr failed with %q, want the last error (attempt %d)", msg, n)
	}
}

// TestOneConvention keeps polling in tests on this package: no test file outside it builds its
// own deadline loop.
func TestOneConvention(t *testing.T) {
	convention.TestFiles(t, "testenv/poll", func(rel string, b []byte) {
		if !strings.Contains(string(b), "time.Now().Add(") || !strings.Contains(string(b), "time.Sleep(") {
			return
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "deadline := time.Now().Add(") {
				t.Errorf("%s:%d builds a deadline for a sleep loop: use poll.Until, UntilErr or Wait", rel, i+1)
			}
		}
	})
}
