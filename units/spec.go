package units

import (
	"fmt"
	"strings"

	"github.com/wnm-project/wnm/gen"
)

// Kind is the service manager a node manager drives.
type Kind string

// The kinds of node manager wnm has.
const (
	Systemd Kind = "systemd"
	Setsid  Kind = "setsid"
	Launchd Kind = "launchd"
)

// Spec is a process_manager setting taken apart: the kind of manager and the mode it runs in
// (sudo: system services, nodes under their own account; user: the current user's). It is
// spelled "<kind>+<mode>", as wnm-python spells it: "systemd+sudo", "setsid+user".
type Spec struct {
	Kind Kind
	Mode gen.Mode
}

// Specs lists the process managers wnm drives, in the order help and errors list them.
var Specs = []Spec{
	{Systemd, gen.ModeSudo}, {Systemd, gen.ModeUser},
	{Setsid, gen.ModeSudo}, {Setsid, gen.ModeUser},
	{Launchd, gen.ModeSudo}, {Launchd, gen.ModeUser},
}

// String returns the spec as process_manager spells it, such as "systemd+user".
func (s Spec) String() string { return string(s.Kind) + "+" + string(s.Mode) }

// Sudo reports whether the spec is a sudo mode.
func (s Spec) Sudo() bool { return s.Mode == gen.ModeSudo }

// SpecNames returns [Specs] as strings.
func SpecNames() []string {
	names := make([]string, len(Specs))
	for i, s := range Specs {
		names[i] = s.String()
	}
	return names
}

// ParseSpec parses a process_manager value. Only the spellings in [Specs] are accepted: the value
// is compared whole, without trimming or case folding, as the database stores it. An unknown value
// is an error that quotes it and lists the accepted ones.
func ParseSpec(s string) (Spec, error) {
	for _, sp := range Specs {
		if s == sp.String() {
			return sp, nil
		}
	}
	return Spec{}, fmt.Errorf("%q is not one of %s", s, strings.Join(SpecNames(), ", "))
}

// DetectMode returns the mode a process manager name implies, and whether it implies one. It is
// wnm-python's start-up rule, which reads the mode out of any manager name, including those wnm
// does not drive (antctl+sudo, antctl+zen): a name containing "+sudo" is sudo; one containing
// "+user" or "+zen" (antctl's zen manager, which always runs as the user) is user.
func DetectMode(pm string) (gen.Mode, bool) {
	switch {
	case strings.Contains(pm, "+sudo"):
		return gen.ModeSudo, true
	case strings.Contains(pm, "+user"), strings.Contains(pm, "+zen"):
		return gen.ModeUser, true
	}
	return "", false
}
