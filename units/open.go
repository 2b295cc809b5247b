package units

import (
	"log/slog"
	"sync"

	"github.com/wnm-project/wnm/gen"
)

// Options are what [Open] passes to every backend; each takes what it needs.
type Options struct {
	// NodeStorage is the directory holding the nodes' antnode<id> directories.
	NodeStorage string
	// NodeAccount is the account nodes run as in sudo mode, when that account exists. The setsid
	// backend starts its nodes under it; the others name the account per node (gen.Node.User).
	NodeAccount string
	// Logger receives the backend's debug lines and warnings; nil discards them.
	Logger *slog.Logger
}

// Opener makes the node manager of one kind, in spec's mode.
type Opener func(spec Spec, o Options) (Manager, error)

var (
	openersMu sync.RWMutex
	openers   = map[Kind]Opener{}
)

// Register makes open the opener of kind. Each backend package registers itself when it is
// initialised, so [Open] knows every backend the program links (cmd/wnm links them all) while
// neither this package nor the worker names one. Registering a kind twice panics.
func Register(kind Kind, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[kind]; dup {
		panic("units: backend " + string(kind) + " registered twice")
	}
	openers[kind] = open
}

// NotAvailableError reports a process manager this build cannot drive.
type NotAvailableError struct{ Manager string }

func (e NotAvailableError) Error() string {
	return "process manager " + e.Manager + " is not available in this version of wnm"
}

// Open returns the node manager spec names, configured with o. A spec whose kind no linked
// backend registered gives a [NotAvailableError].
func Open(spec Spec, o Options) (Manager, error) {
	openersMu.RLock()
	open, ok := openers[spec.Kind]
	openersMu.RUnlock()
	if !ok || (spec.Mode != gen.ModeSudo && spec.Mode != gen.ModeUser) {
		return nil, NotAvailableError{spec.String()}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return open(spec, o)
}

// Adopter is a [Manager] that keeps one definition per node on disk (a systemd unit, a launchd
// plist), so that nodes another tool (anm, wnm-python) set up can be adopted. The setsid manager
// is not one: its nodes are their directories.
type Adopter interface {
	Manager
	// Definitions parses every node definition in the manager's directory and returns them
	// sorted by id. Definitions that cannot be parsed are left out and reported together in err,
	// one line each, naming the file; the others are returned all the same.
	Definitions() ([]gen.Adopted, error)
	// CheckName returns why a definition cannot be adopted under its file name, or nil when it
	// can.
	CheckName(a gen.Adopted) error
	// DefinitionID returns the node id a definition's file name carries (antnode0007.service is
	// node 7), whether or not the file can be parsed.
	DefinitionID(name string) (int, bool)
}
