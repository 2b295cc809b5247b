package systemd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/dbus"

	"github.com/wnm-project/wnm/units/run"
)

// Transports: how a [Client] reaches systemd.
const (
	// TransportAuto uses D-Bus when a bus answers and systemctl otherwise.
	TransportAuto = "auto"
	// TransportDBus uses D-Bus only; failing to connect is an error.
	TransportDBus = "dbus"
	// TransportSystemctl runs systemctl for everything.
	TransportSystemctl = "systemctl"
)

// EnvTransport names the environment variable that replaces [TransportAuto] with another
// transport ("systemctl" in tests, where there is no bus).
const EnvTransport = "WNM_SYSTEMD_TRANSPORT"

// dialTimeout bounds connecting to a bus, so that a socket nobody serves cannot hang a caller.
const dialTimeout = 5 * time.Second

// ClientOptions configure a [Client].
type ClientOptions struct {
	// User selects the current user's systemd manager (systemctl --user, the session bus);
	// otherwise the client talks to the system manager.
	User bool
	// Transport is [TransportAuto] (the default when empty), [TransportDBus] or
	// [TransportSystemctl]. When it is auto, the environment variable [EnvTransport] may name
	// another one.
	Transport string
	// Runner runs systemctl; nil means [run.Exec].
	Runner run.Runner
	// Dial connects to systemd over D-Bus; nil means the session bus for a user manager, and for
	// the system manager the system bus or, as root when no bus daemon runs, systemd's private
	// socket. Either way a dial that takes longer than five seconds fails. The nspawn integration
	// tests point it at a container's bus.
	Dial func(ctx context.Context) (*dbus.Conn, error)
	// Logger receives a debug line naming the transport chosen; nil discards it.
	Logger *slog.Logger
}

// Client is a typed client of one systemd manager, the system's or the current user's. Units are
// named by file name (antnode0001.service, wnm.timer). It talks D-Bus through go-systemd and falls
// back to running systemctl when no bus can be reached (with [TransportAuto]); the transport is
// chosen on the first call that needs systemd and kept until [Client.Close]. Both the node manager
// ([Manager]) and the installer of wnm's timer use it. Its methods are safe for concurrent use.
type Client struct {
	user      bool
	transport string
	runner    run.Runner
	dial      func(ctx context.Context) (bus, error)
	log       *slog.Logger

	mu sync.Mutex
	be backend // chosen on first use
}

// NewClient returns a client; it fails on an unknown transport. It does not connect: the first
// method that needs systemd does.
func NewClient(o ClientOptions) (*Client, error) {
	c := &Client{user: o.User, transport: o.Transport, runner: o.Runner, log: o.Logger}
	if c.transport == "" {
		c.transport = TransportAuto
	}
	if env := os.Getenv(EnvTransport); c.transport == TransportAuto && env != "" {
		c.transport = env
	}
	switch c.transport {
	case TransportAuto, TransportDBus, TransportSystemctl:
	default:
		return nil, fmt.Errorf("systemd transport %q: want auto, dbus or systemctl", c.transport)
	}
	if c.runner == nil {
		c.runner = run.Exec()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.dial = func(ctx context.Context) (bus, error) {
		if o.Dial != nil {
			return notNil(o.Dial(ctx))
		}
		return dialDefault(ctx, c.user)
	}
	return c, nil
}

// notNil turns a nil *dbus.Conn into a nil bus, so that a failed dial is never a usable value.
func notNil(c *dbus.Conn, err error) (bus, error) {
	if err != nil || c == nil {
		if err == nil {
			err = errors.New("dial returned no connection")
		}
		return nil, err
	}
	return c, nil
}

// dialDefault connects to the bus systemd serves for the scope. go-systemd closes a connection
// when the context it was dialled with ends, so the connection gets a context of its own,
// cancelled only if the dial does not finish within dialTimeout; the caller's context (one
// action's) must not end it.
func dialDefault(_ context.Context, user bool) (bus, error) {
	life, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(dialTimeout, cancel)
	c, err := dialBus(life, user)
	if !timer.Stop() {
		if err == nil {
			c.Close()
		}
		return nil, fmt.Errorf("connect to systemd over D-Bus: no answer within %v", dialTimeout)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return c, nil
}

// dialBus dials the session bus for a user manager; for the system manager the system bus, then,
// as root, systemd's private socket (a system without a bus daemon still has that).
func dialBus(ctx context.Context, user bool) (bus, error) {
	if user {
		return notNil(dbus.NewUserConnectionContext(ctx))
	}
	c, err := notNil(dbus.NewSystemConnectionContext(ctx))
	if err != nil && os.Geteuid() == 0 {
		if c2, err2 := notNil(dbus.NewSystemdConnectionContext(ctx)); err2 == nil {
			return c2, nil
		}
	}
	return c, err
}

// scope names the manager for logs: "system" or "user".
func (c *Client) scope() string {
	if c.user {
		return "user"
	}
	return "system"
}

// backend returns the transport to systemd, choosing it on first use.
func (c *Client) backend(ctx context.Context) (backend, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.be != nil {
		return c.be, nil
	}
	sc := systemctlBackend{r: c.runner, user: c.user}
	if c.transport == TransportSystemctl {
		c.be = sc
		return c.be, nil
	}
	conn, err := c.dial(ctx)
	switch {
	case err == nil:
		c.be = dbusBackend{conn: conn}
		c.log.Debug("systemd over D-Bus", "manager", c.scope())
	case c.transport == TransportDBus:
		return nil, fmt.Errorf("connect to systemd over D-Bus: %w", err)
	default:
		c.be = sc
		c.log.Debug("no D-Bus, falling back to systemctl", "manager", c.scope(), "err", err)
	}
	return c.be, nil
}

// Via connects if needed and returns the transport in use: "dbus" or "systemctl".
func (c *Client) Via(ctx context.Context) (string, error) {
	be, err := c.backend(ctx)
	if err != nil {
		return "", err
	}
	return be.name(), nil
}

// Close releases the D-Bus connection, if one was made. The client may be used again after
// Close; it then chooses its transport anew.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.be != nil {
		c.be.close()
		c.be = nil
	}
}

// do runs f with the backend.
func (c *Client) do(ctx context.Context, f func(backend) error) error {
	be, err := c.backend(ctx)
	if err != nil {
		return err
	}
	return f(be)
}

// Reload makes systemd read the unit files again (systemctl daemon-reload).
func (c *Client) Reload(ctx context.Context) error {
	return c.do(ctx, func(be backend) error { return be.reload(ctx) })
}

// Enable enables unit, so that it starts at boot (systemctl enable).
func (c *Client) Enable(ctx context.Context, unit string) error {
	return c.do(ctx, func(be backend) error { return be.enable(ctx, unit) })
}

// Disable disables unit (systemctl disable).
func (c *Client) Disable(ctx context.Context, unit string) error {
	return c.do(ctx, func(be backend) error { return be.disable(ctx, unit) })
}

// EnableNow enables unit and starts it, waiting for the start job (systemctl enable --now).
func (c *Client) EnableNow(ctx context.Context, unit string) error {
	return c.do(ctx, func(be backend) error { return be.enableNow(ctx, unit) })
}

// DisableNow stops unit, waiting for the stop job, and disables it (systemctl disable --now). A
// unit that is not loaded has nothing to stop.
func (c *Client) DisableNow(ctx context.Context, unit string) error {
	return c.do(ctx, func(be backend) error { return be.disableNow(ctx, unit) })
}

// Start starts unit and waits for the start job; a running unit is success.
func (c *Client) Start(ctx context.Context, unit string) error {
	return c.do(ctx, func(be backend) error { return be.start(ctx, unit) })
}

// Stop stops unit and waits for the stop job. Over systemctl a unit that is not loaded is
// success; over D-Bus the caller checks [Properties] (see [Manager.Stop]).
func (c *Client) Stop(ctx context.Context, unit string) error {
	return c.do(ctx, func(be backend) error { return be.stop(ctx, unit) })
}

// Properties reads unit's LoadState, ActiveState and SubState, and for a loaded service its
// MainPID.
func (c *Client) Properties(ctx context.Context, unit string) (Properties, error) {
	var p Properties
	err := c.do(ctx, func(be backend) error {
		var err error
		p, err = be.props(ctx, unit)
		return err
	})
	return p, err
}
