package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/store"
)

// Adoption is what a cycle does with node definitions (systemd units, launchd plists) that have no
// row: the ones it adopts, the ones it refuses and why, and the ids that new nodes must stay clear
// of because something outside the table holds them.
type Adoption struct {
	Adopt   []store.Node `json:"adopt,omitempty"`
	Refused []Refusal    `json:"refused,omitempty"`
	// Held are the ids of every unit, plist and node directory on the machine (the node manager's
	// and node storage's), adopted, refused or unreadable: new nodes are numbered above them.
	Held []int `json:"held,omitempty"`
	// Above is the highest of them that has no row and is not adopted; 0 when none.
	Above int `json:"above,omitempty"`
	// Reserved are further ids whose node, metrics or RPC port a row or a unit already holds.
	Reserved []int `json:"reserved,omitempty"`
}

// MarshalJSON renders the adopted rows by what identifies them: id, service, ports, wallet,
// user, binary and dirs.
func (a Adoption) MarshalJSON() ([]byte, error) {
	type node struct {
		ID          int    `json:"id"`
		Service     string `json:"service"`
		Port        int    `json:"port"`
		MetricsPort int    `json:"metrics_port"`
		Wallet      string `json:"wallet"`
		User        string `json:"user"`
		Binary      string `json:"binary"`
		RootDir     string `json:"root_dir"`
		LogDir      string `json:"log_dir,omitempty"`
		Age         int64  `json:"age"`
	}
	out := struct {
		Adopt    []node    `json:"adopt,omitempty"`
		Refused  []Refusal `json:"refused,omitempty"`
		Held     []int     `json:"held,omitempty"`
		Above    int       `json:"above,omitempty"`
		Reserved []int     `json:"reserved,omitempty"`
	}{Refused: a.Refused, Held: a.Held, Above: a.Above, Reserved: a.Reserved}
	for _, n := range a.Adopt {
		out.Adopt = append(out.Adopt, node{n.ID, n.Service, n.Port, n.MetricsPort, n.Wallet, n.User, n.Binary, n.RootDir, n.LogDir, n.Age})
	}
	return json.Marshal(out)
}

// Refusal is a node definition a cycle leaves alone, with the reason.
type Refusal struct {
	Service string `json:"service"`
	Node    int    `json:"node,omitempty"`
	Reason  string `json:"reason"`
}

// scanNodes returns the node definitions the service manager holds: systemd units or launchd
// plists, through [units.Adopter]. The setsid manager has none (its nodes are found by their
// directories).
func (c *cycle) scanNodes() ([]gen.Adopted, error) {
	if a, ok := c.manager().(units.Adopter); ok {
		return a.Definitions()
	}
	return nil, nil
}

// manager is the node manager whose definitions a cycle scans: the scanner when the cycle must
// not drive the real one (plan), else the cycle's own.
func (c *cycle) manager() units.Manager {
	if c.scanner != nil {
		return c.scanner
	}
	return c.Manager
}

// definitionID returns the node id a definition's file name carries, or 0.
func (c *cycle) definitionID(name string) int {
	if a, ok := c.manager().(units.Adopter); ok {
		if id, ok := a.DefinitionID(name); ok {
			return id
		}
	}
	return 0
}

var nodeDir = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^antnode(\d{1,6})$`) })

// heldIDs returns the ids of every node the machine holds outside the table, as the node manager
// finds them (unit files and plists, whether wnm can parse them or not; setsid's node
// directories) and as antnode<N> directories in node storage (anm's three-digit antnode013
// included), sorted.
func (c *cycle) heldIDs(ctx context.Context, found []gen.Adopted) []int {
	var ids []int
	discovered, err := c.manager().Discover(ctx)
	if err != nil && !errors.Is(err, errNoManager) {
		c.Logger.Warn("cannot list the node manager's nodes; new ids may meet one", "err", err)
	}
	ids = append(ids, discovered...)
	for _, a := range found {
		ids = append(ids, a.ID)
	}
	if ents, err := os.ReadDir(c.Config.NodeStorage); err == nil {
		for _, e := range ents {
			if m := nodeDir().FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
				id, _ := strconv.Atoi(m[1])
				ids = append(ids, id)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		c.Logger.Warn("cannot list node storage; new ids may meet a node directory", "dir", c.Config.NodeStorage, "err", err)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// scanAdoption finds the node definitions without a row and decides, without writing, which are
// adopted. A definition is refused when another definition claims the same id, when a row already
// has its id under another name, when its ports belong to another node, or when it cannot be
// parsed. systemd units are adopted under the name they have on disk, anm's three-digit
// antnode013.service included; launchd plists only under wnm's names. It also collects what new
// ids must stay clear of: every id a definition or node directory holds, and the ids whose ports
// a row or definition holds.
func (c *cycle) scanAdoption(ctx context.Context) Adoption {
	var ad Adoption
	found, err := c.scanNodes()
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			name := definitionName(line)
			ad.Refused = append(ad.Refused, Refusal{Service: name, Node: c.definitionID(name), Reason: line})
		}
	}
	perID := map[int]int{}
	for _, a := range found {
		perID[a.ID]++
	}
	portOwner := map[int]int{}
	for _, n := range c.nodes {
		portOwner[n.Port], portOwner[n.MetricsPort] = n.ID, n.ID
	}
	refuse := func(a gen.Adopted, why string) {
		ad.Refused = append(ad.Refused, Refusal{Service: a.Service, Node: a.ID, Reason: why})
	}
	for _, a := range found {
		if row, ok := c.nodes[a.ID]; ok {
			if row.Service != a.Service {
				refuse(a, fmt.Sprintf("node %d is already %s", a.ID, row.Service))
			}
			continue
		}
		if perID[a.ID] > 1 {
			refuse(a, fmt.Sprintf("another definition also claims node %d", a.ID))
			continue
		}
		if err := c.manager().(units.Adopter).CheckName(a); err != nil {
			refuse(a, err.Error())
			continue
		}
		if id, ok := portOwner[a.Port]; ok {
			refuse(a, fmt.Sprintf("its port %d belongs to node %d", a.Port, id))
			continue
		}
		if id, ok := portOwner[a.MetricsPort]; ok {
			refuse(a, fmt.Sprintf("its metrics port %d belongs to node %d", a.MetricsPort, id))
			continue
		}
		portOwner[a.Port], portOwner[a.MetricsPort] = a.ID, a.ID
		ad.Adopt = append(ad.Adopt, c.adoptedRow(a))
	}

	ad.Held = c.heldIDs(ctx, found)
	taken := func(id int) bool {
		_, row := c.nodes[id]
		return row || slices.Contains(ad.Held, id)
	}
	for _, id := range ad.Held {
		if _, row := c.nodes[id]; !row && !slices.ContainsFunc(ad.Adopt, func(n store.Node) bool { return n.ID == id }) {
			ad.Above = max(ad.Above, id)
		}
	}
	// The ports rows and definitions hold, whatever id they were written for.
	var ports []int
	for _, n := range c.nodes {
		ports = append(ports, n.Port, n.MetricsPort, n.RPCPort)
	}
	for _, a := range found {
		ports = append(ports, a.Port, a.MetricsPort, rpcPort(a.Args))
	}
	for _, id := range c.portIDs(ports) {
		if !taken(id) {
			ad.Reserved = append(ad.Reserved, id)
		}
	}
	slices.Sort(ad.Reserved)
	ad.Reserved = slices.Compact(ad.Reserved)
	return ad
}

// rpcPort returns the port of a node command line's --rpc address (--rpc 127.0.0.1:30013 or
// --rpc=…), or 0.
func rpcPort(args []string) int {
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "--rpc=")
		if !ok && a == "--rpc" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if !ok {
			continue
		}
		if _, p, err := net.SplitHostPort(v); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				return n
			}
		}
	}
	return 0
}

// definitionName picks the file name out of a scan error ("unit antnode0009.service: …").
func definitionName(line string) string {
	for _, f := range strings.Fields(line) {
		f = strings.TrimSuffix(strings.Trim(f, `"`), ":")
		if strings.HasSuffix(f, ".service") || strings.HasSuffix(f, ".plist") {
			return filepath.Base(f)
		}
	}
	return ""
}

// adopt records the node definitions scanAdoption accepted, so an anm or wnm-python machine is
// taken over without losing a node, and reports the refused ones, which are left untouched. The
// survey that follows finds the adopted nodes' state; none is restarted.
func (c *cycle) adopt(ctx context.Context, ad Adoption) {
	for _, r := range ad.Refused {
		c.Logger.Warn("node definition left alone", "service", r.Service, "node", r.Node, "reason", r.Reason)
	}
	if len(ad.Adopt) == 0 {
		return
	}
	err := c.write(ctx, func(w *store.Writer) error {
		for _, n := range ad.Adopt {
			if err := w.InsertNode(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.Logger.Error("adopting nodes", "err", err)
		return
	}
	for _, n := range ad.Adopt {
		c.nodes[n.ID] = n
		c.Logger.Info("adopted node", "node", n.ID, "service", n.Service, "port", n.Port, "metrics_port", n.MetricsPort, "root_dir", n.RootDir)
	}
}

// adoptedRow is the node row for a definition found on the machine. Its age is its secret-key's
// mtime, as wnm-python takes it, or now.
func (c *cycle) adoptedRow(a gen.Adopted) store.Node {
	return AdoptedRow(a, c.Now(), c.Config.ProcessManager, c.Config.Host)
}

// AdoptedRow is the node row for a node definition another tool wrote: its unit or plist name,
// binary, user, root and log dirs, ports, wallet, network and environment as written, status
// STOPPED until the survey sees it (a running node is not restarted), and its age from the
// secret-key's mtime (now when there is none).
func AdoptedRow(a gen.Adopted, now time.Time, manager, host string) store.Node {
	age := now.Unix()
	if fi, err := os.Stat(filepath.Join(a.RootDir, "secret-key")); err == nil {
		age = fi.ModTime().Unix()
	}
	network := a.Network
	if network == "" {
		network = gen.Network
	}
	owner := a.User
	if owner == "" {
		owner = nodeAccount
	}
	var env []string
	for _, kv := range a.Env {
		env = append(env, kv[0]+"="+kv[1])
	}
	noUPnP := 0
	if a.NoUPnP {
		noUPnP = 1
	}
	return store.Node{
		ID: a.ID, MachineID: 1, ManagerType: manager, NodeName: fmt.Sprintf("%04d", a.ID),
		Service: a.Service, User: owner, Binary: a.Binary, RootDir: a.RootDir, LogDir: a.LogDir,
		Port: a.Port, MetricsPort: a.MetricsPort, RPCPort: 0, Network: network, Wallet: a.Wallet,
		Status: store.StatusStopped, Timestamp: now.Unix(), Age: age, Host: host,
		Method: manager, Layout: "1", Environment: strings.Join(env, " "), Rewards: "0",
		NoUPnP: &noUPnP,
	}
}
