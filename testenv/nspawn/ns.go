package nspawn

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// errNotContainer marks a refusal to enter namespaces that are not the container's.
var errNotContainer = errors.New("not the container's namespaces")

// nsKinds are the namespaces a command enters, in the order of the file descriptors handed to
// nsenter (3, 4, ...), with nsenter's flag for each. The user namespace is left out:
// systemd-nspawn does not make one without --private-users.
var nsKinds = []struct{ name, flag string }{
	{"mnt", "--mount"},
	{"uts", "--uts"},
	{"ipc", "--ipc"},
	{"net", "--net"},
	{"pid", "--pid"},
	{"cgroup", "--cgroup"},
}

// mustDiffer are the namespaces that must differ from the test process's own: entering the
// host's pid, mount or network namespace would run a command on the host.
var mustDiffer = map[string]bool{"mnt": true, "net": true, "pid": true}

// nsID identifies a namespace: the device and inode of its /proc/<pid>/ns file.
type nsID struct{ Dev, Ino uint64 }

// nsSet maps a namespace kind ("pid") to the container's namespace of that kind.
type nsSet map[string]nsID

// recordNamespaces reads pid's namespaces and checks that its pid, mount and network namespaces
// are not ours. It is how [Boot] learns the container's identity.
func recordNamespaces(pid int) (nsSet, error) {
	files, set, err := openNamespaces(pid)
	closeAll(files)
	if err != nil {
		return nil, err
	}
	return set, nil
}

// openNamespaces opens pid's namespace files and refuses (with [errNotContainer]) when its pid,
// mount or network namespace is the test process's own.
func openNamespaces(pid int) ([]*os.File, nsSet, error) {
	set := nsSet{}
	var files []*os.File
	for _, k := range nsKinds {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, k.name))
		if err != nil {
			closeAll(files)
			return nil, nil, fmt.Errorf("open namespace of pid %d: %w", pid, err)
		}
		files = append(files, f)
		id, err := fileID(f)
		if err != nil {
			closeAll(files)
			return nil, nil, err
		}
		set[k.name] = id
		if !mustDiffer[k.name] {
			continue
		}
		own, err := ownID(k.name)
		if err != nil {
			closeAll(files)
			return nil, nil, err
		}
		if id == own {
			closeAll(files)
			return nil, nil, fmt.Errorf("pid %d shares our %s namespace (inode %d): %w; refusing to run a command on the host", pid, k.name, id.Ino, errNotContainer)
		}
	}
	return files, set, nil
}

// open opens pid's namespace files and checks that each is the one recorded in s. The checked
// descriptors are what nsenter enters, so nothing can change between the check and the entry.
func (s nsSet) open(pid int) ([]*os.File, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("no recorded namespaces for pid %d: %w", pid, errNotContainer)
	}
	files, got, err := openNamespaces(pid)
	if err != nil {
		return nil, err
	}
	for _, k := range nsKinds {
		if got[k.name] != s[k.name] {
			closeAll(files)
			return nil, fmt.Errorf("pid %d is no longer in the container's %s namespace (inode %d, want %d): %w", pid, k.name, got[k.name].Ino, s[k.name].Ino, errNotContainer)
		}
	}
	return files, nil
}

func fileID(f *os.File) (nsID, error) {
	fi, err := f.Stat()
	if err != nil {
		return nsID{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nsID{}, fmt.Errorf("stat %s: no device and inode", f.Name())
	}
	return nsID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, nil
}

// ownID identifies the test process's own namespace of a kind.
func ownID(kind string) (nsID, error) {
	f, err := os.Open("/proc/self/ns/" + kind)
	if err != nil {
		return nsID{}, fmt.Errorf("open our own %s namespace: %w", kind, err)
	}
	defer f.Close()
	return fileID(f)
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
