package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// nodeArgs is antnode's command line, as far as the fake needs it.
type nodeArgs struct {
	RewardsAddress      string
	Port                uint16
	IP                  string
	MetricsPort         uint16
	EnableMetrics       bool
	RootDir             string
	LogOutputDest       string // "stdout", "data-dir" or a directory
	LogFormat           string // "default" or "json"
	MaxLogFiles         uint
	MaxArchivedLogFiles uint
	BootstrapCacheDir   string
	StopOnUpgrade       bool
	NoUPnP              bool
	Relay               bool
	Peers               []string
	First               bool
	Local               bool
	IgnoreCache         bool
	NetworkContactsURLs []string
	NetworkID           uint8
	RPC                 string
	WriteOlderCache     bool

	Version         bool
	CrateVersion    bool
	PackageVersion  bool
	ProtocolVersion bool

	// EVM is the trailing subcommand, or "" when none was given.
	EVM evmArgs
}

// evmArgs is the EVM network subcommand.
type evmArgs struct {
	Name                  string // evm-arbitrum-one, evm-arbitrum-sepolia-test, evm-custom or ""
	RPCURL                string
	PaymentTokenAddress   string
	DataPaymentsAddress   string
	MerklePaymentsAddress string
}

// usageError is a command-line error; it exits 2, like clap.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

var evmAddress = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)

// listFlag collects a repeatable, comma-separated flag (--peer A,B --peer C).
type listFlag struct{ vals *[]string }

func (l listFlag) String() string {
	if l.vals == nil {
		return ""
	}
	return strings.Join(*l.vals, ",")
}

func (l listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l.vals = append(*l.vals, v)
		}
	}
	return nil
}

// portFlag is a uint16 flag that names the bad value on error.
type portFlag struct{ p *uint16 }

func (f portFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.Itoa(int(*f.p))
}

func (f portFlag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return fmt.Errorf("%q is not a port number (0-65535)", s)
	}
	*f.p = uint16(n)
	return nil
}

type netIDFlag struct{ p *uint8 }

func (f netIDFlag) String() string {
	if f.p == nil {
		return "1"
	}
	return strconv.Itoa(int(*f.p))
}

func (f netIDFlag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return fmt.Errorf("%q is not a network id (0-255)", s)
	}
	*f.p = uint8(n)
	return nil
}

// newFlagSet returns a flag set that reports errors instead of printing or exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseNodeArgs parses antnode's command line: flags in "--flag value" or "--flag=value" form,
// then at most one EVM subcommand with its own flags. Errors are *usageError, or flag.ErrHelp.
func parseNodeArgs(args []string) (nodeArgs, error) {
	a := nodeArgs{LogOutputDest: "data-dir", LogFormat: "default", NetworkID: 1}
	fs := newFlagSet("antnode")
	fs.StringVar(&a.RewardsAddress, "rewards-address", "", "EVM rewards address")
	fs.Var(portFlag{&a.Port}, "port", "UDP node port")
	fs.StringVar(&a.IP, "ip", "0.0.0.0", "listen address")
	fs.Var(portFlag{&a.MetricsPort}, "metrics-server-port", "metrics port")
	fs.BoolVar(&a.EnableMetrics, "enable-metrics-server", false, "serve metrics")
	fs.StringVar(&a.RootDir, "root-dir", "", "data dir")
	fs.StringVar(&a.LogOutputDest, "log-output-dest", "data-dir", "stdout, data-dir or a directory")
	fs.StringVar(&a.LogFormat, "log-format", "default", "default or json")
	fs.UintVar(&a.MaxLogFiles, "max-log-files", 0, "log rotation limit")
	fs.UintVar(&a.MaxArchivedLogFiles, "max-archived-log-files", 0, "archived log limit")
	fs.StringVar(&a.BootstrapCacheDir, "bootstrap-cache-dir", "", "bootstrap cache dir")
	fs.BoolVar(&a.StopOnUpgrade, "stop-on-upgrade", false, "exit 0 after a self-upgrade")
	fs.BoolVar(&a.NoUPnP, "no-upnp", false, "disable UPnP")
	fs.BoolVar(&a.Relay, "relay", false, "relay-client mode")
	fs.Var(listFlag{&a.Peers}, "peer", "bootstrap peer multiaddrs")
	fs.BoolVar(&a.First, "first", false, "first node of a network")
	fs.BoolVar(&a.Local, "local", false, "local network")
	fs.BoolVar(&a.IgnoreCache, "ignore-cache", false, "ignore the bootstrap cache")
	fs.Var(listFlag{&a.NetworkContactsURLs}, "network-contacts-url", "network contacts URLs")
	fs.Var(netIDFlag{&a.NetworkID}, "network-id", "network id")
	fs.StringVar(&a.RPC, "rpc", "", "gRPC admin address IP:PORT")
	fs.BoolVar(&a.WriteOlderCache, "write-older-cache-files", false, "write older cache files")
	fs.BoolVar(&a.Version, "version", false, "print version text")
	fs.BoolVar(&a.CrateVersion, "crate-version", false, "print crate version")
	fs.BoolVar(&a.PackageVersion, "package-version", false, "print package version")
	fs.BoolVar(&a.ProtocolVersion, "protocol-version", false, "print protocol version")
	if err := fs.Parse(args); err != nil {
		return a, flagError(err)
	}
	if a.RewardsAddress != "" && !evmAddress.MatchString(a.RewardsAddress) {
		return a, usagef("invalid value %q for --rewards-address: want 0x and 40 hex digits", a.RewardsAddress)
	}
	if net.ParseIP(a.IP) == nil {
		return a, usagef("invalid value %q for --ip: not an IP address", a.IP)
	}
	switch a.LogFormat {
	case "default", "json":
	default:
		return a, usagef("invalid value %q for --log-format: want default or json", a.LogFormat)
	}
	if a.LogOutputDest == "" {
		return a, usagef("invalid value \"\" for --log-output-dest: want stdout, data-dir or a directory")
	}
	if a.RPC != "" {
		host, port, err := net.SplitHostPort(a.RPC)
		if err != nil || net.ParseIP(host) == nil {
			return a, usagef("invalid value %q for --rpc: want IP:PORT", a.RPC)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return a, usagef("invalid value %q for --rpc: bad port", a.RPC)
		}
	}
	evm, err := parseEVM(fs.Args())
	if err != nil {
		return a, err
	}
	a.EVM = evm
	return a, nil
}

// parseEVM parses the optional trailing EVM subcommand.
func parseEVM(rest []string) (evmArgs, error) {
	if len(rest) == 0 {
		return evmArgs{}, nil
	}
	e := evmArgs{Name: rest[0]}
	fs := newFlagSet(e.Name)
	switch e.Name {
	case "evm-arbitrum-one", "evm-arbitrum-sepolia-test":
	case "evm-custom":
		fs.StringVar(&e.RPCURL, "rpc-url", "", "RPC URL")
		fs.StringVar(&e.PaymentTokenAddress, "payment-token-address", "", "payment token address")
		fs.StringVar(&e.PaymentTokenAddress, "p", "", "payment token address")
		fs.StringVar(&e.DataPaymentsAddress, "data-payments-address", "", "data payments address")
		fs.StringVar(&e.DataPaymentsAddress, "d", "", "data payments address")
		fs.StringVar(&e.MerklePaymentsAddress, "merkle-payments-address", "", "merkle payments address")
	default:
		return e, usagef("unrecognized subcommand %q: want evm-arbitrum-one, evm-arbitrum-sepolia-test or evm-custom", e.Name)
	}
	if err := fs.Parse(rest[1:]); err != nil {
		return e, flagError(err)
	}
	if fs.NArg() > 0 {
		return e, usagef("unexpected argument %q after %s", fs.Arg(0), e.Name)
	}
	if e.Name == "evm-custom" {
		for _, req := range []struct{ flag, val string }{
			{"--rpc-url", e.RPCURL},
			{"--payment-token-address", e.PaymentTokenAddress},
			{"--data-payments-address", e.DataPaymentsAddress},
		} {
			if req.val == "" {
				return e, usagef("evm-custom needs %s", req.flag)
			}
		}
	}
	return e, nil
}

// flagError turns a flag package error into a *usageError that names the flag the antnode way
// ("--flag", not "-flag").
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return usagef("unexpected argument --%s: unknown flag", strings.TrimPrefix(name, "-"))
	}
	return usagef("%s", strings.Replace(msg, " -", " --", 1))
}

// evmNetworkName is the network name antnode prints at start ("EVM network: ArbitrumOne").
// getenv supplies EVM_NETWORK and RPC_URL when no subcommand was given.
func evmNetworkName(e evmArgs, getenv func(string) string) (string, error) {
	name := e.Name
	if name == "" {
		switch v := getenv("EVM_NETWORK"); v {
		case "arbitrum-one":
			name = "evm-arbitrum-one"
		case "arbitrum-sepolia-test", "arbitrum-sepolia":
			name = "evm-arbitrum-sepolia-test"
		case "":
			return "", errors.New("no EVM network: give evm-arbitrum-one, evm-arbitrum-sepolia-test or evm-custom, or set EVM_NETWORK")
		default:
			if getenv("RPC_URL") == "" {
				return "", fmt.Errorf("EVM_NETWORK=%q is not a known network and RPC_URL is not set", v)
			}
			return "Custom(" + getenv("RPC_URL") + ")", nil
		}
	}
	switch name {
	case "evm-arbitrum-one":
		return "ArbitrumOne", nil
	case "evm-arbitrum-sepolia-test":
		return "ArbitrumSepoliaTest", nil
	default:
		return "Custom(" + e.RPCURL + ")", nil
	}
}
