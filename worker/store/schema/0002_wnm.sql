-- 0002: wnm's additions. Upstream ignores them: new columns carry DEFAULTs so
-- wnm-python's INSERTs (which do not name them) still work, and the new tables
-- are unknown to its ORM.

-- Boot time (epoch seconds) recorded at init and after a resurvey; reboot
-- detection compares it with the current boot time instead of relying on
-- last_stopped_at.
ALTER TABLE machine ADD COLUMN wnm_boot_time INTEGER NOT NULL DEFAULT 0;
-- Per-request timeout and parallelism of the node survey.
ALTER TABLE machine ADD COLUMN survey_timeout_ms INTEGER NOT NULL DEFAULT 2000;
ALTER TABLE machine ADD COLUMN survey_concurrency INTEGER NOT NULL DEFAULT 32;

-- An action records what it is about to do before it touches the system, so
-- the next cycle can reconcile a crash in between. '' means no intent.
ALTER TABLE node ADD COLUMN wnm_intent TEXT NOT NULL DEFAULT '';
ALTER TABLE node ADD COLUMN wnm_intent_at INTEGER NOT NULL DEFAULT 0;

-- Small blobs the worker keeps between cycles (host counters, the
-- binary-version cache).
CREATE TABLE wnm_state (
	key TEXT PRIMARY KEY,
	value BLOB NOT NULL
);

-- One row per cycle. Host figures are NULL when they were not measured. plan,
-- results and changes hold JSON written by the caller ('' when absent). The
-- table is pruned after every insert; it never holds per-node metrics.
CREATE TABLE cycle (
	id INTEGER PRIMARY KEY,
	started_at INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL,
	cpu_percent REAL,
	mem_percent REAL,
	disk_percent REAL,
	load1 REAL,
	load5 REAL,
	load15 REAL,
	disk_read_bps REAL,
	disk_write_bps REAL,
	net_recv_bps REAL,
	net_send_bps REAL,
	node_count INTEGER NOT NULL,
	plan TEXT NOT NULL,
	results TEXT NOT NULL,
	changes TEXT NOT NULL,
	dry_run INTEGER NOT NULL,
	error TEXT NOT NULL
);
CREATE INDEX cycle_started_at ON cycle (started_at);
-- Covers the pruning queries (row count, size estimate, oldest ids) so they
-- read this small index instead of every row's JSON. The expression must stay
-- identical to the one in cycle.go for the planner to use it.
CREATE INDEX cycle_bytes ON cycle (id, length(plan) + length(results) + length(changes) + length(error));
