//go:build windows

package units

import (
	"os"
	"path/filepath"
)

// replace writes data to a temp file in dir, syncs it and renames it over path. renameio has no
// pending files on Windows, where wnm manages no services; this keeps the package building.
func replace(path, dir string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), mode); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
