package nspawn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// IdleProcStat makes a FIFO in dir that hands each reader a fresh /proc/stat of an idle machine:
// the CPU counters advance by one second of idle time per read, and btime is the host's (the
// container's boot time is the host's). Bind dir into a container and name the FIFO in
// [Cmd.ProcStat], so that a command's CPU reading does not depend on what else the shared host
// runs. The feeder stops when the test ends. It returns the FIFO's path on the host.
func IdleProcStat(t *testing.T, dir string) string {
	t.Helper()
	btime, err := hostBootTime()
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "stat")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo %s: %v", fifo, err)
	}
	// The container's users read it too.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		stop bool
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		idle := int64(100000)
		for {
			// Blocks until a reader opens the FIFO; each reader gets one whole file.
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			mu.Lock()
			end := stop
			mu.Unlock()
			idle += 100
			fmt.Fprintf(f, "cpu  1000 0 1000 %d 0 0 0 0 0 0\ncpu0 500 0 500 %d 0 0 0 0 0 0\ncpu1 500 0 500 %d 0 0 0 0 0 0\nbtime %d\n",
				idle, idle/2, idle/2, btime)
			f.Close()
			if end {
				return
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		stop = true
		mu.Unlock()
		// Release a feeder blocked in open: a non-blocking reader lets it open, write and see stop.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			<-done
			r.Close()
		}
	})
	return fifo
}

// hostBootTime reads btime from the host's /proc/stat.
func hostBootTime() (int64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	var btime int64
	for line := range strings.Lines(string(b)) {
		if n, _ := fmt.Sscanf(line, "btime %d", &btime); n == 1 {
			return btime, nil
		}
	}
	return 0, errors.New("no btime line in /proc/stat")
}
