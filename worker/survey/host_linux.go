package survey

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// bootTime reads btime from /proc/stat: the kernel's own record, present on
// BusyBox systems too and inside containers (where it is the host's boot,
// which is the reboot that matters), unlike `uptime --since`.
func bootTime(context.Context) (int64, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseBtime(f)
}

// parseBtime finds the "btime <seconds>" line of /proc/stat.
func parseBtime(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "btime ")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("bad btime line %q", sc.Text())
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no btime line in /proc/stat")
}

// sysBlockHas reports whether /sys/block lists name, i.e. whether it is a
// whole disk rather than a partition.
func sysBlockHas(name string) (whole, ok bool) {
	if _, err := os.Stat("/sys/block"); err != nil {
		return false, false
	}
	_, err := os.Stat(filepath.Join("/sys/block", name))
	return err == nil, true
}
