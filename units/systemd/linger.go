package systemd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"

	"github.com/wnm-project/wnm/units/run"
)

// lingerDir is where logind records the users whose user manager runs without a session
// (loginctl enable-linger). Tests point it elsewhere.
var lingerDir = "/var/lib/systemd/linger"

// Lingering reports whether logind keeps name's user manager running without a login session,
// so that the user's units start at boot and survive logout.
func Lingering(name string) (bool, error) {
	_, err := os.Stat(filepath.Join(lingerDir, name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("check lingering of %s: %w", name, err)
}

// EnsureLinger makes sure user's (the current user's, when empty) systemd user manager runs
// without a login session: without lingering, user units stop at logout and do not start at
// boot. When lingering is off it runs "loginctl enable-linger <user>" through r, which logind
// permits for one's own account on most systems (polkit) and always for root.
//
// enabled reports whether lingering is on now. When it is not, hint is the exact command the
// operator must run ("sudo loginctl enable-linger alice") and err says why wnm could not do it
// itself; callers log both and carry on, since nodes run fine until the user logs out.
func EnsureLinger(ctx context.Context, r run.Runner, name string) (enabled bool, hint string, err error) {
	if name == "" {
		u, err := user.Current()
		if err != nil {
			return false, "", fmt.Errorf("lingering: current user: %w", err)
		}
		name = u.Username
	}
	hint = "loginctl enable-linger " + name
	if os.Geteuid() != 0 {
		hint = "sudo " + hint
	}
	on, err := Lingering(name)
	if err != nil {
		return false, hint, err
	}
	if on {
		return true, "", nil
	}
	if r == nil {
		r = run.Exec()
	}
	if _, err := run.Checked(ctx, r, "loginctl", "enable-linger", name); err != nil {
		return false, hint, fmt.Errorf("enable lingering for %s: %w", name, err)
	}
	return true, "", nil
}
