package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHangs(t *testing.T) {
	tests := []struct {
		fraction float64
		n        int
		want     []int
	}{
		{0, 30, nil},
		{0.1, 30, []int{9, 19, 29}},
		{0.25, 12, []int{3, 7, 11}},
		{0.5, 6, []int{1, 3, 5}},
		{1, 3, []int{0, 1, 2}},
		{0.3, 10, []int{3, 6, 9}},
	}
	for _, tt := range tests {
		var got []int
		for i := range tt.n {
			if hangs(i, tt.fraction) {
				got = append(got, i)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("hanging indexes of %d ports at fraction %v mismatch (-want +got):\n%s", tt.n, tt.fraction, diff)
		}
	}
	count := 0
	for i := range 1000 {
		if hangs(i, 0.1) {
			count++
		}
	}
	if count != 100 {
		t.Errorf("fraction 0.1 of 1000 ports hangs %d, want 100", count)
	}
}

func TestParseFleetArgs(t *testing.T) {
	got, err := parseFleetArgs(strings.Fields("--metrics-port-start 13001 --count 1000 --version 0.4.18 --hang-fraction 0.1"))
	want := fleetArgs{PortStart: 13001, Count: 1000, Version: "0.4.18", HangFraction: 0.1, Host: "127.0.0.1"}
	if err != nil || got != want {
		t.Errorf("parseFleetArgs = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{
		"--count 10",
		"--metrics-port-start 65530 --count 10",
		"--metrics-port-start 13001 --count 0",
		"--metrics-port-start 13001 --count 1 --hang-fraction 1.5",
		"--metrics-port-start 13001 --count 1 --host localhost",
		"--metrics-port-start 13001 --count 1 --bogus",
		"--metrics-port-start 13001 --count 1 extra",
	} {
		if _, err := parseFleetArgs(strings.Fields(bad)); err == nil {
			t.Errorf("parseFleetArgs(%q) succeeded, want an error", bad)
		}
	}
}

// TestFleetHandler serves a one-port fleet in process and checks that the port picks the node.
func TestFleetHandler(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	epoch := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	f := &fleet{
		start: port, version: "9.9.9", peerIDs: []string{fleetPeerID(port)}, seeds: []uint64{5},
		offsets: []time.Duration{time.Hour}, startedAt: epoch, now: func() time.Time { return epoch.Add(time.Minute) },
	}
	srv.Config.Handler = f
	srv.Start()
	t.Cleanup(srv.Close)

	body := get(t, srv.URL+"/metadata")
	for _, want := range []string{`antnode_version="9.9.9"`, `peer_id="` + fleetPeerID(port) + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("fleet /metadata = %q, want it to contain %q", body, want)
		}
	}
	if body := get(t, srv.URL+"/metrics"); !strings.Contains(body, "\nant_node_uptime 3660\n") {
		t.Errorf("fleet /metrics does not report uptime 3660 (1h offset + 1m):\n%s", body)
	}
	if fleetPeerID(port) == fleetPeerID(port+1) {
		t.Errorf("fleetPeerID(%d) == fleetPeerID(%d)", port, port+1)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
