// Package upstreamdb builds wnm-python colony.db files as they look at each
// point of that program's schema history, for tests of wnm's adoption. The
// layouts follow the documented facts: the tables SQLAlchemy creates for the
// ORM at the Alembic baseline, the columns each later revision adds (with the
// column definitions those revisions use), the columns that arrived without a
// migration, and the alembic_version table. Row values are chosen to catch
// conversions: NULL in every nullable column, a rewards balance too large for
// 64 bits stored as text, a weighted rewards spec, paths with an unexpanded ~.
package upstreamdb

import (
	"fmt"
	"slices"
	"strings"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// Revisions are wnm-python's Alembic revisions, oldest first; the last is the head.
var Revisions = []string{
	"eeec2af7114c", "62bd2784638c", "abc5afa09a61", "ade8fcd1fc9a", "7c5a573319da",
	"44f23f078686", "3249fcc20390", "fa0ca0abff5c", "00dd80bcd645", "67fe02809d26",
	"ba757077b6b0", "752bf4495eaa", "e2f4a512d24c",
}

// Head is the newest revision.
const Head = "e2f4a512d24c"

// column is one column as a fresh (create_all) database has it, and when it
// arrived: rev is the revision that added it ("" = in the baseline), and
// addDef is the definition that revision's ALTER TABLE used.
type column struct {
	name, def, rev, addDef string
}

var machineCols = []column{
	{"id", "INTEGER NOT NULL", "", ""},
	{"cpu_count", "INTEGER NOT NULL", "", ""},
	{"node_cap", "INTEGER NOT NULL", "", ""},
	{"cpu_less_than", "INTEGER NOT NULL", "", ""},
	{"mem_less_than", "INTEGER NOT NULL", "", ""},
	{"hd_less_than", "INTEGER NOT NULL", "", ""},
	{"hdio_read_less_than", "INTEGER NOT NULL", "", ""},
	{"hdio_write_less_than", "INTEGER NOT NULL", "", ""},
	{"netio_read_less_than", "INTEGER NOT NULL", "", ""},
	{"netio_write_less_than", "INTEGER NOT NULL", "", ""},
	{"cpu_remove", "INTEGER NOT NULL", "", ""},
	{"mem_remove", "INTEGER NOT NULL", "", ""},
	{"hd_remove", "INTEGER NOT NULL", "", ""},
	{"hdio_read_remove", "INTEGER NOT NULL", "", ""},
	{"hdio_write_remove", "INTEGER NOT NULL", "", ""},
	{"netio_read_remove", "INTEGER NOT NULL", "", ""},
	{"netio_write_remove", "INTEGER NOT NULL", "", ""},
	{"max_load_average_allowed", "FLOAT NOT NULL", "", ""},
	{"desired_load_average", "FLOAT NOT NULL", "", ""},
	{"delay_start", "INTEGER NOT NULL", "", ""},
	{"delay_restart", "INTEGER NOT NULL", "3249fcc20390", "INTEGER NOT NULL DEFAULT '600'"},
	{"delay_upgrade", "INTEGER NOT NULL", "", ""},
	{"delay_remove", "INTEGER NOT NULL", "", ""},
	{"survey_delay", "INTEGER NOT NULL", "fa0ca0abff5c", "INTEGER DEFAULT '0'"},
	{"action_delay", "INTEGER NOT NULL", "67fe02809d26", "INTEGER DEFAULT '0'"},
	{"node_storage", "TEXT NOT NULL", "", ""},
	{"rewards_address", "TEXT NOT NULL", "", ""},
	{"donate_address", "TEXT NOT NULL", "", ""},
	{"port_start", "INTEGER NOT NULL", "", ""},
	{"metrics_port_start", "INTEGER NOT NULL", "", ""},
	{"rpc_port_start", "INTEGER NOT NULL", "7c5a573319da", "INTEGER NOT NULL DEFAULT '30'"},
	{"highest_node_id_used", "INTEGER", "e2f4a512d24c", "INTEGER"},
	{"last_stopped_at", "INTEGER NOT NULL", "", ""},
	{"host", "TEXT NOT NULL", "", ""},
	{"crisis_bytes", "INTEGER NOT NULL", "", ""},
	{"environment", "TEXT", "", ""},
	{"start_args", "TEXT", "", ""},
	{"max_concurrent_upgrades", "INTEGER NOT NULL", "", ""},
	{"max_concurrent_starts", "INTEGER NOT NULL", "", ""},
	{"max_concurrent_removals", "INTEGER NOT NULL", "", ""},
	{"max_concurrent_operations", "INTEGER NOT NULL", "00dd80bcd645", "INTEGER DEFAULT '1'"},
	{"node_removal_strategy", "TEXT NOT NULL", "", ""},
	{"process_manager", "TEXT", "", ""},
	{"max_node_per_container", "INTEGER NOT NULL", "", ""},
	{"min_container_count", "INTEGER NOT NULL", "", ""},
	{"docker_image", "TEXT", "", ""},
	{"no_upnp", "INTEGER NOT NULL", "abc5afa09a61", "INTEGER NOT NULL DEFAULT '1'"},
	{"antnode_path", "TEXT", "44f23f078686", "TEXT DEFAULT '~/.local/bin/antnode'"},
	{"antctl_path", "TEXT", "ba757077b6b0", "TEXT DEFAULT '~/.local/bin/antctl'"},
	{"antctl_debug", "INTEGER NOT NULL", "none", ""},
	{"antctl_version", "TEXT", "752bf4495eaa", "TEXT"},
}

var nodeCols = []column{
	{"id", "INTEGER NOT NULL", "", ""},
	{"machine_id", "INTEGER NOT NULL", "", ""},
	{"container_id", "INTEGER", "", ""},
	{"manager_type", "TEXT NOT NULL", "", ""},
	{"node_name", "VARCHAR(10) NOT NULL", "", ""},
	{"service", "TEXT NOT NULL", "", ""},
	{"user", "VARCHAR(24) NOT NULL", "", ""},
	{"binary", "TEXT NOT NULL", "", ""},
	{"version", "TEXT", "", ""},
	{"root_dir", "TEXT NOT NULL", "", ""},
	{"log_dir", "TEXT", "62bd2784638c", "TEXT"},
	{"port", "INTEGER NOT NULL", "", ""},
	{"metrics_port", "INTEGER NOT NULL", "", ""},
	{"rpc_port", "INTEGER NOT NULL", "none", ""},
	{"network", "TEXT NOT NULL", "", ""},
	{"wallet", "VARCHAR(42)", "", ""},
	{"peer_id", "VARCHAR(52)", "", ""},
	{"status", "VARCHAR(32) NOT NULL", "", ""},
	{"timestamp", "INTEGER NOT NULL", "", ""},
	{"records", "INTEGER NOT NULL", "", ""},
	{"uptime", "INTEGER NOT NULL", "", ""},
	{"shunned", "INTEGER NOT NULL", "", ""},
	{"connected_peers", "INTEGER NOT NULL", "", ""},
	{"gets", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"puts", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"mem", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"cpu", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"open_connections", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"total_peers", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"bad_peers", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"rel_records", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"max_records", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"rewards", "TEXT", "ade8fcd1fc9a", "TEXT DEFAULT '0'"},
	{"payment_count", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"live_time", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"network_size", "INTEGER NOT NULL", "ade8fcd1fc9a", "INTEGER NOT NULL DEFAULT '0'"},
	{"age", "INTEGER NOT NULL", "", ""},
	{"host", "TEXT NOT NULL", "", ""},
	{"method", "TEXT NOT NULL", "", ""},
	{"layout", "TEXT NOT NULL", "", ""},
	{"environment", "TEXT", "", ""},
}

// Values hold the rows every built database carries, as SQL literals by column.
var machineRow = map[string]string{
	"id": "1", "cpu_count": "8", "node_cap": "30", "cpu_less_than": "55", "mem_less_than": "65",
	"hd_less_than": "77", "hdio_read_less_than": "0", "hdio_write_less_than": "1000000",
	"netio_read_less_than": "0", "netio_write_less_than": "0", "cpu_remove": "72", "mem_remove": "80",
	"hd_remove": "91", "hdio_read_remove": "0", "hdio_write_remove": "2000000", "netio_read_remove": "0",
	"netio_write_remove": "0", "max_load_average_allowed": "7.5", "desired_load_average": "4.25",
	"delay_start": "240", "delay_restart": "660", "delay_upgrade": "360", "delay_remove": "420",
	"survey_delay": "25", "action_delay": "15", "node_storage": "'@'",
	"rewards_address": "'0x00455d78f850b0358E8cea5be24d415E01E107CF:3,faucet:1'",
	"donate_address":  "'0x00455d78f850b0358E8cea5be24d415E01E107CF'", "port_start": "55",
	"metrics_port_start": "13", "rpc_port_start": "31", "highest_node_id_used": "NULL",
	"last_stopped_at": "1767225600", "host": "'127.0.0.1'", "crisis_bytes": "2000000000",
	"environment": "NULL", "start_args": "NULL", "max_concurrent_upgrades": "1",
	"max_concurrent_starts": "2", "max_concurrent_removals": "1", "max_concurrent_operations": "3",
	"node_removal_strategy": "'youngest'", "process_manager": "'%pm'",
	"max_node_per_container": "200", "min_container_count": "1", "docker_image": "NULL",
	"no_upnp": "0", "antnode_path": "'~/bin/antnode'", "antctl_path": "'~/.local/bin/antctl'",
	"antctl_debug": "0", "antctl_version": "NULL",
}

var nodeRows = []map[string]string{
	{
		"id": "1", "machine_id": "1", "container_id": "NULL", "manager_type": "'systemd+user'",
		"node_name": "'0001'", "service": "'antnode0001.service'", "user": "'ant'",
		"binary": "'@/antnode0001/antnode'", "version": "'0.4.7'",
		"root_dir": "'@/antnode0001'", "log_dir": "NULL", "port": "55001",
		"metrics_port": "13001", "rpc_port": "0", "network": "'evm-arbitrum-one'",
		"wallet":  "'0x00455d78f850b0358E8cea5be24d415E01E107CF'",
		"peer_id": "'12D3KooWLpjUpAobXQNDFY8WfbuHgCEB8JsV5LYRv3G5iuLsuYkk'", "status": "'RUNNING'",
		"timestamp": "1767225900", "records": "1234", "uptime": "3600", "shunned": "2",
		"connected_peers": "7", "gets": "0", "puts": "42", "mem": "9781", "cpu": "4",
		"open_connections": "12", "total_peers": "180", "bad_peers": "1", "rel_records": "1200",
		"max_records": "16384", "rewards": "'123456789012345678901234567890'", "payment_count": "3",
		"live_time": "3600", "network_size": "250000", "age": "1767225660", "host": "'127.0.0.1'",
		"method": "'systemd+user'", "layout": "'1'", "environment": "NULL",
	},
	{
		"id": "3", "machine_id": "1", "container_id": "NULL", "manager_type": "'systemd+user'",
		"node_name": "'0003'", "service": "'antnode0003.service'", "user": "'ant'",
		"binary": "'@/antnode0003/antnode'", "version": "''",
		"root_dir": "'@/antnode0003'", "log_dir": "NULL", "port": "55003",
		"metrics_port": "13003", "rpc_port": "0", "network": "'evm-arbitrum-one'", "wallet": "NULL",
		"peer_id": "NULL", "status": "'STOPPED'", "timestamp": "1767225960", "records": "0",
		"uptime": "0", "shunned": "0", "connected_peers": "0", "gets": "0", "puts": "0", "mem": "0",
		"cpu": "0", "open_connections": "0", "total_peers": "0", "bad_peers": "0", "rel_records": "0",
		"max_records": "0", "rewards": "NULL", "payment_count": "0", "live_time": "0",
		"network_size": "0", "age": "1767225960", "host": "'127.0.0.1'", "method": "'systemd+user'",
		"layout": "'1'", "environment": "'None'",
	},
}

// Options vary a built database.
type Options struct {
	// Unversioned leaves out the alembic_version table (a database made before Alembic).
	Unversioned bool
	// NoAntctlDebug leaves out machine.antctl_debug and node.rpc_port, which wnm-python added to
	// its ORM without a migration, so databases upgraded by its migrations may lack them.
	NoAntctlDebug bool
	// Migrated builds the revision's columns as its Alembic migration adds them (at the end of the
	// table, with the migration's server default) instead of as create_all writes them.
	Migrated bool
	// Drop leaves out further columns, "table.column".
	Drop []string
	// NodeStorage is where the nodes' root dirs and binaries are (default
	// /var/antctl/services); ProcessManager is the machine's (default systemd+user).
	NodeStorage, ProcessManager string
}

func revIndex(rev string) int { return slices.Index(Revisions, rev) }

// has reports whether a database at rev has column c of table.
func has(table string, c column, rev string, o Options) bool {
	if slices.Contains(o.Drop, table+"."+c.name) {
		return false
	}
	switch c.rev {
	case "":
		return true
	case "none":
		return !o.NoAntctlDebug
	}
	return revIndex(c.rev) <= revIndex(rev)
}

// Script returns the SQL that builds a database at revision rev.
func Script(rev string, o Options) (string, error) {
	if revIndex(rev) < 0 {
		return "", fmt.Errorf("unknown revision %q", rev)
	}
	var b strings.Builder
	table := func(name string, cols []column, tail []string) {
		var lines, added []string
		for _, c := range cols {
			if !has(name, c, rev, o) {
				continue
			}
			if o.Migrated && c.addDef != "" && c.rev != "" {
				added = append(added, c.name)
				continue
			}
			lines = append(lines, "\t"+c.name+" "+c.def)
		}
		lines = append(lines, tail...)
		fmt.Fprintf(&b, "CREATE TABLE %s (\n%s\n);\n", name, strings.Join(lines, ", \n"))
		for _, n := range added {
			for _, c := range cols {
				if c.name == n {
					fmt.Fprintf(&b, "ALTER TABLE %s ADD COLUMN %s %s;\n", name, c.name, c.addDef)
				}
			}
		}
	}
	table("machine", machineCols, []string{"\tPRIMARY KEY (id)"})
	fmt.Fprint(&b, `CREATE TABLE container (
	id INTEGER NOT NULL, 
	machine_id INTEGER NOT NULL, 
	container_id VARCHAR(64) NOT NULL, 
	name TEXT NOT NULL, 
	image TEXT NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	created_at INTEGER NOT NULL, 
	port_range_start INTEGER, 
	port_range_end INTEGER, 
	metrics_port_range_start INTEGER, 
	metrics_port_range_end INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(machine_id) REFERENCES machine (id), 
	UNIQUE (container_id)
);
`)
	table("node", nodeCols, []string{"\tPRIMARY KEY (id)", "\tFOREIGN KEY(machine_id) REFERENCES machine (id)", "\tFOREIGN KEY(container_id) REFERENCES container (id)"})
	for _, ix := range []string{"records", "status", "timestamp", "wallet"} {
		fmt.Fprintf(&b, "CREATE INDEX ix_node_%s ON node (%s);\n", ix, ix)
	}
	if !o.Unversioned {
		fmt.Fprintf(&b, "CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n")
		fmt.Fprintf(&b, "INSERT INTO alembic_version (version_num) VALUES ('%s');\n", rev)
	}
	storage, pm := o.NodeStorage, o.ProcessManager
	if storage == "" {
		storage = "/var/antctl/services"
	}
	if pm == "" {
		pm = "systemd+user"
	}
	fill := strings.NewReplacer("'@", "'"+strings.ReplaceAll(storage, "'", "''"), "%pm", pm)
	insert := func(name string, cols []column, row map[string]string) {
		var names, vals []string
		for _, c := range cols {
			if has(name, c, rev, o) {
				names = append(names, c.name)
				vals = append(vals, fill.Replace(row[c.name]))
			}
		}
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES (%s);\n", name, strings.Join(names, ", "), strings.Join(vals, ", "))
	}
	insert("machine", machineCols, machineRow)
	for _, r := range nodeRows {
		insert("node", nodeCols, r)
	}
	return b.String(), nil
}

// Dump renders every column of every row of the named tables of the
// database at path as "table rowid column = quote(value) typeof(value)", one
// line each, sorted: a stored value and its storage class, so that a changed
// type (a big number stored as text turning into a real, NULL into ”) shows.
func Dump(path string, tables ...string) (string, error) {
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadOnly)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var lines []string
	for _, t := range tables {
		var cols []string
		err := sqlitex.ExecuteTransient(conn, "SELECT name FROM pragma_table_info(?);", &sqlitex.ExecOptions{
			Args:       []any{t},
			ResultFunc: func(s *sqlite.Stmt) error { cols = append(cols, s.ColumnText(0)); return nil },
		})
		if err != nil {
			return "", err
		}
		for _, c := range cols {
			q := fmt.Sprintf(`SELECT rowid, quote(%q) || ' ' || typeof(%q) FROM %q;`, c, c, t)
			err := sqlitex.ExecuteTransient(conn, q, &sqlitex.ExecOptions{
				ResultFunc: func(s *sqlite.Stmt) error {
					lines = append(lines, fmt.Sprintf("%s %d %s = %s", t, s.ColumnInt64(0), c, s.ColumnText(1)))
					return nil
				},
			})
			if err != nil {
				return "", err
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// Build writes a database at revision rev to path, which must not exist.
func Build(path, rev string, o Options) error {
	script, err := Script(rev, o)
	if err != nil {
		return err
	}
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite|sqlite.OpenCreate)
	if err != nil {
		return err
	}
	if err := sqlitex.ExecuteScript(conn, script, nil); err != nil {
		conn.Close()
		return fmt.Errorf("build %s at %s: %w", path, rev, err)
	}
	return conn.Close()
}
