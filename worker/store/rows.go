package store

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"zombiezen.com/go/sqlite"
)

// Each table's columns are listed once, in a fields function that visits
// every column in schema order with a pointer to the Go field that holds it.
// The same walk yields the column list for the SQL text, binds a row's values
// to a statement (parameter ?N is the N-th column) and scans a result row
// (result column N-1 is the N-th column), so the three cannot drift apart.

// visitor is called once per column by the fields functions.
type visitor interface {
	Int(col string, p *int)
	Int64(col string, p *int64)
	Float(col string, p *float64)    // NOT NULL REAL/FLOAT
	NaNFloat(col string, p *float64) // nullable REAL: NULL is NaN
	Text(col string, p *string)      // NULL reads as ""
	Bool(col string, p *bool)        // INTEGER 0/1
	NullInt(col string, p **int)     // NULL is nil
	JSON(col string, p *json.RawMessage)
}

func machineFields(m *Machine, v visitor) {
	v.Int("id", &m.ID)
	v.Int("cpu_count", &m.CPUCount)
	v.Int("node_cap", &m.NodeCap)
	v.Int("cpu_less_than", &m.CPULessThan)
	v.Int("mem_less_than", &m.MemLessThan)
	v.Int("hd_less_than", &m.HDLessThan)
	v.Int64("hdio_read_less_than", &m.HDIOReadLessThan)
	v.Int64("hdio_write_less_than", &m.HDIOWriteLessThan)
	v.Int64("netio_read_less_than", &m.NetIOReadLessThan)
	v.Int64("netio_write_less_than", &m.NetIOWriteLessThan)
	v.Int("cpu_remove", &m.CPURemove)
	v.Int("mem_remove", &m.MemRemove)
	v.Int("hd_remove", &m.HDRemove)
	v.Int64("hdio_read_remove", &m.HDIOReadRemove)
	v.Int64("hdio_write_remove", &m.HDIOWriteRemove)
	v.Int64("netio_read_remove", &m.NetIOReadRemove)
	v.Int64("netio_write_remove", &m.NetIOWriteRemove)
	v.Float("max_load_average_allowed", &m.MaxLoadAverageAllowed)
	v.Float("desired_load_average", &m.DesiredLoadAverage)
	v.Int("delay_start", &m.DelayStart)
	v.Int("delay_restart", &m.DelayRestart)
	v.Int("delay_upgrade", &m.DelayUpgrade)
	v.Int("delay_remove", &m.DelayRemove)
	v.Int("survey_delay", &m.SurveyDelay)
	v.Int("action_delay", &m.ActionDelay)
	v.Text("node_storage", &m.NodeStorage)
	v.Text("rewards_address", &m.RewardsAddress)
	v.Text("donate_address", &m.DonateAddress)
	v.Int("port_start", &m.PortStart)
	v.Int("metrics_port_start", &m.MetricsPortStart)
	v.Int("rpc_port_start", &m.RPCPortStart)
	v.NullInt("highest_node_id_used", &m.HighestNodeIDUsed)
	v.Int64("last_stopped_at", &m.LastStoppedAt)
	v.Text("host", &m.Host)
	v.Int64("crisis_bytes", &m.CrisisBytes)
	v.Text("environment", &m.Environment)
	v.Text("start_args", &m.StartArgs)
	v.Int("max_concurrent_upgrades", &m.MaxConcurrentUpgrades)
	v.Int("max_concurrent_starts", &m.MaxConcurrentStarts)
	v.Int("max_concurrent_removals", &m.MaxConcurrentRemovals)
	v.Int("max_concurrent_operations", &m.MaxConcurrentOperations)
	v.Text("node_removal_strategy", &m.NodeRemovalStrategy)
	v.Text("process_manager", &m.ProcessManager)
	v.Int("max_node_per_container", &m.MaxNodePerContainer)
	v.Int("min_container_count", &m.MinContainerCount)
	v.Text("docker_image", &m.DockerImage)
	v.Bool("no_upnp", &m.NoUPnP)
	v.Text("antnode_path", &m.AntnodePath)
	v.Text("antctl_path", &m.AntctlPath)
	v.Bool("antctl_debug", &m.AntctlDebug)
	v.Text("antctl_version", &m.AntctlVersion)
	v.Int64("wnm_boot_time", &m.WNMBootTime)
	v.Int("survey_timeout_ms", &m.SurveyTimeoutMS)
	v.Int("survey_concurrency", &m.SurveyConcurrency)
}

func nodeFields(n *Node, v visitor) {
	v.Int("id", &n.ID)
	v.Int("machine_id", &n.MachineID)
	v.NullInt("container_id", &n.ContainerID)
	v.Text("manager_type", &n.ManagerType)
	v.Text("node_name", &n.NodeName)
	v.Text("service", &n.Service)
	v.Text("user", &n.User)
	v.Text("binary", &n.Binary)
	v.Text("version", &n.Version)
	v.Text("root_dir", &n.RootDir)
	v.Text("log_dir", &n.LogDir)
	v.Int("port", &n.Port)
	v.Int("metrics_port", &n.MetricsPort)
	v.Int("rpc_port", &n.RPCPort)
	v.Text("network", &n.Network)
	v.Text("wallet", &n.Wallet)
	v.Text("peer_id", &n.PeerID)
	v.Text("status", (*string)(&n.Status))
	v.Int64("timestamp", &n.Timestamp)
	v.Int64("records", &n.Records)
	v.Int64("uptime", &n.Uptime)
	v.Int64("shunned", &n.Shunned)
	v.Int64("connected_peers", &n.ConnectedPeers)
	v.Int64("gets", &n.Gets)
	v.Int64("puts", &n.Puts)
	v.Int64("mem", &n.Mem)
	v.Int64("cpu", &n.CPU)
	v.Int64("open_connections", &n.OpenConnections)
	v.Int64("total_peers", &n.TotalPeers)
	v.Int64("bad_peers", &n.BadPeers)
	v.Int64("rel_records", &n.RelRecords)
	v.Int64("max_records", &n.MaxRecords)
	v.Text("rewards", &n.Rewards)
	v.Int64("payment_count", &n.PaymentCount)
	v.Int64("live_time", &n.LiveTime)
	v.Int64("network_size", &n.NetworkSize)
	v.Int64("age", &n.Age)
	v.Text("host", &n.Host)
	v.Text("method", &n.Method)
	v.Text("layout", &n.Layout)
	v.Text("environment", &n.Environment)
	v.Text("wnm_intent", &n.WNMIntent)
	v.Int64("wnm_intent_at", &n.WNMIntentAt)
	v.NullInt("wnm_no_upnp", &n.NoUPnP)
}

// cycleFields visits every cycle column except id, which SQLite assigns.
func cycleFields(c *Cycle, v visitor) {
	v.Int64("started_at", &c.StartedAt)
	v.Int64("duration_ms", &c.DurationMS)
	v.NaNFloat("cpu_percent", &c.CPUPercent)
	v.NaNFloat("mem_percent", &c.MemPercent)
	v.NaNFloat("disk_percent", &c.DiskPercent)
	v.NaNFloat("load1", &c.Load1)
	v.NaNFloat("load5", &c.Load5)
	v.NaNFloat("load15", &c.Load15)
	v.NaNFloat("disk_read_bps", &c.DiskReadBps)
	v.NaNFloat("disk_write_bps", &c.DiskWriteBps)
	v.NaNFloat("net_recv_bps", &c.NetRecvBps)
	v.NaNFloat("net_send_bps", &c.NetSendBps)
	v.Int("node_count", &c.NodeCount)
	v.JSON("plan", &c.Plan)
	v.JSON("results", &c.Results)
	v.JSON("changes", &c.Changes)
	v.Bool("dry_run", &c.DryRun)
	v.Text("error", &c.Error)
}

// pointers collects a pointer to each visited field, by column.
type pointers map[string]any

func (p pointers) Int(col string, v *int)              { p[col] = v }
func (p pointers) Int64(col string, v *int64)          { p[col] = v }
func (p pointers) Float(col string, v *float64)        { p[col] = v }
func (p pointers) NaNFloat(col string, v *float64)     { p[col] = v }
func (p pointers) Text(col string, v *string)          { p[col] = v }
func (p pointers) Bool(col string, v *bool)            { p[col] = v }
func (p pointers) NullInt(col string, v **int)         { p[col] = v }
func (p pointers) JSON(col string, v *json.RawMessage) { p[col] = v }

// Columns returns, for each column of the machine table, a pointer to the field of m that holds
// it: *int, *int64, *float64, *string, *bool, or **int for a nullable integer (nil is NULL). The
// settings table maps settings to columns through it.
func (m *Machine) Columns() map[string]any {
	p := pointers{}
	machineFields(m, p)
	return p
}

// columns collects column names.
type columns []string

func (c *columns) add(col string)                      { *c = append(*c, col) }
func (c *columns) Int(col string, _ *int)              { c.add(col) }
func (c *columns) Int64(col string, _ *int64)          { c.add(col) }
func (c *columns) Float(col string, _ *float64)        { c.add(col) }
func (c *columns) NaNFloat(col string, _ *float64)     { c.add(col) }
func (c *columns) Text(col string, _ *string)          { c.add(col) }
func (c *columns) Bool(col string, _ *bool)            { c.add(col) }
func (c *columns) NullInt(col string, _ **int)         { c.add(col) }
func (c *columns) JSON(col string, _ *json.RawMessage) { c.add(col) }

// binder binds the visited fields to parameters ?1, ?2, … in order.
type binder struct {
	s *sqlite.Stmt
	i int
}

func (b *binder) next() int { b.i++; return b.i }

func (b *binder) Int(_ string, p *int)       { b.s.BindInt64(b.next(), int64(*p)) }
func (b *binder) Int64(_ string, p *int64)   { b.s.BindInt64(b.next(), *p) }
func (b *binder) Float(_ string, p *float64) { b.s.BindFloat(b.next(), *p) }
func (b *binder) Text(_ string, p *string)   { b.s.BindText(b.next(), *p) }
func (b *binder) Bool(_ string, p *bool)     { b.s.BindBool(b.next(), *p) }

func (b *binder) NaNFloat(_ string, p *float64) {
	// SQLite binds NaN as NULL anyway; say so explicitly.
	if math.IsNaN(*p) {
		b.s.BindNull(b.next())
		return
	}
	b.s.BindFloat(b.next(), *p)
}

func (b *binder) NullInt(_ string, p **int) {
	if *p == nil {
		b.s.BindNull(b.next())
		return
	}
	b.s.BindInt64(b.next(), int64(**p))
}

func (b *binder) JSON(_ string, p *json.RawMessage) { b.s.BindText(b.next(), string(*p)) }

// scanner reads result columns first, first+1, … into the visited fields.
type scanner struct {
	s *sqlite.Stmt
	i int
}

func (r *scanner) next() int { i := r.i; r.i++; return i }

func (r *scanner) Int(_ string, p *int)       { *p = int(r.s.ColumnInt64(r.next())) }
func (r *scanner) Int64(_ string, p *int64)   { *p = r.s.ColumnInt64(r.next()) }
func (r *scanner) Float(_ string, p *float64) { *p = r.s.ColumnFloat(r.next()) }
func (r *scanner) Text(_ string, p *string)   { *p = r.s.ColumnText(r.next()) }
func (r *scanner) Bool(_ string, p *bool)     { *p = r.s.ColumnInt64(r.next()) != 0 }

func (r *scanner) NaNFloat(_ string, p *float64) {
	i := r.next()
	if r.s.ColumnType(i) == sqlite.TypeNull {
		*p = math.NaN()
		return
	}
	*p = r.s.ColumnFloat(i)
}

func (r *scanner) NullInt(_ string, p **int) {
	i := r.next()
	if r.s.ColumnType(i) == sqlite.TypeNull {
		*p = nil
		return
	}
	v := int(r.s.ColumnInt64(i))
	*p = &v
}

func (r *scanner) JSON(_ string, p *json.RawMessage) {
	i := r.next()
	if r.s.ColumnLen(i) == 0 {
		*p = nil
		return
	}
	*p = json.RawMessage(r.s.ColumnText(i))
}

// sqlTexts are the column lists and the statements built from them.
type sqlTexts struct {
	machineColumns, nodeColumns, cycleColumns []string

	selectMachine, insertMachine, updateMachine string
	selectNodes, selectNode, insertNode         string
	// A node update is two statements so the frequent one, run for every
	// node each cycle, neither sets a foreign-key column nor can abort
	// half-way (OR ROLLBACK; no constraint on those columns can fail from Go
	// values anyway). Then SQLite keeps no statement journal for it, which
	// halves the time of updating 1,000 nodes. The key columns are written
	// only when they differ (sqlUpdateNodeKeys), so the foreign-key check
	// runs only then.
	updateNode string

	insertCycle, selectCycles string
}

// sqlText builds the statements on first use rather than at package initialisation, so that a
// command that opens no database (help, version, the command-line parse) does not pay for them.
var sqlText = sync.OnceValue(func() *sqlTexts {
	var t sqlTexts
	var mc, nc, cc columns
	machineFields(new(Machine), &mc)
	nodeFields(new(Node), &nc)
	cycleFields(new(Cycle), &cc)
	t.machineColumns, t.nodeColumns, t.cycleColumns = mc, nc, cc

	t.selectMachine = "SELECT " + strings.Join(t.machineColumns, ", ") + " FROM machine ORDER BY id LIMIT 1;"
	t.insertMachine = insertSQL("machine", t.machineColumns)
	t.updateMachine = updateSQL("machine", t.machineColumns)

	t.selectNodes = "SELECT " + strings.Join(t.nodeColumns, ", ") + " FROM node ORDER BY id;"
	t.selectNode = "SELECT " + strings.Join(t.nodeColumns, ", ") + " FROM node WHERE id = ?1;"
	t.insertNode = insertSQL("node", t.nodeColumns)
	t.updateNode = strings.Replace(updateSQL("node", t.nodeColumns, "machine_id", "container_id"), "UPDATE", "UPDATE OR ROLLBACK", 1)

	t.insertCycle = insertSQL("cycle", t.cycleColumns)
	t.selectCycles = "SELECT id, " + strings.Join(t.cycleColumns, ", ") + " FROM cycle ORDER BY id DESC LIMIT ?1;"
	return &t
})

// Statements that need no column list.
const (
	sqlUpdateNodeKeys = "UPDATE node SET machine_id = ?2, container_id = ?3 WHERE id = ?1 AND (machine_id IS NOT ?2 OR container_id IS NOT ?3);"
	sqlDeleteNode     = "DELETE FROM node WHERE id = ?1;"

	sqlSelectState = "SELECT value FROM wnm_state WHERE key = ?1;"
	sqlUpsertState = "INSERT INTO wnm_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value;"
)

// insertSQL is "INSERT INTO t (a, b) VALUES (?1, ?2);".
func insertSQL(table string, cols []string) string {
	params := make([]string, len(cols))
	for i := range cols {
		params[i] = fmt.Sprintf("?%d", i+1)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s);", table, strings.Join(cols, ", "), strings.Join(params, ", "))
}

// updateSQL is "UPDATE t SET b = …?2…, c = …?3… WHERE id = ?1;" without the
// columns in skip (their parameters stay numbered, just unused); cols[0] must
// be id.
//
// A column that holds NULL keeps it when the new value is the zero value
// (0 or ”): Go reads such a NULL as the zero value, and writing the row back
// must not turn a wnm-python NULL (node.log_dir, machine.antctl_version, …)
// into ” or 0, which upstream reads differently.
func updateSQL(table string, cols []string, skip ...string) string {
	if cols[0] != "id" {
		panic("store: first column of " + table + " is not id")
	}
	sets := make([]string, 0, len(cols)-1)
	for i, c := range cols[1:] {
		if !slices.Contains(skip, c) {
			sets = append(sets, fmt.Sprintf("%[1]s = CASE WHEN %[1]s IS NULL AND ?%[2]d IN (0, '') THEN NULL ELSE ?%[2]d END", c, i+2))
		}
	}
	return fmt.Sprintf("UPDATE %s SET %s WHERE id = ?1;", table, strings.Join(sets, ", "))
}
