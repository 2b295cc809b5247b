package nspawn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wnm-project/wnm/testenv/netns"
)

// Cmd says how to run a command inside the container.
type Cmd struct {
	// User runs the command as this user of the container (by name), with the environment a
	// systemd user manager needs (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS); "" runs it as root.
	User string
	// Env lists extra KEY=VALUE variables. The environment is otherwise minimal (PATH, HOME,
	// USER, LOGNAME, LANG): nothing of the test process's own leaks in.
	Env []string
	// Stdin is the command's standard input; nil means none.
	Stdin io.Reader
	// ProcStat, when set, is a path inside the container that the command sees as /proc/stat:
	// it runs in a private mount namespace with that file bound over /proc/stat, so that the
	// CPU figures it reads are the test's, not the shared host's (see [IdleProcStat]).
	ProcStat string
}

// runTimeout bounds a command run by the Must* helpers and by [Machine.Journal].
const runTimeout = 2 * time.Minute

// Run runs argv as root inside the container and returns its output. A non-zero exit is an
// error that names argv and carries stderr.
func (m *Machine) Run(ctx context.Context, argv ...string) (stdout, stderr string, err error) {
	return m.Exec(ctx, Cmd{}, argv...)
}

// RunAs runs argv as user inside the container, set up for "systemctl --user" (see [Cmd.User]).
func (m *Machine) RunAs(ctx context.Context, user string, argv ...string) (stdout, stderr string, err error) {
	return m.Exec(ctx, Cmd{User: user}, argv...)
}

// MustRun runs argv as root inside the container and returns its stdout; any error fails the
// test.
func (m *Machine) MustRun(argv ...string) string {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), runTimeout)
	defer cancel()
	out, _, err := m.Run(ctx, argv...)
	if err != nil {
		m.t.Fatal(err)
	}
	return out
}

// Exec runs argv inside the container as c says. It enters the container through nsenter, with
// namespace descriptors that were checked to be the container's (never the host's) just before;
// a failed check is an error and nothing runs.
func (m *Machine) Exec(ctx context.Context, c Cmd, argv ...string) (stdout, stderr string, err error) {
	if len(argv) == 0 {
		return "", "", fmt.Errorf("exec in %s: empty argv", m.Name)
	}
	env := []string{"PATH=" + containerPath, "LANG=C.UTF-8", "SYSTEMD_COLORS=0", "SYSTEMD_PAGER="}
	var prefix []string
	if c.User == "" || c.User == "root" {
		env = append(env, "HOME=/root", "USER=root", "LOGNAME=root")
	} else {
		u, err := m.LookupUser(ctx, c.User)
		if err != nil {
			return "", "", err
		}
		prefix = []string{"setpriv", "--reuid=" + strconv.Itoa(u.UID), "--regid=" + strconv.Itoa(u.GID), "--init-groups", "--"}
		env = append(env, u.Env()...)
	}
	env = append(env, c.Env...)
	if c.ProcStat != "" {
		// As the container's root, before any drop to the user: only root may mount.
		prefix = append([]string{"unshare", "--mount", "--propagation", "private", "--",
			"sh", "-c", `mount --bind "$0" /proc/stat && exec "$@"`, c.ProcStat}, prefix...)
	}
	return m.enter(ctx, env, c.Stdin, append(prefix, argv...))
}

// enter runs argv in the container's namespaces with exactly env.
func (m *Machine) enter(ctx context.Context, env []string, stdin io.Reader, argv []string) (string, string, error) {
	files, err := m.ns.open(m.Leader)
	if err != nil {
		return "", "", fmt.Errorf("exec %q in %s: %w", argv, m.Name, err)
	}
	defer closeAll(files)
	nsenter, err := netns.LookPath("nsenter")
	if err != nil {
		return "", "", err
	}
	args := make([]string, 0, len(nsKinds)+1+len(argv))
	for i, k := range nsKinds {
		// ExtraFiles[i] is descriptor 3+i in nsenter.
		args = append(args, fmt.Sprintf("%s=/proc/self/fd/%d", k.flag, 3+i))
	}
	args = append(args, "--")
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, nsenter, args...)
	cmd.ExtraFiles = files
	cmd.Env = env
	cmd.Stdin = stdin
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	// nsenter forks the command into the container's pid namespace; kill both on cancel. They
	// share nsenter's process group, which is nsenter's own host pid.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s in %s: %w: %s", strings.Join(argv, " "), m.Name, err, strings.TrimSpace(errBuf.String()))
	}
	return outBuf.String(), errBuf.String(), err
}

// WriteFile writes data to path inside the container (as root), replacing the file atomically
// through a temporary file in the same directory.
func (m *Machine) WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error {
	const script = `set -e; tmp="$1.wnm-tmp"; umask 077; cat > "$tmp"; chmod "$2" "$tmp"; mv -f "$tmp" "$1"`
	_, _, err := m.Exec(ctx, Cmd{Stdin: bytes.NewReader(data)}, "sh", "-c", script, "sh", path, fmt.Sprintf("%o", perm.Perm()))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// MustWriteFile is [Machine.WriteFile] that fails the test on error.
func (m *Machine) MustWriteFile(path string, data []byte, perm fs.FileMode) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), runTimeout)
	defer cancel()
	if err := m.WriteFile(ctx, path, data, perm); err != nil {
		m.t.Fatal(err)
	}
}

// ReadFile returns the contents of path inside the container.
func (m *Machine) ReadFile(ctx context.Context, path string) (string, error) {
	out, _, err := m.Run(ctx, "cat", "--", path)
	return out, err
}

// Journal returns the journal entries of a system unit, oldest first, as journalctl -o json
// prints them (field name to value; MESSAGE is a string, or an array of bytes when it is not
// UTF-8). Errors fail the test.
func (m *Machine) Journal(unit string) []map[string]any {
	m.t.Helper()
	return m.journal("--unit=" + unit)
}

// UserJournal is [Machine.Journal] for a unit of user's systemd user manager. It reads the
// journal as root: journalctl --user-unit would match root's own uid, and the user cannot read
// the volatile system journal in which the container keeps every entry.
func (m *Machine) UserJournal(user, unit string) []map[string]any {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), runTimeout)
	defer cancel()
	u, err := m.LookupUser(ctx, user)
	if err != nil {
		m.t.Fatal(err)
	}
	return m.journal("_SYSTEMD_USER_UNIT="+unit, "_UID="+strconv.Itoa(u.UID))
}

func (m *Machine) journal(match ...string) []map[string]any {
	m.t.Helper()
	out := m.MustRun(append([]string{"journalctl", "--no-pager", "--all", "--output=json"}, match...)...)
	entries, err := parseJournal(out)
	if err != nil {
		m.t.Fatalf("journal of %q in %s: %v", match, m.Name, err)
	}
	return entries
}

// parseJournal parses journalctl -o json output: one JSON object a line.
func parseJournal(s string) ([]map[string]any, error) {
	var entries []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return nil, fmt.Errorf("bad journal line %q: %w", line, err)
		}
		entries = append(entries, e)
	}
	return entries, sc.Err()
}

// Messages returns the MESSAGE fields of journal entries, decoding byte-array messages.
func Messages(entries []map[string]any) []string {
	var out []string
	for _, e := range entries {
		switch v := e["MESSAGE"].(type) {
		case string:
			out = append(out, v)
		case []any:
			b := make([]byte, 0, len(v))
			for _, x := range v {
				if f, ok := x.(float64); ok {
					b = append(b, byte(f))
				}
			}
			out = append(out, string(b))
		}
	}
	return out
}

// HTTPGet fetches http://127.0.0.1:port/path inside the container's network namespace (with
// bash's /dev/tcp, as the container may lack curl) and returns the status code and body.
func (m *Machine) HTTPGet(ctx context.Context, port int, path string) (int, string, error) {
	const script = `exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 7
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
cat <&3`
	out, _, err := m.Run(ctx, "bash", "-c", script, "bash", strconv.Itoa(port), path)
	if err != nil {
		return 0, "", err
	}
	return parseHTTPResponse(out)
}

// parseHTTPResponse splits a raw HTTP/1.x response into its status code and body.
func parseHTTPResponse(raw string) (int, string, error) {
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		return 0, "", fmt.Errorf("no end of headers in HTTP response %q", truncate(raw, 200))
	}
	status, _, _ := strings.Cut(head, "\r\n")
	f := strings.Fields(status)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return 0, "", fmt.Errorf("bad HTTP status line %q", status)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, "", fmt.Errorf("bad HTTP status line %q: %w", status, err)
	}
	return code, body, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
