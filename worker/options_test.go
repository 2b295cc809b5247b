package worker

import (
	"context"
	"errors"
	"testing"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// TestNilLoggerDiscards checks that Options without a Logger get one that discards, instead of a
// nil-pointer panic on the first log line.
func TestNilLoggerDiscards(t *testing.T) {
	var o Options
	o.defaultLogger()
	if o.Logger == nil {
		t.Fatal("defaultLogger left Logger nil")
	}
	o.Logger.Info("this line goes nowhere") // must not panic
}

// TestNoManagerRefusesEverything checks that the stand-in manager of read-only commands answers
// every call with an error instead of panicking through a nil interface.
func TestNoManagerRefusesEverything(t *testing.T) {
	ctx := context.Background()
	var m units.Manager = noManager{}
	n := gen.Node{}
	calls := map[string]error{
		"Create": m.Create(ctx, n),
		"Start":  m.Start(ctx, n),
		"Stop":   m.Stop(ctx, n),
		"Remove": m.Remove(ctx, n),
	}
	_, calls["Discover"] = m.Discover(ctx)
	st, err := m.Status(ctx, n)
	calls["Status"] = err
	for name, err := range calls {
		if !errors.Is(err, errNoManager) {
			t.Errorf("%s = %v, want errNoManager", name, err)
		}
	}
	if st.State != units.Unknown {
		t.Errorf("Status state = %v, want unknown", st.State)
	}
}
