package worker

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wnm-project/wnm/worker/store"
)

// The disk reserve: a file of reserveSize zero bytes beside the database, which wnm deletes when a
// database write fails, so that on a full disk it can still record its intents and carry out the
// removals that free the space (a full disk is what hd_remove is for). The next cycle that ends
// with room to spare writes the file again.
const (
	reserveName = "wnm_reserve"
	reserveSize = 4 << 20
)

func (c *cycle) reservePath() string {
	return filepath.Join(filepath.Dir(c.Config.DBPath), reserveName)
}

// write runs one store transaction. When it fails and the reserve exists, the reserve is released
// and the transaction tried once more.
func (c *cycle) write(ctx context.Context, fn func(*store.Writer) error) error {
	err := c.Store.Write(ctx, fn)
	if err == nil || ctx.Err() != nil {
		return err
	}
	path := c.reservePath()
	if rerr := os.Remove(path); rerr != nil {
		return err
	}
	c.Logger.Warn("a database write failed: released the disk reserve to carry on", "reserve", path, "err", err)
	return c.Store.Write(ctx, fn)
}

// keepReserve writes the reserve when it is missing. A reserve that cannot be written whole (the
// disk is still full) is removed again: it must never be what fills the disk.
func (c *cycle) keepReserve() {
	path := c.reservePath()
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		c.Logger.Debug("cannot write the disk reserve", "reserve", path, "err", err)
		return
	}
	_, err = f.Write(make([]byte, reserveSize))
	err = errors.Join(err, f.Sync(), f.Close())
	if err != nil {
		_ = os.Remove(path)
		c.Logger.Debug("cannot write the disk reserve", "reserve", path, "err", err)
		return
	}
	c.Logger.Debug("disk reserve written", "reserve", path, "bytes", reserveSize)
}
