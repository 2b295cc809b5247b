package ports

import (
	"net"
	"slices"
	"strconv"
	"testing"
)

func TestReserveHoldsItsRanges(t *testing.T) {
	a := Thousands(t, 3, 20)
	if len(a) != 3 || len(slices.Compact(slices.Sorted(slices.Values(a)))) != 3 {
		t.Fatalf("Thousands(3, 20) = %v, want 3 distinct starts", a)
	}
	for _, s := range a {
		if s < First || s > Last {
			t.Errorf("start %d outside %d..%d", s, First, Last)
		}
		// The reservation port is held: another process's search cannot take the range.
		if _, ok := claim(s, 20); ok {
			t.Errorf("range %d could be claimed again while reserved", s)
		}
		for _, id := range []int{1, 20} {
			if err := free(net.JoinHostPort("127.0.0.1", strconv.Itoa(s*1000+id))); err != nil {
				t.Errorf("node port %d of reserved range %d is not free: %v", id, s, err)
			}
		}
	}
	b, release, err := Reserve(2, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range b {
		if slices.Contains(a, s) {
			t.Errorf("second reservation %v shares range %d with the first %v", b, s, a)
		}
	}
	release()
	for _, s := range b {
		c, ok := claim(s, 20)
		if !ok {
			t.Errorf("range %d still held after release", s)
			continue
		}
		for _, x := range c {
			x.Close()
		}
	}
}

func TestRangeWithATakenPortIsSkipped(t *testing.T) {
	starts, release, err := Reserve(1, 20)
	if err != nil {
		t.Fatal(err)
	}
	s := starts[0]
	release()
	// A node of someone else's fleet on port 7 of that range, without a reservation.
	u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s*1000+7)))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, ok := claim(s, 20); ok {
		t.Errorf("range %d claimed although its port 7 is taken (UDP)", s)
	}
	if _, ok := claim(s, 6); !ok {
		t.Errorf("range %d of 6 ports not claimed although ports 1..6 are free", s)
	}
}

func TestOrder(t *testing.T) {
	for _, seed := range []int{0, 1, 17, 4242} {
		o := order(seed)
		if len(o) != Last-First+1 {
			t.Fatalf("order(%d) has %d starts, want %d", seed, len(o), Last-First+1)
		}
		if got := slices.Sorted(slices.Values(o)); got[0] != First || got[len(got)-1] != Last || len(slices.Compact(got)) != len(o) {
			t.Errorf("order(%d) = %v, want each of %d..%d once", seed, o, First, Last)
		}
		lo, hi := ephemeral()
		seenInside := false
		for _, s := range o {
			inside := !(s*1000+999 < lo || s*1000 > hi)
			if seenInside && !inside {
				t.Errorf("order(%d) = %v: range %d outside the ephemeral range %d-%d comes after one inside", seed, o, s, lo, hi)
			}
			seenInside = seenInside || inside
		}
	}
	if slices.Equal(order(1), order(2)) {
		t.Error("two seeds give the same order")
	}
}

func TestReserveTooMany(t *testing.T) {
	if _, _, err := Reserve(Last-First+2, 20); err == nil {
		t.Error("reserving more ranges than exist succeeded")
	}
	if _, _, err := Reserve(1, 0); err == nil {
		t.Error("a range of 0 ports was accepted")
	}
}
