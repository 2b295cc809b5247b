package units

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// Account is the account a node runs as, and owns its files as.
type Account struct {
	Name     string
	UID, GID int
}

// NodeAccount returns the account a node's files must belong to: name, when the node runs in a sudo
// mode under its own account and wnm runs as root; nil when there is nothing to change (user mode,
// no account named, or not root). An account that does not exist is an error naming it, since the
// service manager could not start the node either.
func NodeAccount(sudo bool, name string) (*Account, error) {
	if !sudo || name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("node account %q: %w (create it, e.g. useradd --system --no-create-home %s)", name, err, name)
	}
	if os.Geteuid() != 0 {
		return nil, nil
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("node account %q: %w", name, err)
	}
	return &Account{Name: name, UID: uid, GID: gid}, nil
}
