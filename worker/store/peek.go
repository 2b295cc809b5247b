package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// PeekProcessManager reads machine.process_manager from the database at path without migrating or
// writing anything. wnm uses it before it knows its mode, as wnm-python does: the
// stored process manager decides the mode when the command line and environment do not. A missing file, a foreign file or an empty value is an error.
func PeekProcessManager(ctx context.Context, path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	conn, err := openReadOnly(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetInterrupt(ctx.Done())
	var pm string
	err = sqlitex.Execute(conn, "SELECT process_manager FROM machine WHERE id = 1", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { pm = s.ColumnText(0); return nil },
	})
	if err != nil {
		return "", fmt.Errorf("read process_manager from %s: %w", path, err)
	}
	if pm == "" {
		return "", errors.New("no process_manager recorded in " + path)
	}
	return pm, nil
}

// openReadOnly opens the database at path for reading without creating a file. A read-only
// connection to a WAL database creates the -wal and -shm files when they are missing and, unable
// to checkpoint, leaves them behind. When the file is in WAL mode (its header says so) and there is
// no -wal file, no connection has the database open and everything is in the main file, so it is
// opened as immutable, which needs neither. Any other file is opened as usual: a rollback-journal
// file (wnm-python's) needs no side file to be read, and its writer may be running, which only
// locking makes safe.
func openReadOnly(path string) (*sqlite.Conn, error) {
	if walHeader(path) {
		if _, err := os.Stat(path + "-wal"); errors.Is(err, fs.ErrNotExist) {
			u := url.URL{Scheme: "file", Path: path, RawQuery: "immutable=1"}
			return sqlite.OpenConn(u.String(), sqlite.OpenReadOnly|sqlite.OpenURI)
		}
	}
	return sqlite.OpenConn(path, sqlite.OpenReadOnly)
}

// walHeader reports whether the database header at path says WAL mode (file format versions 2).
func walHeader(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	return string(h[:16]) == "SQLite format 3\x00" && h[18] == 2 && h[19] == 2
}

// PeekMachine reads the machine row from the database at path through a read-only connection,
// without migrating or writing anything, so that read-only commands leave the file byte-identical.
// Columns an older schema lacks (wnm's additions, before the first migration) read as zero.
func PeekMachine(ctx context.Context, path string) (Machine, error) {
	var m Machine
	if _, err := os.Stat(path); err != nil {
		return m, fmt.Errorf("open store: %w", err)
	}
	conn, err := openReadOnly(path)
	if err != nil {
		return m, fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetInterrupt(ctx.Done())
	conn.SetBusyTimeout(busyTimeout)
	present := map[string]bool{}
	err = sqlitex.Execute(conn, "SELECT name FROM pragma_table_info('machine');", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { present[s.ColumnText(0)] = true; return nil },
	})
	if err != nil {
		return m, fmt.Errorf("read %s: %w", path, err)
	}
	if len(present) == 0 {
		return m, fmt.Errorf("%s: %w", path, ErrNoMachine)
	}
	var cols []string
	for _, c := range sqlText().machineColumns {
		if present[c] {
			cols = append(cols, c)
		}
	}
	found := false
	err = sqlitex.Execute(conn, "SELECT "+strings.Join(cols, ", ")+" FROM machine ORDER BY id LIMIT 1;", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error {
			found = true
			machineFields(&m, onlyPresent{&scanner{s: s}, present})
			return nil
		},
	})
	if err != nil {
		return m, fmt.Errorf("read machine from %s: %w", path, err)
	}
	if !found {
		return m, fmt.Errorf("%s: %w", path, ErrNoMachine)
	}
	return m, nil
}

// onlyPresent passes the columns that exist on to v and skips the others.
type onlyPresent struct {
	v       visitor
	present map[string]bool
}

func (o onlyPresent) Int(c string, p *int) {
	if o.present[c] {
		o.v.Int(c, p)
	}
}
func (o onlyPresent) Int64(c string, p *int64) {
	if o.present[c] {
		o.v.Int64(c, p)
	}
}
func (o onlyPresent) Float(c string, p *float64) {
	if o.present[c] {
		o.v.Float(c, p)
	}
}
func (o onlyPresent) NaNFloat(c string, p *float64) {
	if o.present[c] {
		o.v.NaNFloat(c, p)
	}
}
func (o onlyPresent) Text(c string, p *string) {
	if o.present[c] {
		o.v.Text(c, p)
	}
}
func (o onlyPresent) Bool(c string, p *bool) {
	if o.present[c] {
		o.v.Bool(c, p)
	}
}
func (o onlyPresent) NullInt(c string, p **int) {
	if o.present[c] {
		o.v.NullInt(c, p)
	}
}
func (o onlyPresent) JSON(c string, p *json.RawMessage) {
	if o.present[c] {
		o.v.JSON(c, p)
	}
}
