// Package anm reads an anm installation (the bash node manager that runs /usr/bin/anms.sh from
// /etc/cron.d/anm) so that wnm can take it over: anm's settings mapped to wnm's, its node units,
// and the state of its cron job and lock. Reading changes nothing; [Takeover.DisableCron] is the
// one step that writes, and it is reversible.
//
// Every path is resolved under a root prefix, so tests read fixture trees and never the host's
// /etc or /var.
package anm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units/systemd"
)

// The files anm keeps, as absolute paths on the host.
const (
	DirAntctl    = "/var/antctl"
	FileSystem   = "/var/antctl/system"
	FileConfig   = "/var/antctl/config"
	FileOverride = "/var/antctl/override"
	FileBlock    = "/var/antctl/block"
	FileScript   = "/usr/bin/anms.sh"
	DirUnits     = "/etc/systemd/system"
	FileCron     = "/etc/cron.d/anm"
	// FileCronDisabled is where the takeover moves anm's cron file: cron ignores files in
	// /etc/cron.d whose names contain a dot, so anm stops running, and moving it back undoes it.
	FileCronDisabled = "/etc/cron.d/anm.disabled-by-wnm"
)

// Setting is one anm value mapped to a wnm setting.
type Setting struct {
	Name   string // the wnm setting (node_cap, delay_start, …)
	Value  string // the value in wnm's terms (seconds for delays)
	Key    string // anm's key, or what the value was detected from
	Raw    string // anm's value as written
	Source string // file:line, or the unit it was detected from
	Note   string // the conversion, when there is one ("5 minutes × 60")
}

// Ignored is an anm value that has no wnm equivalent; it is reported, not dropped silently.
type Ignored struct {
	Key, Raw, Source, Why string
}

// Node is an anm node unit that can be adopted.
type Node struct {
	gen.Adopted
	Age time.Time // mtime of <root dir>/secret-key, or zero when there is none
}

// Refused is a node unit (or directory) that is not adopted, with the reason.
type Refused struct {
	Service string
	ID      int
	Reason  string
	Ports   []int // the node and metrics ports its command line holds, when it could be read
}

// Takeover is what taking over an anm installation would do.
type Takeover struct {
	Root     string // the prefix every path was read under ("" or "/" is the host)
	Settings []Setting
	Ignored  []Ignored
	Nodes    []Node
	Refused  []Refused
	// KnownIDs are the node ids seen anywhere (units, adopted or not, and directories in
	// NodeStorage); new nodes are numbered above all of them.
	KnownIDs []int
	// CronPresent says whether /etc/cron.d/anm exists (and will be moved aside); CronDisabled
	// whether an earlier takeover already moved it to FileCronDisabled.
	CronPresent, CronDisabled bool
	// NoUPnPMixed is set when some units pass --no-upnp and others do not; wnm's setting is
	// machine-wide, and is set when any unit has it.
	NoUPnPMixed bool
}

// ErrNotAnm means there is no anm installation under the root.
var ErrNotAnm = errors.New("no anm installation found")

// BlockedError means anm's lock file exists: a run is in progress (or died and left it).
type BlockedError struct{ Path string }

func (e BlockedError) Error() string {
	return fmt.Sprintf("anm is running or was interrupted: its lock file %s exists; wait for the run to finish "+
		"(if no anms.sh runs, remove the file) and try again", e.Path)
}

// path maps a host path under the root prefix.
func path(root, p string) string {
	if root == "" || root == "/" {
		return p
	}
	return filepath.Join(root, p)
}

// Path is the host path p under root.
func Path(root, p string) string { return path(root, p) }

// anmKey maps anm's config keys to wnm settings; scale multiplies the value (anm's delays are in
// minutes, wnm's in seconds).
var anmKeys = []struct {
	key, setting string
	minutes      bool
}{
	{"NodeCap", "node_cap", false},
	{"CpuLessThan", "cpu_less_than", false},
	{"CpuRemove", "cpu_remove", false},
	{"MemLessThan", "mem_less_than", false},
	{"MemRemove", "mem_remove", false},
	{"HDLessThan", "hd_less_than", false},
	{"HDRemove", "hd_remove", false},
	{"DelayStart", "delay_start", true},
	{"DelayReStart", "delay_restart", true},
	{"DelayRestart", "delay_restart", true}, // wnm-python's spelling, in case an operator used it
	{"DelayUpgrade", "delay_upgrade", true},
	{"DelayRemove", "delay_remove", true},
	{"MaxLoadAverageAllowed", "max_load_average_allowed", false},
	{"DesiredLoadAverage", "desired_load_average", false},
	{"NodeStorage", "node_storage", false},
	{"RewardsAddress", "rewards_address", false},
	{"DonateAddress", "donate_address", false},
	{"Host", "host", false},
	{"HDIOReadLessThan", "hdio_read_less_than", false},
	{"HDIOReadRemove", "hdio_read_remove", false},
	{"HDIOWriteLessThan", "hdio_write_less_than", false},
	{"HDIOWriteRemove", "hdio_write_remove", false},
	{"NetIOReadLessThan", "netio_read_less_than", false},
	{"NetIOReadRemove", "netio_read_remove", false},
	{"NetIOWriteLessThan", "netio_write_less_than", false},
	{"NetIOWriteRemove", "netio_write_remove", false},
}

// anmOnly are anm keys with no wnm equivalent, and why.
var anmOnly = map[string]string{
	"NodeVersion":     "wnm upgrades nodes to the antnode at antnode_path; pin a version by installing it there",
	"UpgradeHour":     "wnm has no daily maintenance window; upgrades roll one node at a time, delay_upgrade apart",
	"UpgradeMin":      "wnm has no daily maintenance window; upgrades roll one node at a time, delay_upgrade apart",
	"DiscordUsername": "antnode no longer takes --owner",
	"CpuCount":        "wnm reads the CPU count itself",
	"Action":          "a one-off instruction to anm's next run; wnm has forced actions instead",
}

// value is one KEY=VALUE read from a bash-sourced file.
type value struct {
	raw, source string
}

// readVars reads a bash fragment of KEY=VALUE lines (anm's config, override and system files):
// comments and blank lines are skipped, quotes removed. Lines that are not assignments are ignored.
func readVars(file, shown string, into map[string]value) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "export ")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validKey(k) {
			continue
		}
		v = strings.TrimSpace(v)
		switch {
		case len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && strings.IndexByte(v[1:], v[0]) >= 0:
			v = v[1 : 1+strings.IndexByte(v[1:], v[0])]
		default:
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
		}
		into[k] = value{raw: v, source: fmt.Sprintf("%s:%d", shown, n)}
	}
	return sc.Err()
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if ok := r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9'; !ok {
			return false
		}
	}
	return true
}

var (
	rewardsRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`--rewards-address[= ]+"?([0-9A-Za-z]+)`) })
	ntprRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*ntpr=(\d+)`) })
)

// Read reads the anm installation under root. It fails with [ErrNotAnm] when there is none and
// with a [BlockedError] while anm's lock file exists; it writes nothing.
func Read(root string) (*Takeover, error) {
	t := &Takeover{Root: root}
	if _, err := os.Stat(path(root, FileSystem)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist", ErrNotAnm, path(root, FileSystem))
		}
		return nil, err
	}
	if _, err := os.Stat(path(root, FileBlock)); err == nil {
		return nil, BlockedError{Path: path(root, FileBlock)}
	}
	vars := map[string]value{}
	for _, f := range []string{FileSystem, FileConfig, FileOverride} {
		// Sourced in this order by anms.sh: the override wins.
		err := readVars(path(root, f), f, vars)
		optionalMissing := errors.Is(err, fs.ErrNotExist) && f != FileConfig
		if err != nil && !optionalMissing {
			return nil, fmt.Errorf("read anm's %s: %w", f, err)
		}
	}
	if err := t.mapSettings(vars); err != nil {
		return nil, err
	}
	if err := t.readUnits(); err != nil {
		return nil, err
	}
	t.detectPorts(vars)
	if _, err := os.Stat(path(root, FileCron)); err == nil {
		t.CronPresent = true
	}
	if _, err := os.Stat(path(root, FileCronDisabled)); err == nil {
		t.CronDisabled = true
	}
	return t, nil
}

func (t *Takeover) mapSettings(vars map[string]value) error {
	cpus := 0
	if v, ok := vars["CpuCount"]; ok {
		cpus, _ = strconv.Atoi(v.raw)
	}
	for _, k := range anmKeys {
		v, ok := vars[k.key]
		if !ok {
			continue
		}
		s := Setting{Name: k.setting, Key: k.key, Raw: v.raw, Source: v.source, Value: v.raw}
		switch {
		case k.minutes:
			m, err := strconv.Atoi(v.raw)
			if err != nil || m < 0 {
				return fmt.Errorf("anm's %s=%q (%s) is not a whole number of minutes", k.key, v.raw, v.source)
			}
			// anm forces these on machines with 24 or more CPUs, whatever the file says.
			if cpus >= 24 && (k.key == "DelayStart" || k.key == "DelayUpgrade") {
				m = 5
				s.Note = "anm uses 5 minutes on machines with 24 or more CPUs; "
			}
			s.Value = strconv.Itoa(m * 60)
			s.Note += fmt.Sprintf("%d minutes × 60", m)
		case k.key == "RewardsAddress":
			addr := v.raw
			if m := rewardsRe().FindStringSubmatch(v.raw); m != nil {
				addr = m[1]
				s.Note = "taken from the --rewards-address fragment"
			}
			if strings.ContainsAny(addr, " \t") || addr == "" {
				return fmt.Errorf("anm's RewardsAddress=%q (%s) holds no address", v.raw, v.source)
			}
			s.Value = addr
		}
		t.Settings = append(t.Settings, s)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if why, ok := anmOnly[k]; ok {
			v := vars[k]
			t.Ignored = append(t.Ignored, Ignored{Key: k, Raw: v.raw, Source: v.source, Why: why})
		}
	}
	return nil
}

// readUnits parses every antnode<digits>.service in the unit directory, in every format anm wrote
// (3 and 4 digits), and the node directories under NodeStorage.
func (t *Takeover) readUnits() error {
	dir := path(t.Root, DirUnits)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	known := map[int]bool{}
	var found []gen.Adopted
	for _, e := range entries {
		name := e.Name()
		id, ok := systemd.UnitID(name)
		if !ok {
			continue
		}
		known[id] = true
		if !e.Type().IsRegular() {
			t.Refused = append(t.Refused, Refused{Service: name, ID: id, Reason: "not a regular file"})
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Refused = append(t.Refused, Refused{Service: name, ID: id, Reason: err.Error()})
			continue
		}
		a, err := systemd.ParseUnit(name, string(data))
		if err != nil {
			t.Refused = append(t.Refused, Refused{Service: name, ID: id, Reason: err.Error()})
			continue
		}
		found = append(found, a)
	}
	slices.SortFunc(found, func(a, b gen.Adopted) int { return a.ID - b.ID })
	// Two units for one id, or one port claimed twice: neither is adopted, so wnm never drives
	// a node through the wrong unit.
	byID := map[int]int{}
	byPort := map[int]int{}
	for _, a := range found {
		byID[a.ID]++
		byPort[a.Port]++
		byPort[a.MetricsPort]++
	}
	for _, a := range found {
		switch {
		case byID[a.ID] > 1:
			t.Refused = append(t.Refused, Refused{Service: a.Service, ID: a.ID, Reason: fmt.Sprintf("another unit also claims node %d", a.ID), Ports: []int{a.Port, a.MetricsPort}})
			continue
		case byPort[a.Port] > 1 || byPort[a.MetricsPort] > 1:
			t.Refused = append(t.Refused, Refused{Service: a.Service, ID: a.ID, Reason: fmt.Sprintf("port %d or %d is claimed by another unit too", a.Port, a.MetricsPort), Ports: []int{a.Port, a.MetricsPort}})
			continue
		}
		if fi, err := os.Stat(a.RootDir); err != nil || !fi.IsDir() {
			t.Refused = append(t.Refused, Refused{Service: a.Service, ID: a.ID, Reason: fmt.Sprintf("its root dir %s does not exist", a.RootDir), Ports: []int{a.Port, a.MetricsPort}})
			continue
		}
		n := Node{Adopted: a}
		if fi, err := os.Stat(filepath.Join(a.RootDir, "secret-key")); err == nil {
			n.Age = fi.ModTime()
		}
		t.Nodes = append(t.Nodes, n)
	}
	slices.SortFunc(t.Refused, func(a, b Refused) int { return a.ID - b.ID })
	// Node directories anm made (services/antnodeNNNN) hold identities even without a unit.
	storage := ""
	for _, s := range t.Settings {
		if s.Name == "node_storage" {
			storage = s.Value
		}
	}
	if storage == "" {
		storage = path(t.Root, "/var/antctl/services")
	}
	if ents, err := os.ReadDir(storage); err == nil {
		for _, e := range ents {
			if id, ok := dirID(e.Name()); ok && e.IsDir() {
				known[id] = true
			}
		}
	}
	for id := range known {
		t.KnownIDs = append(t.KnownIDs, id)
	}
	slices.Sort(t.KnownIDs)
	return nil
}

var dirRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^antnode(\d{1,6})$`) })

func dirID(name string) (int, bool) {
	m := dirRe().FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	id, err := strconv.Atoi(m[1])
	return id, err == nil && id > 0
}

// detectPorts sets port_start from anms.sh's ntpr= and, from the units, whatever the script does
// not say: the node and metrics port bases (port − id).
func (t *Takeover) detectPorts(vars map[string]value) {
	if b, err := os.ReadFile(path(t.Root, FileScript)); err == nil {
		if m := ntprRe().FindSubmatch(b); m != nil {
			t.Settings = append(t.Settings, Setting{Name: "port_start", Value: string(m[1]), Key: "ntpr", Raw: string(m[1]), Source: FileScript})
		}
	}
	has := func(name string) bool {
		return slices.ContainsFunc(t.Settings, func(s Setting) bool { return s.Name == name })
	}
	for _, n := range t.Nodes {
		if n.Port > n.ID && (n.Port-n.ID)%1000 == 0 && !has("port_start") {
			t.Settings = append(t.Settings, Setting{Name: "port_start", Value: strconv.Itoa((n.Port - n.ID) / 1000),
				Key: "--port", Raw: strconv.Itoa(n.Port), Source: n.Service, Note: "node port − node id"})
		}
		if n.MetricsPort > n.ID && (n.MetricsPort-n.ID)%1000 == 0 && !has("metrics_port_start") {
			t.Settings = append(t.Settings, Setting{Name: "metrics_port_start", Value: strconv.Itoa((n.MetricsPort - n.ID) / 1000),
				Key: "--metrics-server-port", Raw: strconv.Itoa(n.MetricsPort), Source: n.Service, Note: "metrics port − node id"})
		}
	}
	withUPnP, without := 0, 0
	for _, n := range t.Nodes {
		if n.NoUPnP {
			withUPnP++
		} else {
			without++
		}
	}
	if withUPnP > 0 {
		t.Settings = append(t.Settings, Setting{Name: "no_upnp", Value: "true", Key: "--no-upnp",
			Raw: fmt.Sprintf("in %d of %d units", withUPnP, withUPnP+without), Source: DirUnits})
	}
	t.NoUPnPMixed = withUPnP > 0 && without > 0
}

// Value returns the mapped value of a wnm setting and whether anm supplied one.
func (t *Takeover) Value(name string) (Setting, bool) {
	for i := len(t.Settings) - 1; i >= 0; i-- {
		if t.Settings[i].Name == name {
			return t.Settings[i], true
		}
	}
	return Setting{}, false
}

// DisableCron moves anm's cron file to [FileCronDisabled], where cron does not read it, and
// returns the command that undoes it. A missing cron file is nothing to do.
func (t *Takeover) DisableCron() (undo string, err error) {
	from, to := path(t.Root, FileCron), path(t.Root, FileCronDisabled)
	if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if _, err := os.Lstat(to); err == nil {
		return "", fmt.Errorf("disable anm's cron job: %s already exists; move it away first", to)
	}
	if err := os.Rename(from, to); err != nil {
		return "", fmt.Errorf("disable anm's cron job: %w", err)
	}
	return UndoCron(t.Root), nil
}

// UndoCron is the command that puts anm's cron file back.
func UndoCron(root string) string {
	return "mv " + path(root, FileCronDisabled) + " " + path(root, FileCron)
}
