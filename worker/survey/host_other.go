//go:build !linux

package survey

import (
	"context"

	"github.com/shirou/gopsutil/v4/host"
)

// bootTime asks gopsutil (kern.boottime on macOS).
func bootTime(ctx context.Context) (int64, error) {
	bt, err := host.BootTimeWithContext(ctx)
	return int64(bt), err
}

// sysBlockHas cannot tell without /sys/block; the caller guesses from the name.
func sysBlockHas(string) (whole, ok bool) { return false, false }
