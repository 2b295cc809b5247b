//go:build unix

package systemd

import (
	"os"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

func ownerOf(t *testing.T, p string) int {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

func nobodyUID(t *testing.T) int {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no nobody account: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}
