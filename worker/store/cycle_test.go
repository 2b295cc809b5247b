package store

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCycleRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	full := Cycle{
		StartedAt: 1767225600000, DurationMS: 812,
		CPUPercent: 12.5, MemPercent: 40.25, DiskPercent: 71,
		Load1: 0.5, Load5: 0.75, Load15: 1.25,
		DiskReadBps: 1e6, DiskWriteBps: 2e6, NetRecvBps: 3e6, NetSendBps: 4e6,
		NodeCount: 20,
		Plan:      json.RawMessage(`[{"kind":"start","node":3,"reason":"below cap"}]`),
		Results:   json.RawMessage(`[{"node":3,"ok":true}]`),
		Changes:   json.RawMessage(`{"3":["STOPPED","RESTARTING"]}`),
		DryRun:    true,
		Error:     "survey: 1 node timed out",
	}
	unmeasured := Cycle{
		StartedAt: 1767225660000, DurationMS: 5,
		CPUPercent: math.NaN(), MemPercent: math.NaN(), DiskPercent: math.NaN(),
		Load1: math.NaN(), Load5: math.NaN(), Load15: math.NaN(),
		DiskReadBps: math.NaN(), DiskWriteBps: math.NaN(), NetRecvBps: math.NaN(), NetSendBps: math.NaN(),
	}
	var ids []int64
	for _, c := range []Cycle{full, unmeasured} {
		id, err := s.RecordCycle(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	full.ID, unmeasured.ID = ids[0], ids[1]

	got, err := s.Cycles(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Cycle{unmeasured, full}, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("Cycles(0) newest first (-want +got):\n%s", diff)
	}
	got, err = s.Cycles(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != unmeasured.ID {
		t.Errorf("Cycles(1) = %v, want only the newest", got)
	}
	if n := rows(t, s, "SELECT count(*) FROM cycle WHERE cpu_percent IS NULL;")[0][0]; n != "1" {
		t.Errorf("%s rows store cpu_percent as NULL, want 1 (NaN)", n)
	}
}

func TestRecordCycleRejectsBadJSON(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_, err := s.RecordCycle(ctx, Cycle{StartedAt: 1, Results: json.RawMessage(`{"ok":`)})
	if err == nil || !strings.Contains(err.Error(), "results is not valid JSON") {
		t.Errorf("RecordCycle(bad JSON) = %v, want a results error", err)
	}
	if got, _ := s.Cycles(ctx, 0); len(got) != 0 {
		t.Errorf("a bad cycle was stored: %v", got)
	}
}

func TestCyclePruning(t *testing.T) {
	const minute = int64(time.Minute / time.Millisecond)
	t0 := int64(1767225600000)
	plan := func(n int) json.RawMessage { return json.RawMessage(`"` + strings.Repeat("x", n-2) + `"`) }
	row := int64(100 + CycleRowOverhead) // size of a cycle with a 100-byte plan

	tests := []struct {
		name      string
		retention Retention
		started   []int64 // StartedAt of each recorded cycle, in order
		planBytes int
		wantIDs   []int64 // left afterwards, newest first
	}{
		{
			name:      "by age",
			retention: Retention{MaxAge: time.Hour},
			started:   []int64{t0, t0 + 30*minute, t0 + 61*minute, t0 + 90*minute},
			wantIDs:   []int64{4, 3, 2}, // cutoff t0+30m: only t0 is older
		},
		{
			name:      "by age keeps the newest even if the clock went back",
			retention: Retention{MaxAge: time.Hour},
			started:   []int64{t0 + 600*minute, t0},
			wantIDs:   []int64{2, 1},
		},
		{
			name:      "by count",
			retention: Retention{MaxRows: 3},
			started:   []int64{t0, t0 + 1, t0 + 2, t0 + 3, t0 + 4},
			wantIDs:   []int64{5, 4, 3},
		},
		{
			name:      "by size",
			retention: Retention{MaxBytes: 3*row + row/2},
			started:   []int64{t0, t0 + 1, t0 + 2, t0 + 3, t0 + 4},
			planBytes: 100,
			wantIDs:   []int64{5, 4, 3},
		},
		{
			name:      "by size at exactly the limit",
			retention: Retention{MaxBytes: 2 * row},
			started:   []int64{t0, t0 + 1, t0 + 2},
			planBytes: 100,
			wantIDs:   []int64{3, 2},
		},
		{
			name:      "newest row kept when it alone is too big",
			retention: Retention{MaxBytes: 10},
			started:   []int64{t0, t0 + 1, t0 + 2},
			planBytes: 100,
			wantIDs:   []int64{3},
		},
		{
			name:      "smallest limit wins",
			retention: Retention{MaxAge: time.Hour, MaxRows: 4, MaxBytes: 3 * row},
			started:   []int64{t0, t0 + 1, t0 + 2, t0 + 3, t0 + 4, t0 + 5},
			planBytes: 100,
			wantIDs:   []int64{6, 5, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t, WithRetention(tt.retention))
			for _, at := range tt.started {
				c := Cycle{StartedAt: at}
				if tt.planBytes > 0 {
					c.Plan = plan(tt.planBytes)
				}
				if _, err := s.RecordCycle(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Cycles(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("cycle ids left (-want +got):\n%s", diff)
			}
			st, err := s.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Cycles != len(tt.wantIDs) {
				t.Errorf("Stats().Cycles = %d, want %d", st.Cycles, len(tt.wantIDs))
			}
		})
	}
}

func TestDefaultRetention(t *testing.T) {
	want := Retention{MaxAge: 7 * 24 * time.Hour, MaxRows: 20000, MaxBytes: 64 << 20}
	if got := DefaultRetention(); got != want {
		t.Errorf("DefaultRetention() = %+v, want %+v", got, want)
	}
	// Zero fields of WithRetention keep the defaults.
	o := newOptions([]Option{WithRetention(Retention{MaxRows: 5})})
	want.MaxRows = 5
	if o.retention != want {
		t.Errorf("WithRetention({MaxRows: 5}) = %+v, want %+v", o.retention, want)
	}
}

// TestPruneQueriesUseIndex guards the coupling between cycleTextBytes and the
// cycle_bytes index: if they drift apart, pruning reads every row's JSON.
func TestPruneQueriesUseIndex(t *testing.T) {
	s := newStore(t)
	for _, q := range []string{sqlCycleTotals, sqlCycleSizes} {
		var plan []string
		for _, r := range rows(t, s, "EXPLAIN QUERY PLAN "+q) {
			plan = append(plan, r[3])
		}
		if got := strings.Join(plan, "; "); !strings.Contains(got, "COVERING INDEX cycle_bytes") {
			t.Errorf("query plan of %q = %q, want it to use the covering index cycle_bytes", q, got)
		}
	}
}
