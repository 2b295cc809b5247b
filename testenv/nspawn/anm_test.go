package nspawn_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/testenv/nspawn"
)

// anmUnit renders a unit the way anm writes it (no [Install]: anm never enables its units), for
// node name (0001, or the 2024-era 013) with ports 55<id>/13<id>.
func anmUnit(name string, id int, noUPnP bool) string {
	extra := "--bootstrap-cache-dir /var/antctl/bootstrap-cache"
	if noUPnP {
		extra = "--no-upnp " + extra
	}
	return fmt.Sprintf(`[Unit]
Description=antnode%[1]s
[Service]
User=ant
Environment="ANT_LOG=ant_evm=error"
ExecStart=/var/antctl/services/antnode%[1]s/antnode %[3]s --root-dir /var/antctl/services/antnode%[1]s --port %[4]d --enable-metrics-server --metrics-server-port %[5]d --log-output-dest /var/log/antnode/antnode%[1]s --max-log-files 1 --max-archived-log-files 1 --rewards-address %[2]s evm-arbitrum-one
Restart=always
#RestartSec=300
`, name, rewards, extra, 55000+id, 13000+id)
}

// TestAnmTakeover builds an anm host under a real systemd (nodes 1 and 13 running from anm's
// units, node 2 stopped, anm's cron file and config), takes it over with wnm init --migrate_anm,
// and checks that no running node was restarted (same main PIDs), the cron file was moved aside,
// and the next cycles manage the fleet: the stopped node is started through its unit, and any node
// the fleet grows by takes an id above every id known (14: not 3, the gap among anm's nodes, and
// never 13's). (Whether it grows depends
// on the shared host's CPU, which the container sees; the takeover checks do not.)
func TestAnmTakeover(t *testing.T) {
	t.Parallel() // its own container, like each TestSystemdFleet mode
	f := newFleet(t, fleetMode{manager: "systemd+sudo", nodeUID: "ant", transport: "systemctl"})
	m := f.m
	nodes := []struct {
		name    string
		id      int
		running bool
	}{{"0001", 1, true}, {"0002", 2, false}, {"013", 13, true}}
	m.MustRun("mkdir", "-p", "/var/antctl/bootstrap-cache", "/var/log/antnode", "/etc/cron.d")
	for _, n := range nodes {
		dir := "/var/antctl/services/antnode" + n.name
		m.MustRun("mkdir", "-p", dir, "/var/log/antnode/antnode"+n.name)
		m.MustRun("cp", f.antnodePath, dir+"/antnode")
		m.MustRun("chown", "-R", "ant:ant", dir, "/var/log/antnode/antnode"+n.name, "/var/antctl/bootstrap-cache")
		m.MustWriteFile("/etc/systemd/system/antnode"+n.name+".service", []byte(anmUnit(n.name, n.id, n.id != 2)), 0o644)
	}
	m.MustWriteFile("/var/antctl/system", []byte("CpuCount=2\n"), 0o644)
	m.MustWriteFile("/var/antctl/config", []byte(`# edit this file to confrol behavior of the script
RewardsAddress="--rewards-address `+rewards+`"
MaxLoadAverageAllowed=1000.0
DesiredLoadAverage=1000.0
CpuLessThan=100
MemLessThan=100
HDLessThan=100
CpuRemove=100
MemRemove=100
HDRemove=100
DelayStart=0
DelayReStart=0
DelayUpgrade=0
DelayRemove=0
NodeStorage=/var/antctl/services
NodeCap=4
UpgradeHour=3
UpgradeMin=41
NodeVersion=""
`), 0o644)
	m.MustWriteFile("/etc/cron.d/anm", []byte("* * * * * root /bin/bash /usr/bin/anms.sh >> /var/antctl/log\n"), 0o644)
	m.MustRun("systemctl", "daemon-reload")
	pids := map[int]string{}
	for _, n := range nodes {
		if !n.running {
			continue
		}
		unit := "antnode" + n.name + ".service"
		m.MustRun("systemctl", "start", unit)
		nspawn.Poll(t, time.Minute, unit+" serving", func() error {
			code, _, err := m.HTTPGet(t.Context(), 13000+n.id, "/metrics")
			if err == nil && code != 200 {
				err = fmt.Errorf("GET /metrics = %d", code)
			}
			return err
		})
		pids[n.id] = strings.TrimSpace(m.MustRun("systemctl", "show", "--property=MainPID", "--value", unit))
	}

	out, _ := f.wnm(wnmInside, "init", "--migrate_anm", "--dry_run", "--antnode_path", f.antnodePath)
	if !strings.Contains(out, "Nodes adopted (3; none is restarted)") || !strings.Contains(out, "antnode013.service") ||
		!strings.Contains(out, "The next new node is id 14 ") {
		t.Fatalf("dry run:\n%s", out)
	}
	if _, _, err := m.Run(t.Context(), "test", "-e", "/etc/cron.d/anm"); err != nil {
		t.Fatal("the dry run moved anm's cron file")
	}
	out, _ = f.wnm(wnmInside, "init", "--migrate_anm", "--antnode_path", f.antnodePath)
	if !strings.Contains(out, "with 3 adopted anm nodes") {
		t.Fatalf("takeover:\n%s", out)
	}
	if _, _, err := m.Run(t.Context(), "test", "!", "-e", "/etc/cron.d/anm"); err != nil {
		t.Error("/etc/cron.d/anm is still in place")
	}
	if _, _, err := m.Run(t.Context(), "test", "-f", "/etc/cron.d/anm.disabled-by-wnm"); err != nil {
		t.Error("/etc/cron.d/anm.disabled-by-wnm is missing")
	}

	samePIDs := func() error {
		for id, pid := range pids {
			unit := map[int]string{1: "antnode0001.service", 13: "antnode013.service"}[id]
			now := strings.TrimSpace(m.MustRun("systemctl", "show", "--property=MainPID", "--value", unit))
			if now != pid {
				return fmt.Errorf("%s: main pid %s, was %s before the takeover: the node was restarted", unit, now, pid)
			}
		}
		return nil
	}
	f.baseFlags = nil // anm's thresholds and delays are the machine's now
	f.cycleUntil(4*time.Minute, "the adopted fleet running and the stopped node started", func() error {
		if err := samePIDs(); err != nil {
			t.Fatal(err)
		}
		st := f.status()
		for _, id := range []int{1, 2, 13} {
			if r, ok := st[id]; !ok || r.Status != "RUNNING" {
				return fmt.Errorf("node %d: %+v, want RUNNING (status %v)", id, r, st)
			}
		}
		return nil
	})
	for id, r := range f.status() {
		if id != 1 && id != 2 && id != 13 && id != 14 {
			t.Errorf("the fleet grew into node %d (%+v); the next id is 14", id, r)
		}
	}
	if st := f.status(); st[13].Service != "antnode013.service" {
		t.Errorf("node 13's unit is %q, want antnode013.service", st[13].Service)
	}
	if _, _, err := m.Run(t.Context(), "test", "!", "-e", "/etc/systemd/system/antnode0013.service"); err != nil {
		t.Error("a second unit antnode0013.service was written")
	}
	if err := samePIDs(); err != nil {
		t.Error(err)
	}
}
