package launchd

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"howett.net/plist"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// plistJob is what adoption reads from a plist.
type plistJob struct {
	Label                string            `plist:"Label"`
	Program              string            `plist:"Program"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables"`
	UserName             string            `plist:"UserName"`
}

// ParsePlist reads a node plist that wnm-python or wnm wrote: name is its file name
// (com.autonomi.antnode-7.plist), which gives the node id and must agree with the Label, and
// data its content (XML or binary). ProgramArguments (or Program) is taken apart by
// [gen.ParseArgs]; EnvironmentVariables become Env, sorted by name, and UserName becomes User. A
// plist it cannot read gives an error naming the file; it is never rewritten here.
func ParsePlist(name string, data []byte) (gen.Adopted, error) {
	id, ok := plistID(name)
	if !ok {
		return gen.Adopted{}, fmt.Errorf("plist %q: not a com.autonomi.antnode-<digits>.plist file name", name)
	}
	var j plistJob
	if _, err := plist.Unmarshal(data, &j); err != nil {
		return gen.Adopted{}, fmt.Errorf("plist %s: %w", name, err)
	}
	if want := strings.TrimSuffix(name, ".plist"); j.Label != want {
		return gen.Adopted{}, fmt.Errorf("plist %s: Label %q does not match the file name", name, j.Label)
	}
	argv := j.ProgramArguments
	if j.Program != "" {
		if len(argv) == 0 {
			argv = []string{j.Program}
		} else {
			argv = append([]string{j.Program}, argv[1:]...)
		}
	}
	if len(argv) == 0 {
		return gen.Adopted{}, fmt.Errorf("plist %s: no ProgramArguments", name)
	}
	a, err := gen.ParseArgs(argv)
	if err != nil {
		return gen.Adopted{}, fmt.Errorf("plist %s: ProgramArguments: %w", name, err)
	}
	a.ID, a.Service, a.User = id, name, j.UserName
	for _, k := range slices.Sorted(maps.Keys(j.EnvironmentVariables)) {
		a.Env = append(a.Env, [2]string{k, j.EnvironmentVariables[k]})
	}
	return a, nil
}

// ScanPlists parses every node plist (com.autonomi.antnode-<digits>.plist, a regular file) in
// dir and returns them sorted by id. Plists that cannot be parsed are left out and reported
// together in err, one line per file; the others are returned all the same. A missing dir holds
// no plists.
func ScanPlists(dir string) ([]gen.Adopted, error) {
	return units.ScanDir(dir,
		func(name string) bool { _, ok := plistID(name); return ok },
		func(name string, data []byte) (gen.Adopted, error) { return ParsePlist(name, data) })
}

var _ units.Adopter = (*Manager)(nil)

// Definitions parses the node plists in the manager's plist dir (see [ScanPlists]).
func (m *Manager) Definitions() ([]gen.Adopted, error) { return ScanPlists(m.plistDir) }

// CheckName accepts a plist only under the name wnm gives node a.ID, since the job's label is
// derived from it.
func (m *Manager) CheckName(a gen.Adopted) error {
	if want := gen.PlistName(a.ID); a.Service != want {
		return errors.New("not named as wnm names nodes (" + want + ")")
	}
	return nil
}

// DefinitionID returns the node id of a node plist's file name (com.autonomi.antnode-7.plist is
// node 7).
func (m *Manager) DefinitionID(name string) (int, bool) { return plistID(name) }
