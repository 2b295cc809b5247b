package worker

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/wnm-project/wnm/worker/config"
)

// nodeAccount is the account nodes run as in the sudo modes when it exists: anm, antctl and
// wnm-python all use "ant".
const nodeAccount = "ant"

// nodeOwner returns the uid and gid that a node's files must belong to, and false when they stay
// with the current user (user mode, or no ant account).
func (c *cycle) nodeOwner() (uid, gid int, ok bool) {
	if c.Platform.Mode != config.ModeSudo || os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err := user.Lookup(nodeAccount)
	if err != nil {
		return 0, 0, false
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uid, gid, true
}

// own hands a node's directories (recursively) to the node account, so the node can write its
// data and logs and replace its own binary when it self-upgrades.
func (c *cycle) own(dirs ...string) error {
	uid, gid, ok := c.nodeOwner()
	if !ok {
		return nil
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
		if err != nil {
			return fmt.Errorf("hand %s to %s: %w", dir, nodeAccount, err)
		}
	}
	return nil
}
