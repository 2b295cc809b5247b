package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// fleetArgs is "fakeantnode fleet"'s command line.
type fleetArgs struct {
	PortStart    int
	Count        int
	Version      string
	HangFraction float64
	Host         string
}

func parseFleetArgs(args []string) (fleetArgs, error) {
	f := fleetArgs{}
	fs := newFlagSet("fleet")
	fs.IntVar(&f.PortStart, "metrics-port-start", 0, "first metrics port")
	fs.IntVar(&f.Count, "count", 0, "number of ports")
	fs.StringVar(&f.Version, "version", "", "version to report")
	fs.Float64Var(&f.HangFraction, "hang-fraction", 0, "fraction of ports that hang")
	fs.StringVar(&f.Host, "host", "127.0.0.1", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return f, flagError(err)
	}
	switch {
	case fs.NArg() > 0:
		return f, usagef("unexpected argument %q", fs.Arg(0))
	case f.PortStart < 1 || f.PortStart > 65535:
		return f, usagef("invalid value %d for --metrics-port-start: want 1-65535", f.PortStart)
	case f.Count < 1 || f.PortStart+f.Count-1 > 65535:
		return f, usagef("invalid value %d for --count: want 1 or more, ending at port 65535 at most", f.Count)
	case !(f.HangFraction >= 0 && f.HangFraction <= 1):
		return f, usagef("invalid value %v for --hang-fraction: want 0 to 1", f.HangFraction)
	case net.ParseIP(f.Host) == nil:
		return f, usagef("invalid value %q for --host: not an IP address", f.Host)
	case f.Version != "" && !validVersion(f.Version):
		return f, usagef("invalid value %q for --version", f.Version)
	}
	return f, nil
}

// hangs reports whether the port with index i hangs when fraction f of the ports should: the
// hanging ports are spread evenly, so f=0.1 hangs indexes 9, 19, 29 and so on. f is used in
// millionths so that the choice does not depend on float rounding.
func hangs(i int, f float64) bool {
	k := int64(f*1e6 + 0.5)
	return (int64(i+1)*k)/1e6 > (int64(i)*k)/1e6
}

// fleetPeerID is the peer id of the fleet node on a port.
func fleetPeerID(port int) string {
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(port))
	return peerID(append([]byte("fakeantnode-fleet/"), key[:]...))
}

// fleet serves many fake nodes' endpoints from one process.
type fleet struct {
	start     int
	version   string
	peerIDs   []string
	seeds     []uint64
	offsets   []time.Duration // each node's age when the fleet started
	startedAt time.Time
	now       func() time.Time
}

func (f *fleet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	tcp, _ := addr.(*net.TCPAddr)
	if tcp == nil || tcp.Port < f.start || tcp.Port >= f.start+len(f.peerIDs) {
		http.Error(w, "fleet: unknown local port", http.StatusInternalServerError)
		return
	}
	i := tcp.Port - f.start
	endpoints{scrape: func() (sample, metadata) {
		return simulate(f.seeds[i], f.offsets[i]+f.now().Sub(f.startedAt)),
			metadata{Version: f.version, PeerID: f.peerIDs[i], NetworkID: 1}
	}}.ServeHTTP(w, r)
}

// runFleet is "fakeantnode fleet". It returns the exit code.
func runFleet(ctx context.Context, args []string, v string, stdout, stderr io.Writer, now func() time.Time) int {
	a, err := parseFleetArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "fakeantnode fleet: %v\n", err)
		return exitUsage
	}
	if a.Version != "" {
		v = a.Version
	}
	if _, err := raiseNoFile(); err != nil {
		fmt.Fprintf(stderr, "fakeantnode fleet: warning: %v\n", err)
	}
	f := &fleet{start: a.PortStart, version: v, startedAt: now(), now: now}
	for i := range a.Count {
		id := fleetPeerID(a.PortStart + i)
		f.peerIDs = append(f.peerIDs, id)
		f.seeds = append(f.seeds, seedOf(id))
		f.offsets = append(f.offsets, time.Duration(pick(seedOf(id), 99, 7*86400))*time.Second)
	}
	srv := &http.Server{
		Handler:           f,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
	}
	var hanging []*hangListener
	closeAll := func() {
		srv.Close()
		for _, h := range hanging {
			h.Close()
		}
	}
	var serving []net.Listener
	for i := range a.Count {
		port := a.PortStart + i
		ln, err := net.Listen("tcp", net.JoinHostPort(a.Host, strconv.Itoa(port)))
		if err != nil {
			for _, ln := range serving {
				ln.Close()
			}
			closeAll()
			fmt.Fprintf(stderr, "fakeantnode fleet: listen on port %d: %v\n", port, err)
			return exitFailure
		}
		if hangs(i, a.HangFraction) {
			hanging = append(hanging, serveHanging(ln))
			continue
		}
		serving = append(serving, ln)
	}
	for _, ln := range serving {
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintf(stderr, "fakeantnode fleet: serve %s: %v\n", ln.Addr(), err)
			}
		}()
	}
	fmt.Fprintln(stdout, "ready")
	<-ctx.Done()
	closeAll()
	return exitOK
}
