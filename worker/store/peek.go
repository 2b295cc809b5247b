package store

import (
	"context"
	"errors"
	"fmt"
	"os"

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
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadOnly)
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
