package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Exit codes. Usage errors exit 2, like clap.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usageText = `Usage: antnode [OPTIONS] [COMMAND]

This is fakeantnode, a test double for antnode. It accepts antnode's flags:
  --rewards-address ADDR  --port N  --ip ADDR  --root-dir P
  --enable-metrics-server  --metrics-server-port N  --rpc IP:PORT
  --log-output-dest stdout|data-dir|PATH  --log-format default|json
  --max-log-files N  --max-archived-log-files N  --bootstrap-cache-dir P
  --stop-on-upgrade  --no-upnp  --relay  --peer MA[,MA]  --first  --local
  --ignore-cache  --network-contacts-url U[,U]  --network-id N
  --write-older-cache-files  --version  --crate-version  --package-version
  --protocol-version

Commands:
  evm-arbitrum-one | evm-arbitrum-sepolia-test
  evm-custom --rpc-url U --payment-token-address A --data-payments-address A

Fake-only commands:
  fakeantnode release --version V --out PATH
  fakeantnode fleet --metrics-port-start N --count N [--version V] [--hang-fraction F] [--host H]
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run is the whole program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	if len(args) > 0 && args[0] == "release" {
		return runRelease(args[1:], exe, stderr)
	}

	k, err := parseKnobs(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "fakeantnode: %v\n", err)
		return exitUsage
	}
	v, _, err := resolveVersion(exe, version)
	if err != nil {
		fmt.Fprintf(stderr, "fakeantnode: %v\n", err)
		return exitFailure
	}
	if k.Version != "" {
		v = k.Version
	}

	if len(args) > 0 && args[0] == "fleet" {
		return runFleet(ctx, args[1:], v, stdout, stderr, time.Now)
	}

	a, err := parseNodeArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n\nFor more information, try '--help'.\n", err)
		return exitUsage
	}
	if a.Version {
		fmt.Fprint(stdout, versionText(v, a.NetworkID))
		return exitOK
	}
	if a.RewardsAddress == "" {
		fmt.Fprintln(stderr, "error: no rewards address: antnode needs --rewards-address 0x... to start")
		return exitFailure
	}
	switch {
	case a.CrateVersion:
		fmt.Fprintf(stdout, "Crate version: %s\n", v)
		return exitOK
	case a.PackageVersion:
		fmt.Fprintf(stdout, "Package version: %s\n", packageVersion)
		return exitOK
	case a.ProtocolVersion:
		fmt.Fprintf(stdout, "Network version: %s\n", networkVersion(a.NetworkID))
		return exitOK
	}
	evm, err := evmNetworkName(a.EVM, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailure
	}
	var body []byte
	if k.MetricsFile != "" {
		if body, err = os.ReadFile(k.MetricsFile); err != nil {
			fmt.Fprintf(stderr, "fakeantnode: FAKEANTNODE_METRICS_FILE: %v\n", err)
			return exitUsage
		}
	}
	return runNode(ctx, nodeConfig{
		Args:        a,
		Knobs:       k,
		MetricsBody: body,
		Version:     v,
		EVMNetwork:  evm,
		Exe:         exe,
		Stdout:      stdout,
		Stderr:      stderr,
		Getenv:      getenv,
		Now:         time.Now,
	})
}
