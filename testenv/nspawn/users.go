package nspawn

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// User is an account inside the container.
type User struct {
	Name string
	UID  int
	GID  int
	Home string
}

// Env returns the environment of a login of u: HOME, USER, LOGNAME, and the runtime directory
// and session bus of u's systemd user manager, which "systemctl --user" needs.
func (u User) Env() []string {
	run := fmt.Sprintf("/run/user/%d", u.UID)
	return []string{
		"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name,
		"XDG_RUNTIME_DIR=" + run, "DBUS_SESSION_BUS_ADDRESS=unix:path=" + run + "/bus",
	}
}

// userName is what AddUser accepts: a conservative subset of what shadow-utils allow.
var userName = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// LookupUser finds a user of the container by name (getent passwd inside).
func (m *Machine) LookupUser(ctx context.Context, name string) (User, error) {
	m.mu.Lock()
	u, ok := m.users[name]
	m.mu.Unlock()
	if ok {
		return u, nil
	}
	out, _, err := m.Run(ctx, "getent", "passwd", name)
	if err != nil {
		return User{}, fmt.Errorf("look up user %q: %w", name, err)
	}
	u, err = parsePasswdLine(strings.TrimSpace(out))
	if err != nil {
		return User{}, fmt.Errorf("look up user %q: %w", name, err)
	}
	m.mu.Lock()
	m.users[name] = u
	m.mu.Unlock()
	return u, nil
}

// AddUser creates an unprivileged user (and its group, of the same id) in the container, with a
// locked password, /bin/sh as shell, and a home directory /home/<name>. The container's /etc is
// a tmpfs, so the host's accounts are untouched. Errors fail the test.
func (m *Machine) AddUser(name string) User {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), runTimeout)
	defer cancel()
	u, err := m.addUser(ctx, name)
	if err != nil {
		m.t.Fatalf("add user %q in %s: %v", name, m.Name, err)
	}
	return u
}

func (m *Machine) addUser(ctx context.Context, name string) (User, error) {
	var db accountFiles
	for _, f := range []struct {
		path string
		dst  *string
	}{{"/etc/passwd", &db.Passwd}, {"/etc/group", &db.Group}, {"/etc/shadow", &db.Shadow}, {"/etc/gshadow", &db.GShadow}} {
		s, err := m.ReadFile(ctx, f.path)
		if err != nil {
			return User{}, err
		}
		*f.dst = s
	}
	db, u, err := addAccount(db, name)
	if err != nil {
		return User{}, err
	}
	for _, f := range []struct {
		path, data string
		perm       uint32
	}{{"/etc/passwd", db.Passwd, 0o644}, {"/etc/group", db.Group, 0o644}, {"/etc/shadow", db.Shadow, 0o600}, {"/etc/gshadow", db.GShadow, 0o600}} {
		if err := m.WriteFile(ctx, f.path, []byte(f.data), fs.FileMode(f.perm)); err != nil {
			return User{}, err
		}
	}
	owner := fmt.Sprintf("%d:%d", u.UID, u.GID)
	if _, _, err := m.Run(ctx, "sh", "-c", `set -e; mkdir -p "$1"; chown "$2" "$1"; chmod 0750 "$1"`, "sh", u.Home, owner); err != nil {
		return User{}, err
	}
	m.mu.Lock()
	m.users[name] = u
	m.mu.Unlock()
	return u, nil
}

// EnableLinger gives a user of the container a systemd user manager that runs without a login:
// it creates /var/lib/systemd/linger/<name> (what loginctl enable-linger does, here inside the
// container only), starts user@<uid>.service, and waits until "systemctl --user
// is-system-running" answers for that user. Errors fail the test.
func (m *Machine) EnableLinger(name string) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), runTimeout)
	defer cancel()
	u, err := m.LookupUser(ctx, name)
	if err != nil {
		m.t.Fatal(err)
	}
	if _, _, err := m.Run(ctx, "sh", "-c", `set -e; mkdir -p /var/lib/systemd/linger; touch "/var/lib/systemd/linger/$1"`, "sh", name); err != nil {
		m.t.Fatal(err)
	}
	unit := fmt.Sprintf("user@%d.service", u.UID)
	if _, _, err := m.Run(ctx, "systemctl", "start", unit); err != nil {
		m.t.Fatalf("%v\n%s", err, m.MustRunQuiet("systemctl", "status", "--no-pager", unit))
	}
	Poll(m.t, runTimeout, "the user manager of "+name, func() error {
		out, errOut, _ := m.RunAs(ctx, name, "systemctl", "--user", "is-system-running", "--wait")
		switch s := strings.TrimSpace(out); s {
		case "running", "degraded":
			return nil
		default:
			return fmt.Errorf("systemctl --user is-system-running: %q %s", s, strings.TrimSpace(errOut))
		}
	})
}

// MustRunQuiet runs argv as root and returns its stdout and stderr together, whatever the exit
// status; for diagnostics in failure messages.
func (m *Machine) MustRunQuiet(argv ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, errOut, err := m.Run(ctx, argv...)
	s := out + errOut
	if err != nil {
		s += "\n(" + err.Error() + ")"
	}
	return s
}

// accountFiles holds the contents of the container's account databases.
type accountFiles struct {
	Passwd, Group, Shadow, GShadow string
}

// firstUID and lastUID bound the ids AddUser hands out (login.defs' UID_MIN and UID_MAX).
const (
	firstUID = 1000
	lastUID  = 59999
)

// addAccount adds a user and its same-named group to db, with the lowest id from firstUID that
// is free both as a uid and as a gid.
func addAccount(db accountFiles, name string) (accountFiles, User, error) {
	if !userName.MatchString(name) {
		return db, User{}, fmt.Errorf("bad user name %q: want %s", name, userName)
	}
	used := map[int]bool{}
	for _, f := range []struct{ text, kind string }{{db.Passwd, "user"}, {db.Group, "group"}} {
		for line := range strings.Lines(f.text) {
			fields := strings.Split(strings.TrimRight(line, "\n"), ":")
			if len(fields) < 3 {
				continue
			}
			if fields[0] == name {
				return db, User{}, fmt.Errorf("%s %q exists", f.kind, name)
			}
			if id, err := strconv.Atoi(fields[2]); err == nil {
				used[id] = true
			}
		}
	}
	id := firstUID
	for used[id] {
		id++
	}
	if id > lastUID {
		return db, User{}, fmt.Errorf("no free id in %d-%d for user %q", firstUID, lastUID, name)
	}
	u := User{Name: name, UID: id, GID: id, Home: "/home/" + name}
	db.Passwd = appendLine(db.Passwd, fmt.Sprintf("%s:x:%d:%d::%s:/bin/sh", name, id, id, u.Home))
	db.Group = appendLine(db.Group, fmt.Sprintf("%s:x:%d:", name, id))
	db.Shadow = appendLine(db.Shadow, name+":!*:19000::::::") // locked: no password login
	db.GShadow = appendLine(db.GShadow, name+":!::")
	return db, u, nil
}

// appendLine appends line and a newline to text, adding the newline text may lack first.
func appendLine(text, line string) string {
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + line + "\n"
}

// parsePasswdLine parses one line of passwd(5).
func parsePasswdLine(line string) (User, error) {
	f := strings.Split(line, ":")
	if len(f) != 7 {
		return User{}, fmt.Errorf("bad passwd line %q", line)
	}
	uid, err := strconv.Atoi(f[2])
	if err != nil {
		return User{}, fmt.Errorf("bad uid in passwd line %q", line)
	}
	gid, err := strconv.Atoi(f[3])
	if err != nil {
		return User{}, fmt.Errorf("bad gid in passwd line %q", line)
	}
	return User{Name: f[0], UID: uid, GID: gid, Home: f[5]}, nil
}
