package anm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const unitText = `[Unit]
Description=antnode{N}
[Service]
User=ant
Environment="ANT_LOG=ant_evm=error"
ExecStart={ROOT}/var/antctl/services/antnode{N}/antnode --no-upnp --root-dir {ROOT}/var/antctl/services/antnode{N} --port {PORT} --enable-metrics-server --metrics-server-port {MPORT} --rewards-address 0x00455d78f850b0358E8cea5be24d415E01E107CF evm-arbitrum-one
Restart=always
`

// tree writes files (path → content, {ROOT} replaced) under a new root and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(strings.ReplaceAll(c, "{ROOT}", root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func unit(n, port, mport string) string {
	return strings.NewReplacer("{N}", n, "{PORT}", port, "{MPORT}", mport).Replace(unitText)
}

func TestReadSettings(t *testing.T) {
	tests := []struct {
		name   string
		system string
		config string
		want   map[string]string
	}{
		{
			name:   "delays are minutes; quotes, comments and export are read as bash would",
			system: "CpuCount=8\n",
			config: "# comment\nexport DelayStart=5\nDelayReStart='7' # trailing comment\nDelayUpgrade=\"3\"\nDelayRemove=10\nNodeCap=33\n" +
				"RewardsAddress=\"--rewards-address 0x00455d78f850b0358E8cea5be24d415E01E107CF\"\nMaxLoadAverageAllowed=8.0\n",
			want: map[string]string{"delay_start": "300", "delay_restart": "420", "delay_upgrade": "180", "delay_remove": "600",
				"node_cap": "33", "rewards_address": "0x00455d78f850b0358E8cea5be24d415E01E107CF", "max_load_average_allowed": "8.0"},
		},
		{
			name:   "24 or more CPUs: anm forces 5 minutes for starts and upgrades",
			system: "CpuCount=32\n",
			config: "DelayStart=1\nDelayUpgrade=20\nDelayRemove=10\nRewardsAddress=0x00455d78f850b0358E8cea5be24d415E01E107CF\n",
			want:   map[string]string{"delay_start": "300", "delay_upgrade": "300", "delay_remove": "600", "rewards_address": "0x00455d78f850b0358E8cea5be24d415E01E107CF"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, map[string]string{"var/antctl/system": tt.system, "var/antctl/config": tt.config})
			tk, err := Read(root)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, s := range tk.Settings {
				got[s.Name] = s.Value
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("settings (-want +got):\n%s", d)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	root := tree(t, map[string]string{"var/antctl/system": "CpuCount=2\n", "var/antctl/config": "DelayStart=soon\n"})
	if _, err := Read(root); err == nil || !strings.Contains(err.Error(), `anm's DelayStart="soon" (/var/antctl/config:1) is not a whole number of minutes`) {
		t.Errorf("Read = %v, want the bad delay named with its file and line", err)
	}
	if _, err := Read(t.TempDir()); !errors.Is(err, ErrNotAnm) {
		t.Errorf("Read(empty) = %v, want ErrNotAnm", err)
	}
	root = tree(t, map[string]string{"var/antctl/system": "CpuCount=2\n", "var/antctl/config": "", "var/antctl/block": ""})
	var be BlockedError
	if _, err := Read(root); !errors.As(err, &be) || be.Path != filepath.Join(root, FileBlock) {
		t.Errorf("Read(blocked) = %v, want a BlockedError naming the block file", err)
	}
}

func TestReadUnits(t *testing.T) {
	root := tree(t, map[string]string{
		"var/antctl/system":                          "CpuCount=2\n",
		"var/antctl/config":                          "NodeStorage={ROOT}/var/antctl/services\n",
		"etc/systemd/system/antnode0001.service":     unit("0001", "55001", "13001"),
		"etc/systemd/system/antnode007.service":      unit("007", "55007", "13007"),
		"etc/systemd/system/antnode0008.service":     unit("0008", "55008", "13008"),
		"etc/systemd/system/antnode008.service":      unit("008", "55108", "13108"),
		"etc/systemd/system/antnode0009.service":     unit("0009", "55011", "13009"),
		"etc/systemd/system/antnode0011.service":     unit("0011", "55011", "13011"),
		"etc/systemd/system/antnode0010.service":     unit("0010", "55010", "13010"),
		"var/antctl/services/antnode0001/secret-key": "k",
		"var/antctl/services/antnode007/secret-key":  "k",
		"var/antctl/services/antnode0008/secret-key": "k",
		"var/antctl/services/antnode008/secret-key":  "k",
		"var/antctl/services/antnode0009/secret-key": "k",
		"var/antctl/services/antnode0030/secret-key": "k",
		"etc/cron.d/anm":                             "* * * * * ubuntu /bin/bash /usr/bin/anms.sh\n",
	})
	born := time.Unix(1_700_000_000, 0)
	os.Chtimes(filepath.Join(root, "var/antctl/services/antnode007/secret-key"), born, born)
	tk, err := Read(root)
	if err != nil {
		t.Fatal(err)
	}
	var adopted []string
	for _, n := range tk.Nodes {
		adopted = append(adopted, n.Service)
	}
	if d := cmp.Diff([]string{"antnode0001.service", "antnode007.service"}, adopted); d != "" {
		t.Errorf("adopted (-want +got):\n%s", d)
	}
	if len(tk.Nodes) != 2 {
		t.FailNow()
	}
	if !tk.Nodes[1].Age.Equal(born) || tk.Nodes[1].ID != 7 {
		t.Errorf("node 7: id %d, age %v; want 7, %v from secret-key", tk.Nodes[1].ID, tk.Nodes[1].Age, born)
	}
	refused := map[string]string{}
	for _, r := range tk.Refused {
		refused[r.Service] = r.Reason
	}
	want := map[string]string{
		"antnode0008.service": "another unit also claims node 8",
		"antnode008.service":  "another unit also claims node 8",
		"antnode0009.service": "port 55011 or 13009 is claimed by another unit too",
		"antnode0011.service": "port 55011 or 13011 is claimed by another unit too",
		"antnode0010.service": "its root dir " + root + "/var/antctl/services/antnode0010 does not exist",
	}
	if d := cmp.Diff(want, refused); d != "" {
		t.Errorf("refused (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{1, 7, 8, 9, 10, 11, 30}, tk.KnownIDs); d != "" {
		t.Errorf("known ids (-want +got):\n%s", d)
	}

	undo, err := tk.DisableCron()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, FileCron)); !os.IsNotExist(err) {
		t.Errorf("cron file still in place: %v", err)
	}
	if undo != "mv "+filepath.Join(root, FileCronDisabled)+" "+filepath.Join(root, FileCron) {
		t.Errorf("undo = %q", undo)
	}
}
