package store

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"zombiezen.com/go/sqlite"
	"zombiezen.com/go/sqlite/sqlitex"
)

// withMigrations replaces the embedded schema scripts.
func withMigrations(migs []migration) Option {
	return func(o *options) {
		o.migrations = func() ([]migration, error) { return migs, nil }
	}
}

// withHook makes Create call h at each stage ("build", "link", "open").
func withHook(h func(stage string) error) Option {
	return func(o *options) { o.hook = h }
}

// builtin returns the embedded migrations or fails the test.
func builtin(t *testing.T) []migration {
	t.Helper()
	migs, err := builtinMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

func intPtr(v int) *int { return &v }

// testMachine has every field set to a distinct non-zero value.
func testMachine() Machine {
	return Machine{
		ID:                      1,
		CPUCount:                8,
		NodeCap:                 20,
		CPULessThan:             50,
		MemLessThan:             60,
		HDLessThan:              75,
		HDIOReadLessThan:        100_000_001,
		HDIOWriteLessThan:       100_000_002,
		NetIOReadLessThan:       100_000_003,
		NetIOWriteLessThan:      100_000_004,
		CPURemove:               70,
		MemRemove:               76,
		HDRemove:                90,
		HDIOReadRemove:          200_000_001,
		HDIOWriteRemove:         200_000_002,
		NetIOReadRemove:         200_000_003,
		NetIOWriteRemove:        200_000_004,
		MaxLoadAverageAllowed:   8.5,
		DesiredLoadAverage:      4.8,
		DelayStart:              300,
		DelayRestart:            600,
		DelayUpgrade:            301,
		DelayRemove:             302,
		SurveyDelay:             15,
		ActionDelay:             25,
		NodeStorage:             "/var/antctl/services",
		RewardsAddress:          "0x00455d78f850b0358E8cea5be24d415E01E107CF",
		DonateAddress:           "0x1111111111111111111111111111111111111111",
		PortStart:               55,
		MetricsPortStart:        13,
		RPCPortStart:            30,
		HighestNodeIDUsed:       intPtr(17),
		LastStoppedAt:           1767225600,
		Host:                    "127.0.0.1",
		CrisisBytes:             2_000_000_000,
		Environment:             "RUST_LOG=info",
		StartArgs:               "--relay",
		MaxConcurrentUpgrades:   2,
		MaxConcurrentStarts:     3,
		MaxConcurrentRemovals:   4,
		MaxConcurrentOperations: 5,
		NodeRemovalStrategy:     "youngest",
		ProcessManager:          "systemd+user",
		MaxNodePerContainer:     200,
		MinContainerCount:       1,
		DockerImage:             "iweave/antnode:latest",
		NoUPnP:                  true,
		AntnodePath:             "~/.local/bin/antnode",
		AntctlPath:              "~/.local/bin/antctl",
		AntctlDebug:             true,
		AntctlVersion:           "0.13.2",
		WNMBootTime:             1767225590,
		SurveyTimeoutMS:         2000,
		SurveyConcurrency:       32,
	}
}

// testNode has every field set; ContainerID refers to container 7.
func testNode(id int) Node {
	name := fmt.Sprintf("%04d", id)
	one := 1
	return Node{
		ID:              id,
		MachineID:       1,
		ContainerID:     intPtr(7),
		ManagerType:     "systemd+user",
		NodeName:        name,
		Service:         "antnode" + name + ".service",
		User:            "ant",
		Binary:          "/var/antctl/services/antnode" + name + "/antnode",
		Version:         "0.4.7",
		RootDir:         "/var/antctl/services/antnode" + name,
		LogDir:          "/var/log/antnode/antnode" + name,
		Port:            55000 + id,
		MetricsPort:     13000 + id,
		RPCPort:         30000 + id,
		Network:         "evm-arbitrum-one",
		Wallet:          "0x00455d78f850b0358E8cea5be24d415E01E107CF",
		PeerID:          "12D3KooWLpjUpAobXQNDFY8WfbuHgCEB8JsV5LYRv3G5iuLsuYkk",
		Status:          StatusRunning,
		Timestamp:       1767225900,
		Records:         1234,
		Uptime:          3600,
		Shunned:         2,
		ConnectedPeers:  7,
		Gets:            3,
		Puts:            42,
		Mem:             9781,
		CPU:             4,
		OpenConnections: 12,
		TotalPeers:      180,
		BadPeers:        5,
		RelRecords:      1200,
		MaxRecords:      16384,
		Rewards:         "0.000000000000000001",
		PaymentCount:    9,
		LiveTime:        3500,
		NetworkSize:     250000,
		Age:             1767225660,
		Host:            "127.0.0.1",
		Method:          "systemd+user",
		Layout:          "1",
		Environment:     "RUST_LOG=info",
		WNMIntent:       "start",
		WNMIntentAt:     1767225900123,
		NoUPnP:          &one,
	}
}

// requireAllSet fails when a field of the struct v is its zero value, so a
// round-trip fixture cannot silently skip a newly added column.
func requireAllSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("%s.%s is zero in the fixture; give it a value", rv.Type().Name(), rv.Type().Field(i).Name)
		}
	}
}

// newStore creates a store in a temporary directory.
func newStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Create(context.Background(), filepath.Join(t.TempDir(), "colony.db"), testMachine(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rows runs sql on the store's connection and returns each row's columns as
// text ("NULL" for NULL).
func rows(t testing.TB, s *Store, sql string) [][]string {
	t.Helper()
	var out [][]string
	err := s.do(context.Background(), func(conn *sqlite.Conn) error {
		return sqlitex.ExecuteTransient(conn, sql, &sqlitex.ExecOptions{
			ResultFunc: func(st *sqlite.Stmt) error {
				row := make([]string, st.ColumnCount())
				for i := range row {
					if st.ColumnType(i) == sqlite.TypeNull {
						row[i] = "NULL"
					} else {
						row[i] = st.ColumnText(i)
					}
				}
				out = append(out, row)
				return nil
			},
		})
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// execRaw runs a script on a fresh connection to path (no store involved).
func execRaw(t *testing.T, path, script string) {
	t.Helper()
	conn, err := sqlite.OpenConn(path, sqlite.OpenReadWrite|sqlite.OpenCreate)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := sqlitex.ExecuteScript(conn, script, nil); err != nil {
		t.Fatal(err)
	}
}

// files lists every file and directory under root, relative to it.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// schemaDump renders sqlite_master, the schema version and the alembic row.
func schemaDump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "user_version %s\n", rows(t, s, "PRAGMA user_version;")[0][0])
	for _, r := range rows(t, s, "SELECT version_num FROM alembic_version;") {
		fmt.Fprintf(&b, "alembic_version %s\n", r[0])
	}
	for _, r := range rows(t, s, "SELECT type, name, tbl_name, coalesce(sql, '(made by SQLite)') FROM sqlite_master ORDER BY tbl_name, type DESC, name;") {
		fmt.Fprintf(&b, "\n-- %s %s on %s\n%s\n", r[0], r[1], r[2], r[3])
	}
	return b.String()
}
