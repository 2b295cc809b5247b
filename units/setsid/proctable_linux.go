package setsid

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// procDir is where the process table is read, HOST_PROC when set, as gopsutil does for the reads
// it still makes.
var procDir = sync.OnceValue(func() string {
	if d := os.Getenv("HOST_PROC"); d != "" {
		return d
	}
	return "/proc"
})

// osProcs reads the process table straight from /proc: a scan looks at every process on the
// machine, and gopsutil's general-purpose reads (os.ReadFile, a string per argument) cost about as
// much again as the kernel's work.
type osProcs struct{}

func (osProcs) pids(context.Context) ([]int, error) {
	d, err := os.Open(procDir())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '1' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func (osProcs) owner(pid int) (uint32, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(procDir()+"/"+strconv.Itoa(pid), &st); err != nil {
		return 0, err
	}
	return st.Uid, nil
}

func (osProcs) cmdline(_ context.Context, pid int, buf []byte) ([]byte, error) {
	return readFileAt(nil, procDir()+"/"+strconv.Itoa(pid)+"/cmdline", buf)
}

// readFileAt reads the file name in dir (or at the path name when dir is nil) into buf[:0],
// growing it when short. It costs a third of os.ReadFile for a small file (no os.File, no fstat
// to size a new buffer), and opening relative to dir saves walking dir's path again, which counts
// when a scan reads one file per process or per node.
func readFileAt(dir *os.File, name string, buf []byte) ([]byte, error) {
	buf = buf[:0]
	var fd int
	var err error
	if dir == nil {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	} else {
		fd, err = syscall.Openat(int(dir.Fd()), name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return buf, &os.PathError{Op: "open", Path: pathAt(dir, name), Err: err}
	}
	defer syscall.Close(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return buf[:0], &os.PathError{Op: "read", Path: pathAt(dir, name), Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// pathAt names the file name in dir for an error.
func pathAt(dir *os.File, name string) string {
	if dir == nil {
		return name
	}
	return filepath.Join(dir.Name(), name)
}
