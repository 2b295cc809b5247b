package decide_test

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/testenv/golden"
	"github.com/wnm-project/wnm/worker/decide"
)

// TestGolden renders the plans of a few whole scenarios into
// testdata/<case>.plan.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		in   decide.Input
	}{
		{
			name: "idle",
			in:   input(node(1, running), node(2, running), node(3, disabled), node(4, running), node(5, running)),
		},
		{
			name: "reboot",
			in: with(input(
				node(1, running, down),
				node(2, restarting, ago(time.Minute), down),
				node(3, upgrading, ago(time.Minute), up),
				node(4, disabled),
				node(5, removing, ago(time.Hour)),
				node(6, stopped, gone),
			), func(in *decide.Input) { in.Host.Boot = t0.Add(-3 * time.Minute) }),
		},
		{
			name: "dead_cleanup",
			in: input(node(1, running), node(2, dead), node(3, running, gone),
				node(4, removing, ago(time.Hour)), node(5, restarting, ago(time.Minute))),
		},
		{
			name: "hard_pressure",
			in: with(input(node(1, running), node(2, stopped), node(3, running), node(4, running), node(5, stopped)),
				limits(2, 2, 3, 4), func(in *decide.Input) { in.Host.HD = k(93.5) }),
		},
		{
			name: "soft_pressure_cooldown",
			in: with(input(node(1, running), node(2, running), node(3, stopped, ago(2*time.Minute))),
				func(in *decide.Input) { in.Host.Load1 = k(6.25) }),
		},
		{
			name: "rolling_upgrade",
			in: with(input(node(1, running, ver("0.4.9")), node(2, upgrading, ago(time.Minute)),
				node(3, running, ver("0.4.10-rc.1")), node(4, running, ver("")), node(5, stopped, ver("0.4.9"), ago(time.Hour))),
				limits(3, 1, 1, 3)),
		},
		{
			name: "growth_new_ids",
			in: with(input(node(1, stopped), node(3, running), node(4, stopped, ver("0.4.9")), node(7, running)),
				nodeCap(8), limits(1, 4, 1, 4)),
		},
		{
			name: "forget_then_add",
			in:   with(input(node(1, running), node(2, removing, ago(10*time.Minute)), node(3, running)), nodeCap(3)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.Compare(t, filepath.Join("testdata", tt.name+".plan"), decide.Next(tt.in).String())
		})
	}
}

func TestPlanJSON(t *testing.T) {
	p := decide.Plan{
		Transitions: []decide.Transition{tr(2, running, stopped, "metrics endpoint not answering")},
		Actions: []decide.Action{
			removeRunning(3, "remove running node (1/1)"),
			add(4, "add new node (1/1)"),
		},
		Counts:     decide.Counts{Total: 3, Running: 1, Stopped: 1, Removing: 1},
		Features:   decide.Features{AllowCPU: true, Remove: true},
		RecordBoot: boot,
	}
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	want := `{"transitions":[{"node":2,"from":"RUNNING","to":"STOPPED","reason":"metrics endpoint not answering"}],` +
		`"actions":[{"kind":"remove","node":3,"reason":"remove running node (1/1)","priority":75,"cooldown":true},` +
		`{"kind":"add","node":4,"reason":"add new node (1/1)","priority":40,"version":"0.4.10"}],` +
		`"not_taken":[],"counts":{"total":3,"running":1,"stopped":1,"restarting":0,"upgrading":0,"migrating":0,"removing":1,"dead":0,"disabled":0,"outdated":0},` +
		`"features":{"rebooted":false,"allow_cpu":true,"allow_mem":false,"allow_hd":false,"allow_hdio":false,"allow_netio":false,` +
		`"load_allow":false,"allow_node_cap":false,"allow_total_cap":false,"remove_cpu":false,"remove_mem":false,"remove_hd":false,` +
		`"remove_hdio":false,"remove_netio":false,"load_not_allow":false,"transitional":false,"remove":true,"hard_remove":false,` +
		`"stop_cooldown":false,"upgrade":false,"grow":false,"start_node":false,"add_new_node":false},` +
		`"record_boot":"2026-01-09T12:00:00Z"}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Marshal mismatch (-want +got):\n%s", diff)
	}

	var back decide.Plan
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	p.NotTaken = []decide.Skip{}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("JSON round trip mismatch (-want +got):\n%s", diff)
	}

	empty, err := json.Marshal(decide.Plan{})
	if err != nil {
		t.Fatalf("Marshal empty plan: %v", err)
	}
	if want := `{"transitions":[],"actions":[],`; !strings.HasPrefix(string(empty), want) {
		t.Errorf("Marshal(Plan{}) = %s, want it to start with %s", empty, want)
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind decide.Kind
		name string
	}{
		{decide.Resurvey, "resurvey"},
		{decide.Survey, "survey"},
		{decide.Forget, "forget"},
		{decide.Remove, "remove"},
		{decide.Stop, "stop"},
		{decide.Start, "start"},
		{decide.Upgrade, "upgrade"},
		{decide.Add, "add"},
		{decide.Restart, "restart"},
		{decide.Disable, "disable"},
		{decide.Enable, "enable"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.name {
			t.Errorf("Kind(%d).String() = %q, want %q", int(tt.kind), got, tt.name)
		}
		text, err := tt.kind.MarshalText()
		if err != nil || string(text) != tt.name {
			t.Errorf("Kind(%d).MarshalText() = %q, %v, want %q", int(tt.kind), text, err, tt.name)
		}
		var back decide.Kind
		if err := back.UnmarshalText([]byte(tt.name)); err != nil || back != tt.kind {
			t.Errorf("UnmarshalText(%q) = %v, %v, want %v", tt.name, back, err, tt.kind)
		}
	}
	for _, bad := range []decide.Kind{0, -1, decide.Enable + 1} {
		if got := bad.String(); !strings.HasPrefix(got, "Kind(") {
			t.Errorf("Kind(%d).String() = %q, want Kind(n)", int(bad), got)
		}
		if _, err := bad.MarshalText(); err == nil {
			t.Errorf("Kind(%d).MarshalText() succeeded, want an error", int(bad))
		}
	}
	var k decide.Kind
	if err := k.UnmarshalText([]byte("explode")); err == nil {
		t.Errorf("UnmarshalText(%q) succeeded, want an error", "explode")
	}
}

func TestReading(t *testing.T) {
	tests := []struct {
		r    decide.Reading
		text string
		json string
	}{
		{decide.Reading{}, "unknown", "null"},
		{k(12.5), "12.5", "12.5"},
		{k(0), "0", "0"},
		{k(math.NaN()), "unknown", "null"},
		{k(math.Inf(1)), "unknown", "null"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.text {
			t.Errorf("%#v.String() = %q, want %q", tt.r, got, tt.text)
		}
		b, err := json.Marshal(tt.r)
		if err != nil || string(b) != tt.json {
			t.Errorf("Marshal(%#v) = %s, %v, want %s", tt.r, b, err, tt.json)
		}
	}
	var h decide.Host
	if err := json.Unmarshal([]byte(`{"used_cpu_percent":42,"used_mem_percent":null}`), &h); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if want := (decide.Host{CPU: k(42)}); h != want {
		t.Errorf("Unmarshal = %#v, want %#v", h, want)
	}
	if err := json.Unmarshal([]byte(`{"used_cpu_percent":"x"}`), &h); err == nil {
		t.Errorf("Unmarshal of a string reading succeeded, want an error")
	}
}

func TestDefaultConfig(t *testing.T) {
	c := decide.DefaultConfig(8)
	if c.NodeCap != 20 || c.MaxLoadAverageAllowed != 8 || c.DesiredLoadAverage != 8*0.6 ||
		c.DelayStart != 5*time.Minute || c.MaxConcurrentOperations != 1 || c.HDIOReadLessThan != 0 {
		t.Errorf("DefaultConfig(8) = %+v, want upstream's defaults", c)
	}
}

func TestEmptyPlanString(t *testing.T) {
	want := "counts: total=0 running=0 stopped=0 restarting=0 upgrading=0 migrating=0 removing=0 dead=0 disabled=0 outdated=0\n" +
		"features: none\ntransitions: none\nactions: none\n"
	if got := (decide.Plan{}).String(); got != want {
		t.Errorf("Plan{}.String() = %q, want %q", got, want)
	}
}

func TestStatusKnown(t *testing.T) {
	for _, s := range []decide.Status{running, stopped, restarting, upgrading, removing, disabled, dead, migrating} {
		if !s.Known() {
			t.Errorf("%q.Known() = false, want true", s)
		}
	}
	for _, s := range []decide.Status{"", "running", "BOGUS"} {
		if s.Known() {
			t.Errorf("%q.Known() = true, want false", s)
		}
	}
}
