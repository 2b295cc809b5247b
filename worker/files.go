package worker

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/google/renameio/v2"
)

// nodeDirName matches the only directory names wnm ever deletes.
var nodeDirName = regexp.MustCompile(`^antnode[0-9]+$`)

// removeNodeDir deletes dir, a node's root or log directory, only if it is a real directory named
// antnode<digits> directly inside one of parents (node_storage or the log dir). Anything else is
// refused, whatever the database says (fixing wnm-python's rm -rf of paths taken from its rows).
// A directory that does not exist is not an error.
func removeNodeDir(dir string, parents ...string) error {
	clean := filepath.Clean(dir)
	if !filepath.IsAbs(clean) || !nodeDirName.MatchString(filepath.Base(clean)) {
		return fmt.Errorf("refusing to delete %q: not an antnode<digits> directory", dir)
	}
	inside := false
	for _, p := range parents {
		if p != "" && filepath.Dir(clean) == filepath.Clean(p) {
			inside = true
		}
	}
	if !inside {
		return fmt.Errorf("refusing to delete %q: not directly inside %q", dir, parents)
	}
	fi, err := os.Lstat(clean)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("refusing to delete %q: not a directory (%s)", dir, fi.Mode().Type())
	}
	if err := os.RemoveAll(clean); err != nil {
		return fmt.Errorf("delete %s: %w", clean, err)
	}
	return nil
}

// installBinary copies src over dst atomically (temp file in dst's directory, fsync, rename), mode
// 0755, so a node never sees a half-written binary.
func installBinary(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("%w: %w", errNoBinary, err)
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", errNoBinary, src)
	}
	t, err := renameio.TempFile(filepath.Dir(dst), dst)
	if err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	defer t.Cleanup()
	if _, err := io.Copy(t, in); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := t.Chmod(0o755); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	return nil
}
