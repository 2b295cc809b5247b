package gen

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	anm := strings.Fields("/var/antctl/services/antnode0007/antnode --no-upnp --bootstrap 164.92.111.156:12000 --root-dir /var/antctl/services/antnode0007 --port 55007 --enable-metrics-server --metrics-server-port 13007 --log-output-dest /var/log/antnode/antnode0007 --max-log-files 1 --max-archived-log-files 1 --rewards-address 0xYOURADDRESS evm-arbitrum-one")
	own := node(3, "/srv/my nodes/antnode0003", "/srv/logs/antnode0003", "/srv/cache")
	own.NoUPnP = true
	tests := []struct {
		name    string
		argv    []string
		want    Adopted
		wantErr string
	}{
		{
			name: "anm unit of 2026",
			argv: anm,
			want: Adopted{Binary: anm[0], Args: anm, RootDir: "/var/antctl/services/antnode0007", LogDir: "/var/log/antnode/antnode0007",
				Port: 55007, MetricsPort: 13007, Wallet: "0xYOURADDRESS", Network: "evm-arbitrum-one", NoUPnP: true},
		},
		{
			name: "wnm's own command line",
			argv: own.Args(),
			want: Adopted{Binary: own.Binary, Args: own.Args(), RootDir: own.RootDir, LogDir: own.LogDir, BootstrapCache: "/srv/cache",
				Port: 55003, MetricsPort: 13003, Wallet: testWallet, Network: "evm-arbitrum-one", NoUPnP: true},
		},
		{
			name: "equals form, listen address, custom network",
			argv: []string{"/a/antnode", "--root-dir=/a", "--port=1", "--metrics-server-port=2", "--ip", "10.0.0.1", "--rewards-address=0xa", "evm-custom", "--rpc-url", "http://x"},
			want: Adopted{Binary: "/a/antnode", Args: []string{"/a/antnode", "--root-dir=/a", "--port=1", "--metrics-server-port=2", "--ip", "10.0.0.1", "--rewards-address=0xa", "evm-custom", "--rpc-url", "http://x"},
				RootDir: "/a", Port: 1, MetricsPort: 2, Host: "10.0.0.1", Wallet: "0xa", Network: "evm-custom"},
		},
		{name: "no network", argv: []string{"/a/antnode", "--root-dir", "/a", "--port", "1", "--metrics-server-port", "2", "--rewards-address", "0xa"},
			want: Adopted{Binary: "/a/antnode", Args: []string{"/a/antnode", "--root-dir", "/a", "--port", "1", "--metrics-server-port", "2", "--rewards-address", "0xa"}, RootDir: "/a", Port: 1, MetricsPort: 2, Wallet: "0xa"}},
		{name: "empty", argv: nil, wantErr: "no absolute path to the binary"},
		{name: "relative binary", argv: []string{"antnode", "--port", "1"}, wantErr: "no absolute path to the binary"},
		{name: "unknown flag", argv: []string{"/a/antnode", "--frobnicate", "1"}, wantErr: `unknown antnode flag "--frobnicate"`},
		{name: "stray word", argv: []string{"/a/antnode", "--root-dir", "/a", "oops"}, wantErr: `unexpected argument "oops"`},
		{name: "twice", argv: []string{"/a/antnode", "--port", "1", "--port", "2"}, wantErr: "--port given twice"},
		{name: "missing value", argv: []string{"/a/antnode", "--port"}, wantErr: "--port has no value"},
		{name: "value on a switch", argv: []string{"/a/antnode", "--no-upnp=yes"}, wantErr: "takes no value"},
		{name: "bad port", argv: []string{"/a/antnode", "--port", "55x"}, wantErr: `--port "55x" is not a port`},
		{name: "port too big", argv: []string{"/a/antnode", "--metrics-server-port", "70000"}, wantErr: `"70000" is not a port`},
		{name: "no root dir", argv: []string{"/a/antnode", "--port", "1", "--metrics-server-port", "2", "--rewards-address", "0xa"}, wantErr: "no --root-dir"},
		{name: "relative root dir", argv: []string{"/a/antnode", "--root-dir", "a", "--port", "1", "--metrics-server-port", "2", "--rewards-address", "0xa"}, wantErr: `"a" is not an absolute path`},
		{name: "no wallet", argv: []string{"/a/antnode", "--root-dir", "/a", "--port", "1", "--metrics-server-port", "2"}, wantErr: "no --rewards-address"},
		{name: "no port", argv: []string{"/a/antnode", "--root-dir", "/a", "--metrics-server-port", "2", "--rewards-address", "0xa"}, wantErr: "no --port"},
		{name: "no metrics port", argv: []string{"/a/antnode", "--root-dir", "/a", "--port", "1", "--rewards-address", "0xa"}, wantErr: "no --metrics-server-port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.argv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseArgs(%q) error = %v, want one containing %q", tt.argv, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseArgs(%q): %v", tt.argv, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseArgs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
