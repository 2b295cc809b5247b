package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrImmutable is wrapped by [Resolved.Changes] when a supplied value would change a setting that is
// fixed once the machine is initialised.
var ErrImmutable = errors.New("cannot change immutable settings on an active machine")

// Change is one persisted setting whose supplied value differs from the database.
type Change struct {
	Name     string
	Old, New string
	From     Origin
}

func (c Change) String() string {
	return fmt.Sprintf("%s: %s -> %s (from %s)", c.Name, c.Old, c.New, c.From.Where)
}

// Changes compares the supplied persisted settings with db (the machine as stored) and returns those
// that differ, in [Settings] order. If any of them is immutable it returns an error wrapping
// [ErrImmutable] that names every such setting with both values, and no changes.
func (r *Resolved) Changes(db *Config) ([]Change, error) {
	var changes []Change
	var fixed []string
	for _, name := range r.Supplied() {
		s, _ := Lookup(name)
		if !s.Persist {
			continue
		}
		old, cur := db.Get(name), r.Get(name)
		if old == cur {
			continue
		}
		if s.Immutable {
			fixed = append(fixed, fmt.Sprintf("%s (trying to change from %s to %s, via %s)", name, old, cur, r.Origins[name].Where))
			continue
		}
		changes = append(changes, Change{Name: name, Old: old, New: cur, From: r.Origins[name]})
	}
	if len(fixed) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrImmutable, strings.Join(fixed, ", "))
	}
	return changes, nil
}
