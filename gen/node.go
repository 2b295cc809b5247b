// Package gen renders what wnm writes for the service managers: node unit files, plists and
// command lines, and wnm's own schedule. Rendering is pure and deterministic: typed data in,
// bytes out. It also reads such files back (systemd quoting, antnode command lines) so that
// nodes other tools set up can be adopted. It writes no files, runs nothing and reads no clock.
package gen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Network is the EVM network subcommand every node gets.
const Network = "evm-arbitrum-one"

// Node is everything needed to run one antnode: its identity, paths, ports and options.
type Node struct {
	ID             int    // wnm node id, the port offset
	RootDir        string // --root-dir; holds the node's own copy of the binary
	Binary         string // the node's binary copy, normally <RootDir>/antnode
	LogDir         string // --log-output-dest
	BootstrapCache string // --bootstrap-cache-dir; empty leaves it out
	Port           int    // --port (UDP)
	MetricsPort    int    // --metrics-server-port
	Host           string // address the metrics port is reached on (antnode binds 127.0.0.1)
	Wallet         string // --rewards-address
	NoUPnP         bool   // --no-upnp
	Env            [][2]string
	User           string // system mode: the account the node runs as
	// Unit is the node's systemd unit file name when it is not wnm's antnodeNNNN.service: an
	// adopted anm unit keeps the name it has on disk (antnode013.service). Empty means wnm's.
	Unit string
}

// Name returns the node's name, antnode plus the id padded to four digits (antnode0001), as anm and
// wnm-python name nodes.
func (n Node) Name() string { return fmt.Sprintf("antnode%04d", n.ID) }

// Args returns the node's command line, binary first, as wnm-python's systemd and setsid managers
// pass it, plus --stop-on-upgrade so that a self-upgrade exits and the manager restarts the new binary.
func (n Node) Args() []string {
	args := []string{n.Binary}
	if n.BootstrapCache != "" {
		args = append(args, "--bootstrap-cache-dir", n.BootstrapCache)
	}
	args = append(args,
		"--root-dir", n.RootDir,
		"--port", strconv.Itoa(n.Port),
		"--enable-metrics-server",
		"--metrics-server-port", strconv.Itoa(n.MetricsPort),
		"--log-output-dest", n.LogDir,
		"--max-log-files", "1",
		"--max-archived-log-files", "1",
		"--stop-on-upgrade",
	)
	if n.NoUPnP {
		args = append(args, "--no-upnp")
	}
	return append(args, "--rewards-address", n.Wallet, Network)
}

// Check refuses values that no renderer can carry safely: control characters in any path or value,
// relative paths, and ports outside 1–65535.
func (n Node) Check() error {
	for _, f := range []struct{ name, v string }{{"root dir", n.RootDir}, {"binary", n.Binary}, {"log dir", n.LogDir}, {"bootstrap cache dir", n.BootstrapCache}} {
		if f.v == "" && f.name == "bootstrap cache dir" {
			continue
		}
		if !strings.HasPrefix(f.v, "/") {
			return fmt.Errorf("node %d: %s %q is not an absolute path", n.ID, f.name, f.v)
		}
		if strings.ContainsFunc(f.v, unicode.IsControl) {
			return fmt.Errorf("node %d: %s %q contains a control character", n.ID, f.name, f.v)
		}
	}
	for _, v := range []string{n.Wallet, n.User, n.Host} {
		if strings.ContainsFunc(v, unicode.IsControl) || strings.ContainsRune(v, ' ') {
			return fmt.Errorf("node %d: %q contains a space or control character", n.ID, v)
		}
	}
	for _, kv := range n.Env {
		if strings.ContainsFunc(kv[0]+kv[1], unicode.IsControl) {
			return fmt.Errorf("node %d: environment %s=%q contains a control character", n.ID, kv[0], kv[1])
		}
	}
	for _, p := range []int{n.Port, n.MetricsPort} {
		if p < 1 || p > 65535 {
			return fmt.Errorf("node %d: port %d is outside 1-65535", n.ID, p)
		}
	}
	return nil
}
