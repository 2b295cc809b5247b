package worker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wnm-project/wnm/worker/decide"
	"github.com/wnm-project/wnm/worker/survey"
)

// TestCycleLogFigures: the cycle's log line carries host figures rounded to two decimals and
// every duration in seconds, rounded to the millisecond.
func TestCycleLogFigures(t *testing.T) {
	var buf bytes.Buffer
	start := time.Unix(1_900_000_000, 0)
	c := &cycle{
		Options: Options{
			Logger: slog.New(slog.NewTextHandler(&buf, nil)),
			Now:    func() time.Time { return start.Add(1234567 * time.Microsecond) },
		},
		start: start,
	}
	c.summary(&Result{
		Plan: decide.Plan{Actions: []decide.Action{{Kind: decide.Survey, Reason: "steady"}}},
		Obs: survey.Observation{
			Host: survey.Host{CPUPercent: survey.Reading{Value: 92.00000000000728, Known: true},
				MemPercent: survey.Reading{Value: 41.256, Known: true}, Load1: survey.Reading{Value: 0.1 + 0.2, Known: true}},
			Took: 333333 * time.Microsecond,
		},
	})
	line := buf.String()
	for _, want := range []string{" cpu=92 ", " mem=41.26 ", " disk=unknown ", " load1=0.3 ", " duration_seconds=1.235 ", " survey_seconds=0.333 "} {
		if !strings.Contains(line, want) {
			t.Errorf("cycle log line lacks %q:\n%s", want, line)
		}
	}
}
