package systemd

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wnm-project/wnm/gen"
)

// TestScanUnitsAnm adopts a unit dir in the shape anm leaves behind: units of several eras
// (--bootstrap, --bootstrap-cache-dir, three-digit names, a blank Environment line, paths with
// dots and dashes), one with broken quoting and one without ExecStart=, which are reported and
// left out, and files that are not node units, which are ignored.
func TestScanUnitsAnm(t *testing.T) {
	dir := filepath.Join("testdata", "anm", "etc", "systemd", "system")
	got, err := ScanUnits(dir)
	want := []gen.Adopted{
		{ID: 1, Service: "antnode0001.service", Binary: "/var/antctl/services/antnode0001/antnode", User: "ant",
			RootDir: "/var/antctl/services/antnode0001", LogDir: "/var/log/antnode/antnode0001", Port: 55001, MetricsPort: 13001,
			Wallet: "0x00000000000000000000000000000000000000a1", Network: "evm-arbitrum-one", NoUPnP: true,
			Env: [][2]string{{"ANT_LOG", "ant_evm=error"}}},
		{ID: 2, Service: "antnode0002.service", Binary: "/var/antctl/services/antnode0002/antnode", User: "ant",
			RootDir: "/var/antctl/services/antnode0002", LogDir: "/var/log/antnode/antnode0002", BootstrapCache: "/var/antctl/bootstrap-cache",
			Port: 55002, MetricsPort: 13002, Wallet: "0x00000000000000000000000000000000000000b2", Network: "evm-arbitrum-one", NoUPnP: true,
			Env: [][2]string{{"ANT_LOG", "ant_evm=error"}}},
		{ID: 7, Service: "antnode007.service", Binary: "/var/antctl/services/antnode007/antnode", User: "ant",
			RootDir: "/var/antctl/services/antnode007", LogDir: "/var/log/antnode/antnode007", Port: 55007, MetricsPort: 13007,
			Wallet: "0x00000000000000000000000000000000000000c7", Network: "evm-arbitrum-one"},
		{ID: 10, Service: "antnode0010.service", Binary: "/srv/ant.data/node-store/antnode0010/antnode", User: "ant",
			RootDir: "/srv/ant.data/node-store/antnode0010", LogDir: "/var/log/ant-node.d/antnode0010", BootstrapCache: "/srv/ant.data/bootstrap-cache",
			Port: 55010, MetricsPort: 13010, Wallet: "0x00000000000000000000000000000000000000d0", Network: "evm-arbitrum-one"},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(gen.Adopted{}, "Args")); diff != "" {
		t.Errorf("ScanUnits (-want +got):\n%s", diff)
	}
	for _, a := range got {
		if a.Args[0] != a.Binary || a.Args[len(a.Args)-1] != "evm-arbitrum-one" {
			t.Errorf("node %d: Args = %q", a.ID, a.Args)
		}
	}
	if err == nil {
		t.Fatal("ScanUnits reported no error for the broken units")
	}
	for _, want := range []string{"unit antnode0011.service: ", "unbalanced quoting", "unit antnode0012.service: no ExecStart="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ScanUnits error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "safenode") {
		t.Errorf("ScanUnits error mentions a file that is not a node unit: %v", err)
	}
}

// TestParseUnitRoundTrip: what wnm writes, it reads back.
func TestParseUnitRoundTrip(t *testing.T) {
	for _, mode := range []gen.Mode{gen.ModeSudo, gen.ModeUser} {
		n := gen.Node{
			ID: 42, RootDir: "/srv/my nodes/50%/antnode0042", Binary: "/srv/my nodes/50%/antnode0042/antnode",
			LogDir: "/var/log/antnode/antnode0042", BootstrapCache: "/srv/cache", Port: 55042, MetricsPort: 13042,
			Wallet: testWallet, NoUPnP: true, User: "ant", Env: [][2]string{{"ANT_LOG", `a "b" $c`}, {"X", "1"}},
		}
		text, err := gen.SystemdUnit(n, mode)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseUnit(gen.UnitName(42), string(text))
		if err != nil {
			t.Fatalf("ParseUnit of a %s unit: %v", mode, err)
		}
		want := gen.Adopted{ID: 42, Service: "antnode0042.service", Binary: n.Binary, Args: n.Args(), RootDir: n.RootDir,
			LogDir: n.LogDir, BootstrapCache: n.BootstrapCache, Port: n.Port, MetricsPort: n.MetricsPort, Wallet: n.Wallet,
			Network: gen.Network, NoUPnP: true, Env: n.Env}
		if mode == gen.ModeSudo {
			want.User = "ant"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParseUnit of a %s unit (-want +got):\n%s", mode, diff)
		}
	}
}

func TestParseUnitErrors(t *testing.T) {
	const exec = "ExecStart=/a/antnode --root-dir /a --port 1 --metrics-server-port 2 --rewards-address 0xa\n"
	tests := []struct {
		name, file, text, wantErr string
	}{
		{"bad name", "node1.service", "[Service]\n" + exec, `unit "node1.service": not an antnode<digits>.service`},
		{"no service section", "antnode0001.service", "[Unit]\nDescription=x\n", "no ExecStart="},
		{"unknown flag", "antnode0001.service", "[Service]\nExecStart=/a/antnode --frob\n", `unit antnode0001.service: ExecStart: command line: unknown antnode flag "--frob"`},
		{"specifier", "antnode0001.service", "[Service]\nExecStart=/a/antnode --root-dir %h\n", "specifier %h"},
		{"bad environment", "antnode0001.service", "[Service]\nEnvironment=oops\n" + exec, `"oops" is not NAME=VALUE`},
		{"garbage", "antnode0001.service", "[Service\n", "antnode0001.service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseUnit(tt.file, tt.text); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseUnit = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	// An empty Environment= resets the list, as in systemd.
	a, err := ParseUnit("antnode0001.service", "[Service]\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n"+exec)
	if err != nil || len(a.Env) != 1 || a.Env[0] != [2]string{"B", "2"} {
		t.Errorf("ParseUnit with a reset environment = %q, %v; want only B=2", a.Env, err)
	}
}

// TestAdopter: the manager lists the units of its dir for adoption, accepts every node unit
// name (anm's three-digit ones included) and reads a node id out of a unit's file name.
func TestAdopter(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "anm", "etc", "systemd", "system"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Mode: gen.ModeSudo, UnitDir: dir, Transport: TransportSystemctl, Runner: newRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Definitions()
	want, wantErr := ScanUnits(dir)
	if diff := cmp.Diff(want, got); diff != "" || fmt.Sprint(err) != fmt.Sprint(wantErr) || len(got) == 0 {
		t.Errorf("Definitions = %d units, %v; want ScanUnits' %d, %v (-want +got):\n%s", len(got), err, len(want), wantErr, diff)
	}
	for _, name := range []string{"antnode0007.service", "antnode007.service"} {
		if err := m.CheckName(gen.Adopted{ID: 7, Service: name}); err != nil {
			t.Errorf("CheckName(%s) = %v", name, err)
		}
	}
	for name, want := range map[string]int{"antnode0007.service": 7, "antnode013.service": 13, "com.autonomi.antnode-7.plist": 0, "wnm.service": 0} {
		if id, ok := m.DefinitionID(name); id != want || ok != (want > 0) {
			t.Errorf("DefinitionID(%q) = %d, %v; want %d", name, id, ok, want)
		}
	}
}
