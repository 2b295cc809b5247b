package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"zombiezen.com/go/sqlite"
)

// Create makes a new database at path holding m as its machine row (m.ID 0
// means 1; any other id is refused) and opens it. The file appears
// atomically: it is built in a temporary file in the same directory with a
// rollback journal, hard-linked to path (which never replaces an existing
// file: that fails with an error wrapping [fs.ErrExist]) and only then
// reopened in WAL mode. On any failure Create leaves neither the temporary
// file nor path behind, nor the parent directories it made (mode 0755).
func Create(ctx context.Context, path string, m Machine, opts ...Option) (_ *Store, err error) {
	o := newOptions(opts)
	if m.ID == 0 {
		m.ID = 1
	}
	if m.ID != 1 {
		return nil, fmt.Errorf("create store %s: machine id is %d, want 1", path, m.ID)
	}
	dir := filepath.Dir(path)
	made, err := mkdirs(dir)
	if err != nil {
		return nil, fmt.Errorf("create store %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			for _, d := range made { // deepest first; only empty ones go
				os.Remove(d)
			}
		}
	}()
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("create store: %w", &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist})
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create store: %w", err)
	}

	tmp, err := createTemp(dir, filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("create store %s: %w", path, err)
	}
	defer removeDB(tmp) // after the link, path keeps the file alive
	if err := build(ctx, tmp, m, o); err != nil {
		return nil, fmt.Errorf("create store %s: %w", path, err)
	}
	if err := o.hook("link"); err != nil {
		return nil, fmt.Errorf("create store %s: %w", path, err)
	}
	// link(2) fails with EEXIST instead of replacing, unlike rename(2).
	if err := os.Link(tmp, path); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	defer func() {
		if err != nil {
			removeDB(path)
		}
	}()
	if err := os.Remove(tmp); err != nil {
		return nil, fmt.Errorf("create store %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("create store %s: %w", path, err)
	}
	if err := o.hook("open"); err != nil {
		return nil, fmt.Errorf("create store %s: %w", path, err)
	}
	return open(ctx, path, o)
}

// build writes the schema and the machine row into the empty file tmp.
func build(ctx context.Context, tmp string, m Machine, o options) (err error) {
	migs, err := o.migrations()
	if err != nil {
		return err
	}
	conn, err := sqlite.OpenConn(tmp, sqlite.OpenReadWrite)
	if err != nil {
		return fmt.Errorf("open %s: %w", tmp, err)
	}
	defer func() {
		if cerr := conn.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", tmp, cerr)
		}
	}()
	conn.SetInterrupt(ctx.Done())
	// A rollback journal while building: the finished file is complete on
	// its own, with no WAL to carry across the link.
	if err := configure(conn); err != nil {
		return err
	}
	if err := journalMode(conn, "delete"); err != nil {
		return err
	}
	if err := migrate(conn, migs, o.log.With("path", tmp), tmp, o.hook); err != nil {
		return err
	}
	if err := o.hook("build"); err != nil {
		return err
	}
	if err := insertMachine(conn, m); err != nil {
		return err
	}
	for _, n := range o.nodes {
		if err := checkNode(n); err != nil {
			return fmt.Errorf("insert node %d: %w", n.ID, err)
		}
		if n.MachineID == 0 {
			n.MachineID = 1
		}
		if _, err := execStmt(conn, sqlText().insertNode, func(st *sqlite.Stmt) { nodeFields(&n, &binder{s: st}) }); err != nil {
			return fmt.Errorf("insert node %d: %w", n.ID, err)
		}
	}
	return nil
}

// createTemp creates an empty file named like .colony.db.tmp-1234 in dir. It
// is created with mode 0644 less the umask, as SQLite would create path.
func createTemp(dir, base string) (string, error) {
	for range 10 {
		name := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%d", base, rand.Uint32()))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return name, f.Close()
	}
	return "", fmt.Errorf("create temporary file in %s: too many name collisions", dir)
}

// removeDB removes a database file and the side files SQLite may have left.
func removeDB(path string) {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// mkdirs creates dir and any missing parents with mode 0755 and returns the
// directories it created, deepest first.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		for _, d := range missing {
			os.Remove(d)
		}
		return nil, err
	}
	return missing, nil
}

// syncDir makes the new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
