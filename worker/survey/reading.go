package survey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Reading is one host measurement that may be unknown. A failed reading is
// never reported as zero: it stays unknown (Known false) and the reason goes
// into [Observation.Errors]. In JSON a known reading is a number and an
// unknown one is null.
type Reading struct {
	Value float64
	Known bool
}

// known returns a known reading of v. A NaN or infinite v (which JSON cannot
// carry) gives an unknown reading.
func known(v float64) Reading {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Reading{}
	}
	return Reading{Value: v, Known: true}
}

// String returns the value, or "unknown".
func (r Reading) String() string {
	if !r.Known {
		return "unknown"
	}
	return fmt.Sprint(r.Value)
}

// LogValue implements slog.LogValuer: log lines carry the value rounded to two decimals (92 rather
// than 92.00000000000728), or "unknown".
func (r Reading) LogValue() slog.Value {
	if !r.Known {
		return slog.StringValue("unknown")
	}
	return slog.Float64Value(math.Round(r.Value*100) / 100)
}

// Seconds is d in seconds rounded to the millisecond, the unit every duration in wnm's log has.
func Seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// MarshalJSON implements json.Marshaler: a number, or null when unknown.
func (r Reading) MarshalJSON() ([]byte, error) {
	if !r.Known {
		return []byte("null"), nil
	}
	return json.Marshal(r.Value)
}

// UnmarshalJSON implements json.Unmarshaler: null gives an unknown reading.
func (r *Reading) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*r = Reading{}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("reading %s: %w", b, err)
	}
	*r = Reading{Value: v, Known: true}
	return nil
}
