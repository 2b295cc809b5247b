package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"zombiezen.com/go/sqlite"
)

// Writer reads and writes inside the single transaction of a [Store.Write]
// call. It is only valid until that call's fn returns.
type Writer struct {
	conn      *sqlite.Conn // nil once the transaction has ended
	retention Retention
}

var errWriterDone = errors.New("the writer's transaction has ended")

func (w *Writer) live() error {
	if w.conn == nil {
		return errWriterDone
	}
	return nil
}

// Machine returns the machine row as this transaction sees it.
func (w *Writer) Machine() (Machine, error) {
	if err := w.live(); err != nil {
		return Machine{}, fmt.Errorf("load machine: %w", err)
	}
	return loadMachine(w.conn, sqlText().selectMachine)
}

// Node returns a node row as this transaction sees it, or an error wrapping
// [ErrNoNode].
func (w *Writer) Node(id int) (Node, error) {
	if err := w.live(); err != nil {
		return Node{}, fmt.Errorf("load node %d: %w", id, err)
	}
	return loadNode(w.conn, sqlText().selectNode, id)
}

// UpdateMachine overwrites every column of the machine row with m (ID 0 means
// 1). It fails with [ErrNoMachine] when that row does not exist.
func (w *Writer) UpdateMachine(m Machine) error {
	if m.ID == 0 {
		m.ID = 1
	}
	if err := w.live(); err != nil {
		return fmt.Errorf("update machine %d: %w", m.ID, err)
	}
	n, err := execStmt(w.conn, sqlText().updateMachine, func(st *sqlite.Stmt) { machineFields(&m, &binder{s: st}) })
	if err != nil {
		return fmt.Errorf("update machine %d: %w", m.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update machine %d: %w", m.ID, ErrNoMachine)
	}
	return nil
}

// InsertNode adds a node row. The caller chooses n.ID (wnm's ids are also
// port offsets), which must be positive and unused; n.Status must be one of
// the Status constants. A zero MachineID is written as 1.
func (w *Writer) InsertNode(n Node) error {
	if err := checkNode(n); err != nil {
		return fmt.Errorf("insert node %d: %w", n.ID, err)
	}
	if err := w.live(); err != nil {
		return fmt.Errorf("insert node %d: %w", n.ID, err)
	}
	if n.MachineID == 0 {
		n.MachineID = 1
	}
	if _, err := execStmt(w.conn, sqlText().insertNode, func(st *sqlite.Stmt) { nodeFields(&n, &binder{s: st}) }); err != nil {
		return fmt.Errorf("insert node %d: %w", n.ID, err)
	}
	return nil
}

// UpdateNode overwrites every column of node n.ID with n. It fails with
// [ErrNoNode] when there is no such row.
func (w *Writer) UpdateNode(n Node) error {
	if err := checkNode(n); err != nil {
		return fmt.Errorf("update node %d: %w", n.ID, err)
	}
	if err := w.live(); err != nil {
		return fmt.Errorf("update node %d: %w", n.ID, err)
	}
	if n.MachineID == 0 {
		n.MachineID = 1
	}
	// Keys first: a foreign-key failure there aborts only that statement,
	// so a failed UpdateNode changes nothing. The main statement cannot
	// fail on a constraint; if it did, OR ROLLBACK would end the whole
	// transaction, which fail reports.
	_, err := execStmt(w.conn, sqlUpdateNodeKeys, func(st *sqlite.Stmt) {
		st.BindInt64(1, int64(n.ID))
		st.BindInt64(2, int64(n.MachineID))
		if n.ContainerID == nil {
			st.BindNull(3)
		} else {
			st.BindInt64(3, int64(*n.ContainerID))
		}
	})
	if err != nil {
		return fmt.Errorf("update node %d: %w", n.ID, err)
	}
	changed, err := execStmt(w.conn, sqlText().updateNode, func(st *sqlite.Stmt) { nodeFields(&n, &binder{s: st}) })
	if err != nil {
		return w.fail(fmt.Errorf("update node %d: %w", n.ID, err))
	}
	if changed == 0 {
		return fmt.Errorf("update node %d: %w", n.ID, ErrNoNode)
	}
	return nil
}

// fail notes that an OR ROLLBACK statement ended the whole transaction, so
// the Writer refuses further work instead of running it outside one, and
// returns err.
func (w *Writer) fail(err error) error {
	if w.conn.AutocommitEnabled() {
		w.conn = nil
		return fmt.Errorf("%w (transaction rolled back)", err)
	}
	return err
}

// DeleteNode deletes node id. It fails with [ErrNoNode] when there is no such
// row.
func (w *Writer) DeleteNode(id int) error {
	if err := w.live(); err != nil {
		return fmt.Errorf("delete node %d: %w", id, err)
	}
	changed, err := execStmt(w.conn, sqlDeleteNode, func(st *sqlite.Stmt) { st.BindInt64(1, int64(id)) })
	if err != nil {
		return fmt.Errorf("delete node %d: %w", id, err)
	}
	if changed == 0 {
		return fmt.Errorf("delete node %d: %w", id, ErrNoNode)
	}
	return nil
}

// SetState stores value under key, replacing what was there. A nil value is
// stored as an empty blob.
func (w *Writer) SetState(key string, value []byte) error {
	if err := w.live(); err != nil {
		return fmt.Errorf("set state %q: %w", key, err)
	}
	_, err := execStmt(w.conn, sqlUpsertState, func(st *sqlite.Stmt) {
		st.BindText(1, key)
		st.BindBytes(2, value)
	})
	if err != nil {
		return fmt.Errorf("set state %q: %w", key, err)
	}
	return nil
}

// RecordCycle appends c to the cycle history (c.ID is ignored) and returns
// the new row's id. It then prunes the history to the store's [Retention],
// oldest rows first, never deleting the row just added.
func (w *Writer) RecordCycle(c Cycle) (int64, error) {
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{"plan", c.Plan}, {"results", c.Results}, {"changes", c.Changes}} {
		if len(f.v) > 0 && !json.Valid(f.v) {
			return 0, fmt.Errorf("record cycle: %s is not valid JSON: %.40q", f.name, f.v)
		}
	}
	if err := w.live(); err != nil {
		return 0, fmt.Errorf("record cycle: %w", err)
	}
	if _, err := execStmt(w.conn, sqlText().insertCycle, func(st *sqlite.Stmt) { cycleFields(&c, &binder{s: st}) }); err != nil {
		return 0, fmt.Errorf("record cycle: %w", err)
	}
	id := w.conn.LastInsertRowID()
	if err := pruneCycles(w.conn, id, c.StartedAt, w.retention); err != nil {
		return 0, fmt.Errorf("record cycle %d: %w", id, err)
	}
	return id, nil
}

// checkNode rejects rows the schema would accept but wnm never means to write.
func checkNode(n Node) error {
	if n.ID <= 0 {
		return errors.New("node id must be positive")
	}
	if !n.Status.Valid() {
		return fmt.Errorf("unknown status %q", n.Status)
	}
	return nil
}

// execStmt runs a cached statement that returns no rows and reports how many
// rows it changed.
func execStmt(conn *sqlite.Conn, sql string, bind func(*sqlite.Stmt)) (int, error) {
	if err := query(conn, sql, bind, nil); err != nil {
		return 0, err
	}
	return conn.Changes(), nil
}

// insertMachine adds the machine row (used by Create).
func insertMachine(conn *sqlite.Conn, m Machine) error {
	if _, err := execStmt(conn, sqlText().insertMachine, func(st *sqlite.Stmt) { machineFields(&m, &binder{s: st}) }); err != nil {
		return fmt.Errorf("insert machine %d: %w", m.ID, err)
	}
	return nil
}
