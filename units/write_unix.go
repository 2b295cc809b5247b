//go:build !windows

package units

import (
	"os"

	"github.com/google/renameio/v2"
)

// replace writes data to a temp file in dir with exactly mode (whatever the umask and the old
// file's mode), syncs it and renames it over path.
func replace(path, dir string, data []byte, mode os.FileMode) error {
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(mode))
	if err != nil {
		return err
	}
	defer t.Cleanup() // a no-op once CloseAtomicallyReplace has succeeded
	if _, err := t.Write(data); err != nil {
		return err
	}
	return t.CloseAtomicallyReplace()
}
