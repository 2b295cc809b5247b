//go:build unix

package netns

import (
	"io/fs"
	"os"
	"syscall"
)

// chown gives target the owner of the file described by info.
func chown(target string, info fs.FileInfo, symlink bool) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if symlink {
		return os.Lchown(target, int(st.Uid), int(st.Gid))
	}
	return os.Chown(target, int(st.Uid), int(st.Gid))
}
