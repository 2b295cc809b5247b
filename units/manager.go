// Package units integrates with service managers: it registers, starts, stops, inspects and
// discovers antnode processes through one [Manager] interface, so the worker cycle can drive setsid
// today and systemd or launchd later without knowing which one it talks to. It must not decide
// anything: which node to start, stop or remove, and when, is the decision engine's job; a manager
// only carries out what it is told and reports what it sees. It does not parse metrics either (the
// survey checks the metrics port).
package units

import (
	"context"
	"fmt"

	"github.com/wnm-project/wnm/gen"
)

// State is what a [Manager] observes about one node's process.
type State int

const (
	// Unknown means the manager could not tell whether the node runs.
	Unknown State = iota
	// Running means the node's own process is alive.
	Running
	// Stopped means no process of the node is alive.
	Stopped
)

// String returns the lowercase name of the state, such as "running".
func (s State) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Running:
		return "running"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is one observation of a node's process.
type Status struct {
	State  State
	PID    int    // the node's process id when Running, else 0
	Detail string // why the manager chose State, for logs and reports ("pid file missing")
}

// Manager is a node manager backend: setsid, systemd or launchd, each in user or sudo mode. Every
// method that takes a node refuses a node whose [gen.Node.Check] fails. Methods are safe to call
// again after success: Start on a running node and Stop on a stopped node succeed without doing
// anything.
type Manager interface {
	// Name returns the manager's spec string, base plus mode, such as "setsid+user".
	Name() string
	// Create registers the node with the service manager (a unit file, a plist; nothing for setsid).
	// The node's directories and binary copy are already in place.
	Create(ctx context.Context, n gen.Node) error
	// Start starts the node; a node that already runs is success.
	Start(ctx context.Context, n gen.Node) error
	// Stop stops the node; a node that is not running is success.
	Stop(ctx context.Context, n gen.Node) error
	// Remove stops the node and unregisters it. It never deletes the node's directory: the caller
	// does that, with its own safety checks.
	Remove(ctx context.Context, n gen.Node) error
	// Status reports whether the node's own process runs, and its pid.
	Status(ctx context.Context, n gen.Node) (Status, error)
	// Discover returns the ids of the nodes this manager finds on the machine, sorted ascending,
	// whether their definitions can be read or not: a cycle numbers new nodes above them.
	Discover(ctx context.Context) ([]int, error)
}
