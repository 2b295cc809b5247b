package gen

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseArgs: no command line (arguments separated by NUL in the fuzz input) panics the node
// argv parser; one it accepts has an absolute binary, a root dir, a wallet and ports in range, and
// parsing its recorded Args again gives the same result. A command line wnm renders parses back to
// the node it came from.
func FuzzParseArgs(f *testing.F) {
	n := Node{ID: 3, RootDir: "/var/antctl/services/antnode0003", Binary: "/var/antctl/services/antnode0003/antnode",
		LogDir: "/var/log/antnode/antnode0003", BootstrapCache: "/var/antctl/bootstrap-cache", Port: 55003,
		MetricsPort: 13003, Wallet: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", NoUPnP: true}
	f.Add(strings.Join(n.Args(), "\x00"))
	f.Add("/a/antnode\x00--root-dir=/a\x00--port=1\x00--metrics-server-port\x002\x00--rewards-address\x00x\x00evm-custom\x00--rpc-url\x00u")
	f.Add("/a\x00--port\x00--port")
	f.Add("relative\x00--root-dir\x00/a")
	f.Fuzz(func(t *testing.T, joined string) {
		argv := strings.Split(joined, "\x00")
		a, err := ParseArgs(argv)
		if err != nil {
			return
		}
		if a.Binary == "" || a.Binary[0] != '/' || a.RootDir == "" || a.Wallet == "" {
			t.Fatalf("%q accepted as %+v", argv, a)
		}
		for _, p := range []int{a.Port, a.MetricsPort} {
			if p < 1 || p > 65535 {
				t.Fatalf("%q accepted port %d", argv, p)
			}
		}
		b, err := ParseArgs(a.Args)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("%q parses to %+v, its Args to %+v (%v)", argv, a, b, err)
		}
	})
	_ = n
}

// TestRenderedArgsParseBack: the command line of any node wnm renders parses back to its fields.
func TestRenderedArgsParseBack(t *testing.T) {
	n := Node{ID: 3, RootDir: "/var/antctl/services/antnode0003", Binary: "/var/antctl/services/antnode0003/antnode",
		LogDir: "/var/log/antnode/antnode0003", BootstrapCache: "/var/antctl/bootstrap-cache", Port: 55003,
		MetricsPort: 13003, Wallet: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", NoUPnP: true}
	a, err := ParseArgs(n.Args())
	if err != nil {
		t.Fatal(err)
	}
	if a.Binary != n.Binary || a.RootDir != n.RootDir || a.LogDir != n.LogDir || a.BootstrapCache != n.BootstrapCache ||
		a.Port != n.Port || a.MetricsPort != n.MetricsPort || a.Wallet != n.Wallet || a.NoUPnP != n.NoUPnP || a.Network != Network {
		t.Errorf("%+v parsed back as %+v", n, a)
	}
}
