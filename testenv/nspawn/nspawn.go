// Package nspawn boots a real systemd in a throwaway container for tests, so that wnm's systemd
// node manager can be exercised against the real thing: units, restarts, user managers, the
// journal.
//
// [Boot] starts systemd-nspawn(1) on the host's own filesystem, read-only under a tmpfs overlay
// (--volatile=yes), with a private network namespace (only loopback) and a unique machine name.
// The container's /etc is a nearly empty tmpfs, so Boot binds in the few host files systemd and
// PAM need (/etc/alternatives, /etc/pam.d, /etc/security) and masks the firewall services, which
// would otherwise be enabled by the first-boot preset. A boot takes 1.3 s on the two-core test
// machine (up to about 3 s while it is busy), a poweroff 0.3 s.
//
// Every command reaches the container through nsenter(1). Before each one the namespaces to enter
// are opened from /proc/<leader>/ns/*, checked to be the very namespaces recorded at boot and to
// differ from the test process's own, and handed to nsenter as file descriptors, so a command
// can never run on the host, even if the container has died and its pid has been reused.
//
// The container is powered off in [testing.TB.Cleanup], and killed if it does not stop in time;
// if the test binary itself dies, systemd-nspawn gets SIGTERM (the parent-death signal) and shuts
// the container down.
//
// It is for tests only: it takes a [testing.TB], needs root, Linux and systemd-nspawn, and must
// not be imported by non-test code. It never changes the host's firewall, units or sessions:
// loginctl, systemctl enable and the like only ever run inside the container.
package nspawn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/netns"
	"github.com/wnm-project/wnm/testenv/poll"
)

// EnvIntegration is the switch shared with package netns: "1" makes a missing prerequisite or a
// failed boot fail the test instead of skipping it, "0" skips, unset runs when possible.
const EnvIntegration = netns.EnvIntegration

// DefaultBootTimeout bounds a boot when [Options.BootTimeout] is zero. A boot takes about a
// second on an idle machine; the margin is for a loaded two-core CI machine.
const DefaultBootTimeout = 2 * time.Minute

// stopWaits are how long [Machine.Poweroff] waits for each way of stopping a container before it
// tries the next: a clean poweroff, SIGTERM to systemd-nspawn, SIGKILL.
var stopWaits = stopWait{poweroff: 30 * time.Second, term: 15 * time.Second, kill: 15 * time.Second}

type stopWait struct{ poweroff, term, kill time.Duration }

// Bind is a host path mounted into the container.
type Bind struct {
	Src      string // absolute host path
	Dst      string // absolute path inside the container; "" means the same as Src
	ReadOnly bool
}

// Options says how to boot a container.
type Options struct {
	// Directory is a root filesystem to boot instead of the host's own, such as a
	// debootstrapped Debian for package tests. It is booted with --volatile=overlay: every
	// change lands in a tmpfs over it and is gone at poweroff, so the directory is never
	// written and can be reused. The host's /etc files ([DefaultBinds]) are not bound in: such
	// a root has its own. "" boots the host's root, read-only under --volatile=yes.
	Directory string
	// Bind lists extra bind mounts, after the defaults ([DefaultBinds]).
	Bind []Bind
	// Args are extra systemd-nspawn flags, placed before -b (for example "--setenv=X=1"), in
	// "--flag=value" form. Flags that would change the isolation Boot sets up (network, root
	// directory, registration, machine name) are refused.
	Args []string
	// InitArgs are extra arguments for systemd inside, which reads them like a kernel command
	// line (for example "systemd.log_level=debug").
	InitArgs []string
	// BootTimeout bounds the boot; zero means [DefaultBootTimeout].
	BootTimeout time.Duration
}

// DefaultBinds are the host paths every container gets, read-only, when they exist on the host:
// the alternatives symlinks that /usr/bin/awk, which and friends point into, and the PAM
// configuration that user@.service needs to start a user manager.
var DefaultBinds = []string{"/etc/alternatives", "/etc/pam.d", "/etc/security"}

// maskedUnits are masked inside every container: the first boot on an empty /etc enables every
// installed unit (systemctl preset-all), and firewall services have no business running in a
// test container, even in its private network namespace.
var maskedUnits = []string{
	"ufw.service", "nftables.service", "netfilter-persistent.service", "iptables.service",
	"ip6tables.service", "firewalld.service",
}

// Machine is a booted container.
type Machine struct {
	// Name is the machine name, also the container's hostname.
	Name string
	// Leader is the host pid of the container's PID 1 (systemd).
	Leader int
	// BootDuration is how long Boot took, from starting systemd-nspawn to systemd reporting
	// running or degraded.
	BootDuration time.Duration

	t          testing.TB
	console    string // path of the file that collects systemd-nspawn's output
	cmd        *exec.Cmd
	done       chan struct{} // closed when systemd-nspawn has exited
	waitErr    error         // systemd-nspawn's exit, valid once done is closed
	ns         nsSet         // the container's namespaces, recorded at boot
	leaderProc *os.Process   // a pidfd-backed handle on Leader, for the kill fallback

	mu    sync.Mutex
	users map[string]User

	offOnce sync.Once
	waits   stopWait
}

var machineSeq atomic.Int64

// Require skips the test unless containers can be booted here: Linux, root, and systemd-nspawn,
// nsenter, setpriv and /lib/systemd/systemd on the host. With [EnvIntegration]=1 a missing piece
// fails the test instead; with 0 the test is skipped; -short skips too.
func Require(t testing.TB) {
	t.Helper()
	switch v := strings.ToLower(os.Getenv(EnvIntegration)); v {
	case "0", "false", "no":
		t.Skipf("%s=%s", EnvIntegration, v)
	case "1", "true", "yes":
		if err := Available(); err != nil {
			t.Fatalf("%s=%s but: %v", EnvIntegration, v, err)
		}
		return
	}
	if testing.Short() {
		t.Skip("systemd container test skipped in -short mode")
	}
	if err := Available(); err != nil {
		t.Skipf("systemd container test skipped: %v", err)
	}
}

// Available reports why containers cannot be booted here, or nil when they can.
func Available() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("systemd-nspawn needs linux, not %s", runtime.GOOS)
	}
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Errorf("systemd-nspawn needs root, running as uid %d", uid)
	}
	for _, tool := range []string{"systemd-nspawn", "nsenter", "setpriv"} {
		if _, err := netns.LookPath(tool); err != nil {
			return fmt.Errorf("%w (apt-get install systemd-container util-linux)", err)
		}
	}
	if _, err := os.Stat("/lib/systemd/systemd"); err != nil {
		return fmt.Errorf("no systemd on this host to boot: %w", err)
	}
	return nil
}

// failOrSkip ends the test because the container could not be booted: a failure when
// [EnvIntegration] asks for one, a skip otherwise (this machine cannot run containers).
func failOrSkip(t testing.TB, format string, args ...any) {
	t.Helper()
	switch strings.ToLower(os.Getenv(EnvIntegration)) {
	case "1", "true", "yes":
		t.Fatalf(format, args...)
	}
	t.Skipf("systemd container test skipped: "+format, args...)
}

// Boot boots a container and waits until systemd inside reports running or degraded. The
// container is powered off when the test ends. Boot skips the test (see [Require]) when
// containers cannot be booted here.
func Boot(t testing.TB, opts Options) *Machine {
	t.Helper()
	Require(t)
	timeout := opts.BootTimeout
	if timeout <= 0 {
		timeout = DefaultBootTimeout
	}
	args, err := nspawnArgs(opts)
	if err != nil {
		t.Fatalf("nspawn: %v", err)
	}
	name := fmt.Sprintf("wnm-%d-%d", os.Getpid(), machineSeq.Add(1))
	args = append([]string{"--machine=" + name}, args...)
	nspawn, err := netns.LookPath("systemd-nspawn")
	if err != nil {
		t.Fatalf("nspawn: %v", err)
	}
	dir := t.TempDir() // before the poweroff cleanup is registered, so it is removed after it
	m := &Machine{Name: name, t: t, console: filepath.Join(dir, "console.log"), done: make(chan struct{}), users: map[string]User{}, waits: stopWaits}
	out, err := os.Create(m.console)
	if err != nil {
		t.Fatalf("nspawn: %v", err)
	}
	defer out.Close() // the child has its own copy
	m.cmd = exec.Command(nspawn, args...)
	m.cmd.Stdout, m.cmd.Stderr = out, out
	m.cmd.Env = []string{"PATH=" + containerPath, "LANG=C.UTF-8", "SYSTEMD_LOG_COLOR=0"}
	m.cmd.SysProcAttr = sysProcAttr()
	start := time.Now()
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started the child exits, not the
		// process: keep this thread alive, locked to this goroutine, until the container is gone.
		runtime.LockOSThread()
		if err := m.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		m.waitErr = m.cmd.Wait()
		close(m.done)
	}()
	if err := <-started; err != nil {
		failOrSkip(t, "start %s: %v", m.cmd, err)
	}
	t.Cleanup(m.Poweroff)

	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := m.findLeader(ctx); err != nil {
		failOrSkip(t, "%s: %v\n%s", m.cmd, err, m.consoleTail())
	}
	if err := m.waitRunning(ctx); err != nil {
		failOrSkip(t, "%s: %v\n%s", m.cmd, err, m.consoleTail())
	}
	m.BootDuration = time.Since(start)
	// Without /etc/hosts, "localhost" does not resolve inside.
	m.MustWriteFile("/etc/hosts", []byte("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"), 0o644)
	t.Logf("nspawn: booted %s (leader pid %d) in %v", m.Name, m.Leader, m.BootDuration.Round(time.Millisecond))
	return m
}

// propagateDir is where systemd-nspawn keeps a directory per machine on the host.
const propagateDir = "/run/systemd/nspawn/propagate"

// containerPath is PATH for systemd-nspawn and for every command run inside.
const containerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// nspawnArgs builds systemd-nspawn's command line, less --machine.
func nspawnArgs(opts Options) ([]string, error) {
	root, volatile := "/", "yes"
	if opts.Directory != "" {
		if !filepath.IsAbs(opts.Directory) || filepath.Clean(opts.Directory) == "/" {
			return nil, fmt.Errorf("directory %q must be absolute and not /", opts.Directory)
		}
		if _, err := os.Stat(filepath.Join(opts.Directory, "lib/systemd/systemd")); err != nil {
			return nil, fmt.Errorf("directory %s has no systemd to boot: %w", opts.Directory, err)
		}
		root, volatile = filepath.Clean(opts.Directory), "overlay"
	}
	args := []string{
		"--directory=" + root, "--volatile=" + volatile, "--register=no", "--keep-unit", "--private-network",
		"--console=read-only",
	}
	var binds []Bind
	for _, p := range DefaultBinds {
		if _, err := os.Stat(p); err == nil && opts.Directory == "" {
			binds = append(binds, Bind{Src: p, ReadOnly: true})
		}
	}
	for _, b := range append(binds, opts.Bind...) {
		a, err := bindArg(b)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	for _, a := range opts.Args {
		if err := checkExtraArg(a); err != nil {
			return nil, err
		}
	}
	args = append(args, opts.Args...)
	args = append(args, "-b", "systemd.firstboot=off")
	for _, u := range maskedUnits {
		args = append(args, "systemd.mask="+u)
	}
	return append(args, opts.InitArgs...), nil
}

// isolating lists the flags (and prefixes) that Boot sets to keep the container off the host's
// network, root and machine registry; extra flags may not change them.
var isolating = []string{
	"--network", "--private-network", "--port", "-p", "-n", "--directory", "-D", "--image", "-i",
	"--volatile", "--register", "--keep-unit", "--machine", "-M", "--private-users", "-U",
}

// checkExtraArg refuses an extra systemd-nspawn flag that would change what isolates the
// container (its network, root, registration or name).
func checkExtraArg(a string) error {
	name, _, _ := strings.Cut(a, "=")
	for _, f := range isolating {
		if name == f || strings.HasPrefix(name, f+"-") || len(f) == 2 && strings.HasPrefix(name, f) {
			return fmt.Errorf("extra nspawn flag %q would change the container's isolation (%s is set by Boot)", a, f)
		}
	}
	return nil
}

// bindArg turns b into a --bind or --bind-ro flag. systemd-nspawn splits the value at colons and
// undoes backslash escapes, so both are escaped.
func bindArg(b Bind) (string, error) {
	dst := b.Dst
	if dst == "" {
		dst = b.Src
	}
	for _, p := range []string{b.Src, dst} {
		if !filepath.IsAbs(p) || filepath.Clean(p) == "/" {
			return "", fmt.Errorf("bind path %q must be absolute and not /", p)
		}
	}
	esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`)
	flag := "--bind="
	if b.ReadOnly {
		flag = "--bind-ro="
	}
	return flag + esc.Replace(filepath.Clean(b.Src)) + ":" + esc.Replace(filepath.Clean(dst)), nil
}

// findLeader waits for systemd-nspawn's child to become the container's systemd, checks that it
// lives in other namespaces than ours, and records them.
func (m *Machine) findLeader(ctx context.Context) error {
	nspawnPID := m.cmd.Process.Pid
	var last error
	for {
		select {
		case <-m.done:
			return fmt.Errorf("systemd-nspawn exited before the container's systemd appeared: %w", m.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("no container systemd after %w: %w (last: %w)", ctx.Err(), context.Cause(ctx), last)
		default:
		}
		pid, err := systemdChild(nspawnPID)
		if err == nil {
			ns, err := recordNamespaces(pid)
			if err == nil {
				p, err := os.FindProcess(pid)
				if err != nil {
					return err
				}
				// The handle is taken after the check; re-check so that it is the same process.
				if _, err := ns.open(pid); err != nil {
					p.Release()
					return err
				}
				m.Leader, m.ns, m.leaderProc = pid, ns, p
				return nil
			}
			last = err
		} else {
			last = err
		}
		sleep(ctx, 20*time.Millisecond)
	}
}

// systemdChild returns the pid of the child of parent that runs systemd, from /proc.
func systemdChild(parent int) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || fmt.Sprint(pid) != e.Name() {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		comm, ppid, err := parseStat(string(stat))
		if err != nil || ppid != parent {
			continue
		}
		if comm == "systemd" {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child of pid %d runs systemd yet", parent)
}

// parseStat returns the command name and parent pid from the text of /proc/<pid>/stat. The name
// is in parentheses and may itself contain spaces and parentheses, so it ends at the last ")".
func parseStat(s string) (comm string, ppid int, err error) {
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("bad /proc stat line %q", s)
	}
	comm = s[open+1 : end]
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return "", 0, fmt.Errorf("bad /proc stat line %q", s)
	}
	if _, err := fmt.Sscanf(f[1], "%d", &ppid); err != nil {
		return "", 0, fmt.Errorf("bad ppid in /proc stat line %q: %w", s, err)
	}
	return comm, ppid, nil
}

// waitRunning polls "systemctl is-system-running --wait" inside until it says running or
// degraded. It fails while systemd's private socket does not exist yet.
func (m *Machine) waitRunning(ctx context.Context) error {
	var last string
	for {
		select {
		case <-m.done:
			return fmt.Errorf("systemd-nspawn exited during boot: %w (last: %s)", m.waitErr, last)
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, errOut, err := m.Exec(cctx, Cmd{}, "systemctl", "is-system-running", "--wait")
		cancel()
		switch state := strings.TrimSpace(out); state {
		case "running", "degraded":
			return nil
		default:
			last = strings.TrimSpace(state + " " + errOut)
			if err != nil && errors.Is(err, errNotContainer) {
				return err
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("systemd did not finish booting: %w (last: %s)", context.Cause(ctx), last)
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

// Poweroff shuts the container down and waits for systemd-nspawn to exit: a clean poweroff
// first, then SIGTERM to systemd-nspawn, then SIGKILL to the container's PID 1 (which ends every
// process in it) and to systemd-nspawn. It is safe to call more than once; [Boot] registers it
// with t.Cleanup.
func (m *Machine) Poweroff() {
	m.offOnce.Do(m.poweroff)
}

func (m *Machine) poweroff() {
	defer func() {
		if m.leaderProc != nil {
			m.leaderProc.Release()
		}
		if m.exited() {
			// systemd-nspawn leaves this empty directory behind when it is killed, or when /run
			// is not a tmpfs. Remove only deletes an empty directory.
			_ = os.Remove(filepath.Join(propagateDir, m.Name))
		}
	}()
	if m.exited() {
		return
	}
	if m.Leader != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), m.waits.poweroff)
		_, errOut, err := m.Exec(ctx, Cmd{}, "systemctl", "poweroff", "--no-block")
		cancel()
		if err != nil {
			m.t.Logf("nspawn: poweroff %s: %v %s", m.Name, err, errOut)
		}
		if m.waitExit(m.waits.poweroff) {
			return
		}
	}
	m.t.Logf("nspawn: %s did not power off in %v; sending SIGTERM to systemd-nspawn", m.Name, m.waits.poweroff)
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	if m.waitExit(m.waits.term) {
		return
	}
	m.t.Logf("nspawn: killing %s", m.Name)
	if m.leaderProc != nil {
		// The handle is a pidfd taken when the leader was verified, so this cannot hit a reused
		// pid. Killing a pid namespace's init kills every process in it.
		_ = m.leaderProc.Signal(syscall.SIGKILL)
	}
	_ = m.cmd.Process.Kill()
	if !m.waitExit(m.waits.kill) {
		m.t.Errorf("nspawn: systemd-nspawn (pid %d) for %s did not exit after SIGKILL", m.cmd.Process.Pid, m.Name)
	}
}

func (m *Machine) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

func (m *Machine) waitExit(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-m.done:
		return true
	case <-timer.C:
		return false
	}
}

// Console returns what systemd-nspawn and the container's console have printed so far.
func (m *Machine) Console() string {
	b, err := os.ReadFile(m.console)
	if err != nil {
		return fmt.Sprintf("(console log: %v)", err)
	}
	return string(b)
}

// consoleTail returns the last lines of the console, for failure messages.
func (m *Machine) consoleTail() string {
	lines := strings.Split(strings.TrimRight(m.Console(), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return "console:\n" + strings.Join(lines, "\n")
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// Poll calls check until it returns nil, every 200ms, for at most timeout; then it fails the
// test with what was being waited for and check's last error. It is for waiting on real
// processes, which have no clock to inject.
func Poll(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	PollEvery(t, timeout, 200*time.Millisecond, what, check)
}

// PollEvery is [Poll] with another interval between the end of one check and the next.
func PollEvery(t testing.TB, timeout, interval time.Duration, what string, check func() error) {
	t.Helper()
	var err error
	poll.Wait(timeout, interval, func() bool {
		err = check()
		return err == nil || t.Context().Err() != nil
	})
	switch {
	case err == nil:
	case t.Context().Err() != nil:
		t.Fatalf("waiting for %s: %v (last: %v)", what, t.Context().Err(), err)
	default:
		t.Fatalf("waited %v for %s: %v", timeout, what, err)
	}
}
