package nspawn_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/fakeantnode"
	"github.com/wnm-project/wnm/testenv/nspawn"
)

const rewards = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

// fakeInside is where the fake antnode is bind-mounted in the containers.
const fakeInside = "/opt/wnm/fakeantnode"

// bootWithBinds boots a container with the fake antnode and the given binds.
func bootWithBinds(t *testing.T, binds ...nspawn.Bind) *nspawn.Machine {
	t.Helper()
	nspawn.Require(t)
	bin := fakeantnode.Build(t)
	return nspawn.Boot(t, nspawn.Options{Bind: append([]nspawn.Bind{{Src: bin, Dst: fakeInside, ReadOnly: true}}, binds...)})
}

// fakeArgv is the command line of a fake antnode serving metrics on port.
func fakeArgv(root string, port int) []string {
	return []string{
		fakeInside, "--rewards-address", rewards, "--root-dir", root,
		"--port", strconv.Itoa(port - 1000), "--enable-metrics-server", "--metrics-server-port", strconv.Itoa(port),
		"--log-output-dest", "stdout", "evm-arbitrum-one",
	}
}

// checkState accepts what "systemctl is-system-running" says of a booted manager.
func checkState(out string) error {
	if s := strings.TrimSpace(out); s != "running" && s != "degraded" {
		return fmt.Errorf("is-system-running = %q, want running or degraded", s)
	}
	return nil
}

// waitMetrics polls the fake antnode's metrics port inside the container.
func waitMetrics(t *testing.T, m *nspawn.Machine, port int) string {
	t.Helper()
	var body string
	nspawn.Poll(t, time.Minute, fmt.Sprintf("metrics on port %d", port), func() error {
		code, b, err := m.HTTPGet(t.Context(), port, "/metrics")
		if err != nil {
			return err
		}
		if code != 200 || !strings.Contains(b, "ant_node_") {
			return fmt.Errorf("GET /metrics = %d %q", code, b)
		}
		body = b
		return nil
	})
	return body
}

// waitJournal polls a unit's journal for a message.
func waitJournal(t *testing.T, what string, journal func() []map[string]any, msg string) {
	t.Helper()
	nspawn.Poll(t, time.Minute, fmt.Sprintf("%q in the journal of %s", msg, what), func() error {
		msgs := nspawn.Messages(journal())
		if slices.Contains(msgs, msg) {
			return nil
		}
		return fmt.Errorf("messages: %q", msgs)
	})
}

func TestBoot(t *testing.T) {
	m := bootWithBinds(t)
	t.Logf("boot took %v", m.BootDuration)

	// The leader is in another pid namespace than this test (checked here without the package).
	inside, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", m.Leader))
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	if inside == own {
		t.Fatalf("container leader %d shares our pid namespace %s", m.Leader, own)
	}
	if got := strings.TrimSpace(m.MustRun("cat", "/proc/sys/kernel/hostname")); got != m.Name {
		t.Errorf("hostname inside = %q, want the machine name %q", got, m.Name)
	}
	if got := strings.TrimSpace(m.MustRun("sh", "-c", "echo $$")); got == "" || got == fmt.Sprint(os.Getpid()) {
		t.Errorf("a shell inside has pid %q, want a pid of the container's namespace", got)
	}
	// Only loopback: the network namespace is private.
	var ifaces []string
	for line := range strings.Lines(m.MustRun("cat", "/proc/net/dev")) {
		if name, _, ok := strings.Cut(line, ":"); ok {
			ifaces = append(ifaces, strings.TrimSpace(name))
		}
	}
	if !slices.Equal(ifaces, []string{"lo"}) {
		t.Errorf("network interfaces inside = %q, want only lo", ifaces)
	}

	out, _, _ := m.Run(t.Context(), "systemctl", "is-system-running")
	if err := checkState(out); err != nil {
		t.Fatalf("%v\n%s", err, m.MustRunQuiet("systemctl", "--failed", "--no-pager"))
	}
	for _, u := range []string{"ufw.service", "nftables.service"} {
		if got := strings.TrimSpace(m.MustRunQuiet("systemctl", "is-enabled", u)); !strings.HasPrefix(got, "masked") && !strings.Contains(got, "No such file") && !strings.Contains(got, "not-found") {
			t.Errorf("systemctl is-enabled %s = %q, want masked", u, got)
		}
	}

	// A transient unit running the fake antnode answers on its metrics port and logs to the journal.
	const port = 13001
	m.MustRun(append([]string{"systemd-run", "--unit=fakenode.service", "--property=Restart=no"}, fakeArgv("/var/lib/fakenode", port)...)...)
	waitMetrics(t, m, port)
	waitJournal(t, "fakenode.service", func() []map[string]any { return m.Journal("fakenode.service") }, "Node started")
	m.MustRun("systemctl", "stop", "fakenode.service")
	if out, _, _ := m.Run(t.Context(), "systemctl", "is-active", "fakenode.service"); strings.TrimSpace(out) == "active" {
		t.Errorf("fakenode.service still active after stop")
	}
}

func TestUserMode(t *testing.T) {
	m := bootWithBinds(t)
	u := m.AddUser("alice")
	if u.UID < 1000 {
		t.Errorf("AddUser uid = %d, want an unprivileged id >= 1000", u.UID)
	}
	m.EnableLinger("alice")

	ctx := t.Context()
	out, _, err := m.RunAs(ctx, "alice", "id", "-u")
	if err != nil || strings.TrimSpace(out) != strconv.Itoa(u.UID) {
		t.Fatalf("id -u as alice = %q, %v; want %d", out, err, u.UID)
	}
	out, errOut, _ := m.RunAs(ctx, "alice", "systemctl", "--user", "is-system-running")
	if err := checkState(out); err != nil {
		t.Fatalf("%v (%s)", err, errOut)
	}

	const port = 13002
	argv := append([]string{"systemd-run", "--user", "--unit=fakenode.service"}, fakeArgv(u.Home+"/fakenode", port)...)
	if _, _, err := m.RunAs(ctx, "alice", argv...); err != nil {
		t.Fatal(err)
	}
	waitMetrics(t, m, port)
	out, _, err = m.RunAs(ctx, "alice", "systemctl", "--user", "show", "--property=MainPID", "--value", "fakenode.service")
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(out)
	owner, _, err := m.Run(ctx, "stat", "-c", "%u", "/proc/"+pid)
	if err != nil || strings.TrimSpace(owner) != strconv.Itoa(u.UID) {
		t.Errorf("user unit's process %s is owned by %q (%v), want uid %d", pid, owner, err, u.UID)
	}
	waitJournal(t, "alice's fakenode.service", func() []map[string]any { return m.UserJournal("alice", "fakenode.service") }, "Node started")
}

// BenchmarkBoot measures a boot and a poweroff of a container.
func BenchmarkBoot(b *testing.B) {
	nspawn.Require(b)
	var boot, off time.Duration
	n := 0
	for b.Loop() {
		m := nspawn.Boot(b, nspawn.Options{})
		start := time.Now()
		m.Poweroff()
		boot += m.BootDuration
		off += time.Since(start)
		n++
	}
	b.ReportMetric(float64(boot.Milliseconds())/float64(n), "boot-ms/op")
	b.ReportMetric(float64(off.Milliseconds())/float64(n), "poweroff-ms/op")
}
