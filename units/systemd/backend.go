package systemd

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/dbus"

	"github.com/wnm-project/wnm/units/run"
)

// Properties is what a [Client] reads about a unit: systemd's LoadState, ActiveState and
// SubState, and the service's MainPID (0 when no main process runs, or the unit is not a loaded
// service).
type Properties struct {
	LoadState, ActiveState, SubState string
	MainPID                          int
}

// backend is how a [Client] talks to systemd: over D-Bus, or by running systemctl. Every
// method names units by file name (antnode0001.service).
type backend interface {
	name() string
	reload(ctx context.Context) error
	enable(ctx context.Context, unit string) error
	disable(ctx context.Context, unit string) error
	enableNow(ctx context.Context, unit string) error
	disableNow(ctx context.Context, unit string) error
	start(ctx context.Context, unit string) error
	stop(ctx context.Context, unit string) error
	props(ctx context.Context, unit string) (Properties, error)
	close()
}

// Stopped reports whether a unit has no process to stop: inactive, or failed (a failed unit is
// not restarted by Restart=always until something starts it again).
func (p Properties) Stopped() bool { return p.ActiveState == "inactive" || p.ActiveState == "failed" }

// bus is the part of go-systemd's *dbus.Conn a [Client] uses; tests fake it.
type bus interface {
	ReloadContext(ctx context.Context) error
	EnableUnitFilesContext(ctx context.Context, files []string, runtime, force bool) (bool, []dbus.EnableUnitFileChange, error)
	DisableUnitFilesContext(ctx context.Context, files []string, runtime bool) ([]dbus.DisableUnitFileChange, error)
	StartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	GetUnitPropertiesContext(ctx context.Context, unit string) (map[string]any, error)
	GetUnitTypePropertiesContext(ctx context.Context, unit, unitType string) (map[string]any, error)
	Close()
}

var _ bus = (*dbus.Conn)(nil)

// dbusBackend drives systemd through its D-Bus API and reads properties as typed values.
type dbusBackend struct{ conn bus }

func (b dbusBackend) name() string { return "dbus" }

func (b dbusBackend) close() { b.conn.Close() }

func (b dbusBackend) reload(ctx context.Context) error {
	if err := b.conn.ReloadContext(ctx); err != nil {
		return fmt.Errorf("daemon-reload over D-Bus: %w", err)
	}
	return nil
}

func (b dbusBackend) enable(ctx context.Context, unit string) error {
	if _, _, err := b.conn.EnableUnitFilesContext(ctx, []string{unit}, false, true); err != nil {
		return fmt.Errorf("enable %s over D-Bus: %w", unit, err)
	}
	return nil
}

func (b dbusBackend) disable(ctx context.Context, unit string) error {
	if _, err := b.conn.DisableUnitFilesContext(ctx, []string{unit}, false); err != nil {
		return fmt.Errorf("disable %s over D-Bus: %w", unit, err)
	}
	return nil
}

// enableNow does what systemctl enable --now does: enable, reload (so that systemd sees the new
// symlinks), start.
func (b dbusBackend) enableNow(ctx context.Context, unit string) error {
	if err := b.enable(ctx, unit); err != nil {
		return err
	}
	if err := b.reload(ctx); err != nil {
		return err
	}
	return b.start(ctx, unit)
}

// disableNow does what systemctl disable --now does: stop (a unit systemd does not know has
// nothing to stop), disable, reload.
func (b dbusBackend) disableNow(ctx context.Context, unit string) error {
	if err := b.stop(ctx, unit); err != nil && !NotLoaded(err) {
		return err
	}
	if err := b.disable(ctx, unit); err != nil {
		return err
	}
	return b.reload(ctx)
}

// NotLoaded reports whether an error from a [Client] says systemd does not know the unit: its D-Bus error
// org.freedesktop.systemd1.NoSuchUnit, whose message is "Unit <name> not loaded.", or
// systemctl's "does not exist".
func NotLoaded(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "does not exist") || strings.Contains(msg, "not loaded") || strings.Contains(msg, "NoSuchUnit")
}

// job waits for the result of a start or stop job.
func (b dbusBackend) job(ctx context.Context, verb, unit string, submit func(chan<- string) (int, error)) error {
	ch := make(chan string, 1) // buffered: go-systemd's dispatcher must never block on it
	if _, err := submit(ch); err != nil {
		return fmt.Errorf("%s %s over D-Bus: %w", verb, unit, err)
	}
	select {
	case r := <-ch:
		if r == "done" {
			return nil
		}
		detail := ""
		if p, err := b.props(ctx, unit); err == nil {
			detail = fmt.Sprintf(" (unit is %s/%s)", p.ActiveState, p.SubState)
		}
		return fmt.Errorf("%s %s over D-Bus: job %s%s", verb, unit, r, detail)
	case <-ctx.Done():
		return fmt.Errorf("%s %s over D-Bus: waiting for the job: %w", verb, unit, ctx.Err())
	}
}

func (b dbusBackend) start(ctx context.Context, unit string) error {
	return b.job(ctx, "start", unit, func(ch chan<- string) (int, error) {
		return b.conn.StartUnitContext(ctx, unit, "replace", ch)
	})
}

func (b dbusBackend) stop(ctx context.Context, unit string) error {
	return b.job(ctx, "stop", unit, func(ch chan<- string) (int, error) {
		return b.conn.StopUnitContext(ctx, unit, "replace", ch)
	})
}

func (b dbusBackend) props(ctx context.Context, unit string) (Properties, error) {
	m, err := b.conn.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return Properties{}, fmt.Errorf("read properties of %s over D-Bus: %w", unit, err)
	}
	var p Properties
	for key, dst := range map[string]*string{"LoadState": &p.LoadState, "ActiveState": &p.ActiveState, "SubState": &p.SubState} {
		s, ok := m[key].(string)
		if !ok {
			return Properties{}, fmt.Errorf("read properties of %s over D-Bus: %s is %T, not a string", unit, key, m[key])
		}
		*dst = s
	}
	if p.LoadState != "loaded" {
		return p, nil // not a service systemd knows: no MainPID to read
	}
	svc, err := b.conn.GetUnitTypePropertiesContext(ctx, unit, "Service")
	if err != nil {
		return Properties{}, fmt.Errorf("read MainPID of %s over D-Bus: %w", unit, err)
	}
	pid, ok := svc["MainPID"].(uint32)
	if !ok {
		return Properties{}, fmt.Errorf("read MainPID of %s over D-Bus: %T, not a uint32", unit, svc["MainPID"])
	}
	p.MainPID = int(pid)
	return p, nil
}

// systemctlBackend runs systemctl (with --user in user mode). It is the fallback when no bus
// can be reached, and what tests drive through a fake systemctl.
type systemctlBackend struct {
	r    run.Runner
	user bool
}

func (b systemctlBackend) name() string { return "systemctl" }

func (b systemctlBackend) close() {}

func (b systemctlBackend) systemctl(ctx context.Context, args ...string) ([]byte, error) {
	argv := []string{"systemctl"}
	if b.user {
		argv = append(argv, "--user")
	}
	return run.Checked(ctx, b.r, append(argv, args...)...)
}

func (b systemctlBackend) reload(ctx context.Context) error {
	_, err := b.systemctl(ctx, "daemon-reload")
	return err
}

func (b systemctlBackend) enable(ctx context.Context, unit string) error {
	_, err := b.systemctl(ctx, "enable", unit)
	return err
}

func (b systemctlBackend) disable(ctx context.Context, unit string) error {
	_, err := b.systemctl(ctx, "disable", unit)
	return err
}

func (b systemctlBackend) enableNow(ctx context.Context, unit string) error {
	_, err := b.systemctl(ctx, "enable", "--now", unit)
	return err
}

func (b systemctlBackend) disableNow(ctx context.Context, unit string) error {
	_, err := b.systemctl(ctx, "disable", "--now", unit)
	return err
}

func (b systemctlBackend) start(ctx context.Context, unit string) error {
	_, err := b.systemctl(ctx, "start", unit)
	return err
}

// exitNotLoaded is systemctl's exit status for "Unit ... not loaded" (EXIT_NOTINSTALLED).
const exitNotLoaded = 5

func (b systemctlBackend) stop(ctx context.Context, unit string) error {
	_, err := b.systemctl(ctx, "stop", unit)
	if err != nil && run.ExitCode(err) == exitNotLoaded {
		return nil
	}
	return err
}

// showProperties are the properties read with systemctl show, in this order.
var showProperties = []string{"LoadState", "ActiveState", "SubState", "MainPID"}

func (b systemctlBackend) props(ctx context.Context, unit string) (Properties, error) {
	out, err := b.systemctl(ctx, "show", unit, "--property="+strings.Join(showProperties, ","))
	if err != nil {
		return Properties{}, err
	}
	return parseShow(unit, out)
}

// parseShow reads the KEY=VALUE lines of systemctl show. Other lines (warnings) are ignored;
// every property asked for must be present.
func parseShow(unit string, out []byte) (Properties, error) {
	got := map[string]string{}
	for line := range strings.Lines(string(out)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok {
			got[k] = v
		}
	}
	var missing []string
	for _, k := range showProperties {
		if _, ok := got[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Properties{}, fmt.Errorf("systemctl show %s: no %s in %q", unit, strings.Join(missing, ", "), strings.TrimSpace(string(out)))
	}
	pid, err := strconv.Atoi(got["MainPID"])
	if err != nil || pid < 0 {
		return Properties{}, fmt.Errorf("systemctl show %s: MainPID %q is not a pid", unit, got["MainPID"])
	}
	return Properties{LoadState: got["LoadState"], ActiveState: got["ActiveState"], SubState: got["SubState"], MainPID: pid}, nil
}
