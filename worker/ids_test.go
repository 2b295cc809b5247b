package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/units/run"
	"github.com/wnm-project/wnm/units/setsid"
	"github.com/wnm-project/wnm/units/systemd"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// TestNewIDsStayClear: a new node's id is above every id that a row, a unit (adopted, refused or
// unreadable) or a node directory holds, and none of its ports is one a row, a unit or a listening
// process holds. Gap filling among the rows (wnm-python's rule) would hand out 3 in every case.
func TestNewIDsStayClear(t *testing.T) {
	unit := func(id, port, metrics, rpc int) string {
		return fmt.Sprintf("[Service]\nUser=ant\nExecStart=/var/antctl/services/antnode%04[1]d/antnode --root-dir /var/antctl/services/antnode%04[1]d "+
			"--port %[2]d --metrics-server-port %[3]d --rpc 127.0.0.1:%[4]d --rewards-address %[5]s evm-arbitrum-one\n", id, port, metrics, rpc, testAddr)
	}
	tests := []struct {
		name    string
		setsid  bool              // the setsid manager instead of systemd
		units   map[string]string // unit dir
		dirs    []string          // under node storage
		held    []int             // ports a process listens on
		highest int               // highest_node_id_used
		want    int
		adopted []int
	}{
		{name: "rows only: above the highest row", want: 5},
		{name: "anm's three-digit directory without a unit", dirs: []string{"antnode007"}, want: 8},
		{name: "a node directory under setsid", setsid: true, dirs: []string{"antnode0009"}, want: 10},
		{name: "an unreadable unit", units: map[string]string{"antnode0009.service": "[Service]\nExecStart=/bin/true --what\n"}, want: 10},
		{name: "a unit refused for another's ports", units: map[string]string{"antnode006.service": unit(6, 55001, 13006, 30006)}, want: 7},
		{
			name:  "an adopted unit's ports, written for other ids",
			units: map[string]string{"antnode0005.service": unit(5, 55006, 13005, 30007)}, want: 8, adopted: []int{5},
		},
		{name: "a listening process on a node port", held: []int{55005, 13006, 30007}, want: 8},
		{name: "wnm-python's highest_node_id_used", highest: 20, want: 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			unitDir, storage := filepath.Join(dir, "units"), filepath.Join(dir, "storage")
			for _, d := range append([]string{unitDir, storage}, tt.dirs...) {
				if !filepath.IsAbs(d) {
					d = filepath.Join(storage, d)
				}
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for name, text := range tt.units {
				if err := os.WriteFile(filepath.Join(unitDir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			plat := config.Platform{OS: "linux", Mode: gen.ModeSudo, Home: dir, CPUCount: 2}
			cfg := config.Defaults(plat)
			cfg.RewardsAddress, cfg.NodeStorage, cfg.DBPath = testAddr, storage, filepath.Join(dir, "colony.db")
			cfg.NodeCap, cfg.MaxStarts, cfg.MaxOperations = 10, 2, 2
			cfg.ProcessManager, cfg.HighestNodeIDUsed = "systemd+sudo", tt.highest
			var m units.Manager
			var err error
			if tt.setsid {
				cfg.ProcessManager = "setsid+sudo"
				m, err = setsid.New(setsid.Options{Mode: "user", NodeStorage: storage})
			} else {
				m, err = systemd.New(systemd.Options{Mode: "sudo", UnitDir: unitDir, Transport: systemd.TransportSystemctl,
					Runner: run.Func(func(ctx context.Context, argv []string) ([]byte, error) {
						t.Errorf("planning ran %q", argv)
						return nil, nil
					})})
			}
			if err != nil {
				t.Fatal(err)
			}
			st, err := store.Create(context.Background(), cfg.DBPath, MachineFromConfig(cfg, 2, time.Unix(1, 0)))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			now := time.Unix(1_900_000_000, 0)
			obs := survey.Observation{LatestVersion: "0.4.17"}
			k := func(v float64) survey.Reading { return survey.Reading{Value: v, Known: true} }
			h := &obs.Host
			h.CPUPercent, h.MemPercent, h.DiskPercent = k(1), k(1), k(1)
			h.Load1, h.Load5, h.Load15 = k(0.1), k(0.1), k(0.1)
			h.DiskReadBps, h.DiskWriteBps, h.NetRecvBps, h.NetSendBps = k(0), k(0), k(0), k(0)
			h.BootTime = k(1)
			err = st.Write(context.Background(), func(w *store.Writer) error {
				for _, id := range []int{1, 2, 4} {
					root := filepath.Join(storage, fmt.Sprintf("antnode%04d", id))
					n := AdoptedRow(gen.Adopted{ID: id, Service: fmt.Sprintf("antnode%04d.service", id), RootDir: root,
						Binary: filepath.Join(root, "antnode"), Port: 55000 + id, MetricsPort: 13000 + id, Wallet: testAddr}, now, cfg.ProcessManager, cfg.Host)
					n.RPCPort = 30000 + id
					n.Status = store.StatusRunning
					if err := w.InsertNode(n); err != nil {
						return err
					}
					obs.Nodes = append(obs.Nodes, survey.NodeObs{ID: id, Up: true, RootDirExists: true, Version: "0.4.17"})
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			held := map[int]bool{}
			for _, p := range tt.held {
				held[p] = true
			}
			ad, plan, err := Preview(context.Background(), Options{Store: st, Config: cfg, Platform: plat, Manager: m,
				Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
				HeldPorts: func(context.Context) (map[int]bool, error) { return held, nil }}, obs)
			if err != nil {
				t.Fatal(err)
			}
			var adopted, adds []int
			for _, n := range ad.Adopt {
				adopted = append(adopted, n.ID)
			}
			for _, a := range plan.Actions {
				if a.Kind == decide.Add {
					adds = append(adds, a.Node)
				}
			}
			if !slices.Equal(adopted, tt.adopted) {
				t.Errorf("adopted %v, want %v (refused: %v)", adopted, tt.adopted, ad.Refused)
			}
			if len(adds) == 0 || adds[0] != tt.want {
				t.Errorf("added %v, want %d first; adoption %+v\n%s", adds, tt.want, ad, plan)
			}
			// A dry run previews the same ids, and writes nothing.
			dry := cfg
			dry.DryRun = true
			res, err := Run(context.Background(), Options{Store: st, Config: dry, Platform: plat, Manager: m,
				Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
				Survey:    func(context.Context, survey.Options) survey.Observation { return obs },
				HeldPorts: func(context.Context) (map[int]bool, error) { return held, nil }})
			if err != nil {
				t.Fatal(err)
			}
			var dryAdds []int
			for _, a := range res.Plan.Actions {
				if a.Kind == decide.Add {
					dryAdds = append(dryAdds, a.Node)
				}
			}
			if !slices.Equal(dryAdds, adds) {
				t.Errorf("run --dry_run adds %v, plan adds %v", dryAdds, adds)
			}
			// A forced add (wnm node add) chooses the same id.
			forced, err := Force(context.Background(), Options{Store: st, Config: dry, Platform: plat, Manager: m,
				Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
				Survey:    func(context.Context, survey.Options) survey.Observation { return obs },
				HeldPorts: func(context.Context) (map[int]bool, error) { return held, nil }}, ForceRequest{Action: "add"})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := forced.Get("node"), fmt.Sprintf("antnode%04d", tt.want); got != want {
				t.Errorf("forced add: %v, want node %s", forced, want)
			}
			if rows, _ := st.Nodes(context.Background()); len(rows) != 3 {
				t.Errorf("the dry runs left %d rows, want 3", len(rows))
			}
		})
	}
}

// TestAntctlUnitsAreAdopted: the units antctl writes (antnode1.service, no zero padding, with
// --rpc and --stop-on-upgrade) are adopted under their own names like anm's; their RPC port keeps
// the id that would use it clear.
func TestAntctlUnitsAreAdopted(t *testing.T) {
	dir := t.TempDir()
	unitDir, storage := filepath.Join(dir, "units"), filepath.Join(dir, "storage")
	for _, d := range []string{unitDir, filepath.Join(storage, "antnode1")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	unit := "[Unit]\nDescription=antnode1\n[Service]\nExecStart=" + storage + "/antnode1/antnode --rpc 127.0.0.1:30007 --root-dir " + storage +
		"/antnode1 --log-output-dest /var/log/antnode/antnode1 --bootstrap-cache-dir /var/antctl/bootstrap_cache --port 12001 " +
		"--metrics-server-port 13001 --rewards-address " + testAddr + " --stop-on-upgrade evm-arbitrum-one\nRestart=on-success\nUser=ant\n"
	if err := os.WriteFile(filepath.Join(unitDir, "antnode1.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	plat := config.Platform{OS: "linux", Mode: gen.ModeSudo, Home: dir, CPUCount: 2}
	cfg := config.Defaults(plat)
	cfg.RewardsAddress, cfg.NodeStorage, cfg.DBPath, cfg.ProcessManager = testAddr, storage, filepath.Join(dir, "colony.db"), "systemd+sudo"
	m, err := systemd.New(systemd.Options{Mode: "sudo", UnitDir: unitDir, Transport: systemd.TransportSystemctl,
		Runner: run.Func(func(ctx context.Context, argv []string) ([]byte, error) {
			t.Errorf("adoption ran %q", argv)
			return nil, nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Create(context.Background(), cfg.DBPath, MachineFromConfig(cfg, 2, time.Unix(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Unix(1_900_000_000, 0)
	c := &cycle{Options: Options{Store: st, Config: cfg, Platform: plat, Manager: m, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)}, start: now}
	if err := c.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ad := c.scanAdoption(context.Background())
	if len(ad.Adopt) != 1 || ad.Adopt[0].ID != 1 || ad.Adopt[0].Service != "antnode1.service" || ad.Adopt[0].Port != 12001 {
		t.Fatalf("adopted %+v, refused %v; want node 1 as antnode1.service on port 12001", ad.Adopt, ad.Refused)
	}
	if !slices.Equal(ad.Reserved, []int{7}) {
		t.Errorf("reserved %v, want [7] (its --rpc port 30007)", ad.Reserved)
	}
}

// TestAdoptedNodeKeepsItsNoUPnP: a node adopted from a unit keeps whether that unit passed
// --no-upnp when wnm writes its unit again; wnm's own nodes follow the machine's no_upnp.
func TestAdoptedNodeKeepsItsNoUPnP(t *testing.T) {
	for _, machine := range []bool{false, true} {
		c := &cycle{Options: Options{Config: config.Config{NoUPnP: machine}}}
		for _, unit := range []bool{false, true} {
			row := AdoptedRow(gen.Adopted{ID: 7, Service: "antnode007.service", RootDir: "/r/antnode007", NoUPnP: unit}, time.Unix(1, 0), "systemd+sudo", "")
			if got := c.spec(row).NoUPnP; got != unit {
				t.Errorf("no_upnp %v, unit with --no-upnp %v: spec has %v", machine, unit, got)
			}
		}
		if got := c.spec(store.Node{ID: 8}).NoUPnP; got != machine {
			t.Errorf("no_upnp %v: wnm's own node has %v", machine, got)
		}
	}
}
