package store

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"sync"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// The schema is a list of SQL scripts, schema/NNNN_name.sql, numbered from
// 0001 without gaps. PRAGMA user_version holds how many have been applied.
// Scripts are never edited once released; a change is a new script.
//
// zombiezen's sqlitemigration runs each migration in its own transaction;
// wnm applies all pending scripts in one IMMEDIATE transaction instead, so a
// failure anywhere leaves the database exactly at its previous version.

//go:embed schema/*.sql
var schemaFS embed.FS

// migration is one schema script.
type migration struct {
	name string // file name, for errors and logs
	sql  string
}

// builtinMigrations returns the embedded scripts in order.
var builtinMigrations = sync.OnceValues(func() ([]migration, error) {
	return loadMigrations(schemaFS, "schema")
})

// loadMigrations reads dir/*.sql from fsys and checks that the names are
// numbered 0001, 0002, … in order.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	migs := make([]migration, 0, len(names))
	for i, name := range names { // fs.Glob sorts by name
		base := path.Base(name)
		if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(base, want) {
			return nil, fmt.Errorf("migration %q: name must start with %q", base, want)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		migs = append(migs, migration{name: base, sql: string(b)})
	}
	return migs, nil
}

// migrate brings conn's database to len(migs). An up-to-date database is only
// read. Otherwise every pending script and the new user_version are written
// in one IMMEDIATE transaction, which also serialises two processes that
// migrate the same file at once: the second re-reads the version under the
// write lock and finds nothing to do.
//
// A wnm-python database (tables but no user_version) is adopted in the same
// transaction: after the checks that it can be, and before its first change,
// a backup is written beside it (path names the file); then the columns its
// revision lacks are added and the scripts run. hook is a test seam called
// once the adoption's changes are made.
func migrate(conn *sqlite.Conn, migs []migration, log *slog.Logger, path string, hook func(string) error) (err error) {
	have, err := userVersion(conn)
	if err != nil {
		return err
	}
	if err := checkVersion(have, len(migs)); err != nil || have == len(migs) {
		return err
	}

	end, err := sqlitex.ImmediateTransaction(conn)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	var logAdopted func()
	defer func() {
		end(&err)
		if err == nil && logAdopted != nil {
			logAdopted()
		}
	}()
	si, err := inspect(conn)
	if err != nil {
		return err
	}
	have = si.userVersion
	if err := checkVersion(have, len(migs)); err != nil || have == len(migs) {
		return err
	}
	var (
		added     []string
		backupTo  string
		upstream  = si.upstream()
		adoptFail = func(err error) error {
			return &AdoptionError{Path: path, Revision: si.revision, Backup: backupTo, Err: err}
		}
	)
	if upstream {
		if err := si.checkAdoptable(); err != nil {
			return adoptFail(err)
		}
		if backupTo, err = backup(conn, path, si.revision); err != nil {
			return adoptFail(err)
		}
		if added, err = adoptUpstream(conn, si); err != nil {
			return adoptFail(err)
		}
		if err := hook("adopt"); err != nil {
			return adoptFail(err)
		}
	}
	for _, m := range migs[have:] {
		if err := sqlitex.ExecuteScript(conn, m.sql, nil); err != nil {
			err = fmt.Errorf("apply migration %s: %w", m.name, err)
			if upstream {
				return adoptFail(err)
			}
			return err
		}
	}
	// PRAGMA takes no parameters; the value is an int we computed.
	if err := sqlitex.ExecuteTransient(conn, fmt.Sprintf("PRAGMA user_version = %d;", len(migs)), nil); err != nil {
		return fmt.Errorf("set schema version %d: %w", len(migs), err)
	}
	if upstream {
		logAdopted = func() { logAdoption(log, si, added, backupTo) }
	}
	log.Info("migrated database schema", "from_version", have, "to_version", len(migs))
	return nil
}

// checkVersion refuses a database written by a newer wnm.
func checkVersion(have, want int) error {
	if have > want {
		return fmt.Errorf("%w: schema version %d, this wnm knows up to %d", ErrNewerSchema, have, want)
	}
	return nil
}

// userVersion reads PRAGMA user_version.
func userVersion(conn *sqlite.Conn) (int, error) {
	var v int
	err := sqlitex.ExecuteTransient(conn, "PRAGMA user_version;", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { v = s.ColumnInt(0); return nil },
	})
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
