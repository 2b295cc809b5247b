//go:build !linux

package setsid

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/shirou/gopsutil/v4/process"
)

// osProcs reads the process table through gopsutil, which knows each system's calls.
type osProcs struct{}

func (osProcs) pids(ctx context.Context) ([]int, error) {
	ps, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil, err
	}
	pids := make([]int, len(ps))
	for i, p := range ps {
		pids[i] = int(p)
	}
	return pids, nil
}

// owner has no cheap look here: the command line is read first, and the uid checked for matches.
func (osProcs) owner(int) (uint32, error) { return 0, errors.ErrUnsupported }

func (osProcs) cmdline(ctx context.Context, pid int, buf []byte) ([]byte, error) {
	argv, err := (&process.Process{Pid: int32(pid)}).CmdlineSliceWithContext(ctx)
	buf = buf[:0]
	if err != nil {
		return buf, err
	}
	for _, a := range argv {
		buf = append(buf, a...)
		buf = append(buf, 0)
	}
	return buf, nil
}

// readFileAt reads the file name in dir (or at the path name when dir is nil) into buf[:0].
func readFileAt(dir *os.File, name string, buf []byte) ([]byte, error) {
	if dir != nil {
		name = filepath.Join(dir.Name(), name)
	}
	b, err := os.ReadFile(name)
	return append(buf[:0], b...), err
}
