package survey

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestComputeRates(t *testing.T) {
	base := Counters{
		At: t0, BootTime: 1000,
		CPUBusy: 100, CPUTotal: 1000, HasCPU: true,
		DiskRead: 1000, DiskWrite: 2000, HasDisk: true,
		NetRecv: 5000, NetSend: 6000, HasNet: true,
	}
	later := func(f func(*Counters)) Counters {
		c := base
		c.At = t0.Add(10 * time.Second)
		c.CPUBusy, c.CPUTotal = 150, 1200
		c.DiskRead, c.DiskWrite = 11000, 2000
		c.NetRecv, c.NetSend = 25000, 8000
		if f != nil {
			f(&c)
		}
		return c
	}
	k := func(v float64) Reading { return Reading{Value: v, Known: true} }
	tests := []struct {
		name      string
		prev, cur Counters
		want      Rates
	}{
		{
			name: "ten seconds",
			prev: base, cur: later(nil),
			want: Rates{Window: 10 * time.Second, CPUPercent: k(25), DiskRead: k(1000), DiskWrite: k(0), NetRecv: k(2000), NetSend: k(200)},
		},
		{
			name: "zero window",
			prev: base, cur: later(func(c *Counters) { c.At = t0 }),
			want: Rates{},
		},
		{
			name: "clock went backwards",
			prev: base, cur: later(func(c *Counters) { c.At = t0.Add(-time.Second) }),
			want: Rates{Window: -time.Second},
		},
		{
			name: "network counter went backwards",
			prev: base, cur: later(func(c *Counters) { c.NetRecv = 10 }),
			want: Rates{Window: 10 * time.Second, CPUPercent: k(25), DiskRead: k(1000), DiskWrite: k(0), NetSend: k(200)},
		},
		{
			name: "disk unreadable now",
			prev: base, cur: later(func(c *Counters) { c.HasDisk, c.DiskRead, c.DiskWrite = false, 0, 0 }),
			want: Rates{Window: 10 * time.Second, CPUPercent: k(25), NetRecv: k(2000), NetSend: k(200)},
		},
		{
			name: "cpu idle throughout",
			prev: base, cur: later(func(c *Counters) { c.CPUBusy = 100 }),
			want: Rates{Window: 10 * time.Second, CPUPercent: k(0), DiskRead: k(1000), DiskWrite: k(0), NetRecv: k(2000), NetSend: k(200)},
		},
		{
			name: "cpu total did not move",
			prev: base, cur: later(func(c *Counters) { c.CPUTotal = 1000 }),
			want: Rates{Window: 10 * time.Second, DiskRead: k(1000), DiskWrite: k(0), NetRecv: k(2000), NetSend: k(200)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ComputeRates(tt.prev, tt.cur)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ComputeRates mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsable(t *testing.T) {
	prev := Counters{At: t0, BootTime: 1000, CPUBusy: 1, CPUTotal: 2, HasCPU: true, DiskRead: 1, HasDisk: true, NetRecv: 1, HasNet: true}
	cur := func(f func(*Counters)) Counters {
		c := prev
		c.At = t0.Add(time.Minute)
		c.CPUBusy, c.CPUTotal, c.DiskRead, c.NetRecv = 2, 4, 2, 2
		if f != nil {
			f(&c)
		}
		return c
	}
	tests := []struct {
		name string
		cur  Counters
		want bool
	}{
		{"a minute later", cur(nil), true},
		{"boot time jitter", cur(func(c *Counters) { c.BootTime = 1001 }), true},
		{"ten minutes later", cur(func(c *Counters) { c.At = t0.Add(MaxCountersAge) }), true},
		{"too old", cur(func(c *Counters) { c.At = t0.Add(MaxCountersAge + time.Second) }), false},
		{"same instant", cur(func(c *Counters) { c.At = t0 }), false},
		{"from the future", cur(func(c *Counters) { c.At = t0.Add(-time.Second) }), false},
		{"rebooted", cur(func(c *Counters) { c.BootTime = 5000 }), false},
		{"boot time unknown", cur(func(c *Counters) { c.BootTime = 0 }), false},
		{"cpu went backwards", cur(func(c *Counters) { c.CPUTotal = 1 }), false},
		{"disk went backwards", cur(func(c *Counters) { c.DiskRead = 0 }), false},
		{"net went backwards", cur(func(c *Counters) { c.NetRecv = 0 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := usable(prev, tt.cur); got != tt.want {
				t.Errorf("usable(prev, cur) = %v, want %v", got, tt.want)
			}
		})
	}
	noNet := prev
	noNet.HasNet, noNet.NetRecv = false, 0
	if usable(noNet, cur(nil)) {
		t.Errorf("usable(prev without net, cur with net) = true, want false")
	}
}

// fakeClock is a clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeHost hands out counters that grow by a fixed step per read, and lets a
// test make the clock move while the "nodes are being polled".
type fakeHost struct {
	reads    int
	boot     int64
	diskErr  error
	onGauges func()
}

func (f *fakeHost) counters(context.Context) (Counters, []error) {
	f.reads++
	n := float64(f.reads)
	c := Counters{
		BootTime: f.boot,
		CPUBusy:  100 * n, CPUTotal: 400 * n, HasCPU: true,
		NetRecv: uint64(1000 * f.reads), NetSend: uint64(500 * f.reads), HasNet: true,
	}
	if f.diskErr != nil {
		return c, []error{f.diskErr}
	}
	c.DiskRead, c.DiskWrite, c.HasDisk = uint64(2000*f.reads), uint64(3000*f.reads), true
	return c, nil
}

func (f *fakeHost) gauges(context.Context, string) (Host, []error) {
	if f.onGauges != nil {
		f.onGauges()
	}
	return Host{MemPercent: known(50), CPUCount: 2}, nil
}

func TestSamplerWindow(t *testing.T) {
	k := func(v float64) Reading { return Reading{Value: v, Known: true} }
	tests := []struct {
		name      string
		prev      func(clock *fakeClock) *Counters
		nodesTake time.Duration // how far the clock moves while nodes are polled
		diskErr   error
		cancelled bool

		wantSlept  time.Duration
		wantReads  int
		wantSource string
		wantWindow time.Duration
		wantCPU    Reading
		wantNetRx  Reading
		wantDiskRd Reading
		wantErrs   []string
	}{
		{
			name:      "no previous counters, quick survey: wait out the window",
			nodesTake: 100 * time.Millisecond,
			wantSlept: 150 * time.Millisecond, wantReads: 3,
			wantSource: "sample", wantWindow: 250 * time.Millisecond,
			// reads 1 and 3: cpu busy 200 of 800, net 2000 B in 0.25 s
			wantCPU: k(25), wantNetRx: k(8000), wantDiskRd: k(16000),
		},
		{
			name:      "no previous counters, slow survey: no wait",
			nodesTake: 400 * time.Millisecond,
			wantSlept: 0, wantReads: 2,
			wantSource: "sample", wantWindow: 400 * time.Millisecond,
			wantCPU: k(25), wantNetRx: k(2500), wantDiskRd: k(5000),
		},
		{
			name: "previous counters a minute old: averaged over the minute",
			prev: func(c *fakeClock) *Counters {
				return &Counters{At: c.Now().Add(-time.Minute), BootTime: 1000, CPUBusy: 0, CPUTotal: 0, HasCPU: true, HasDisk: true, HasNet: true}
			},
			nodesTake: 100 * time.Millisecond,
			wantSlept: 0, wantReads: 2,
			wantSource: "previous", wantWindow: time.Minute + 100*time.Millisecond,
			// read 2: busy 200 of 800; net 2000 B over 60.1 s
			wantCPU: k(25), wantNetRx: k(2000 / 60.1), wantDiskRd: k(4000 / 60.1),
		},
		{
			name: "previous counters only 100ms old: wait out the window",
			prev: func(c *fakeClock) *Counters {
				return &Counters{At: c.Now().Add(-100 * time.Millisecond), BootTime: 1000, HasCPU: true, HasDisk: true, HasNet: true}
			},
			nodesTake: 50 * time.Millisecond,
			wantSlept: 100 * time.Millisecond, wantReads: 3,
			wantSource: "previous", wantWindow: 250 * time.Millisecond,
			// read 3: busy 300 of 1200, net 3000 B in 0.25 s
			wantCPU: k(25), wantNetRx: k(12000), wantDiskRd: k(24000),
		},
		{
			name: "previous counters too old: short sample",
			prev: func(c *fakeClock) *Counters {
				return &Counters{At: c.Now().Add(-11 * time.Minute), BootTime: 1000, HasCPU: true, HasDisk: true, HasNet: true}
			},
			nodesTake: 100 * time.Millisecond,
			wantSlept: 150 * time.Millisecond, wantReads: 3,
			wantSource: "sample", wantWindow: 250 * time.Millisecond,
			wantCPU: k(25), wantNetRx: k(8000), wantDiskRd: k(16000),
		},
		{
			name: "previous counters from another boot: short sample",
			prev: func(c *fakeClock) *Counters {
				return &Counters{At: c.Now().Add(-time.Minute), BootTime: 1, HasCPU: true, HasDisk: true, HasNet: true}
			},
			nodesTake: 300 * time.Millisecond,
			wantSlept: 0, wantReads: 2,
			wantSource: "sample", wantWindow: 300 * time.Millisecond,
			wantCPU: k(25), wantNetRx: k(1000 / 0.3), wantDiskRd: k(2000 / 0.3),
		},
		{
			name: "previous counters ahead of now (counter reset): short sample",
			prev: func(c *fakeClock) *Counters {
				return &Counters{At: c.Now().Add(-time.Minute), BootTime: 1000, CPUBusy: 1e9, CPUTotal: 1e9, HasCPU: true, HasDisk: true, HasNet: true}
			},
			nodesTake: 300 * time.Millisecond,
			wantSlept: 0, wantReads: 2,
			wantSource: "sample", wantWindow: 300 * time.Millisecond,
			wantCPU: k(25), wantNetRx: k(1000 / 0.3), wantDiskRd: k(2000 / 0.3),
		},
		{
			name:      "disk counters unreadable: unknown, not zero",
			nodesTake: 300 * time.Millisecond,
			diskErr:   errors.New("disk io counters: permission denied"),
			wantSlept: 0, wantReads: 2,
			wantSource: "sample", wantWindow: 300 * time.Millisecond,
			wantCPU: k(25), wantNetRx: k(1000 / 0.3), wantDiskRd: Reading{},
			wantErrs: []string{"disk io counters: permission denied"},
		},
		{
			name:      "survey cancelled: no wait, no rates",
			nodesTake: 0,
			cancelled: true,
			wantSlept: 0, wantReads: 2,
			wantSource: "", wantWindow: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			src := &fakeHost{boot: 1000, diskErr: tt.diskErr, onGauges: func() { clock.Advance(tt.nodesTake) }}
			var slept time.Duration
			s := sampler{
				src:       src,
				now:       clock.Now,
				sleep:     func(_ context.Context, d time.Duration) { slept += d; clock.Advance(d) },
				minWindow: MinRateWindow,
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			var prev *Counters
			if tt.prev != nil {
				prev = tt.prev(clock)
			}
			done := make(chan struct{})
			close(done)
			h, c, errs := s.run(ctx, "/", prev, done)

			if slept != tt.wantSlept {
				t.Errorf("slept %v, want %v", slept, tt.wantSlept)
			}
			if src.reads != tt.wantReads {
				t.Errorf("read counters %d times, want %d", src.reads, tt.wantReads)
			}
			if !c.At.Equal(clock.Now()) {
				t.Errorf("returned counters taken at %v, want the end of the survey %v", c.At, clock.Now())
			}
			if h.RateSource != tt.wantSource || h.RateWindow != tt.wantWindow {
				t.Errorf("rate source %q over %v, want %q over %v", h.RateSource, h.RateWindow, tt.wantSource, tt.wantWindow)
			}
			approx := cmp.Comparer(func(a, b Reading) bool {
				return a.Known == b.Known && (a.Value-b.Value < 1e-9 && b.Value-a.Value < 1e-9)
			})
			got := []Reading{h.CPUPercent, h.NetRecvBps, h.DiskReadBps}
			want := []Reading{tt.wantCPU, tt.wantNetRx, tt.wantDiskRd}
			if diff := cmp.Diff(want, got, approx); diff != "" {
				t.Errorf("cpu %%, net rx, disk read mismatch (-want +got):\n%s", diff)
			}
			var gotErrs []string
			for _, err := range errs {
				gotErrs = append(gotErrs, err.Error())
			}
			if diff := cmp.Diff(tt.wantErrs, gotErrs); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if h.BootTime != known(1000) || h.MemPercent != known(50) {
				t.Errorf("boot time %v, mem %v; want 1000, 50", h.BootTime, h.MemPercent)
			}
		})
	}
}

func TestPhysicalDisk(t *testing.T) {
	sys := map[string]bool{"sda": true, "nvme0n1": true, "vda": true, "loop0": true, "dm-0": true, "md0": true, "mmcblk0": true}
	linux := func(name string) (bool, bool) { return sys[name], true }
	unknown := func(string) (bool, bool) { return false, false }
	tests := []struct {
		name  string
		linux bool
		guess bool
	}{
		{"sda", true, true},
		{"sda1", false, false},
		{"nvme0n1", true, true},
		{"nvme0n1p2", false, false},
		{"vda", true, true},
		{"vda1", false, false},
		{"xvda1", false, false},
		{"mmcblk0", true, true},
		{"mmcblk0p1", false, false},
		{"loop0", false, false},
		{"ram0", false, false},
		{"zram0", false, false},
		{"dm-0", false, false},
		{"md0", false, false},
		{"sr0", false, false},
		{"disk0", false, true},
		{"disk0s1", false, false},
	}
	for _, tt := range tests {
		if got := physicalDisk(tt.name, linux); got != tt.linux {
			t.Errorf("physicalDisk(%q) with /sys/block = %v, want %v", tt.name, got, tt.linux)
		}
		if got := physicalDisk(tt.name, unknown); got != tt.guess {
			t.Errorf("physicalDisk(%q) by name = %v, want %v", tt.name, got, tt.guess)
		}
	}
}

func TestExistingDir(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{"exists", dir, dir},
		{"missing child", filepath.Join(dir, "a"), dir},
		{"missing grandchild", filepath.Join(dir, "a", "b", "c"), dir},
	}
	for _, tt := range tests {
		got, err := existingDir(tt.path)
		if err != nil || got != tt.want {
			t.Errorf("existingDir(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("existingDir created %s (stat: %v)", filepath.Join(dir, "a"), err)
	}
}

func TestPsSource(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("host readings are only checked on Linux and macOS")
	}
	storage := filepath.Join(t.TempDir(), "not", "yet")
	var src psSource
	c, errs := src.counters(t.Context())
	for _, err := range errs {
		t.Logf("counters: %v", err)
	}
	if !c.HasCPU || c.CPUTotal <= 0 || c.BootTime <= 0 {
		t.Errorf("counters = %+v, want CPU times and a boot time", c)
	}
	h, errs := src.gauges(t.Context(), storage)
	for _, err := range errs {
		t.Errorf("gauges: %v", err)
	}
	if !h.MemPercent.Known || !h.DiskPercent.Known || !h.DiskTotalBytes.Known || !h.Load1.Known || h.CPUCount < 1 {
		t.Errorf("gauges = %+v, want memory, disk, load and CPU count", h)
	}
	if !strings.HasPrefix(storage, h.DiskPath) || h.DiskPath == storage {
		t.Errorf("disk path %q, want an existing parent of %q", h.DiskPath, storage)
	}
}
