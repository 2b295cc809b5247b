package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/golden"
)

func TestMigrateEmptyFileThenNoop(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "colony.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	want := len(builtin(t))
	if got := rows(t, s, "PRAGMA user_version;")[0][0]; got != strconv.Itoa(want) {
		t.Errorf("user_version after first Open = %s, want %d", got, want)
	}
	if got := rows(t, s, "PRAGMA journal_mode;")[0][0]; got != "wal" {
		t.Errorf("journal_mode = %s, want wal", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)

	for range 2 {
		s, err = Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if got := rows(t, s, "PRAGMA user_version;")[0][0]; got != strconv.Itoa(want) {
			t.Errorf("user_version after reopening = %s, want %d", got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if after := readFile(t, path); !bytes.Equal(before, after) {
			t.Fatalf("reopening an up-to-date database changed its file (%d -> %d bytes)", len(before), len(after))
		}
	}
}

func TestOpenCreatedDatabaseWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Machine(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Nodes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := readFile(t, path); !bytes.Equal(before, after) {
		t.Errorf("opening and reading a created database changed its file")
	}
}

func TestSchemaGolden(t *testing.T) {
	golden.Compare(t, "testdata/schema.golden", schemaDump(t, newStore(t)))
}

// column is one row of PRAGMA table_info.
type column struct {
	Name    string
	Type    string
	NotNull bool
	Default string // "NULL" when there is none
}

func tableInfo(t *testing.T, s *Store, table string) []column {
	t.Helper()
	var out []column
	for _, r := range rows(t, s, "PRAGMA table_info("+table+");") {
		out = append(out, column{Name: r[1], Type: r[2], NotNull: r[3] == "1", Default: r[4]})
	}
	return out
}

func TestUpstreamColumns(t *testing.T) {
	// Upstream's columns, in wnm-python's order,
	// with a fresh upstream database's types and NOT NULLs and no defaults.
	upstream := func(spec string) []column {
		var cols []column
		for _, line := range strings.Split(strings.TrimSpace(spec), "\n") {
			f := strings.Fields(line)
			cols = append(cols, column{Name: f[0], Type: f[1], NotNull: len(f) == 2, Default: "NULL"})
		}
		return cols
	}
	machine := upstream(`
id INTEGER
cpu_count INTEGER
node_cap INTEGER
cpu_less_than INTEGER
mem_less_than INTEGER
hd_less_than INTEGER
hdio_read_less_than INTEGER
hdio_write_less_than INTEGER
netio_read_less_than INTEGER
netio_write_less_than INTEGER
cpu_remove INTEGER
mem_remove INTEGER
hd_remove INTEGER
hdio_read_remove INTEGER
hdio_write_remove INTEGER
netio_read_remove INTEGER
netio_write_remove INTEGER
max_load_average_allowed FLOAT
desired_load_average FLOAT
delay_start INTEGER
delay_restart INTEGER
delay_upgrade INTEGER
delay_remove INTEGER
survey_delay INTEGER
action_delay INTEGER
node_storage TEXT
rewards_address TEXT
donate_address TEXT
port_start INTEGER
metrics_port_start INTEGER
rpc_port_start INTEGER
highest_node_id_used INTEGER null
last_stopped_at INTEGER
host TEXT
crisis_bytes INTEGER
environment TEXT null
start_args TEXT null
max_concurrent_upgrades INTEGER
max_concurrent_starts INTEGER
max_concurrent_removals INTEGER
max_concurrent_operations INTEGER
node_removal_strategy TEXT
process_manager TEXT null
max_node_per_container INTEGER
min_container_count INTEGER
docker_image TEXT null
no_upnp INTEGER
antnode_path TEXT null
antctl_path TEXT null
antctl_debug INTEGER
antctl_version TEXT null`)
	node := upstream(`
id INTEGER
machine_id INTEGER
container_id INTEGER null
manager_type TEXT
node_name VARCHAR(10)
service TEXT
user VARCHAR(24)
binary TEXT
version TEXT null
root_dir TEXT
log_dir TEXT null
port INTEGER
metrics_port INTEGER
rpc_port INTEGER
network TEXT
wallet VARCHAR(42) null
peer_id VARCHAR(52) null
status VARCHAR(32)
timestamp INTEGER
records INTEGER
uptime INTEGER
shunned INTEGER
connected_peers INTEGER
gets INTEGER
puts INTEGER
mem INTEGER
cpu INTEGER
open_connections INTEGER
total_peers INTEGER
bad_peers INTEGER
rel_records INTEGER
max_records INTEGER
rewards TEXT null
payment_count INTEGER
live_time INTEGER
network_size INTEGER
age INTEGER
host TEXT
method TEXT
layout TEXT
environment TEXT null`)
	container := upstream(`
id INTEGER
machine_id INTEGER
container_id VARCHAR(64)
name TEXT
image TEXT
status VARCHAR(32)
created_at INTEGER
port_range_start INTEGER null
port_range_end INTEGER null
metrics_port_range_start INTEGER null
metrics_port_range_end INTEGER null`)
	if len(machine) != 51 || len(node) != 41 {
		t.Fatalf("upstream lists have %d machine and %d node columns, want 51 and 41", len(machine), len(node))
	}

	s := newStore(t)
	tests := []struct {
		table string
		want  []column
	}{
		{"machine", append(machine,
			column{"wnm_boot_time", "INTEGER", true, "0"},
			column{"survey_timeout_ms", "INTEGER", true, "2000"},
			column{"survey_concurrency", "INTEGER", true, "32"},
		)},
		{"node", append(node,
			column{"wnm_intent", "TEXT", true, "''"},
			column{"wnm_intent_at", "INTEGER", true, "0"},
			column{"wnm_no_upnp", "INTEGER", false, "NULL"},
		)},
		{"container", container},
		{"alembic_version", []column{{"version_num", "VARCHAR(32)", true, "NULL"}}},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tableInfo(t, s, tt.table)); diff != "" {
				t.Errorf("PRAGMA table_info(%s) mismatch (-want +got):\n%s", tt.table, diff)
			}
		})
	}

	// The Go column lists must be the schema's, in order.
	for _, tt := range []struct {
		table string
		cols  []string
	}{{"machine", sqlText().machineColumns}, {"node", sqlText().nodeColumns}} {
		var got []string
		for _, c := range tableInfo(t, s, tt.table) {
			got = append(got, c.Name)
		}
		if diff := cmp.Diff(got, tt.cols); diff != "" {
			t.Errorf("%s Go columns differ from the schema (-schema +go):\n%s", tt.table, diff)
		}
	}
	var cycleCols []string
	for _, c := range tableInfo(t, s, "cycle")[1:] {
		cycleCols = append(cycleCols, c.Name)
	}
	if diff := cmp.Diff(cycleCols, sqlText().cycleColumns); diff != "" {
		t.Errorf("cycle Go columns differ from the schema (-schema +go):\n%s", diff)
	}

	indexes := map[string]string{}
	for _, r := range rows(t, s, "SELECT il.name, ii.name FROM pragma_index_list('node') AS il, pragma_index_info(il.name) AS ii;") {
		indexes[r[0]] = r[1]
	}
	wantIndexes := map[string]string{
		"ix_node_wallet":    "wallet",
		"ix_node_status":    "status",
		"ix_node_timestamp": "timestamp",
		"ix_node_records":   "records",
	}
	if diff := cmp.Diff(wantIndexes, indexes); diff != "" {
		t.Errorf("node indexes mismatch (-want +got):\n%s", diff)
	}
	if got := rows(t, s, "SELECT * FROM alembic_version;"); !cmp.Equal(got, [][]string{{"e2f4a512d24c"}}) {
		t.Errorf("alembic_version rows = %v, want [[e2f4a512d24c]]", got)
	}
}

// TestAdoptUpstream opens a database laid out the way wnm-python leaves it:
// the migrations must keep its rows, read its NULLs, and end with the same
// schema as a database wnm created.
func TestAdoptUpstream(t *testing.T) {
	ctx := context.Background()
	fixture, err := os.ReadFile("testdata/upstream_colony.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "colony.db")
	execRaw(t, path, string(fixture))

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	m, err := s.Machine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.HighestNodeIDUsed != nil {
		t.Errorf("HighestNodeIDUsed = %d, want nil for NULL", *m.HighestNodeIDUsed)
	}
	if m.Environment != "" || m.AntctlVersion != "" {
		t.Errorf("NULL text columns read as %q, %q; want empty", m.Environment, m.AntctlVersion)
	}
	if m.SurveyTimeoutMS != 2000 || m.SurveyConcurrency != 32 || m.WNMBootTime != 0 {
		t.Errorf("wnm columns = %d, %d, %d; want their defaults 2000, 32, 0", m.SurveyTimeoutMS, m.SurveyConcurrency, m.WNMBootTime)
	}
	if m.NodeCap != 20 || m.ProcessManager != "systemd+user" || m.MaxLoadAverageAllowed != 8 {
		t.Errorf("machine = %+v, lost upstream values", m)
	}

	nodes, err := s.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 {
		t.Fatalf("got %d nodes, want 2", len(nodes))
	}
	n := nodes[1]
	if n.ContainerID != nil || n.Wallet != "" || n.PeerID != "" || n.Rewards != "" || n.Status != StatusStopped || n.Environment != "None" {
		t.Errorf("node 2 = %+v, NULLs or values misread", n)
	}
	if nodes[0].Records != 1234 || nodes[0].WNMIntent != "" {
		t.Errorf("node 1 = %+v, lost upstream values or wnm defaults", nodes[0])
	}

	// An upstream-style insert, which does not name wnm's columns, still works.
	upstreamCols := strings.Join(sqlText().nodeColumns[1:41], ", ")
	rows(t, s, "INSERT INTO node (id, "+upstreamCols+") SELECT 3, "+upstreamCols+" FROM node WHERE id = 2;")
	if n, err := s.Node(ctx, 3); err != nil || n.WNMIntent != "" || n.WNMIntentAt != 0 || n.NoUPnP != nil {
		t.Errorf("Node(3) after an upstream-style insert = %+v, %v; want wnm columns at their defaults", n, err)
	}

	if got := rows(t, s, "SELECT version_num FROM alembic_version;"); !cmp.Equal(got, [][]string{{"e2f4a512d24c"}}) {
		t.Errorf("alembic_version rows = %v, want the upstream stamp only", got)
	}
	created := newStore(t)
	if diff := cmp.Diff(schemaDump(t, created), schemaDump(t, s)); diff != "" {
		t.Errorf("adopted schema differs from a created one (-created +adopted):\n%s", diff)
	}
}

func TestMigrationFailureKeepsVersion(t *testing.T) {
	ctx := context.Background()
	good := builtin(t)
	bad := append(append([]migration(nil), good...), migration{
		name: "0003_broken.sql",
		sql:  "CREATE TABLE half_done (x INTEGER);\nALTER TABLE node ADD COLUMN wnm_extra INTEGER NOT NULL DEFAULT 0;\nSELEC nonsense;",
	})

	t.Run("from the current version", func(t *testing.T) {
		s := newStore(t)
		path := s.Path()
		s.Close()
		before := readFile(t, path)

		if _, err := Open(ctx, path, withMigrations(bad)); err == nil || !strings.Contains(err.Error(), "0003_broken.sql") {
			t.Fatalf("Open with a broken migration: err = %v, want it to name 0003_broken.sql", err)
		}
		if after := readFile(t, path); !bytes.Equal(before, after) {
			t.Errorf("failed migration changed the database file")
		}
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := rows(t, s, "PRAGMA user_version;")[0][0]; got != strconv.Itoa(len(good)) {
			t.Errorf("user_version = %s, want %d", got, len(good))
		}
		if got := rows(t, s, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done';")[0][0]; got != "0" {
			t.Errorf("table half_done exists after the failed migration")
		}
		for _, c := range tableInfo(t, s, "node") {
			if c.Name == "wnm_extra" {
				t.Errorf("column node.wnm_extra exists after the failed migration")
			}
		}
	})

	t.Run("from an empty file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "colony.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, path, withMigrations(bad)); err == nil {
			t.Fatal("Open with a broken migration succeeded")
		}
		// Open the file with only the first migration to look inside: the
		// earlier scripts must have been rolled back with the broken one.
		s, err := Open(ctx, path, withMigrations(good[:1]))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := rows(t, s, "SELECT count(*) FROM sqlite_master WHERE name IN ('cycle', 'wnm_state', 'half_done');")[0][0]; got != "0" {
			t.Errorf("%s tables from the rolled-back migrations exist", got)
		}
	})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	path := s.Path()
	s.Close()
	execRaw(t, path, "PRAGMA user_version = 99;")
	before := readFile(t, path)
	_, err := Open(ctx, path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open(version 99) = %v, want ErrNewerSchema", err)
	}
	if after := readFile(t, path); !bytes.Equal(before, after) {
		t.Errorf("refusing a newer schema changed the file")
	}
}

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		wantErr string
	}{
		{"numbered", []string{"0001_a.sql", "0002_b.sql"}, ""},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, `"0003_c.sql": name must start with "0002_"`},
		{"unnumbered", []string{"init.sql"}, `"init.sql": name must start with "0001_"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["schema/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			migs, err := loadMigrations(fsys, "schema")
			if tt.wantErr == "" {
				if err != nil || len(migs) != len(tt.files) {
					t.Errorf("loadMigrations(%v) = %d migrations, %v; want %d, nil", tt.files, len(migs), err, len(tt.files))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("loadMigrations(%v) error = %v, want %q", tt.files, err, tt.wantErr)
			}
		})
	}
	if migs := builtin(t); len(migs) != 3 {
		t.Errorf("embedded migrations = %d, want 3", len(migs))
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
