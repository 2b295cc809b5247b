package units

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile makes the file at path hold data with permissions mode, atomically: the data goes to a
// temp file in the same directory, which is synced and renamed over path, and the directory is
// synced, so a crash leaves the old file or the new one, never a torn one. When path already
// holds data, nothing is written (only the permissions are corrected, if they differ). changed
// reports whether the file's content or permissions changed. WriteFile refuses to replace
// anything but a regular file (a directory, a symlink, a socket), and creates no directories.
func WriteFile(path string, data []byte, mode os.FileMode) (changed bool, err error) {
	mode &= fs.ModePerm
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("write %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("write %s: refusing to replace a %s", path, describe(fi.Mode()))
	default:
		old, err := os.ReadFile(path)
		if err != nil {
			return false, fmt.Errorf("write %s: %w", path, err)
		}
		if bytes.Equal(old, data) {
			if fi.Mode().Perm() == mode {
				return false, nil
			}
			if err := os.Chmod(path, mode); err != nil {
				return false, fmt.Errorf("write %s: %w", path, err)
			}
			return true, nil
		}
	}
	dir := filepath.Dir(path)
	if err := replace(path, dir, data, mode); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return true, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// Remove deletes the regular file at path and syncs its directory. A file that does not exist is
// success with changed false. It refuses to delete anything but a regular file.
func Remove(path string) (changed bool, err error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("remove %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("remove %s: refusing to delete a %s", path, describe(fi.Mode()))
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return true, fmt.Errorf("remove %s: %w", path, err)
	}
	return true, nil
}

// syncDir makes a rename or unlink in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// describe names the type of a file that is not regular.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "non-regular file"
}
