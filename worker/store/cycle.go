package store

import (
	"fmt"

	"zombiezen.com/go/sqlite"
)

// cycleTextBytes is a cycle row's text size as the size limit counts it. It
// must match the expression of index cycle_bytes (schema/0002_wnm.sql)
// exactly, so the planner answers from that index: SQLite computes the value
// once per insert, and pruning never reads the JSON itself. length() counts
// characters, which equals bytes for ASCII JSON; an estimate is all the limit
// needs.
const cycleTextBytes = "length(plan) + length(results) + length(changes) + length(error)"

const (
	sqlCycleTotals = "SELECT count(*), coalesce(sum(" + cycleTextBytes + "), 0) FROM cycle;"
	sqlCycleSizes  = "SELECT id, " + cycleTextBytes + " FROM cycle ORDER BY id;"

	sqlPruneCycleAge = "DELETE FROM cycle WHERE started_at < ?1 AND id <> ?2;"
	sqlPruneCycleIDs = "DELETE FROM cycle WHERE id <= ?1 AND id <> ?2;"
)

// pruneCycles applies r after row keep, started at startedAt (unix ms), was
// inserted. keep is never deleted. "Oldest" means lowest id: ids only grow
// (the newest row always survives, so SQLite never reuses an id), which keeps
// the order right when the wall clock jumps back.
//
// Cost: an indexed delete by age, one pass over the small cycle_bytes index
// for the totals, and, only when a limit is exceeded, a walk from the oldest
// id that stops as soon as the limits hold again.
func pruneCycles(conn *sqlite.Conn, keep, startedAt int64, r Retention) error {
	cutoff := startedAt - r.MaxAge.Milliseconds()
	if _, err := execStmt(conn, sqlPruneCycleAge, func(st *sqlite.Stmt) {
		st.BindInt64(1, cutoff)
		st.BindInt64(2, keep)
	}); err != nil {
		return fmt.Errorf("prune cycles older than %d: %w", cutoff, err)
	}

	count, bytes, err := cycleTotals(conn)
	if err != nil {
		return err
	}
	over := func() bool { return count > int64(r.MaxRows) || bytes > r.MaxBytes }
	if !over() {
		return nil
	}
	last, err := oldestToDrop(conn, keep, func(size int64) bool {
		if !over() {
			return false
		}
		count--
		bytes -= size + CycleRowOverhead
		return true
	})
	if err != nil {
		return err
	}
	if _, err := execStmt(conn, sqlPruneCycleIDs, func(st *sqlite.Stmt) {
		st.BindInt64(1, last)
		st.BindInt64(2, keep)
	}); err != nil {
		return fmt.Errorf("prune cycles up to id %d: %w", last, err)
	}
	return nil
}

// cycleTotals returns the number of cycle rows and their estimated size.
func cycleTotals(conn *sqlite.Conn) (count, bytes int64, err error) {
	err = query(conn, sqlCycleTotals, nil, func(st *sqlite.Stmt) {
		count = st.ColumnInt64(0)
		bytes = st.ColumnInt64(1) + count*CycleRowOverhead
	})
	if err != nil {
		return 0, 0, fmt.Errorf("measure cycles: %w", err)
	}
	return count, bytes, nil
}

// oldestToDrop walks the cycle rows from the oldest and returns the id of the
// last one drop accepts; it stops at the first refusal or at row keep.
func oldestToDrop(conn *sqlite.Conn, keep int64, drop func(size int64) bool) (last int64, err error) {
	st, err := conn.Prepare(sqlCycleSizes)
	if err != nil {
		return 0, fmt.Errorf("measure cycles: %w", err)
	}
	defer st.Reset()
	for {
		ok, err := st.Step()
		if err != nil {
			return 0, fmt.Errorf("measure cycles: %w", err)
		}
		if !ok {
			return last, nil
		}
		id := st.ColumnInt64(0)
		if id == keep || !drop(st.ColumnInt64(1)) {
			return last, nil
		}
		last = id
	}
}
