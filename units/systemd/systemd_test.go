package systemd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
)

// newUserManager returns a user-mode manager on the systemctl transport with a recording runner,
// a private unit dir and a private linger dir.
func newUserManager(t *testing.T) (*Manager, *recorder, string) {
	t.Helper()
	dir := t.TempDir()
	withLingerDir(t, filepath.Join(dir, "linger"))
	rec := newRecorder()
	m, err := New(Options{Mode: "user", UnitDir: filepath.Join(dir, "units"), Transport: TransportSystemctl, Runner: rec})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, rec, dir
}

func TestLifecycleCalls(t *testing.T) {
	m, rec, dir := newUserManager(t)
	ctx := t.Context()
	n := testNode(t, filepath.Join(dir, "nodes"), 1)
	me := currentUser(t)
	unit := m.unitPath(n)

	steps := []struct {
		name      string
		do        func() error
		wantCalls []string
	}{
		{"create", func() error { return m.Create(ctx, n) }, []string{
			"systemctl --user daemon-reload",
			"systemctl --user enable antnode0001.service",
			"loginctl enable-linger " + me,
		}},
		{"create again: unchanged, no reload, lingering checked once", func() error { return m.Create(ctx, n) }, []string{
			"systemctl --user enable antnode0001.service",
		}},
		{"start", func() error { return m.Start(ctx, n) }, []string{
			"systemctl --user start antnode0001.service",
		}},
		{"stop an inactive unit asks only", func() error { return m.Stop(ctx, n) }, []string{
			"systemctl --user show antnode0001.service --property=LoadState,ActiveState,SubState,MainPID",
		}},
		{"stop a running unit", func() error {
			rec.setState("antnode0001.service", Properties{LoadState: "loaded", ActiveState: "active", SubState: "running", MainPID: 42})
			return m.Stop(ctx, n)
		}, []string{
			"systemctl --user show antnode0001.service --property=LoadState,ActiveState,SubState,MainPID",
			"systemctl --user stop antnode0001.service",
		}},
		{"start with a changed environment rewrites the unit", func() error {
			n.Env = [][2]string{{"ANT_LOG", "all"}}
			return m.Start(ctx, n)
		}, []string{
			"systemctl --user daemon-reload",
			"systemctl --user enable antnode0001.service",
			"systemctl --user start antnode0001.service",
		}},
		{"remove", func() error {
			rec.setState("antnode0001.service", Properties{LoadState: "loaded", ActiveState: "inactive", SubState: "dead"})
			return m.Remove(ctx, n)
		}, []string{
			"systemctl --user show antnode0001.service --property=LoadState,ActiveState,SubState,MainPID",
			"systemctl --user disable antnode0001.service",
			"systemctl --user daemon-reload",
		}},
		{"remove again", func() error { return m.Remove(ctx, n) }, []string{
			"systemctl --user show antnode0001.service --property=LoadState,ActiveState,SubState,MainPID",
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.wantCalls, rec.take()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", s.name, diff)
		}
		if s.name == "create" {
			want, _ := gen.SystemdUnit(n, gen.ModeUser)
			got, err := os.ReadFile(unit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("unit on disk (-want +got):\n%s", diff)
			}
		}
	}
	if _, err := os.Stat(unit); !os.IsNotExist(err) {
		t.Errorf("unit file still there after Remove: %v", err)
	}
	for _, p := range []string{n.RootDir, n.Binary} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Remove touched the node's files: %v", err)
		}
	}
}

// TestInjectionRefused: values that would add settings to a unit are refused with an error
// naming them, nothing is run, and the unit on disk stays as it was.
func TestInjectionRefused(t *testing.T) {
	m, rec, dir := newUserManager(t)
	ctx := t.Context()
	good := testNode(t, filepath.Join(dir, "nodes"), 3)
	if err := m.Create(ctx, good); err != nil {
		t.Fatalf("Create: %v", err)
	}
	before, err := os.ReadFile(m.unitPath(gen.Node{ID: 3}))
	if err != nil {
		t.Fatal(err)
	}
	rec.take()
	tests := []struct {
		name    string
		edit    func(*gen.Node)
		wantErr string
	}{
		{"newline in environment", func(n *gen.Node) { n.Env = [][2]string{{"ANT_LOG", "x\nExecStartPre=+/bin/sh -c id"}} }, `"x\nExecStartPre=+/bin/sh -c id"`},
		{"newline in root dir", func(n *gen.Node) { n.RootDir += "\nUser=root" }, `User=root"`},
		{"bad environment name", func(n *gen.Node) { n.Env = [][2]string{{"A;B", "1"}} }, `"A;B"`},
		{"control character in wallet", func(n *gen.Node) { n.Wallet = "0x1\x1b[31m" }, `"0x1\x1b[31m"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := good
			tt.edit(&n)
			for verb, f := range map[string]func() error{"Create": func() error { return m.Create(ctx, n) }, "Start": func() error { return m.Start(ctx, n) }} {
				if err := f(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s = %v, want an error containing %s", verb, err, tt.wantErr)
				}
			}
			if calls := rec.take(); len(calls) != 0 {
				t.Errorf("refused node ran %q", calls)
			}
			after, err := os.ReadFile(m.unitPath(gen.Node{ID: 3}))
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				t.Errorf("unit changed although the node was refused:\n%s", after)
			}
		})
	}
}

// TestEscapedPaths: a % and spaces in the paths are legal and written escaped.
func TestEscapedPaths(t *testing.T) {
	m, _, dir := newUserManager(t)
	n := testNode(t, filepath.Join(dir, "my nodes", "100%"), 4)
	n.Env = [][2]string{{"ANT_LOG", "a b%c"}}
	if err := m.Create(t.Context(), n); err != nil {
		t.Fatalf("Create: %v", err)
	}
	text, err := os.ReadFile(m.unitPath(gen.Node{ID: 4}))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ExecStart="` + strings.ReplaceAll(n.Binary, "%", "%%") + `"`,
		`--root-dir "` + strings.ReplaceAll(n.RootDir, "%", "%%") + `"`,
		`Environment="ANT_LOG=a b%%c"`,
		"WorkingDirectory=" + strings.ReplaceAll(n.RootDir, "%", "%%") + "\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("unit lacks %q:\n%s", want, text)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	m, rec, dir := newUserManager(t)
	ctx := t.Context()
	n := testNode(t, filepath.Join(dir, "nodes"), 2)
	if err := m.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	rec.answers["systemctl --user start antnode0002.service"] = answer{out: "Failed to start antnode0002.service: Access denied\n\n", err: exitError(1)}
	err := m.Start(ctx, n)
	if err == nil || !strings.Contains(err.Error(), "systemctl --user start antnode0002.service: exit status 1: Failed to start antnode0002.service: Access denied") {
		t.Errorf("Start = %v; want the argv, the exit status and the trimmed output", err)
	}
	if run.ExitCode(err) != 1 {
		t.Errorf("exit status lost in the error: exitCode = %d", run.ExitCode(err))
	}

	// stop of a unit systemctl reports not loaded (exit 5) is success.
	rec.setState("antnode0002.service", Properties{LoadState: "loaded", ActiveState: "active", SubState: "running", MainPID: 9})
	rec.answers["systemctl --user stop antnode0002.service"] = answer{out: "Failed to stop antnode0002.service: Unit antnode0002.service not loaded.\n", err: exitError(5)}
	if err := m.Stop(ctx, n); err != nil {
		t.Errorf("Stop of a unit not loaded = %v, want success", err)
	}
	rec.answers["systemctl --user stop antnode0002.service"] = answer{out: "Job canceled\n", err: exitError(1)}
	if err := m.Stop(ctx, n); err == nil || !strings.Contains(err.Error(), "Job canceled") {
		t.Errorf("failed Stop = %v, want the output in the error", err)
	}
	rec.answers["systemctl --user show antnode0002.service --property=LoadState,ActiveState,SubState,MainPID"] = answer{out: "Failed to connect to bus: No medium found\n", err: exitError(1)}
	st, err := m.Status(ctx, n)
	if err == nil || st.State != units.Unknown || !strings.Contains(err.Error(), "No medium found") {
		t.Errorf("Status = %+v, %v; want Unknown and the output", st, err)
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name string
		p    Properties
		want units.Status
	}{
		{"running", Properties{"loaded", "active", "running", 123}, units.Status{State: units.Running, PID: 123, Detail: "active (running), pid 123"}},
		{"inactive", Properties{"loaded", "inactive", "dead", 0}, units.Status{State: units.Stopped, Detail: "inactive (dead)"}},
		{"failed", Properties{"loaded", "failed", "failed", 0}, units.Status{State: units.Stopped, Detail: "failed (failed)"}},
		{"waiting to restart", Properties{"loaded", "activating", "auto-restart", 0}, units.Status{State: units.Stopped, Detail: "activating (auto-restart)"}},
		{"starting with a process", Properties{"loaded", "activating", "start", 77}, units.Status{State: units.Running, PID: 77, Detail: "activating (start), pid 77"}},
		{"stopping", Properties{"loaded", "deactivating", "stop-sigterm", 77}, units.Status{State: units.Running, PID: 77, Detail: "deactivating (stop-sigterm), pid 77"}},
		{"not found", Properties{"not-found", "inactive", "dead", 0}, units.Status{State: units.Stopped, Detail: "unit not-found, inactive (dead)"}},
		{"active without a process", Properties{"loaded", "active", "exited", 0}, units.Status{State: units.Unknown, Detail: "active (exited): active without a main process"}},
		{"odd state", Properties{"loaded", "maintenance", "x", 0}, units.Status{State: units.Unknown, Detail: "maintenance (x)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, statusOf(tt.p)); diff != "" {
				t.Errorf("statusOf(%+v) (-want +got):\n%s", tt.p, diff)
			}
		})
	}
}

func TestParseShow(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    Properties
		wantErr string
	}{
		{"plain", "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=5\n", Properties{"loaded", "active", "running", 5}, ""},
		{"warning line", "Warning: The unit file changed on disk.\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nMainPID=0\n", Properties{"loaded", "inactive", "dead", 0}, ""},
		{"missing", "LoadState=loaded\n", Properties{}, "no ActiveState, SubState, MainPID"},
		{"bad pid", "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=x\n", Properties{}, `MainPID "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseShow("antnode0001.service", []byte(tt.out))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseShow error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseShow = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	m, _, _ := newUserManager(t)
	if err := os.MkdirAll(m.unitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"antnode0001.service", "antnode007.service", "antnode0007.service", "antnode0012.service", "antnode12.timer", "safenode3.service", "antnode.service", "antnodeX.service", "wnm.service"} {
		if err := os.WriteFile(filepath.Join(m.unitDir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(m.unitDir, "antnode0099.service"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := m.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 7, 12}, got); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}
	missing, _ := New(Options{Mode: "user", UnitDir: filepath.Join(t.TempDir(), "absent"), Transport: TransportSystemctl})
	if got, err := missing.Discover(t.Context()); err != nil || got != nil {
		t.Errorf("Discover of a missing dir = %v, %v; want nothing", got, err)
	}
}

func TestNew(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		name          string
		opts          Options
		env           string
		wantName      string
		wantDir       string
		wantTransport string
		wantErr       string
	}{
		{name: "sudo defaults", opts: Options{Mode: "sudo"}, wantName: "systemd+sudo", wantDir: "/etc/systemd/system", wantTransport: "auto"},
		{name: "user defaults", opts: Options{Mode: "user"}, wantName: "systemd+user", wantDir: home + "/.config/systemd/user", wantTransport: "auto"},
		{name: "env picks systemctl", opts: Options{Mode: "user"}, env: "systemctl", wantName: "systemd+user", wantDir: home + "/.config/systemd/user", wantTransport: "systemctl"},
		{name: "explicit transport beats env", opts: Options{Mode: "sudo", Transport: "dbus"}, env: "systemctl", wantName: "systemd+sudo", wantDir: "/etc/systemd/system", wantTransport: "dbus"},
		{name: "unit dir cleaned", opts: Options{Mode: "sudo", UnitDir: "/run/x/../units/"}, wantName: "systemd+sudo", wantDir: "/run/units", wantTransport: "auto"},
		{name: "bad mode", opts: Options{Mode: "root"}, wantErr: `mode "root"`},
		{name: "bad transport", opts: Options{Mode: "user", Transport: "carrier-pigeon"}, wantErr: `transport "carrier-pigeon"`},
		{name: "bad env transport", opts: Options{Mode: "user"}, env: "smoke", wantErr: `transport "smoke"`},
		{name: "relative dir", opts: Options{Mode: "user", UnitDir: "units"}, wantErr: `"units" is not an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvTransport, tt.env)
			m, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Name() != tt.wantName || m.UnitDir() != tt.wantDir || m.client.transport != tt.wantTransport {
				t.Errorf("New = %s in %s over %s; want %s in %s over %s", m.Name(), m.UnitDir(), m.client.transport, tt.wantName, tt.wantDir, tt.wantTransport)
			}
		})
	}
}

func TestSudoUser(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	m, err := New(Options{Mode: "sudo", UnitDir: filepath.Join(dir, "units"), Transport: TransportSystemctl, Runner: rec})
	if err != nil {
		t.Fatal(err)
	}
	n := testNode(t, filepath.Join(dir, "nodes"), 5)
	n.User = "no-such-user-wnm"
	if err := m.Create(t.Context(), n); err == nil || !strings.Contains(err.Error(), `account "no-such-user-wnm"`) {
		t.Errorf("Create with an unknown user = %v, want an error naming it", err)
	}
	if _, err := os.Stat(m.unitPath(gen.Node{ID: 5})); !os.IsNotExist(err) {
		t.Errorf("unit written for an unknown user: %v", err)
	}
	if calls := rec.take(); len(calls) != 0 {
		t.Errorf("calls for an unknown user: %q", calls)
	}
	if os.Geteuid() != 0 {
		return
	}
	// As root, the node's files go to its account.
	n.User = "nobody"
	if err := m.Create(t.Context(), n); err != nil {
		t.Fatalf("Create as nobody: %v", err)
	}
	text, _ := os.ReadFile(m.unitPath(gen.Node{ID: 5}))
	if !strings.Contains(string(text), "\nUser=nobody\n") || !strings.Contains(string(text), "WantedBy=multi-user.target") {
		t.Errorf("system unit lacks User=nobody or multi-user.target:\n%s", text)
	}
	if calls := rec.take(); strings.Join(calls, ";") != "systemctl daemon-reload;systemctl enable antnode0005.service" {
		t.Errorf("sudo calls = %q (no --user, no loginctl)", calls)
	}
	for _, p := range []string{n.RootDir, n.Binary, n.LogDir} {
		if uid := ownerOf(t, p); uid != nobodyUID(t) {
			t.Errorf("%s belongs to uid %d, want nobody's %d", p, uid, nobodyUID(t))
		}
	}
}

// TestAdoptedUnitKeepsItsName: a node adopted from anm's three-digit antnode013.service is
// started, stopped and removed through that unit, never through a new antnode0013.service.
func TestAdoptedUnitKeepsItsName(t *testing.T) {
	m, rec, dir := newUserManager(t)
	ctx := t.Context()
	n := testNode(t, filepath.Join(dir, "nodes"), 13)
	n.Unit = "antnode013.service"
	if err := m.Start(ctx, n); err != nil {
		t.Fatal(err)
	}
	calls := rec.take()
	if !slices.Contains(calls, "systemctl --user start antnode013.service") {
		t.Errorf("start calls = %q, want antnode013.service started", calls)
	}
	if _, err := os.Stat(filepath.Join(dir, "units", "antnode013.service")); err != nil {
		t.Errorf("unit antnode013.service: %v", err)
	}
	rec.setState("antnode013.service", Properties{LoadState: "loaded", ActiveState: "active", SubState: "running", MainPID: 42})
	if err := m.Remove(ctx, n); err != nil {
		t.Fatal(err)
	}
	for _, c := range append(calls, rec.take()...) {
		if strings.Contains(c, "antnode0013") {
			t.Errorf("call %q names a unit the node does not have", c)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "units", "antnode0013.service")); err == nil {
		t.Error("a second unit antnode0013.service was written")
	}
	if _, err := os.Stat(filepath.Join(dir, "units", "antnode013.service")); !os.IsNotExist(err) {
		t.Errorf("antnode013.service still there after Remove: %v", err)
	}
}
