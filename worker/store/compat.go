package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// wnm-python's database schema evolved through Alembic revisions, plus a few
// columns that its ORM grew without a migration. wnm adopts a colony.db at any
// of those points in place: the columns it lacks are added with upstream's
// defaults, every stored value stays as it is (type and NULLs included), and
// the Alembic stamp is moved to the head revision, whose schema the file then
// has, so wnm-python still recognises it.

// Alembic revisions of wnm-python, oldest first. The first is the baseline
// (the schema of 2025-11-06); the last is the head that wnm's schema matches.
var alembicRevisions = []string{
	"eeec2af7114c", // baseline
	"62bd2784638c", // node.log_dir
	"abc5afa09a61", // machine.no_upnp
	"ade8fcd1fc9a", // node influx metrics and rewards
	"7c5a573319da", // machine.rpc_port_start
	"44f23f078686", // machine.antnode_path
	"3249fcc20390", // machine.delay_restart
	"fa0ca0abff5c", // machine.survey_delay
	"00dd80bcd645", // machine.max_concurrent_operations
	"67fe02809d26", // machine.action_delay
	"ba757077b6b0", // machine.antctl_path
	"752bf4495eaa", // machine.antctl_version
	"e2f4a512d24c", // machine.highest_node_id_used (head)
}

// AlembicHead is the wnm-python revision whose schema wnm keeps.
const AlembicHead = "e2f4a512d24c"

// Unversioned names a wnm-python database that Alembic never stamped.
const Unversioned = "unversioned"

// addable is an upstream column that an older colony.db may lack, with the
// definition and default upstream gives it when it adds the column.
type addable struct {
	table, column string
	def           string // column definition after the name
	lit           string // the default as an SQL literal, for reading a file without the column
}

// upstreamAddable lists, in the order they are added, the columns introduced
// after the baseline revision or without a migration at all
// (machine.antctl_debug, node.rpc_port, and node.connected_peers from
// wnm-python's early ad-hoc script).
var upstreamAddable = []addable{
	{"node", "connected_peers", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "log_dir", "TEXT", "NULL"},
	{"machine", "no_upnp", "INTEGER NOT NULL DEFAULT 1", "1"},
	{"node", "gets", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "puts", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "mem", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "cpu", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "open_connections", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "total_peers", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "bad_peers", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "rel_records", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "max_records", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "payment_count", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "live_time", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "network_size", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "rewards", "TEXT DEFAULT '0'", "'0'"},
	{"machine", "rpc_port_start", "INTEGER NOT NULL DEFAULT 30", "30"},
	{"machine", "antnode_path", "TEXT DEFAULT '~/.local/bin/antnode'", "'~/.local/bin/antnode'"},
	{"machine", "delay_restart", "INTEGER NOT NULL DEFAULT 600", "600"},
	{"machine", "survey_delay", "INTEGER DEFAULT 0", "0"},
	{"machine", "max_concurrent_operations", "INTEGER DEFAULT 1", "1"},
	{"machine", "action_delay", "INTEGER DEFAULT 0", "0"},
	{"machine", "antctl_path", "TEXT DEFAULT '~/.local/bin/antctl'", "'~/.local/bin/antctl'"},
	{"machine", "antctl_version", "TEXT", "NULL"},
	{"machine", "highest_node_id_used", "INTEGER", "NULL"},
	{"machine", "antctl_debug", "INTEGER NOT NULL DEFAULT 0", "0"},
	{"node", "rpc_port", "INTEGER NOT NULL DEFAULT 0", "0"},
}

// wnmAddable are wnm's own columns (schema/0002_wnm.sql and later), read at their
// defaults from a file that does not have them yet.
var wnmAddable = []addable{
	{"machine", "wnm_boot_time", "", "0"},
	{"machine", "survey_timeout_ms", "", "2000"},
	{"machine", "survey_concurrency", "", "32"},
	{"node", "wnm_intent", "", "''"},
	{"node", "wnm_intent_at", "", "0"},
	{"node", "wnm_no_upnp", "", "NULL"},
}

// defaultLiteral returns the literal a missing column reads as, if it may be
// missing at all.
func defaultLiteral(table, column string) (string, bool) {
	for _, list := range [][]addable{upstreamAddable, wnmAddable} {
		for _, a := range list {
			if a.table == table && a.column == column {
				return a.lit, true
			}
		}
	}
	return "", false
}

// schemaInfo is what a database file holds, as far as adoption cares.
type schemaInfo struct {
	userVersion int
	tables      map[string]bool
	cols        map[string]map[string]bool // table -> column set
	revision    string                     // alembic_version, or Unversioned
}

// upstream reports whether the file is a wnm-python database that wnm has not
// adopted yet.
func (si schemaInfo) upstream() bool { return si.userVersion == 0 && si.tables["machine"] }

func inspect(conn *sqlite.Conn) (schemaInfo, error) {
	si := schemaInfo{tables: map[string]bool{}, cols: map[string]map[string]bool{}, revision: Unversioned}
	var err error
	if si.userVersion, err = userVersion(conn); err != nil {
		return si, err
	}
	err = sqlitex.ExecuteTransient(conn, "SELECT name FROM sqlite_master WHERE type = 'table';", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { si.tables[s.ColumnText(0)] = true; return nil },
	})
	if err != nil {
		return si, fmt.Errorf("read the schema: %w", err)
	}
	for _, t := range []string{"machine", "node"} {
		if !si.tables[t] {
			continue
		}
		set := map[string]bool{}
		// The table name is one of two constants.
		err := sqlitex.ExecuteTransient(conn, "SELECT name FROM pragma_table_info('"+t+"');", &sqlitex.ExecOptions{
			ResultFunc: func(s *sqlite.Stmt) error { set[s.ColumnText(0)] = true; return nil },
		})
		if err != nil {
			return si, fmt.Errorf("read the columns of %s: %w", t, err)
		}
		si.cols[t] = set
	}
	if si.tables["alembic_version"] {
		var revs []string
		err := sqlitex.ExecuteTransient(conn, "SELECT version_num FROM alembic_version;", &sqlitex.ExecOptions{
			ResultFunc: func(s *sqlite.Stmt) error { revs = append(revs, s.ColumnText(0)); return nil },
		})
		if err != nil {
			return si, fmt.Errorf("read alembic_version: %w", err)
		}
		switch len(revs) {
		case 0:
		case 1:
			si.revision = revs[0]
		default:
			return si, fmt.Errorf("alembic_version holds %d revisions (%s); wnm-python's history is linear", len(revs), strings.Join(revs, ", "))
		}
	}
	return si, nil
}

// selectList is the column list that reads table from a file described by si:
// a column the file lacks reads as its default. It fails, naming them, when
// columns without a default are missing.
func (si schemaInfo) selectList(table string, cols []string) (string, error) {
	have := si.cols[table]
	out := make([]string, len(cols))
	var missing []string
	for i, c := range cols {
		if have[c] {
			out[i] = c
			continue
		}
		lit, ok := defaultLiteral(table, c)
		if !ok {
			missing = append(missing, table+"."+c)
			continue
		}
		out[i] = lit + " AS " + c
	}
	if len(missing) > 0 {
		return "", &MissingColumnsError{Columns: missing}
	}
	return strings.Join(out, ", "), nil
}

// MissingColumnsError names the columns a database lacks that wnm cannot
// supply a default for: the file is not a wnm-python database wnm can adopt.
type MissingColumnsError struct{ Columns []string }

func (e *MissingColumnsError) Error() string {
	return "missing column(s) " + strings.Join(e.Columns, ", ")
}

// checkAdoptable refuses layouts wnm cannot take over.
func (si schemaInfo) checkAdoptable() error {
	if si.cols["machine"]["CpuCount"] || si.cols["node"]["nodename"] {
		return errors.New("this is wnm-python's original layout (UpperCamelCase machine columns, node.nodename); " +
			"upgrade it with wnm-python's scripts/migrate_v0_to_v1.py first")
	}
	if si.revision != Unversioned && !slices.Contains(alembicRevisions, si.revision) {
		return fmt.Errorf("alembic revision %q is not one wnm knows (known: %s … %s); it may come from a newer wnm-python",
			si.revision, alembicRevisions[0], AlembicHead)
	}
	var missing []string
	for _, t := range []string{"machine", "node"} {
		if !si.tables[t] {
			missing = append(missing, "table "+t)
		}
	}
	if len(missing) > 0 {
		return &MissingColumnsError{Columns: missing}
	}
	var errs []string
	for _, t := range []struct {
		name string
		cols []string
	}{{"machine", sqlText().machineColumns}, {"node", sqlText().nodeColumns}} {
		if _, err := si.selectList(t.name, t.cols); err != nil {
			var mc *MissingColumnsError
			if errors.As(err, &mc) {
				errs = append(errs, mc.Columns...)
				continue
			}
			return err
		}
	}
	if len(errs) > 0 {
		return &MissingColumnsError{Columns: errs}
	}
	return nil
}

// adoptUpstream brings an upstream file to wnm-python's head schema inside the
// caller's transaction: it adds the missing columns (with upstream's defaults
// and data steps) and moves the Alembic stamp to the head. It returns the
// columns it added.
func adoptUpstream(conn *sqlite.Conn, si schemaInfo) ([]string, error) {
	if err := si.checkAdoptable(); err != nil {
		return nil, err
	}
	var added []string
	for _, a := range upstreamAddable {
		if si.cols[a.table][a.column] {
			continue
		}
		// Table and column names and definitions are constants above.
		if err := sqlitex.ExecuteTransient(conn, "ALTER TABLE "+a.table+" ADD COLUMN "+a.column+" "+a.def+";", nil); err != nil {
			return added, fmt.Errorf("add column %s.%s: %w", a.table, a.column, err)
		}
		added = append(added, a.table+"."+a.column)
		if a.table == "machine" && a.column == "highest_node_id_used" {
			// Upstream's data step for this revision.
			if err := sqlitex.ExecuteTransient(conn, "UPDATE machine SET highest_node_id_used = (SELECT COALESCE(MAX(id), 0) FROM node) WHERE id = 1;", nil); err != nil {
				return added, fmt.Errorf("fill machine.highest_node_id_used: %w", err)
			}
		}
	}
	if si.tables["alembic_version"] && si.revision != Unversioned && si.revision != AlembicHead {
		err := sqlitex.ExecuteTransient(conn, "UPDATE alembic_version SET version_num = '"+AlembicHead+"';", nil)
		if err != nil {
			return added, fmt.Errorf("stamp alembic revision %s: %w", AlembicHead, err)
		}
	}
	// An unstamped file (no table or no row) is stamped by schema/0001.
	return added, nil
}

// backup copies the database at path to a new file beside it, named
// <path>.backup-<revision> (with .1, .2, … appended if that exists, unless
// that earlier copy is identical), and returns its name. The caller holds the
// write lock and has changed nothing yet, so the copy is the file as it was
// before the first change. A file in a rollback-journal mode (wnm-python's) is
// stable under that lock and is copied byte for byte; a WAL file, whose
// committed pages may sit in its log, is copied with SQLite's online backup
// through a read-only connection. A partial copy never remains under the
// final name.
func backup(conn *sqlite.Conn, path, revision string) (string, error) {
	dir := filepath.Dir(path)
	var mode string
	err := sqlitex.ExecuteTransient(conn, "PRAGMA journal_mode;", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { mode = s.ColumnText(0); return nil },
	})
	if err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	tmp, err := createTemp(dir, filepath.Base(path)+".backup")
	if err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	defer removeDB(tmp)
	if mode == "wal" {
		err = onlineBackup(path, tmp)
	} else {
		err = copyFile(path, tmp)
	}
	if err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	base := path + ".backup-" + revision
	for i := 0; i < 1000; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s.%d", base, i)
		}
		err := os.Link(tmp, name)
		if errors.Is(err, os.ErrExist) {
			// An earlier failed attempt may have left the same copy.
			if sameFile(tmp, name) {
				return name, nil
			}
			continue
		}
		if err != nil {
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		if err := syncDir(dir); err != nil {
			return "", fmt.Errorf("back up %s: %w", path, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("back up %s: too many backups named %s.*", path, base)
}

// onlineBackup copies the database at src to the empty file dst with SQLite's
// backup API.
func onlineBackup(src, dst string) error {
	from, err := sqlite.OpenConn(src, sqlite.OpenReadOnly)
	if err != nil {
		return err
	}
	defer from.Close()
	from.SetBusyTimeout(busyTimeout)
	to, err := sqlite.OpenConn(dst, sqlite.OpenReadWrite)
	if err != nil {
		return err
	}
	b, err := sqlite.NewBackup(to, "main", from, "main")
	if err != nil {
		to.Close()
		return err
	}
	_, err = b.Step(-1)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if cerr := to.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyFile copies src's bytes over the existing file dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// sameFile reports whether files a and b have the same bytes.
func sameFile(a, b string) bool {
	x, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	y, err := os.ReadFile(b)
	return err == nil && bytes.Equal(x, y)
}

// AdoptionError is returned when a wnm-python database cannot be adopted. The
// file is left as it was; Backup names the copy written before the attempt
// ("" if none was written).
type AdoptionError struct {
	Path     string
	Revision string
	Backup   string
	Err      error
}

func (e *AdoptionError) Error() string {
	msg := fmt.Sprintf("adopt wnm-python database %s (alembic revision %s): %v; the file is unchanged", e.Path, e.Revision, e.Err)
	if e.Backup != "" {
		msg += "; a backup taken before the attempt is at " + e.Backup
	}
	return msg
}

func (e *AdoptionError) Unwrap() error { return e.Err }

// logAdoption records a successful adoption at INFO.
func logAdoption(log *slog.Logger, si schemaInfo, added []string, backupPath string) {
	log.Info("adopted wnm-python database", "from_revision", si.revision, "to_revision", AlembicHead,
		"added_columns", strings.Join(added, ","), "backup", backupPath)
}
