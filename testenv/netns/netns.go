// Package netns runs test commands in throwaway Linux network and mount namespaces, so that tests
// can drive real system tools (ufw, iptables, services listening on ports) without changing the
// host.
//
// Each run gets a new network namespace (only a loopback interface, brought up when ip(8) exists)
// and a new mount namespace with private propagation, in which chosen host paths are replaced by
// bind mounts of private copies (or by empty tmpfs mounts). Writes to those paths land in the
// copies, which live in the test's temporary directory and vanish with it.
//
// It is for tests only: it takes a [testing.TB], needs root and unshare(1), and must not be
// imported by non-test code. It never changes the host's mounts or network.
package netns

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// EnvIntegration names the switch for tests that need root and real system tools: "0", "false"
// or "no" skips them; "1", "true" or "yes" makes a missing prerequisite a failure instead of a
// skip; unset runs them whenever the prerequisites are there.
const EnvIntegration = "WNM_INTEGRATION"

// envChild carries a [childInfo] from the parent test into the re-executed one.
const envChild = "WNM_NETNS_CHILD"

// Config says which host paths a namespace replaces.
type Config struct {
	// Private lists absolute paths (files or directories) that are copied, with their modes and
	// owners, into the test's temporary directory; inside the namespace each copy is bind-mounted
	// over its original (symlinks in the path are followed first). Every path must exist.
	Private []string
	// Tmpfs lists absolute directories that get an empty tmpfs inside the namespace (for example
	// /run, so that lock files are not created on the host). They are mounted after the Private
	// paths, so a tmpfs hides a private copy below it.
	Tmpfs []string
}

// childInfo is what the parent tells the child, so the child can check that it really is isolated
// before doing anything that would be harmful on the host.
type childInfo struct {
	Test    string   `json:"test"`
	NetNS   string   `json:"net_ns"`
	MntNS   string   `json:"mnt_ns"`
	Mounted []string `json:"mounted"`
}

// Available reports why namespaces cannot be used here, or nil when they can: it needs Linux,
// root, and unshare(1) and mount(8) on PATH.
func Available() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("namespaces need linux, not %s", runtime.GOOS)
	}
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Errorf("namespaces need root, running as uid %d", uid)
	}
	for _, tool := range []string{"unshare", "mount"} {
		if _, err := LookPath(tool); err != nil {
			return err
		}
	}
	return nil
}

// LookPath finds a tool on PATH, then in the sbin directories that a non-login root shell may lack.
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or sbin: %w", name, exec.ErrNotFound)
}

// Require skips the test unless namespaces are [Available] and every tool is found by [LookPath].
// [EnvIntegration] turns the skip into a failure ("1") or skips unconditionally ("0"); -short
// skips too.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	switch v := strings.ToLower(os.Getenv(EnvIntegration)); v {
	case "0", "false", "no":
		t.Skipf("%s=%s", EnvIntegration, v)
	case "1", "true", "yes":
		if err := prerequisites(tools); err != nil {
			t.Fatalf("%s=%s but: %v", EnvIntegration, v, err)
		}
		return
	}
	if testing.Short() {
		t.Skip("namespace test skipped in -short mode")
	}
	if err := prerequisites(tools); err != nil {
		t.Skipf("namespace test skipped: %v", err)
	}
}

func prerequisites(tools []string) error {
	if err := Available(); err != nil {
		return err
	}
	for _, tool := range tools {
		if _, err := LookPath(tool); err != nil {
			return err
		}
	}
	return nil
}

// setupScript runs as /bin/sh inside the new namespaces. Its arguments are a list of "bind SRC
// DST" and "tmpfs DIR" triples and pairs, then "--", then the command to exec. set -e makes any
// failed mount stop it before the command runs, so the command never runs unisolated.
const setupScript = `set -eu
mount --make-rprivate /
while [ "$1" != -- ]; do
	case "$1" in
	bind) mount --bind "$2" "$3"; shift 3 ;;
	tmpfs) mount -t tmpfs wnm-netns "$2"; shift 2 ;;
	*) echo "netns: bad setup word $1" >&2; exit 2 ;;
	esac
done
shift
if command -v ip >/dev/null 2>&1; then ip link set lo up; fi
exec "$@"
`

// Command returns a command that runs argv inside new network and mount namespaces set up as cfg
// says. It is bound to ctx. Problems preparing it (bad paths, no root) fail the test.
func Command(ctx context.Context, t testing.TB, cfg Config, argv ...string) *exec.Cmd {
	t.Helper()
	if err := Available(); err != nil {
		t.Fatalf("netns: %v", err)
	}
	if len(argv) == 0 {
		t.Fatal("netns: empty argv")
	}
	unshare, err := LookPath("unshare")
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	info := childInfo{Test: t.Name()}
	if info.NetNS, err = os.Readlink("/proc/self/ns/net"); err != nil {
		t.Fatalf("netns: %v", err)
	}
	if info.MntNS, err = os.Readlink("/proc/self/ns/mnt"); err != nil {
		t.Fatalf("netns: %v", err)
	}
	args := []string{"--net", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", setupScript, "netns"}
	dir := t.TempDir()
	for i, p := range cfg.Private {
		p = resolve(t, "private", p)
		cp := filepath.Join(dir, fmt.Sprint(i), filepath.Base(p))
		if err := os.Mkdir(filepath.Dir(cp), 0o700); err != nil {
			t.Fatalf("netns: %v", err)
		}
		if err := copyTree(p, cp); err != nil {
			t.Fatalf("netns: copy %s: %v", p, err)
		}
		args = append(args, "bind", cp, p)
		info.Mounted = append(info.Mounted, p)
	}
	for _, p := range cfg.Tmpfs {
		p = resolve(t, "tmpfs", p)
		args = append(args, "tmpfs", p)
		info.Mounted = append(info.Mounted, p)
	}
	args = append(args, "--")
	args = append(args, argv...)
	enc, err := json.Marshal(info)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(os.Environ(), envChild+"="+string(enc))
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// resolve checks that p is absolute and not the root, and follows symlinks in it: a mount lands on
// the resolved path (/lib/ufw is /usr/lib/ufw where /lib links to usr/lib), and that is the path
// /proc/self/mountinfo shows. A path that does not exist is returned as it is, so that the mount
// fails inside the namespace and the command does not run.
func resolve(t testing.TB, kind, p string) string {
	t.Helper()
	if !filepath.IsAbs(p) || filepath.Clean(p) == "/" {
		t.Fatalf("netns: %s path %q must be absolute and not /", kind, p)
	}
	p = filepath.Clean(p)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// RunIsolated runs a /bin/sh script inside namespaces set up as cfg says and returns its combined
// output. A non-zero exit, or a run longer than [Timeout], fails the test, showing the output.
func RunIsolated(t testing.TB, cfg Config, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	out, err := Command(ctx, t, cfg, "/bin/sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("netns: script failed: %v\n%s", err, out)
	}
	return string(out)
}

// Timeout bounds a [RunIsolated] script and a [Reexec] child.
const Timeout = 2 * time.Minute

// Reexec runs the current test again, in a child process of the test binary inside namespaces set
// up as cfg says, and returns the child's output. In the child, [InChild] reports true, so the
// test body looks like:
//
//	if netns.InChild(t) {
//		// runs isolated
//		return
//	}
//	netns.Require(t)
//	netns.Reexec(t, cfg)
//
// The test fails if the child fails or does not report that the test passed, and is skipped if the
// child skipped it.
func Reexec(t *testing.T, cfg Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	cmd := Command(ctx, t, cfg, exe, "-test.run="+runPattern(t.Name()), "-test.count=1", "-test.v=true")
	out, err := cmd.CombinedOutput()
	name := regexp.QuoteMeta(t.Name())
	switch {
	case err != nil:
		t.Fatalf("netns: child %s: %v\n%s", t.Name(), err, out)
	case regexp.MustCompile(`(?m)^\s*--- SKIP: ` + name + ` `).Match(out):
		t.Skipf("netns: child skipped:\n%s", out)
	case !regexp.MustCompile(`(?m)^\s*--- PASS: ` + name + ` `).Match(out):
		t.Fatalf("netns: child %s did not report a pass:\n%s", t.Name(), out)
	}
	t.Logf("netns child output:\n%s", out)
	return string(out)
}

// runPattern turns a test name such as "TestA/sub" into a -test.run pattern that matches it alone.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// InChild reports whether this process is the child that [Reexec] started for test t. Before
// reporting true it checks that the child really is isolated: its network and mount namespaces
// differ from the parent's and every replaced path is a mount point. If not, the test fails, so
// the isolated part of a test never runs on the host. A child started for another test skips t.
func InChild(t testing.TB) bool {
	t.Helper()
	raw, ok := os.LookupEnv(envChild)
	if !ok {
		return false
	}
	var info childInfo
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		t.Fatalf("netns: bad %s: %v", envChild, err)
	}
	if info.Test != t.Name() {
		t.Skipf("netns: this process is the isolated child of %s", info.Test)
	}
	if err := checkIsolated(info); err != nil {
		t.Fatalf("netns: refusing to run unisolated: %v", err)
	}
	return true
}

func checkIsolated(info childInfo) error {
	for _, ns := range []struct{ link, parent string }{
		{"/proc/self/ns/net", info.NetNS},
		{"/proc/self/ns/mnt", info.MntNS},
	} {
		got, err := os.Readlink(ns.link)
		if err != nil {
			return err
		}
		if got == ns.parent || ns.parent == "" {
			return fmt.Errorf("%s is %s, the parent's", ns.link, got)
		}
	}
	mounts, err := mountPoints()
	if err != nil {
		return err
	}
	for _, p := range info.Mounted {
		if !slices.Contains(mounts, p) {
			return fmt.Errorf("%s is not a mount point", p)
		}
	}
	return nil
}

// mountPoints lists the mount points in /proc/self/mountinfo (field 5, octal-escaped).
func mountPoints() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		out = append(out, unescapeMount(f[4]))
	}
	return out, nil
}

// unescapeMount decodes the \ooo escapes the kernel uses for spaces and other bytes in mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// copyTree copies src (a file, symlink or directory tree) to dst, keeping modes and owners.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			if err := os.Mkdir(target, mode.Perm()|0o700); err != nil {
				return err
			}
		case mode&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
			return chown(target, info, true)
		case mode.IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, mode.Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: cannot copy %v", path, mode.Type())
		}
		// Set the exact mode (WriteFile and Mkdir are subject to the umask) and the owner: ufw
		// refuses to use files that are not root's or that others may write.
		if err := os.Chmod(target, info.Mode().Perm()|info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return err
		}
		return chown(target, info, false)
	})
}
