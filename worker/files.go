package worker

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// nodeDirName matches the only directory names wnm ever deletes.
var nodeDirName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^antnode[0-9]+$`) })

// removeNodeDir deletes dir, a node's root or log directory, only if it is a real directory named
// antnode<digits> directly inside one of parents (node_storage or the log dir). Anything else is
// refused, whatever the database says (fixing wnm-python's rm -rf of paths taken from its rows).
// A directory that does not exist is not an error.
func removeNodeDir(dir string, parents ...string) error {
	clean := filepath.Clean(dir)
	if !filepath.IsAbs(clean) || !nodeDirName().MatchString(filepath.Base(clean)) {
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

// tempPrefix starts the name of every temporary file wnm writes into a node's root dir (a binary
// being installed), so that the next cycle recognises and removes what an interrupted step left.
const tempPrefix = ".antnode.wnm-tmp-"

// leftover matches temporary files of interrupted steps in a node's root dir: wnm's own, and the
// names renameio gives its temporary files (".antnode<digits>", ".node.pid<digits>"), which
// earlier wnm versions and the setsid launcher use.
var leftover = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\.antnode\.wnm-tmp-.*|\.antnode[0-9]+|\.node\.pid[0-9]+)$`)
})

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
	dir := filepath.Dir(dst)
	t, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	done := false
	defer func() {
		if !done {
			t.Close()
			os.Remove(t.Name())
		}
	}()
	if _, err := io.Copy(t, in); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := t.Chmod(0o755); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := t.Sync(); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := t.Close(); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	if err := os.Rename(t.Name(), dst); err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	return nil
}

// sweepLeftovers removes the temporary files an interrupted step left in a node's root dir. Only
// regular files with those names, directly in the dir, are removed.
func sweepLeftovers(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !leftover().MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(root, e.Name())
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}
