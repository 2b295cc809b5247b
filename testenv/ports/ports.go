// Package ports reserves loopback port ranges for the fake-antnode fleets of tests. wnm gives node
// N of a range starting at S (in thousands) the port S*1000+N, so a range is a block of a thousand
// ports whose ports 1..size the nodes will bind.
//
// Test processes run at once on a shared machine (the passes of make test, other checkouts), and a
// range checked free can be taken by another process's nodes before this test's nodes start. So a
// reservation is held, not just checked: the reserving process keeps port S*1000 itself open, TCP
// and UDP, which no node binds (node ids start at 1), until the range is released; a search skips
// every range whose reservation port is held elsewhere. Ranges outside the kernel's ephemeral
// port range are tried first, so that outgoing connections do not land on node ports.
package ports

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// First and Last bound the range starts handed out: 20000 to 64999.
const (
	First = 20
	Last  = 64
)

// Thousands reserves n distinct ranges whose ports 1..size are free on loopback (TCP and UDP), for
// the rest of the test, and returns their starts in thousands. It fails t when too few are free.
func Thousands(t testing.TB, n, size int) []int {
	t.Helper()
	starts, release, err := Reserve(n, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return starts
}

// Reserve is Thousands for callers without a testing.TB (a testscript Setup): release frees the
// ranges.
func Reserve(n, size int) (starts []int, release func(), err error) {
	if size < 1 || size > 999 {
		return nil, nil, fmt.Errorf("ports: range size %d, want 1 to 999", size)
	}
	var held []io.Closer
	release = func() {
		for _, c := range held {
			c.Close()
		}
	}
	for _, s := range order(os.Getpid()) {
		if len(starts) == n {
			break
		}
		if s*1000+size > 65535 {
			continue
		}
		closers, ok := claim(s, size)
		if !ok {
			continue
		}
		held = append(held, closers...)
		starts = append(starts, s)
	}
	if len(starts) < n {
		release()
		return nil, nil, fmt.Errorf("ports: %d of %d ranges of %d ports free between %d000 and %d999", len(starts), n, size, First, Last)
	}
	return starts, release, nil
}

// claim takes range s's reservation port, TCP and UDP, and checks that ports 1..size are free.
func claim(s, size int) ([]io.Closer, bool) {
	addr := func(id int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s*1000+id)) }
	l, err := net.Listen("tcp", addr(0))
	if err != nil {
		return nil, false
	}
	u, err := net.ListenPacket("udp", addr(0))
	if err != nil {
		l.Close()
		return nil, false
	}
	for id := 1; id <= size; id++ {
		if err := free(addr(id)); err != nil {
			l.Close()
			u.Close()
			return nil, false
		}
	}
	return []io.Closer{l, u}, true
}

func free(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	return u.Close()
}

// order lists the range starts First..Last to try: those outside the ephemeral port range first,
// each group rotated by seed so that processes starting at once begin in different places.
func order(seed int) []int {
	lo, hi := ephemeral()
	var outside, inside []int
	for s := First; s <= Last; s++ {
		if s*1000+999 < lo || s*1000 > hi {
			outside = append(outside, s)
		} else {
			inside = append(inside, s)
		}
	}
	rotate := func(v []int) []int {
		if len(v) == 0 {
			return v
		}
		k := seed % len(v)
		return append(v[k:len(v):len(v)], v[:k]...)
	}
	return append(rotate(outside), rotate(inside)...)
}

var ephemeralOnce = sync.OnceValues(func() (int, int) {
	// Linux's default when the file cannot be read.
	lo, hi := 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	a, err1 := strconv.Atoi(f[0])
	z, err2 := strconv.Atoi(f[1])
	if err := errors.Join(err1, err2); err != nil || a > z {
		return lo, hi
	}
	return a, z
})

// ephemeral returns the kernel's ephemeral port range.
func ephemeral() (int, int) { return ephemeralOnce() }
