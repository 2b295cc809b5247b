package gen

import (
	"fmt"

	"github.com/wnm-project/wnm/templates"
)

// Mode is how wnm runs its nodes, which decides where and for whom their services are written.
type Mode string

const (
	// ModeSudo is wnm running as root: nodes are system services (systemd system units,
	// launchd daemons) that run as [Node.User].
	ModeSudo Mode = "sudo"
	// ModeUser is wnm running as an ordinary user: nodes are that user's services (systemd user
	// units, launchd agents) and [Node.User] is ignored.
	ModeUser Mode = "user"
)

func (m Mode) check() error {
	if m != ModeSudo && m != ModeUser {
		return fmt.Errorf("mode %q: want sudo or user", string(m))
	}
	return nil
}

// isUserName accepts the account names systemd accepts without a warning (its strict rules):
// a letter or underscore, then up to 30 letters, digits, underscores and dashes.
func isUserName(u string) bool {
	if u == "" || len(u) > 31 || u[0] == '-' || u[0] >= '0' && u[0] <= '9' {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'; !ok {
			return false
		}
	}
	return true
}

// checkRender refuses a node that no renderer can carry: everything [Node.Check] refuses, plus
// environment names that are not NAME (letter or underscore, then letters, digits, underscores),
// values that are not valid UTF-8, and, in sudo mode, an account name systemd would not take.
func checkRender(n Node, mode Mode) error {
	if err := mode.check(); err != nil {
		return fmt.Errorf("node %d: %w", n.ID, err)
	}
	if err := n.Check(); err != nil {
		return err
	}
	if n.ID < 0 {
		return fmt.Errorf("node %d: negative id", n.ID)
	}
	for _, kv := range n.Env {
		if _, err := templates.SystemdEnv(kv[0], kv[1]); err != nil {
			return fmt.Errorf("node %d: environment: %w", n.ID, err)
		}
	}
	for _, a := range n.Args() {
		if _, err := templates.SystemdExecArg(a); err != nil {
			return fmt.Errorf("node %d: %w", n.ID, err)
		}
	}
	if mode == ModeSudo && n.User != "" && !isUserName(n.User) {
		return fmt.Errorf("node %d: user name %q is not a letter or underscore followed by up to 30 letters, digits, underscores or dashes", n.ID, n.User)
	}
	return nil
}
