package worker

import (
	"testing"
	"time"

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
			got := DecideConfig(store.Machine{WNMBootTime: tt.wnmBoot, LastStoppedAt: tt.last}).LastBoot
			if !got.Equal(tt.want) {
				t.Errorf("LastBoot = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSavingSettingsKeepsUnexpandedPaths: wnm-python stores antnode_path as ~/.local/bin/antnode;
// saving another setting must not replace it with the expanded path.
func TestSavingSettingsKeepsUnexpandedPaths(t *testing.T) {
	home := "/home/ant"
	old := store.Machine{AntnodePath: "~/.local/bin/antnode", AntctlPath: "~/bin/antctl", NodeStorage: "/srv/nodes"}
	c := ConfigFromMachine(old, config.Config{}, home)
	if c.AntnodePath != "/home/ant/.local/bin/antnode" {
		t.Fatalf("AntnodePath = %q, want it expanded for use", c.AntnodePath)
	}
	m := old
	ApplyConfig(&m, c)
	keepUnexpanded(&m, old, home)
	if m.AntnodePath != old.AntnodePath || m.AntctlPath != old.AntctlPath || m.NodeStorage != old.NodeStorage {
		t.Errorf("paths after saving = %q, %q, %q; want them as stored", m.AntnodePath, m.AntctlPath, m.NodeStorage)
	}
	c.AntnodePath = "/opt/antnode"
	m = old
	ApplyConfig(&m, c)
	keepUnexpanded(&m, old, home)
	if m.AntnodePath != "/opt/antnode" {
		t.Errorf("a changed antnode_path = %q, want /opt/antnode", m.AntnodePath)
	}
}
