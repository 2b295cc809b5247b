package survey

import (
	"strings"
	"testing"
)

func TestParseBtime(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		{"proc stat", "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5 6\nctxt 7\nbtime 1767225600\nprocesses 9\n", 1767225600, ""},
		{"missing", "cpu  1 2 3 4\n", 0, "no btime line"},
		{"garbage", "btime soon\n", 0, "bad btime line"},
		{"zero", "btime 0\n", 0, "bad btime line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBtime(strings.NewReader(tt.in))
			if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("parseBtime = %d, %v; want %d, error containing %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBootTimeStable(t *testing.T) {
	a, err := bootTime(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := bootTime(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("boot time read twice: %d then %d", a, b)
	}
}
