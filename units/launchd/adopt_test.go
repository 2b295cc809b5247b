package launchd

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"howett.net/plist"

	"github.com/wnm-project/wnm/gen"
)

// TestScanPlistsWnmPython adopts LaunchAgents as wnm-python leaves them: paths with spaces,
// --no-upnp right after the binary, no --enable-metrics-server, the shared log dir. A plist whose
// Label disagrees with its name and one that is not a plist are reported and left out.
func TestScanPlistsWnmPython(t *testing.T) {
	got, err := ScanPlists(filepath.Join("testdata", "LaunchAgents"))
	base := "/Users/jane/Library/Application Support/autonomi"
	want := []gen.Adopted{
		{ID: 1, Service: "com.autonomi.antnode-1.plist", Binary: base + "/node/antnode0001/antnode", RootDir: base + "/node/antnode0001",
			LogDir: "/Users/jane/Library/Logs/autonomi", BootstrapCache: base + "/bootstrap-cache", Port: 55001, MetricsPort: 13001,
			Wallet: "0x00000000000000000000000000000000000000a1", Network: "evm-arbitrum-one", NoUPnP: true,
			Env: [][2]string{{"ANT_LOG", "ant_evm=error"}, {"RUST_LOG", "info"}}},
		{ID: 2, Service: "com.autonomi.antnode-2.plist", Binary: base + "/node/antnode0002/antnode", RootDir: base + "/node/antnode0002",
			LogDir: "/Users/jane/Library/Logs/autonomi", BootstrapCache: base + "/bootstrap-cache", Port: 55002, MetricsPort: 13002,
			Wallet: "0x00000000000000000000000000000000000000a1", Network: "evm-arbitrum-one", NoUPnP: true,
			Env: [][2]string{{"ANT_LOG", "ant_evm=error"}, {"RUST_LOG", "info"}}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(gen.Adopted{}, "Args")); diff != "" {
		t.Errorf("ScanPlists (-want +got):\n%s", diff)
	}
	if err == nil {
		t.Fatal("ScanPlists reported no error for the broken plists")
	}
	for _, want := range []string{`plist com.autonomi.antnode-3.plist: Label "com.autonomi.antnode-9" does not match`, "plist com.autonomi.antnode-4.plist: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ScanPlists error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "com.example") {
		t.Errorf("ScanPlists looked at a plist that is not a node's: %v", err)
	}
}

// TestParsePlistRoundTrip: what wnm writes, XML or binary, it reads back.
func TestParsePlistRoundTrip(t *testing.T) {
	n := gen.Node{
		ID: 42, RootDir: "/Users/Jane Doe/100% nodes/antnode0042", Binary: "/Users/Jane Doe/100% nodes/antnode0042/antnode",
		LogDir: "/Users/Jane Doe/Library/Logs/antnode0042", Port: 55042, MetricsPort: 13042, Wallet: testWallet, User: "ant",
		Env: [][2]string{{"ANT_LOG", `<a & "b">`}},
	}
	xml, err := gen.LaunchdPlist(n, gen.ModeSudo)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if _, err := plist.Unmarshal(xml, &v); err != nil {
		t.Fatal(err)
	}
	binary, err := plist.Marshal(v, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	want := gen.Adopted{ID: 42, Service: "com.autonomi.antnode-42.plist", Binary: n.Binary, Args: n.Args(), User: "ant", RootDir: n.RootDir,
		LogDir: n.LogDir, Port: n.Port, MetricsPort: n.MetricsPort, Wallet: n.Wallet, Network: gen.Network, Env: n.Env}
	for format, data := range map[string][]byte{"xml": xml, "binary": binary} {
		got, err := ParsePlist(gen.PlistName(42), data)
		if err != nil {
			t.Fatalf("ParsePlist(%s): %v", format, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParsePlist(%s) (-want +got):\n%s", format, diff)
		}
	}
}

func TestParsePlistErrors(t *testing.T) {
	mk := func(job map[string]any) []byte {
		b, err := plist.Marshal(job, plist.XMLFormat)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	args := []string{"/a/antnode", "--root-dir", "/a", "--port", "1", "--metrics-server-port", "2", "--rewards-address", "0xa"}
	tests := []struct {
		name, file string
		data       []byte
		wantErr    string
	}{
		{"bad name", "antnode-1.plist", mk(map[string]any{"Label": "x"}), "not a com.autonomi.antnode-<digits>.plist"},
		{"no arguments", "com.autonomi.antnode-1.plist", mk(map[string]any{"Label": "com.autonomi.antnode-1"}), "no ProgramArguments"},
		{"unknown flag", "com.autonomi.antnode-1.plist", mk(map[string]any{"Label": "com.autonomi.antnode-1", "ProgramArguments": append(args, "--frob")}), `unknown antnode flag "--frob"`},
		{"program replaces argv0", "com.autonomi.antnode-1.plist", mk(map[string]any{"Label": "com.autonomi.antnode-1", "Program": "relative", "ProgramArguments": args}), "no absolute path to the binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParsePlist(tt.file, tt.data); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePlist = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestAdopter: the manager lists the plists of its dir for adoption, accepts only wnm's names
// and reads a node id out of a plist's file name.
func TestAdopter(t *testing.T) {
	m, err := New(Options{Mode: gen.ModeUser, UID: 501, PlistDir: mustAbs(t, filepath.Join("testdata", "LaunchAgents"))})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Definitions()
	want, wantErr := ScanPlists(filepath.Join("testdata", "LaunchAgents"))
	if diff := cmp.Diff(want, got); diff != "" || err == nil || err.Error() != wantErr.Error() {
		t.Errorf("Definitions = %v; want ScanPlists' %v (-want +got):\n%s", err, wantErr, diff)
	}
	if err := m.CheckName(gen.Adopted{ID: 7, Service: "com.autonomi.antnode-7.plist"}); err != nil {
		t.Errorf("CheckName(wnm's name) = %v", err)
	}
	if err := m.CheckName(gen.Adopted{ID: 7, Service: "com.autonomi.antnode-007.plist"}); err == nil || err.Error() != "not named as wnm names nodes (com.autonomi.antnode-7.plist)" {
		t.Errorf("CheckName(another name) = %v", err)
	}
	for name, want := range map[string]int{"com.autonomi.antnode-7.plist": 7, "com.autonomi.antnode-12.plist": 12, "antnode0007.service": 0, "com.autonomi.wnm.plist": 0} {
		if id, ok := m.DefinitionID(name); id != want || ok != (want > 0) {
			t.Errorf("DefinitionID(%q) = %d, %v; want %d", name, id, ok, want)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
