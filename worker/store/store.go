// Package store owns wnm's state database, a SQLite file (zombiezen.com/go/sqlite,
// pure Go) that keeps wnm-python's colony.db layout so either program can
// open the other's file.
//
// It owns the schema and its migrations (embedded schema/*.sql, version in
// PRAGMA user_version), the typed rows ([Machine], [Node], [Cycle]), small
// state blobs, and the bounded cycle history. All SQL in wnm lives here: no
// statement, *sqlite.Stmt or *sqlite.Conn leaves the package, and callers see
// typed values and wrapped errors only. The package must not decide anything
// about nodes, read the clock (times come in on the rows) or touch anything
// but its database file and that file's journal, WAL and temporary siblings.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// busyTimeout is how long a statement waits for another process's lock.
const busyTimeout = 5 * time.Second

// Retention bounds the cycle history. After each [Writer.RecordCycle] the
// oldest rows are deleted until every limit holds; the row just recorded is
// always kept. Zero fields take the defaults of [DefaultRetention].
type Retention struct {
	// MaxAge drops rows that started more than MaxAge before the cycle just
	// recorded (its StartedAt is the reference, so no clock is read).
	MaxAge time.Duration
	// MaxRows caps the number of rows.
	MaxRows int
	// MaxBytes caps the estimated row data: the bytes of plan, results,
	// changes and error (in characters, which for ASCII JSON are bytes) plus
	// [CycleRowOverhead] per row.
	MaxBytes int64
}

// CycleRowOverhead is the fixed per-row estimate, in bytes, that the size limit
// adds to a cycle's text columns for its numeric columns and record header.
const CycleRowOverhead = 160

// DefaultRetention keeps 7 days, at most 20,000 rows and at most 64 MiB.
func DefaultRetention() Retention {
	return Retention{MaxAge: 7 * 24 * time.Hour, MaxRows: 20000, MaxBytes: 64 << 20}
}

// Option configures [Open] and [Create].
type Option func(*options)

type options struct {
	log        *slog.Logger
	retention  Retention
	migrations func() ([]migration, error)
	hook       func(stage string) error // test seam for Create
	nodes      []Node                   // rows Create writes with the machine
}

// WithNodes makes [Create] write these node rows together with the machine row, so the new file
// appears with both or not at all (a takeover of nodes that already exist).
func WithNodes(nodes ...Node) Option {
	return func(o *options) { o.nodes = append(o.nodes, nodes...) }
}

// WithLogger sets the logger for the rare events worth logging (schema
// migrations). The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithRetention sets the cycle-history limits; zero fields keep their
// defaults.
func WithRetention(r Retention) Option {
	return func(o *options) {
		d := DefaultRetention()
		if r.MaxAge <= 0 {
			r.MaxAge = d.MaxAge
		}
		if r.MaxRows <= 0 {
			r.MaxRows = d.MaxRows
		}
		if r.MaxBytes <= 0 {
			r.MaxBytes = d.MaxBytes
		}
		o.retention = r
	}
}

func newOptions(opts []Option) options {
	o := options{
		log:        slog.New(slog.DiscardHandler),
		retention:  DefaultRetention(),
		migrations: builtinMigrations,
		hook:       func(string) error { return nil },
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Store is an open state database. Its methods are safe for concurrent use;
// they share one connection and run one at a time. Other processes may open
// the same file: writers queue on SQLite's lock for up to 5 seconds.
type Store struct {
	path      string
	retention Retention
	readOnly  bool
	q         queries

	mu   sync.Mutex
	conn *sqlite.Conn // nil once closed
}

// queries are the statements that read rows. A read-only store builds its own
// from the file's actual columns; a migrated one uses the package's.
type queries struct {
	machine, nodes, node string
	cycles, state        bool // whether the cycle and wnm_state tables exist
}

// fullQueries are the queries of a migrated store.
func fullQueries() queries {
	t := sqlText()
	return queries{machine: t.selectMachine, nodes: t.selectNodes, node: t.selectNode, cycles: true, state: true}
}

// Open opens the existing database at path and applies pending migrations in
// one transaction. A database that is already up to date is only read. A
// wnm-python colony.db at any of its revisions is adopted in place (see
// [AdoptionError] for a failure). A missing file is an error wrapping
// [fs.ErrNotExist]; Open never creates one (see [Create]).
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return open(ctx, path, newOptions(opts))
}

func open(ctx context.Context, path string, o options) (_ *Store, err error) {
	migs, err := o.migrations()
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			conn.Close()
		}
	}()
	conn.SetInterrupt(ctx.Done())
	if err := configure(conn); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := migrate(conn, migs, o.log.With("path", path), path, o.hook); err != nil {
		var ae *AdoptionError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// WAL only once the file is wnm's: switching an adopted file is its
	// first change after the migration, never before the backup.
	if err := journalMode(conn, "wal"); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	conn.SetInterrupt(nil)
	return &Store{path: path, retention: o.retention, conn: conn, q: fullQueries()}, nil
}

// ErrReadOnly is returned by the writing methods of a store opened with
// [OpenReadOnly].
var ErrReadOnly = errors.New("store is open read-only")

// OpenReadOnly opens the existing database at path for reading only: nothing
// is migrated, the journal mode stays as it is and no byte of the file
// changes. A wnm-python database at any revision, or one from an older wnm,
// is read through the same mapping adoption would apply: a column the file
// lacks reads as the default it would get. Write and the methods built on it
// fail with [ErrReadOnly]. A missing file is an error wrapping
// [fs.ErrNotExist]. No side file is created either (see openReadOnly).
func OpenReadOnly(ctx context.Context, path string) (_ *Store, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	conn, err := openReadOnly(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s read-only: %w", path, err)
	}
	defer func() {
		if err != nil {
			conn.Close()
		}
	}()
	conn.SetInterrupt(ctx.Done())
	defer conn.SetInterrupt(nil)
	conn.SetBusyTimeout(busyTimeout)
	si, err := inspect(conn)
	if err != nil {
		return nil, fmt.Errorf("open store %s read-only: %w", path, err)
	}
	q := queries{cycles: si.tables["cycle"], state: si.tables["wnm_state"]}
	if si.tables["machine"] {
		if si.upstream() {
			if err := si.checkAdoptable(); err != nil {
				return nil, fmt.Errorf("read wnm-python database %s (alembic revision %s): %w", path, si.revision, err)
			}
		}
		mcols, err := si.selectList("machine", sqlText().machineColumns)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		q.machine = "SELECT " + mcols + " FROM machine ORDER BY id LIMIT 1;"
	}
	if si.tables["node"] {
		ncols, err := si.selectList("node", sqlText().nodeColumns)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		q.nodes = "SELECT " + ncols + " FROM node ORDER BY id;"
		q.node = "SELECT " + ncols + " FROM node WHERE id = ?1;"
	}
	return &Store{path: path, retention: DefaultRetention(), readOnly: true, conn: conn, q: q}, nil
}

// ReadOnly reports whether the store was opened with [OpenReadOnly].
func (s *Store) ReadOnly() bool { return s.readOnly }

// configure sets the connection's pragmas other than the journal mode.
func configure(conn *sqlite.Conn) error {
	conn.SetBusyTimeout(busyTimeout)
	if err := sqlitex.ExecuteTransient(conn, "PRAGMA foreign_keys = ON;", nil); err != nil {
		return fmt.Errorf("enable foreign keys: %w", err)
	}
	// Statement journals in memory: by default each statement that changes
	// an indexed row in a transaction gets a 64 KiB spill buffer, which the
	// pure-Go allocator maps and unmaps every time; that made updating
	// 1,000 nodes take a second instead of milliseconds.
	if err := sqlitex.ExecuteTransient(conn, "PRAGMA temp_store = MEMORY;", nil); err != nil {
		return fmt.Errorf("keep temporary data in memory: %w", err)
	}
	return nil
}

// journalMode sets the journal mode. Setting the mode a database already has
// writes nothing.
func journalMode(conn *sqlite.Conn, mode string) error {
	var got string
	err := sqlitex.ExecuteTransient(conn, "PRAGMA journal_mode = "+mode+";", &sqlitex.ExecOptions{
		ResultFunc: func(s *sqlite.Stmt) error { got = s.ColumnText(0); return nil },
	})
	if err != nil {
		return fmt.Errorf("set journal mode %s: %w", mode, err)
	}
	if got != mode {
		return fmt.Errorf("set journal mode %s: database stays in %q", mode, got)
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. Closing twice is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	if err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// errClosed is returned by every method after Close.
var errClosed = errors.New("store is closed")

// do runs fn with the connection, holding the lock and honouring ctx.
func (s *Store) do(ctx context.Context, fn func(*sqlite.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return fmt.Errorf("store %s: %w", s.path, errClosed)
	}
	s.conn.SetInterrupt(ctx.Done())
	defer s.conn.SetInterrupt(nil)
	return fn(s.conn)
}

// Machine returns the machine row, or an error wrapping [ErrNoMachine].
func (s *Store) Machine(ctx context.Context) (Machine, error) {
	var m Machine
	err := s.do(ctx, func(conn *sqlite.Conn) (err error) {
		if s.q.machine == "" {
			return fmt.Errorf("load machine: %w", ErrNoMachine)
		}
		m, err = loadMachine(conn, s.q.machine)
		return err
	})
	return m, err
}

// Nodes returns every node row ordered by id.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	var nodes []Node
	err := s.do(ctx, func(conn *sqlite.Conn) error {
		if s.q.nodes == "" {
			return nil
		}
		return query(conn, s.q.nodes, nil, func(st *sqlite.Stmt) {
			var n Node
			nodeFields(&n, &scanner{s: st})
			nodes = append(nodes, n)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load nodes: %w", err)
	}
	return nodes, nil
}

// Node returns the node with the given id, or an error wrapping [ErrNoNode].
func (s *Store) Node(ctx context.Context, id int) (Node, error) {
	var n Node
	err := s.do(ctx, func(conn *sqlite.Conn) (err error) {
		if s.q.node == "" {
			return fmt.Errorf("load node %d: %w", id, ErrNoNode)
		}
		n, err = loadNode(conn, s.q.node, id)
		return err
	})
	return n, err
}

// Cycles returns up to limit cycle rows, newest first; limit <= 0 means all.
func (s *Store) Cycles(ctx context.Context, limit int) ([]Cycle, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var cycles []Cycle
	err := s.do(ctx, func(conn *sqlite.Conn) error {
		if !s.q.cycles {
			return nil
		}
		return query(conn, sqlText().selectCycles, func(st *sqlite.Stmt) { st.BindInt64(1, int64(limit)) }, func(st *sqlite.Stmt) {
			c := Cycle{ID: st.ColumnInt64(0)}
			cycleFields(&c, &scanner{s: st, i: 1})
			cycles = append(cycles, c)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load cycles: %w", err)
	}
	return cycles, nil
}

// State returns the blob stored under key and whether there is one.
func (s *Store) State(ctx context.Context, key string) ([]byte, bool, error) {
	var (
		value []byte
		found bool
	)
	err := s.do(ctx, func(conn *sqlite.Conn) error {
		if !s.q.state {
			return nil
		}
		return query(conn, sqlSelectState, func(st *sqlite.Stmt) { st.BindText(1, key) }, func(st *sqlite.Stmt) {
			value = make([]byte, st.ColumnLen(0))
			st.ColumnBytes(0, value)
			found = true
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("load state %q: %w", key, err)
	}
	return value, found, nil
}

// Stats describes the database's size.
type Stats struct {
	FileBytes  int64 // main database file
	WALBytes   int64 // write-ahead log (0 when absent)
	Cycles     int   // rows in the cycle history
	CycleBytes int64 // their size as estimated for Retention.MaxBytes
}

// Stats reports the database's file sizes and cycle-history size.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.do(ctx, func(conn *sqlite.Conn) error {
		if !s.q.cycles {
			return nil
		}
		n, bytes, err := cycleTotals(conn)
		st.Cycles, st.CycleBytes = int(n), bytes
		return err
	})
	if err != nil {
		return Stats{}, fmt.Errorf("store stats: %w", err)
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return Stats{}, fmt.Errorf("store stats: %w", err)
	}
	st.FileBytes = fi.Size()
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		st.WALBytes = fi.Size()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Stats{}, fmt.Errorf("store stats: %w", err)
	}
	return st, nil
}

// Write runs fn inside one IMMEDIATE transaction: everything fn writes is
// committed together, or nothing is if fn returns an error or panics (the
// panic continues after the rollback). fn's own error is returned as is. The
// Writer must not be used after fn returns.
func (s *Store) Write(ctx context.Context, fn func(w *Writer) error) error {
	if s.readOnly {
		return fmt.Errorf("store %s: %w", s.path, ErrReadOnly)
	}
	return s.do(ctx, func(conn *sqlite.Conn) error {
		end, err := sqlitex.ImmediateTransaction(conn)
		if err != nil {
			return fmt.Errorf("store %s: begin write: %w", s.path, err)
		}
		w := &Writer{conn: conn, retention: s.retention}
		fnFailed := false
		err = func() (err error) {
			defer end(&err) // commits, or rolls back on error or panic
			defer func() { w.conn = nil }()
			err = fn(w)
			fnFailed = err != nil
			return err
		}()
		if err != nil && !fnFailed {
			return fmt.Errorf("store %s: commit: %w", s.path, err)
		}
		return err
	})
}

// RecordCycle records c in its own transaction; see [Writer.RecordCycle].
func (s *Store) RecordCycle(ctx context.Context, c Cycle) (id int64, err error) {
	err = s.Write(ctx, func(w *Writer) (err error) {
		id, err = w.RecordCycle(c)
		return err
	})
	return id, err
}

// SetState stores a blob in its own transaction; see [Writer.SetState].
func (s *Store) SetState(ctx context.Context, key string, value []byte) error {
	return s.Write(ctx, func(w *Writer) error { return w.SetState(key, value) })
}

// query runs a cached statement, calling bind before stepping (when not nil)
// and row for each result row.
func query(conn *sqlite.Conn, sql string, bind, row func(*sqlite.Stmt)) (err error) {
	st, err := conn.Prepare(sql)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := st.Reset(); err == nil {
			err = rerr
		}
	}()
	if bind != nil {
		bind(st)
	}
	for {
		ok, err := st.Step()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if row != nil {
			row(st)
		}
	}
}

func loadMachine(conn *sqlite.Conn, sql string) (Machine, error) {
	var (
		m     Machine
		found bool
	)
	err := query(conn, sql, nil, func(st *sqlite.Stmt) {
		machineFields(&m, &scanner{s: st})
		found = true
	})
	if err != nil {
		return Machine{}, fmt.Errorf("load machine: %w", err)
	}
	if !found {
		return Machine{}, fmt.Errorf("load machine: %w", ErrNoMachine)
	}
	return m, nil
}

func loadNode(conn *sqlite.Conn, sql string, id int) (Node, error) {
	var (
		n     Node
		found bool
	)
	err := query(conn, sql, func(st *sqlite.Stmt) { st.BindInt64(1, int64(id)) }, func(st *sqlite.Stmt) {
		nodeFields(&n, &scanner{s: st})
		found = true
	})
	if err != nil {
		return Node{}, fmt.Errorf("load node %d: %w", id, err)
	}
	if !found {
		return Node{}, fmt.Errorf("load node %d: %w", id, ErrNoNode)
	}
	return n, nil
}
