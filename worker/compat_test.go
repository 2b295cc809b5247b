package worker

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/survey"

	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
)

// TestRebootReferenceOnAdoptedDatabase: a database adopted from wnm-python has no wnm boot time;
// its last_stopped_at is the reference until wnm records its own.
func TestRebootReferenceOnAdoptedDatabase(t *testing.T) {
	tests := []struct {
		name          string
		wnmBoot, last int64
		want          time.Time
	}{
		{"wnm's own boot time wins", 1_800_000_000, 1_800_000_500, time.Unix(1_800_000_000, 0)},
		{"adopted: upstream's last_stopped_at", 0, 1_800_000_500, time.Unix(1_800_000_500, 0)},
		{"nothing recorded", 0, 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bootTime(store.Machine{WNMBootTime: tt.wnmBoot, LastStoppedAt: tt.last})
			if !got.Equal(tt.want) {
				t.Errorf("LastBoot = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAddsSkipHeldPorts: a new node never gets an id whose node, metrics or RPC port a process
// holds.
func TestAddsSkipHeldPorts(t *testing.T) {
	m := store.Machine{NodeCap: 10, PortStart: 55, MetricsPortStart: 13, RPCPortStart: 30, CPULessThan: 90, CPURemove: 95, MemLessThan: 90,
		MemRemove: 95, HDLessThan: 90, HDRemove: 95, MaxLoadAverageAllowed: 10, DesiredLoadAverage: 10,
		MaxConcurrentStarts: 2, MaxConcurrentOperations: 2, MaxConcurrentUpgrades: 1, MaxConcurrentRemovals: 1}
	k := func(v float64) survey.Reading { return survey.Reading{Value: v, Known: true} }
	obs := survey.Observation{LatestVersion: "0.4.17"}
	h := &obs.Host
	h.CPUPercent, h.MemPercent, h.DiskPercent = k(1), k(1), k(1)
	h.Load1, h.Load5, h.Load15 = k(0.1), k(0.1), k(0.1)
	h.DiskReadBps, h.DiskWriteBps, h.NetRecvBps, h.NetSendBps = k(0), k(0), k(0), k(0)
	now := time.Unix(1_900_000_000, 0)
	held := map[int]bool{55001: true, 13002: true, 30003: true}
	cfg := ConfigFromMachine(m, config.Config{}, "/")
	c := &cycle{Options: Options{Config: cfg, Logger: slog.New(slog.DiscardHandler), HeldPorts: func(context.Context) (map[int]bool, error) { return held, nil }},
		machine: m, start: now}
	in := Input(cfg, time.Time{}, nil, obs, now)
	plan := c.keepAddsOffHeldPorts(context.Background(), in, decide.Next(in))
	var adds []int
	for _, a := range plan.Actions {
		if a.Kind == decide.Add {
			adds = append(adds, a.Node)
		}
	}
	if !slices.Equal(adds, []int{4, 5}) {
		t.Errorf("added ids = %v, want [4 5] (55001, 13002 and 30003 are held)", adds)
	}
}

// TestHeldPortsSeesListeners reads the real socket tables: a TCP listener and a bound UDP socket
// of this process are reported.
func TestHeldPortsSeesListeners(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	held, err := HeldPorts(context.Background())
	if err != nil {
		t.Skipf("socket tables not readable here: %v", err)
	}
	for _, p := range []int{l.Addr().(*net.TCPAddr).Port, u.LocalAddr().(*net.UDPAddr).Port} {
		if !held[p] {
			t.Errorf("port %d is held but not reported", p)
		}
	}
}
