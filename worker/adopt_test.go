package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units/run"
	"github.com/wnm-project/wnm/units/systemd"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
)

// anmUnit is a unit as anm writes it.
const anmUnit = `[Unit]
Description=antnode%[1]s
[Service]
User=ant
Environment="ANT_LOG=ant_evm=error"
ExecStart=%[2]s/antnode%[1]s/antnode --no-upnp --bootstrap-cache-dir /var/antctl/bootstrap-cache --root-dir %[2]s/antnode%[1]s --port 55%[3]s --enable-metrics-server --metrics-server-port 13%[3]s --log-output-dest /var/log/antnode/antnode%[1]s --max-log-files 1 --max-archived-log-files 1 --rewards-address %[4]s evm-arbitrum-one
Restart=always
#RestartSec=300
`

func TestAdoptAnmUnits(t *testing.T) {
	dir := t.TempDir()
	unitDir := filepath.Join(dir, "etc/systemd/system")
	services := filepath.Join(dir, "var/antctl/services")
	if err := os.MkdirAll(unitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	wallets := map[string]string{"0001": "0x00455d78f850b0358E8cea5be24d415E01E107CF", "0002": testAddr}
	for name, w := range wallets {
		unit := strings.NewReplacer("%[1]s", name, "%[2]s", services, "%[3]s", name[1:], "%[4]s", w).Replace(anmUnit)
		if err := os.WriteFile(filepath.Join(unitDir, "antnode"+name+".service"), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(services, "antnode0002"), 0o755); err != nil {
		t.Fatal(err)
	}
	keyTime := time.Unix(1_800_000_000, 0)
	if err := os.WriteFile(filepath.Join(services, "antnode0002", "secret-key"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(services, "antnode0002", "secret-key"), keyTime, keyTime)
	// A three-digit unit from anm's 2024 era is adopted under its own name; a broken unit is
	// reported and left alone; two units claiming node 13 are both refused.
	os.WriteFile(filepath.Join(unitDir, "antnode007.service"), []byte(strings.NewReplacer("%[1]s", "007", "%[2]s", services, "%[3]s", "007", "%[4]s", testAddr).Replace(anmUnit)), 0o644)
	broken := []byte("[Service]\nExecStart=/bin/true --what\n")
	os.WriteFile(filepath.Join(unitDir, "antnode0009.service"), broken, 0o644)
	for _, name := range []string{"013", "0013"} {
		os.WriteFile(filepath.Join(unitDir, "antnode"+name+".service"), []byte(strings.NewReplacer("%[1]s", name, "%[2]s", services, "%[3]s", "013", "%[4]s", testAddr).Replace(anmUnit)), 0o644)
	}

	plat := config.Platform{OS: "linux", Mode: gen.ModeSudo, Home: dir, CPUCount: 2}
	cfg := config.Defaults(plat)
	cfg.RewardsAddress, cfg.ProcessManager, cfg.DBPath = testAddr, "systemd+sudo", filepath.Join(dir, "colony.db")
	st, err := store.Create(context.Background(), cfg.DBPath, MachineFromConfig(cfg, 2, time.Unix(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := systemd.New(systemd.Options{Mode: "sudo", UnitDir: unitDir, Transport: systemd.TransportSystemctl,
		Runner: run.Func(func(ctx context.Context, argv []string) ([]byte, error) {
			t.Errorf("adoption ran %q", argv)
			return nil, nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_900_000_000, 0)
	c := &cycle{Options: Options{Store: st, Config: cfg, Platform: plat, Manager: m, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, start: now}
	if err := c.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ad := c.scanAdoption(context.Background())
	c.adopt(context.Background(), ad)
	var refused []string
	for _, r := range ad.Refused {
		refused = append(refused, fmt.Sprintf("%s %d", r.Service, r.Node))
	}
	if d := cmp.Diff([]string{"antnode0009.service 9", "antnode0013.service 13", "antnode013.service 13"}, refused); d != "" {
		t.Errorf("refused (-want +got):\n%s", d)
	}
	if ad.Above != 13 || !slices.Equal(ad.Held, []int{1, 2, 7, 9, 13}) || len(ad.Reserved) != 0 {
		t.Errorf("Above = %d, Held = %v, Reserved = %v; want 13, [1 2 7 9 13], []", ad.Above, ad.Held, ad.Reserved)
	}

	nodes, err := st.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID                int
		Service, RootDir  string
		Port, MetricsPort int
		Wallet, User, Env string
		Age               int64
	}
	var got []row
	for _, n := range nodes {
		got = append(got, row{n.ID, n.Service, n.RootDir, n.Port, n.MetricsPort, n.Wallet, n.User, n.Environment, n.Age})
	}
	want := []row{
		{1, "antnode0001.service", services + "/antnode0001", 55001, 13001, wallets["0001"], "ant", "ANT_LOG=ant_evm=error", now.Unix()},
		{2, "antnode0002.service", services + "/antnode0002", 55002, 13002, wallets["0002"], "ant", "ANT_LOG=ant_evm=error", keyTime.Unix()},
		{7, "antnode007.service", services + "/antnode007", 55007, 13007, testAddr, "ant", "ANT_LOG=ant_evm=error", now.Unix()},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("adopted rows (-want +got):\n%s", d)
	}
	if b, _ := os.ReadFile(filepath.Join(unitDir, "antnode0009.service")); string(b) != string(broken) {
		t.Error("the unparseable unit was rewritten")
	}
	// Adopting again adds nothing.
	c.adopt(context.Background(), c.scanAdoption(context.Background()))
	if again, _ := st.Nodes(context.Background()); len(again) != 3 {
		t.Errorf("second adoption: %d rows", len(again))
	}
}
