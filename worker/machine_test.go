package worker

import (
	"slices"
	"testing"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
)

// TestRowNulls: columns an adopted wnm-python row left NULL or empty read as the defaults and are
// not rewritten with them; a nullable integer keeps NULL for "never set".
func TestRowNulls(t *testing.T) {
	p := config.Platform{OS: "linux", Mode: gen.ModeUser, Home: "/home/u", CPUCount: 2}
	def := config.Defaults(p)
	m := store.Machine{NodeCap: 5, HighestNodeIDUsed: nil, AntnodePath: "~/bin/antnode"}
	c := ConfigFromMachine(m, def, p.Home)
	if c.HighestNodeIDUsed != 0 || c.ProcessManager != def.ProcessManager || c.SurveyTimeout != 2000 || c.AntctlPath != def.AntctlPath {
		t.Errorf("unset columns did not read as defaults: %+v", c)
	}
	if c.AntnodePath != "/home/u/bin/antnode" {
		t.Errorf("antnode_path = %q, want ~ expanded", c.AntnodePath)
	}
	if got, want := UnsetSettings(m), []string{"process_manager", "antctl_path", "survey_timeout", "survey_concurrency"}; !slices.Equal(got, want) {
		t.Errorf("UnsetSettings = %v, want %v", got, want)
	}
	ApplyConfig(&m, c)
	if m.HighestNodeIDUsed != nil {
		t.Errorf("highest_node_id_used NULL became %d", *m.HighestNodeIDUsed)
	}
	five := 5
	m.HighestNodeIDUsed = &five
	if c := ConfigFromMachine(m, def, p.Home); c.HighestNodeIDUsed != 5 {
		t.Errorf("highest_node_id_used = %d, want 5", c.HighestNodeIDUsed)
	}

	// A nullable text column, should the store carry NULL distinctly.
	var null *string
	setRow(&null, "")
	if null != nil {
		t.Errorf("NULL text became %q", *null)
	}
	setRow(&null, "x")
	if null == nil || *null != "x" {
		t.Errorf("text not written: %v", null)
	}
	if v, isNull := rowValue(&null); v != "x" || isNull {
		t.Errorf("rowValue = %v, %v", v, isNull)
	}
}
