package gen

import (
	"fmt"
	"strconv"
	"strings"
)

// Adopted is what wnm learns about a node from a service definition another tool (or an older
// wnm) wrote: a systemd unit, a launchd plist. The caller decides whether and how to take the
// node over; nothing here is validated beyond what the command line itself requires.
type Adopted struct {
	ID             int         // from the file name: antnode0007.service and com.autonomi.antnode-7.plist are 7
	Service        string      // the unit or plist file name
	Binary         string      // the executable, argv[0]
	Args           []string    // the whole command line, binary first
	User           string      // User= or UserName; empty when the definition names none
	RootDir        string      // --root-dir
	LogDir         string      // --log-output-dest; empty when absent
	BootstrapCache string      // --bootstrap-cache-dir; empty when absent
	Port           int         // --port
	MetricsPort    int         // --metrics-server-port
	Host           string      // --ip, the listen address; empty when absent
	Wallet         string      // --rewards-address
	Network        string      // the EVM subcommand (evm-arbitrum-one); empty when absent
	NoUPnP         bool        // --no-upnp
	Env            [][2]string // the environment the definition sets, in order
}

// antnodeFlags are the flags of antnode's command line (legacy antnode) plus the
// ones anm units carried in their history (--bootstrap, --owner, --home-network); true means the
// flag takes a value.
var antnodeFlags = map[string]bool{
	"rewards-address": true, "port": true, "ip": true, "root-dir": true, "log-output-dest": true,
	"log-format": true, "max-log-files": true, "max-archived-log-files": true,
	"metrics-server-port": true, "rpc": true, "network-id": true, "peer": true,
	"network-contacts-url": true, "bootstrap-cache-dir": true, "bootstrap": true, "owner": true,
	"enable-metrics-server": false, "no-upnp": false, "relay": false, "home-network": false,
	"stop-on-upgrade": false, "write-older-cache-files": false, "first": false, "local": false,
	"ignore-cache": false, "alpha": false,
}

// networks are antnode's EVM subcommands; everything after one belongs to it.
var networks = map[string]bool{"evm-arbitrum-one": true, "evm-arbitrum-sepolia-test": true, "evm-custom": true}

// ParseArgs reads an antnode command line (binary first) into an [Adopted]: binary, root dir,
// ports, wallet, network, log dir, bootstrap cache, listen address and --no-upnp. It accepts
// "--flag value" and "--flag=value" and every flag antnode has; it fails, naming the argument,
// on an unknown flag, a flag given twice, a missing value, a port that is not a number in
// 1-65535, a stray positional argument, and a command line without a binary, --root-dir, --port,
// --metrics-server-port or --rewards-address.
func ParseArgs(argv []string) (Adopted, error) {
	a := Adopted{Args: append([]string(nil), argv...)}
	if len(argv) == 0 || !strings.HasPrefix(argv[0], "/") {
		return a, fmt.Errorf("command line %q: no absolute path to the binary first", argv)
	}
	a.Binary = argv[0]
	seen := map[string]bool{}
	for i := 1; i < len(argv); i++ {
		arg := argv[i]
		if networks[arg] {
			a.Network = arg
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		takesValue, known := antnodeFlags[name]
		switch {
		case !strings.HasPrefix(arg, "--"):
			return a, fmt.Errorf("command line: unexpected argument %q", arg)
		case !known:
			return a, fmt.Errorf("command line: unknown antnode flag %q", arg)
		case seen[name]:
			return a, fmt.Errorf("command line: flag --%s given twice", name)
		case !takesValue && hasValue:
			return a, fmt.Errorf("command line: flag --%s takes no value (%q)", name, arg)
		case takesValue && !hasValue:
			if i+1 == len(argv) {
				return a, fmt.Errorf("command line: flag --%s has no value", name)
			}
			i++
			value = argv[i]
		}
		seen[name] = true
		var err error
		switch name {
		case "rewards-address":
			a.Wallet = value
		case "port":
			a.Port, err = parsePort(name, value)
		case "metrics-server-port":
			a.MetricsPort, err = parsePort(name, value)
		case "ip":
			a.Host = value
		case "root-dir":
			a.RootDir = value
		case "log-output-dest":
			a.LogDir = value
		case "bootstrap-cache-dir":
			a.BootstrapCache = value
		case "no-upnp":
			a.NoUPnP = true
		}
		if err != nil {
			return a, err
		}
	}
	for _, req := range []struct{ flag, v string }{{"root-dir", a.RootDir}, {"rewards-address", a.Wallet}} {
		if req.v == "" {
			return a, fmt.Errorf("command line: no --%s", req.flag)
		}
	}
	if !strings.HasPrefix(a.RootDir, "/") {
		return a, fmt.Errorf("command line: --root-dir %q is not an absolute path", a.RootDir)
	}
	if a.Port == 0 {
		return a, fmt.Errorf("command line: no --port")
	}
	if a.MetricsPort == 0 {
		return a, fmt.Errorf("command line: no --metrics-server-port")
	}
	return a, nil
}

func parsePort(flag, v string) (int, error) {
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("command line: --%s %q is not a port in 1-65535", flag, v)
	}
	return p, nil
}
