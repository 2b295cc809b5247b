package worker

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// selfIO returns this process's write counters from /proc/self/io (Linux): wchar, the bytes passed
// to write calls, and write_bytes, the bytes sent to the block layer. Both are -1 elsewhere. The
// cycle summary logs them, so an operator (and the benchmark script) can see what a cycle costs the disk.
func selfIO() (wchar, writeBytes int64) {
	wchar, writeBytes = -1, -1
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "wchar":
			wchar = n
		case "write_bytes":
			writeBytes = n
		}
	}
	return
}
