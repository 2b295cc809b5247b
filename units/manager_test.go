package units

import "testing"

func TestStateString(t *testing.T) {
	tests := []struct {
		name string
		s    State
		want string
	}{
		{"zero value", State(0), "unknown"},
		{"unknown", Unknown, "unknown"},
		{"running", Running, "running"},
		{"stopped", Stopped, "stopped"},
		{"out of range", State(7), "State(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.String(); got != tt.want {
				t.Errorf("State(%d).String() = %q, want %q", int(tt.s), got, tt.want)
			}
		})
	}
}
