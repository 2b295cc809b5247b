package main

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const addr = "0x1234567890abcdef1234567890ABCDEF12345678"

func defaults(mod func(*nodeArgs)) nodeArgs {
	a := nodeArgs{IP: "0.0.0.0", LogOutputDest: "data-dir", LogFormat: "default", NetworkID: 1}
	mod(&a)
	return a
}

func TestParseNodeArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want nodeArgs
	}{
		{
			name: "wnm-python systemd ExecStart",
			args: strings.Fields("--bootstrap-cache-dir /b --root-dir /n/antnode0001 --port 55001 --enable-metrics-server " +
				"--metrics-server-port 13001 --log-output-dest /l/antnode0001 --max-log-files 1 --max-archived-log-files 1 " +
				"--rewards-address " + addr + " evm-arbitrum-one"),
			want: defaults(func(a *nodeArgs) {
				a.BootstrapCacheDir, a.RootDir, a.Port, a.EnableMetrics = "/b", "/n/antnode0001", 55001, true
				a.MetricsPort, a.LogOutputDest, a.MaxLogFiles, a.MaxArchivedLogFiles = 13001, "/l/antnode0001", 1, 1
				a.RewardsAddress, a.EVM = addr, evmArgs{Name: "evm-arbitrum-one"}
			}),
		},
		{
			name: "antctl ExecStart with rpc and stop-on-upgrade",
			args: strings.Fields("--rpc 127.0.0.1:38271 --root-dir /r --log-output-dest /l --bootstrap-cache-dir /c " +
				"--port 12001 --metrics-server-port 13001 --rewards-address " + addr + " --stop-on-upgrade evm-arbitrum-one"),
			want: defaults(func(a *nodeArgs) {
				a.RPC, a.RootDir, a.LogOutputDest, a.BootstrapCacheDir = "127.0.0.1:38271", "/r", "/l", "/c"
				a.Port, a.MetricsPort, a.RewardsAddress, a.StopOnUpgrade = 12001, 13001, addr, true
				a.EVM = evmArgs{Name: "evm-arbitrum-one"}
			}),
		},
		{
			name: "equals form, booleans, repeated peers",
			args: []string{"--rewards-address=" + addr, "--port=0", "--ip=127.0.0.1", "--no-upnp", "--relay", "--first",
				"--local", "--ignore-cache", "--write-older-cache-files", "--peer=/ip4/1.2.3.4/udp/1/quic-v1,/ip4/5.6.7.8/udp/2/quic-v1",
				"--peer", "/ip4/9.9.9.9/udp/3/quic-v1", "--network-contacts-url", "https://a,https://b", "--network-id=2",
				"--log-output-dest=stdout", "--log-format=json"},
			want: defaults(func(a *nodeArgs) {
				a.RewardsAddress, a.IP, a.NoUPnP, a.Relay, a.First, a.Local, a.IgnoreCache = addr, "127.0.0.1", true, true, true, true, true
				a.WriteOlderCache, a.NetworkID, a.LogOutputDest, a.LogFormat = true, 2, "stdout", "json"
				a.Peers = []string{"/ip4/1.2.3.4/udp/1/quic-v1", "/ip4/5.6.7.8/udp/2/quic-v1", "/ip4/9.9.9.9/udp/3/quic-v1"}
				a.NetworkContactsURLs = []string{"https://a", "https://b"}
			}),
		},
		{
			name: "evm-custom with short flags",
			args: []string{"--rewards-address", addr, "evm-custom", "--rpc-url", "http://127.0.0.1:8545", "-p", "0xa", "-d=0xb"},
			want: defaults(func(a *nodeArgs) {
				a.RewardsAddress = addr
				a.EVM = evmArgs{Name: "evm-custom", RPCURL: "http://127.0.0.1:8545", PaymentTokenAddress: "0xa", DataPaymentsAddress: "0xb"}
			}),
		},
		{
			name: "version queries need nothing else",
			args: []string{"--version", "--crate-version", "--package-version", "--protocol-version"},
			want: defaults(func(a *nodeArgs) {
				a.Version, a.CrateVersion, a.PackageVersion, a.ProtocolVersion = true, true, true, true
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNodeArgs(tt.args)
			if err != nil {
				t.Fatalf("parseNodeArgs(%q) error: %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseNodeArgs(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestParseNodeArgsErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // substring of the error
	}{
		{"unknown flag", []string{"--bogus", "1"}, "--bogus"},
		{"unknown flag after subcommand", []string{"evm-arbitrum-one", "--port", "1"}, "--port"},
		{"old --home-network", []string{"--home-network"}, "--home-network"},
		{"missing value", []string{"--port"}, "--port"},
		{"port out of range", []string{"--port", "70000"}, `"70000"`},
		{"bool with value", []string{"--relay=maybe"}, "--relay"},
		{"bad rewards address", []string{"--rewards-address", "0xYOURADDRESS"}, `"0xYOURADDRESS"`},
		{"bad ip", []string{"--ip", "localhost"}, `"localhost"`},
		{"bad log format", []string{"--log-format", "xml"}, `"xml"`},
		{"bad rpc", []string{"--rpc", "127.0.0.1"}, `"127.0.0.1"`},
		{"unknown subcommand", []string{"evm-mainnet"}, `"evm-mainnet"`},
		{"argument after subcommand", []string{"evm-arbitrum-one", "extra"}, `"extra"`},
		{"evm-custom without rpc url", []string{"evm-custom", "-p", "0xa", "-d", "0xb"}, "--rpc-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseNodeArgs(tt.args)
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseNodeArgs(%q) error = %v, want a usage error", tt.args, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseNodeArgs(%q) error = %q, want it to contain %q", tt.args, err, tt.want)
			}
		})
	}
	if _, err := parseNodeArgs([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseNodeArgs(--help) error = %v, want flag.ErrHelp", err)
	}
}

func TestEVMNetworkName(t *testing.T) {
	tests := []struct {
		name    string
		evm     evmArgs
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "arbitrum one", evm: evmArgs{Name: "evm-arbitrum-one"}, want: "ArbitrumOne"},
		{name: "sepolia", evm: evmArgs{Name: "evm-arbitrum-sepolia-test"}, want: "ArbitrumSepoliaTest"},
		{name: "custom", evm: evmArgs{Name: "evm-custom", RPCURL: "http://x"}, want: "Custom(http://x)"},
		{name: "env", env: map[string]string{"EVM_NETWORK": "arbitrum-one"}, want: "ArbitrumOne"},
		{name: "env custom", env: map[string]string{"EVM_NETWORK": "local", "RPC_URL": "http://y"}, want: "Custom(http://y)"},
		{name: "env unknown", env: map[string]string{"EVM_NETWORK": "local"}, wantErr: true},
		{name: "none", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := evmNetworkName(tt.evm, func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("evmNetworkName(%+v) = %q, %v; want %q, error %v", tt.evm, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
