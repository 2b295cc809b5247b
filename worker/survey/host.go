package survey

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"
)

const (
	// MinRateWindow is the shortest window CPU % and I/O rates are averaged
	// over when there are no usable previous [Counters]. The sample starts
	// with the survey and ends after the node polling, so the wait is only
	// whatever is left of this window, never a full second.
	MinRateWindow = 250 * time.Millisecond
	// MaxCountersAge is how old previous [Counters] may be and still be used:
	// a cycle that ran ten minutes ago says little about the load now.
	MaxCountersAge = 10 * time.Minute
	// bootTimeTolerance absorbs the one-second jitter of the kernel's boot
	// time (docs/compatibility.md, fix-19).
	bootTimeTolerance = 5
)

// Host is what the survey learned about the machine. Every numeric field is a
// [Reading]: unknown (JSON null) when it could not be read, never zero.
type Host struct {
	// CPUPercent is the busy share of all CPUs (100 − idle − iowait), in %,
	// averaged over RateWindow.
	CPUPercent Reading `json:"cpu_percent"`
	// MemPercent is (total − available) / total, in %.
	MemPercent Reading `json:"mem_percent"`
	// DiskPercent is the used share of the filesystem holding DiskPath, in %.
	DiskPercent Reading `json:"disk_percent"`
	// DiskTotalBytes is the size of that filesystem.
	DiskTotalBytes Reading `json:"disk_total_bytes"`
	// DiskPath is the directory that was measured: node_storage, or its
	// nearest existing parent when it does not exist yet. It is never
	// created.
	DiskPath string `json:"disk_path"`
	// DiskReadBps and DiskWriteBps are bytes per second over RateWindow,
	// summed over whole physical disks (no partitions, loop, RAM, zram,
	// device-mapper or md devices, so nothing is counted twice).
	DiskReadBps  Reading `json:"disk_read_bps"`
	DiskWriteBps Reading `json:"disk_write_bps"`
	// NetRecvBps and NetSendBps are bytes per second over RateWindow,
	// summed over every interface except loopback.
	NetRecvBps Reading `json:"net_recv_bps"`
	NetSendBps Reading `json:"net_send_bps"`
	// Load1, Load5 and Load15 are the load averages.
	Load1  Reading `json:"load1"`
	Load5  Reading `json:"load5"`
	Load15 Reading `json:"load15"`
	// BootTime is when the machine booted, in Unix seconds (Linux: btime in
	// /proc/stat). Compare it with a few seconds' tolerance.
	BootTime Reading `json:"boot_time"`
	// CPUCount is how many CPUs this process may run on (Linux: its
	// sched_getaffinity set; elsewhere runtime.NumCPU).
	CPUCount int `json:"cpu_count"`
	// RateWindow is the interval CPUPercent and the I/O rates are averaged
	// over, and RateSource says where it came from: "previous" (from the
	// previous cycle's [Counters] to now), "sample" (a short sample taken
	// during this survey), or "" when no rate is known.
	RateWindow time.Duration `json:"rate_window_ns"`
	RateSource string        `json:"rate_source"`
}

// Counters are the raw cumulative host counters behind the CPU % and I/O
// rates. [Survey] returns them in [Observation.Counters]; the caller keeps
// them and passes them back as [Options.Prev] next cycle so the rates cover
// the whole interval between cycles instead of a short sample.
type Counters struct {
	// At is when the counters were read.
	At time.Time `json:"at"`
	// BootTime is the boot time (Unix seconds) when they were read, 0 if
	// unknown; counters from another boot are never compared.
	BootTime int64 `json:"boot_time"`
	// CPUBusy and CPUTotal are cumulative CPU seconds over all CPUs; busy
	// excludes idle and iowait. HasCPU is false when they could not be read.
	CPUBusy  float64 `json:"cpu_busy"`
	CPUTotal float64 `json:"cpu_total"`
	HasCPU   bool    `json:"has_cpu"`
	// DiskRead and DiskWrite are cumulative bytes over physical disks.
	DiskRead  uint64 `json:"disk_read"`
	DiskWrite uint64 `json:"disk_write"`
	HasDisk   bool   `json:"has_disk"`
	// NetRecv and NetSend are cumulative bytes over non-loopback interfaces.
	NetRecv uint64 `json:"net_recv"`
	NetSend uint64 `json:"net_send"`
	HasNet  bool   `json:"has_net"`
}

// Rates are CPU % and I/O rates averaged between two [Counters].
type Rates struct {
	Window     time.Duration
	CPUPercent Reading
	DiskRead   Reading
	DiskWrite  Reading
	NetRecv    Reading
	NetSend    Reading
}

// ComputeRates averages the change from prev to cur over the time between
// them. A reading is unknown when either side lacks it, when a counter went
// backwards (a reboot, a disk or interface that disappeared), or when the
// window is not positive.
func ComputeRates(prev, cur Counters) Rates {
	r := Rates{Window: cur.At.Sub(prev.At)}
	if r.Window <= 0 {
		return r
	}
	secs := r.Window.Seconds()
	if prev.HasCPU && cur.HasCPU {
		busy, total := cur.CPUBusy-prev.CPUBusy, cur.CPUTotal-prev.CPUTotal
		if total > 0 && busy >= 0 {
			r.CPUPercent = known(math.Min(100, 100*busy/total))
		}
	}
	rate := func(a, b uint64) Reading {
		if b < a {
			return Reading{}
		}
		return known(float64(b-a) / secs)
	}
	if prev.HasDisk && cur.HasDisk {
		r.DiskRead, r.DiskWrite = rate(prev.DiskRead, cur.DiskRead), rate(prev.DiskWrite, cur.DiskWrite)
	}
	if prev.HasNet && cur.HasNet {
		r.NetRecv, r.NetSend = rate(prev.NetRecv, cur.NetRecv), rate(prev.NetSend, cur.NetSend)
	}
	return r
}

// usable reports whether prev can stand in for the start of the rate window
// ending at cur: it is recent, from the same boot, has every counter group
// cur has, and no counter went backwards.
func usable(prev, cur Counters) bool {
	age := cur.At.Sub(prev.At)
	if age <= 0 || age > MaxCountersAge {
		return false
	}
	if prev.BootTime == 0 || cur.BootTime == 0 || absInt(prev.BootTime-cur.BootTime) > bootTimeTolerance {
		return false
	}
	if cur.HasCPU && (!prev.HasCPU || cur.CPUBusy < prev.CPUBusy || cur.CPUTotal < prev.CPUTotal) {
		return false
	}
	if cur.HasDisk && (!prev.HasDisk || cur.DiskRead < prev.DiskRead || cur.DiskWrite < prev.DiskWrite) {
		return false
	}
	if cur.HasNet && (!prev.HasNet || cur.NetRecv < prev.NetRecv || cur.NetSend < prev.NetSend) {
		return false
	}
	return true
}

func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// hostSource reads the machine. The real one is gopsutil; tests fake it.
type hostSource interface {
	// counters reads the cumulative counters (At is left zero).
	counters(ctx context.Context) (Counters, []error)
	// gauges reads everything that is not a rate.
	gauges(ctx context.Context, storage string) (Host, []error)
}

// sampler measures the host concurrently with the node polling.
type sampler struct {
	src       hostSource
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration)
	minWindow time.Duration
}

// run reads the counters, then the gauges, waits for nodesDone, reads the
// counters again and computes the rates: over [prev.At, now] when prev is
// usable, otherwise over this survey. Either window is stretched to
// minWindow by waiting out the remainder.
func (s sampler) run(ctx context.Context, storage string, prev *Counters, nodesDone <-chan struct{}) (Host, Counters, []error) {
	first, errs := s.read(ctx)
	h, gerrs := s.src.gauges(ctx, storage)
	errs = append(errs, gerrs...)
	select {
	case <-nodesDone:
	case <-ctx.Done():
	}

	last, lerrs := s.read(ctx)
	from, source := first, "sample"
	if prev != nil && usable(*prev, last) {
		from, source = *prev, "previous"
	}
	if wait := s.minWindow - last.At.Sub(from.At); wait > 0 && ctx.Err() == nil {
		s.sleep(ctx, wait)
		last, lerrs = s.read(ctx)
		if source == "previous" && !usable(*prev, last) {
			from, source = first, "sample"
		}
	}
	r := ComputeRates(from, last)
	h.RateSource = source
	errs = append(errs, lerrs...)
	h.CPUPercent, h.DiskReadBps, h.DiskWriteBps, h.NetRecvBps, h.NetSendBps = r.CPUPercent, r.DiskRead, r.DiskWrite, r.NetRecv, r.NetSend
	if h.CPUPercent.Known || h.DiskReadBps.Known || h.NetRecvBps.Known {
		h.RateWindow = r.Window
	} else {
		h.RateSource = ""
	}
	if last.BootTime != 0 {
		h.BootTime = known(float64(last.BootTime))
	}
	return h, last, dedupe(errs)
}

func (s sampler) read(ctx context.Context) (Counters, []error) {
	c, errs := s.src.counters(ctx)
	c.At = s.now().UTC().Round(0)
	return c, errs
}

// dedupe drops repeated errors (the same counter failing at both ends of the
// window).
func dedupe(errs []error) []error {
	seen := make(map[string]bool, len(errs))
	out := errs[:0]
	for _, err := range errs {
		if err == nil || seen[err.Error()] {
			continue
		}
		seen[err.Error()] = true
		out = append(out, err)
	}
	return out
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// psSource is the real [hostSource], built on gopsutil.
type psSource struct{}

func (psSource) counters(ctx context.Context) (Counters, []error) {
	var c Counters
	var errs []error
	if bt, err := bootTime(ctx); err != nil {
		errs = append(errs, fmt.Errorf("boot time: %w", err))
	} else {
		c.BootTime = bt
	}
	if ts, err := cpu.TimesWithContext(ctx, false); err != nil {
		errs = append(errs, fmt.Errorf("cpu times: %w", err))
	} else if len(ts) == 0 {
		errs = append(errs, errors.New("cpu times: none reported"))
	} else {
		c.CPUBusy, c.CPUTotal = cpuBusyTotal(ts[0])
		c.HasCPU = true
	}
	if ds, err := disk.IOCountersWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("disk io counters: %w", err))
	} else {
		for name, d := range ds {
			if physicalDisk(name, sysBlockHas) {
				c.DiskRead += d.ReadBytes
				c.DiskWrite += d.WriteBytes
			}
		}
		c.HasDisk = true
	}
	if ns, err := psnet.IOCountersWithContext(ctx, true); err != nil {
		errs = append(errs, fmt.Errorf("network io counters: %w", err))
	} else {
		loop := loopbackInterfaces()
		for _, n := range ns {
			if loop[n.Name] || n.Name == "lo" || strings.HasPrefix(n.Name, "lo0") {
				continue
			}
			c.NetRecv += n.BytesRecv
			c.NetSend += n.BytesSent
		}
		c.HasNet = true
	}
	return c, errs
}

// cpuBusyTotal returns busy and total CPU seconds. On Linux guest time is
// already part of user and nice, so it is not added again.
func cpuBusyTotal(t cpu.TimesStat) (busy, total float64) {
	total = t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	if runtime.GOOS != "linux" {
		total += t.Guest + t.GuestNice
	}
	busy = total - t.Idle - t.Iowait
	return busy, total
}

func (psSource) gauges(ctx context.Context, storage string) (Host, []error) {
	var h Host
	var errs []error
	h.CPUCount = CPUCount()
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("memory: %w", err))
	} else if vm.Total == 0 {
		errs = append(errs, errors.New("memory: total reported as 0"))
	} else {
		used := float64(vm.Total) - float64(vm.Available)
		h.MemPercent = known(100 * used / float64(vm.Total))
	}
	if la, err := load.AvgWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("load average: %w", err))
	} else {
		h.Load1, h.Load5, h.Load15 = known(la.Load1), known(la.Load5), known(la.Load15)
	}
	if storage == "" {
		errs = append(errs, errors.New("disk usage: node storage path is not set"))
		return h, errs
	}
	dir, err := existingDir(storage)
	if err != nil {
		errs = append(errs, fmt.Errorf("disk usage: %w", err))
		return h, errs
	}
	h.DiskPath = dir
	if u, err := disk.UsageWithContext(ctx, dir); err != nil {
		errs = append(errs, fmt.Errorf("disk usage of %s: %w", dir, err))
	} else {
		h.DiskPercent, h.DiskTotalBytes = known(u.UsedPercent), known(float64(u.Total))
	}
	return h, errs
}

// existingDir returns path, or its nearest existing ancestor if path does not
// exist yet. It never creates anything.
func existingDir(path string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("node storage %q: %w", path, err)
	}
	for {
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("node storage %q: %w", path, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", fmt.Errorf("node storage %q: no existing parent directory", path)
		}
		p = parent
	}
}

// physicalDisk reports whether the block device called name is a whole
// physical disk whose I/O should be counted. Partitions would count the same
// bytes twice, and loop, RAM, zram, device-mapper and md devices are layered
// on (or beside) the real disks. isWhole says whether the kernel lists name
// in /sys/block (a partition is not listed there); it returns ok false when
// that cannot be known, and a name-based guess is used instead.
func physicalDisk(name string, isWhole func(string) (whole, ok bool)) bool {
	for _, p := range []string{"loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	if whole, ok := isWhole(name); ok {
		return whole
	}
	return !looksLikePartition(name)
}

// looksLikePartition guesses from the name alone: sda1, vdb2, xvda1,
// nvme0n1p1, mmcblk0p1 and disk0s1 are partitions; sda, nvme0n1, mmcblk0 and
// disk0 are not.
func looksLikePartition(name string) bool {
	endsInDigit := name != "" && name[len(name)-1] >= '0' && name[len(name)-1] <= '9'
	switch {
	case strings.HasPrefix(name, "nvme"), strings.HasPrefix(name, "mmcblk"):
		i := strings.LastIndexByte(name, 'p')
		return i > 0 && i < len(name)-1 && allDigits(name[i+1:]) && endsInDigit
	case strings.HasPrefix(name, "disk"):
		return strings.Contains(name[len("disk"):], "s")
	case strings.HasPrefix(name, "sd"), strings.HasPrefix(name, "vd"),
		strings.HasPrefix(name, "xvd"), strings.HasPrefix(name, "hd"):
		return endsInDigit
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// loopbackInterfaces names the interfaces flagged as loopback.
func loopbackInterfaces() map[string]bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	m := make(map[string]bool)
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			m[i.Name] = true
		}
	}
	return m
}

// CPUCount returns how many CPUs this process may run on, at least 1. It is runtime.NumCPU, which
// on Linux is already the size of the process's affinity set (so taskset and cgroup cpusets count)
// and elsewhere the logical CPU count. The survey and the machine row read the count only here.
func CPUCount() int { return max(runtime.NumCPU(), 1) }

// BootTime returns when the host booted: on Linux the kernel's btime in /proc/stat (the host's
// boot inside a container), elsewhere gopsutil's reading (kern.boottime on macOS). The survey and
// the machine row read it only here.
func BootTime(ctx context.Context) (time.Time, error) {
	s, err := bootTime(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	return time.Unix(s, 0), nil
}
