package gen

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/wnm-project/wnm/templates"
)

// RestartSec is how long systemd waits before it restarts a node that exited, after a crash or
// after a self-upgrade (antnode exits 0 with --stop-on-upgrade and Restart=always brings up the
// new binary).
const RestartSec = 10

// UnitName returns the file name of node id's systemd unit, antnode0001.service for id 1: the
// name anm and wnm-python give it, so that migrated fleets keep their units.
func UnitName(id int) string { return fmt.Sprintf("antnode%04d.service", id) }

// systemdUnit is the data of antnode.service.tmpl.
type systemdUnit struct {
	Description      string
	User             string // empty: no User= line
	Env              []envVar
	WorkingDirectory string
	ExecStart        []string
	RestartSec       int
	WantedBy         string
}

type envVar struct{ Key, Value string }

// unsafeExecutable are the characters systemd refuses in an ExecStart= executable ("Executable
// name contains special characters"), plus $, which it does not unescape there.
const unsafeExecutable = `"'\$`

var parsed = sync.OnceValues(templates.Parse)

// SystemdUnit renders node n's systemd unit (antnode.service.tmpl): Type=exec, ExecStart= the
// node's own binary copy and [Node.Args] quoted word by word, Restart=always with [RestartSec],
// one Environment= line per [Node.Env] pair, WorkingDirectory= the root dir, and an [Install]
// section (multi-user.target in sudo mode, default.target in user mode) so that an enabled node
// comes back after a reboot. User= is written in sudo mode only, when [Node.User] is set; user
// units never carry it.
//
// It refuses, with an error naming the value, any node [Node.Check] refuses and any value no
// systemd setting can carry (control characters, invalid UTF-8, bad environment names). The
// result is checked by parsing it back: the command line and environment systemd will read
// are exactly the node's.
func SystemdUnit(n Node, mode Mode) ([]byte, error) {
	if err := checkRender(n, mode); err != nil {
		return nil, err
	}
	if strings.ContainsAny(n.Binary, unsafeExecutable) {
		return nil, fmt.Errorf("node %d: binary %q: systemd runs no executable whose path holds a quote, a backslash or a $", n.ID, n.Binary)
	}
	d := systemdUnit{
		Description:      n.Name(),
		WorkingDirectory: n.RootDir,
		ExecStart:        n.Args(),
		RestartSec:       RestartSec,
		WantedBy:         "default.target",
	}
	if mode == ModeSudo {
		d.User = n.User
		d.WantedBy = "multi-user.target"
	}
	for _, kv := range n.Env {
		d.Env = append(d.Env, envVar{kv[0], kv[1]})
	}
	tmpl, err := parsed()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, "antnode.service.tmpl", d); err != nil {
		return nil, fmt.Errorf("node %d: render %s: %w", n.ID, UnitName(n.ID), err)
	}
	if err := verifyUnit(b.Bytes(), n); err != nil {
		return nil, fmt.Errorf("node %d: rendered %s does not read back: %w", n.ID, UnitName(n.ID), err)
	}
	return b.Bytes(), nil
}

// verifyUnit parses a rendered unit the way systemd reads it and compares the command line and
// environment with the node's.
func verifyUnit(text []byte, n Node) error {
	opts, err := unit.DeserializeOptions(bytes.NewReader(text))
	if err != nil {
		return err
	}
	var exec string
	var env [][2]string
	for _, o := range opts {
		if o.Section != "Service" {
			continue
		}
		switch o.Name {
		case "ExecStart":
			exec = o.Value
		case "Environment":
			kv, err := SplitEnvironment(o.Value)
			if err != nil {
				return err
			}
			env = append(env, kv...)
		}
	}
	argv, err := SplitExec(exec)
	if err != nil {
		return err
	}
	if !slices.Equal(argv, n.Args()) {
		return fmt.Errorf("ExecStart reads back as %q, want %q", argv, n.Args())
	}
	if !slices.Equal(env, n.Env) {
		return fmt.Errorf("unit Environment= reads back as %q, want %q", env, n.Env)
	}
	return nil
}
