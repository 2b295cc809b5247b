package worker

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// nodeAccount is the account nodes run as in the sudo modes when it exists: anm, antctl and
// wnm-python all use "ant".
const nodeAccount = "ant"

// own hands a node's directories (recursively) to the node account, so the node can write its
// data and logs and replace its own binary when it self-upgrades. Without an ant account (setsid
// then runs nodes as root) or outside the sudo modes there is nothing to do.
func (c *cycle) own(dirs ...string) error {
	a, err := units.NodeAccount(c.Platform.Mode == gen.ModeSudo, nodeAccount)
	if err != nil || a == nil {
		return nil
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, a.UID, a.GID)
		})
		if err != nil {
			return fmt.Errorf("hand %s to %s: %w", dir, a.Name, err)
		}
	}
	return nil
}
