package systemd

import (
	"fmt"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// ParseUnit reads a node unit that anm, wnm-python or wnm wrote: name is its file name
// (antnode0007.service, or anm's older antnode007.service), which gives the node id, and text
// its content. It reads User=, every Environment= line (an empty one resets the list, as in
// systemd) and the last ExecStart=, whose command line [gen.ParseArgs] takes apart: binary, root
// dir, ports, wallet, network and log dir. A unit it cannot read gives an error naming the file
// and what is wrong; it is never rewritten here.
func ParseUnit(name, text string) (gen.Adopted, error) {
	id, ok := unitID(name)
	if !ok {
		return gen.Adopted{}, fmt.Errorf("unit %q: not an antnode<digits>.service file name", name)
	}
	opts, err := unit.DeserializeOptions(strings.NewReader(text))
	if err != nil {
		return gen.Adopted{}, fmt.Errorf("unit %s: %w", name, err)
	}
	var exec, usr string
	var env [][2]string
	for _, o := range opts {
		if o.Section != "Service" {
			continue
		}
		switch o.Name {
		case "ExecStart":
			exec = o.Value
		case "User":
			usr = o.Value
		case "Environment":
			if strings.TrimSpace(o.Value) == "" {
				env = nil
				continue
			}
			kv, err := gen.SplitEnvironment(o.Value)
			if err != nil {
				return gen.Adopted{}, fmt.Errorf("unit %s: %w", name, err)
			}
			env = append(env, kv...)
		}
	}
	if strings.TrimSpace(exec) == "" {
		return gen.Adopted{}, fmt.Errorf("unit %s: no ExecStart= in [Service]", name)
	}
	argv, err := gen.SplitExec(exec)
	if err != nil {
		return gen.Adopted{}, fmt.Errorf("unit %s: %w", name, err)
	}
	a, err := gen.ParseArgs(argv)
	if err != nil {
		return gen.Adopted{}, fmt.Errorf("unit %s: ExecStart: %w", name, err)
	}
	a.ID, a.Service, a.User, a.Env = id, name, usr, env
	return a, nil
}

// ScanUnits parses every node unit (antnode<digits>.service, a regular file) in dir and returns
// them sorted by id. Units that cannot be parsed are left out of nodes and reported together in err, one
// line per file; the others are returned all the same. A missing dir holds no units.
func ScanUnits(dir string) ([]gen.Adopted, error) {
	return units.ScanDir(dir,
		func(name string) bool { _, ok := unitID(name); return ok },
		func(name string, data []byte) (gen.Adopted, error) { return ParseUnit(name, string(data)) })
}

var _ units.Adopter = (*Manager)(nil)

// Definitions parses the node units in the manager's unit dir (see [ScanUnits]).
func (m *Manager) Definitions() ([]gen.Adopted, error) { return ScanUnits(m.unitDir) }

// CheckName accepts every node unit name: a unit is adopted under the name it has on disk, anm's
// three-digit antnode013.service included.
func (m *Manager) CheckName(gen.Adopted) error { return nil }

// DefinitionID returns the node id of a node unit's file name (see [UnitID]).
func (m *Manager) DefinitionID(name string) (int, bool) { return unitID(name) }
