package worker

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v4/host"
)

// CPUCount returns the CPUs this process may run on: on Linux the size of its affinity set (so
// taskset and cgroup cpusets count), elsewhere the logical CPU count. It is at least 1.
func CPUCount() int {
	if n := affinityCount(); n > 0 {
		return n
	}
	return max(runtime.NumCPU(), 1)
}

// BootTime returns when the host booted (Linux: /proc/stat btime; macOS: kern.boottime).
func BootTime(ctx context.Context) (time.Time, error) {
	s, err := host.BootTimeWithContext(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	return time.Unix(int64(s), 0), nil
}
