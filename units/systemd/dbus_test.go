package systemd

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-systemd/v22/dbus"
	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// fakeBus stands in for systemd's D-Bus API: units have properties, jobs complete at once with
// a configurable result, and every call is recorded.
type fakeBus struct {
	mu      sync.Mutex
	calls   []string
	units   map[string]Properties
	result  string // job result; "" means done
	stopErr error
	hold    bool // never complete jobs
}

func newFakeBus() *fakeBus { return &fakeBus{units: map[string]Properties{}} }

func (b *fakeBus) record(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, s)
}

func (b *fakeBus) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.calls
	b.calls = nil
	return c
}

func (b *fakeBus) ReloadContext(context.Context) error { b.record("Reload"); return nil }

func (b *fakeBus) EnableUnitFilesContext(_ context.Context, files []string, runtime, force bool) (bool, []dbus.EnableUnitFileChange, error) {
	b.record("EnableUnitFiles " + strings.Join(files, ","))
	return true, nil, nil
}

func (b *fakeBus) DisableUnitFilesContext(_ context.Context, files []string, runtime bool) ([]dbus.DisableUnitFileChange, error) {
	b.record("DisableUnitFiles " + strings.Join(files, ","))
	return nil, nil
}

func (b *fakeBus) finish(ch chan<- string, unit string, after Properties) {
	b.mu.Lock()
	result, hold := b.result, b.hold
	if result == "" {
		result = "done"
		if !hold {
			b.units[unit] = after
		}
	}
	b.mu.Unlock()
	if !hold {
		go func() { ch <- result }()
	}
}

func (b *fakeBus) StartUnitContext(_ context.Context, name, mode string, ch chan<- string) (int, error) {
	b.record("StartUnit " + name + " " + mode)
	b.finish(ch, name, Properties{"loaded", "active", "running", 4242})
	return 1, nil
}

func (b *fakeBus) StopUnitContext(_ context.Context, name, mode string, ch chan<- string) (int, error) {
	b.record("StopUnit " + name + " " + mode)
	if b.stopErr != nil {
		return 0, b.stopErr
	}
	b.finish(ch, name, Properties{"loaded", "inactive", "dead", 0})
	return 2, nil
}

func (b *fakeBus) GetUnitPropertiesContext(_ context.Context, unit string) (map[string]any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.units[unit]
	if !ok {
		p = Properties{"not-found", "inactive", "dead", 0}
	}
	return map[string]any{"LoadState": p.LoadState, "ActiveState": p.ActiveState, "SubState": p.SubState, "Id": unit}, nil
}

func (b *fakeBus) GetUnitTypePropertiesContext(_ context.Context, unit, unitType string) (map[string]any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if unitType != "Service" {
		return nil, errors.New("unexpected unit type " + unitType)
	}
	return map[string]any{"MainPID": uint32(b.units[unit].MainPID), "Type": "exec"}, nil
}

func (b *fakeBus) Close() { b.record("Close") }

func newBusManager(t *testing.T, mode string, b *fakeBus) *Manager {
	t.Helper()
	dir := t.TempDir()
	withLingerDir(t, filepath.Join(dir, "linger"))
	m, err := New(Options{Mode: gen.Mode(mode), UnitDir: filepath.Join(dir, "units"), Transport: TransportDBus, Runner: newRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	m.client.dial = func(context.Context) (bus, error) { return b, nil }
	return m
}

func TestDBusLifecycle(t *testing.T) {
	b := newFakeBus()
	m := newBusManager(t, "sudo", b)
	ctx := t.Context()
	n := testNode(t, filepath.Join(t.TempDir(), "nodes"), 1)

	if err := m.Create(ctx, n); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if diff := cmp.Diff([]string{"Reload", "EnableUnitFiles antnode0001.service"}, b.take()); diff != "" {
		t.Errorf("Create calls (-want +got):\n%s", diff)
	}
	if err := m.Start(ctx, n); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if diff := cmp.Diff([]string{"StartUnit antnode0001.service replace"}, b.take()); diff != "" {
		t.Errorf("Start calls (-want +got):\n%s", diff)
	}
	st, err := m.Status(ctx, n)
	if err != nil || st.State != units.Running || st.PID != 4242 {
		t.Errorf("Status = %+v, %v; want Running with pid 4242", st, err)
	}
	if err := m.Stop(ctx, n); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if diff := cmp.Diff([]string{"StopUnit antnode0001.service replace"}, b.take()); diff != "" {
		t.Errorf("Stop calls (-want +got):\n%s", diff)
	}
	if err := m.Stop(ctx, n); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if calls := b.take(); len(calls) != 0 {
		t.Errorf("Stop of a stopped unit made calls %q", calls)
	}
	if err := m.Remove(ctx, n); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if diff := cmp.Diff([]string{"DisableUnitFiles antnode0001.service", "Reload"}, b.take()); diff != "" {
		t.Errorf("Remove calls (-want +got):\n%s", diff)
	}
	m.Close()
	if diff := cmp.Diff([]string{"Close"}, b.take()); diff != "" {
		t.Errorf("Close calls (-want +got):\n%s", diff)
	}
}

func TestDBusJobFailures(t *testing.T) {
	b := newFakeBus()
	m := newBusManager(t, "user", b)
	n := testNode(t, filepath.Join(t.TempDir(), "nodes"), 2)
	if err := m.Create(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	b.result = "failed"
	b.units["antnode0002.service"] = Properties{"loaded", "failed", "failed", 0}
	if err := m.Start(t.Context(), n); err == nil || !strings.Contains(err.Error(), "start antnode0002.service over D-Bus: job failed (unit is failed/failed)") {
		t.Errorf("Start with a failed job = %v", err)
	}

	// A stop that errors while the unit is already down is success; one that leaves it up is not.
	b.result = ""
	b.stopErr = errors.New("Unit antnode0002.service not loaded.")
	b.units["antnode0002.service"] = Properties{"loaded", "active", "running", 7}
	if err := m.Stop(t.Context(), n); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Errorf("Stop with an error and the unit still active = %v, want the error", err)
	}

	b.stopErr = nil
	b.hold = true
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := m.Stop(ctx, n); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Stop with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestTransportChoice(t *testing.T) {
	dialErr := errors.New("dial unix /run/dbus/system_bus_socket: connect: no such file or directory")
	tests := []struct {
		name      string
		transport string
		wantVia   string
		wantErr   string
	}{
		{"auto falls back to systemctl", TransportAuto, "systemctl", ""},
		{"dbus insists", TransportDBus, "", "connect to systemd over D-Bus: dial unix"},
		{"systemctl never dials", TransportSystemctl, "systemctl", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			m, err := New(Options{Mode: "sudo", UnitDir: t.TempDir(), Transport: tt.transport, Runner: rec})
			if err != nil {
				t.Fatal(err)
			}
			dialed := false
			m.client.dial = func(context.Context) (bus, error) { dialed = true; return nil, dialErr }
			be, err := m.client.backend(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("backend = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if be.name() != tt.wantVia {
				t.Errorf("backend = %s, want %s", be.name(), tt.wantVia)
			}
			if dialed != (tt.transport != TransportSystemctl) {
				t.Errorf("dialed = %v with transport %s", dialed, tt.transport)
			}
		})
	}
}

// TestClientVerbs checks what each of the client's verbs asks of systemd over D-Bus and over
// systemctl: enable --now is enable, reload, start; disable --now is stop, disable, reload, and a
// unit systemd does not know has nothing to stop.
func TestClientVerbs(t *testing.T) {
	const timer = "wnm.timer"
	notLoaded := errors.New("Unit wnm.timer not loaded.")
	tests := []struct {
		name        string
		verb        func(context.Context, *Client) error
		result      string // job result; "" is done
		stopErr     error
		wantBus     []string
		wantCtl     []string
		wantErr     string
		wantCtlUser []string
	}{
		{"reload", func(ctx context.Context, c *Client) error { return c.Reload(ctx) }, "", nil,
			[]string{"Reload"}, []string{"systemctl daemon-reload"}, "", []string{"systemctl --user daemon-reload"}},
		{"enable --now", func(ctx context.Context, c *Client) error { return c.EnableNow(ctx, timer) }, "", nil,
			[]string{"EnableUnitFiles wnm.timer", "Reload", "StartUnit wnm.timer replace"}, []string{"systemctl enable --now wnm.timer"}, "", []string{"systemctl --user enable --now wnm.timer"}},
		{"enable --now, start fails", func(ctx context.Context, c *Client) error { return c.EnableNow(ctx, timer) }, "failed", nil,
			[]string{"EnableUnitFiles wnm.timer", "Reload", "StartUnit wnm.timer replace"}, nil, "start wnm.timer over D-Bus: job failed", nil},
		{"disable --now", func(ctx context.Context, c *Client) error { return c.DisableNow(ctx, timer) }, "", nil,
			[]string{"StopUnit wnm.timer replace", "DisableUnitFiles wnm.timer", "Reload"}, []string{"systemctl disable --now wnm.timer"}, "", []string{"systemctl --user disable --now wnm.timer"}},
		{"disable --now, not loaded", func(ctx context.Context, c *Client) error { return c.DisableNow(ctx, timer) }, "", notLoaded,
			[]string{"StopUnit wnm.timer replace", "DisableUnitFiles wnm.timer", "Reload"}, nil, "", nil},
		{"disable --now, stop denied", func(ctx context.Context, c *Client) error { return c.DisableNow(ctx, timer) }, "", errors.New("Access denied"),
			[]string{"StopUnit wnm.timer replace"}, nil, "stop wnm.timer over D-Bus: Access denied", nil},
		{"start", func(ctx context.Context, c *Client) error { return c.Start(ctx, timer) }, "", nil,
			[]string{"StartUnit wnm.timer replace"}, []string{"systemctl start wnm.timer"}, "", []string{"systemctl --user start wnm.timer"}},
		{"stop", func(ctx context.Context, c *Client) error { return c.Stop(ctx, timer) }, "", nil,
			[]string{"StopUnit wnm.timer replace"}, []string{"systemctl stop wnm.timer"}, "", []string{"systemctl --user stop wnm.timer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBus()
			b.result, b.stopErr = tt.result, tt.stopErr
			c, err := NewClient(ClientOptions{Transport: TransportDBus})
			if err != nil {
				t.Fatal(err)
			}
			c.dial = func(context.Context) (bus, error) { return b, nil }
			err = tt.verb(t.Context(), c)
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("over D-Bus: error %v, want %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantBus, b.take()); diff != "" {
				t.Errorf("D-Bus calls (-want +got):\n%s", diff)
			}
			if via, _ := c.Via(t.Context()); via != "dbus" {
				t.Errorf("Via = %q, want dbus", via)
			}
			c.Close()
			if tt.wantCtl == nil {
				return
			}
			for user, want := range map[bool][]string{false: tt.wantCtl, true: tt.wantCtlUser} {
				rec := newRecorder()
				c, err := NewClient(ClientOptions{User: user, Transport: TransportSystemctl, Runner: rec})
				if err != nil {
					t.Fatal(err)
				}
				if err := tt.verb(t.Context(), c); err != nil {
					t.Errorf("over systemctl (user %v): %v", user, err)
				}
				if diff := cmp.Diff(want, rec.take()); diff != "" {
					t.Errorf("systemctl calls, user %v (-want +got):\n%s", user, diff)
				}
			}
		})
	}
}

func TestNotLoaded(t *testing.T) {
	for msg, want := range map[string]bool{
		"systemctl disable --now wnm.timer: exit status 1: Failed to disable unit: Unit file wnm.timer does not exist.": true,
		"stop wnm.timer over D-Bus: Unit wnm.timer not loaded.":                                                         true,
		"org.freedesktop.systemd1.NoSuchUnit: Unit not found":                                                           true,
		"Access denied": false,
	} {
		if got := NotLoaded(errors.New(msg)); got != want {
			t.Errorf("NotLoaded(%q) = %v, want %v", msg, got, want)
		}
	}
}

func TestNewClientRefusesTransport(t *testing.T) {
	if _, err := NewClient(ClientOptions{Transport: "carrier-pigeon"}); err == nil || !strings.Contains(err.Error(), `"carrier-pigeon"`) {
		t.Errorf("NewClient(carrier-pigeon) = %v, want an error naming the transport", err)
	}
}
