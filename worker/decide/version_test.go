package decide_test

import (
	"testing"

	"github.com/wnm-project/wnm/worker/decide"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b   string
		want   int
		wantOK bool
	}{
		{"0.4.10", "0.4.10", 0, true},
		{"0.4.9", "0.4.10", -1, true},
		{"0.4.10", "0.4.9", 1, true},
		{"0.4.10", "0.4.11", -1, true},
		{"0.5.0", "0.4.99", 1, true},
		{"1.0.0", "0.99.99", 1, true},
		{"0.4.10-rc.1", "0.4.10", -1, true},
		{"0.4.10", "0.4.10-rc.1", 1, true},
		{"0.4.10-rc.1", "0.4.9", 1, true},
		{"0.4.10-rc.1", "0.4.10-rc.2", -1, true},
		{"0.4.10-rc.2", "0.4.10-rc.10", -1, true},
		{"0.4.10-rc.1", "0.4.10-rc.1.1", -1, true},
		{"0.4.10-1", "0.4.10-rc", -1, true},
		{"0.4.10-alpha", "0.4.10-beta", -1, true},
		{"0.4.10-rc-1", "0.4.10-rc-1", 0, true},
		{"1.2", "1.2.0", 0, true},
		{"1.2.0.1", "1.2", 1, true},
		{"0.04.1", "0.4.1", 0, true},
		{"v0.4.10", "0.4.10", 0, true},
		{" 0.4.10\n", "0.4.10", 0, true},
		{"0.4.10+build.5", "0.4.10", 0, true},
		{"99999999999999999999999.0", "99999999999999999999998.9", 1, true},
		{"0", "0.0.1", -1, true},
		{"", "0.4.10", 0, false},
		{"0.4.10", "", 0, false},
		{"garbage", "0.4.10", 0, false},
		{"v", "0.4.10", 0, false},
		{"0.4.", "0.4.10", 0, false},
		{".4.1", "0.4.10", 0, false},
		{"0..4", "0.4.10", 0, false},
		{"0.4.10-", "0.4.10", 0, false},
		{"0.4.10-rc..1", "0.4.10", 0, false},
		{"0.4.10-rc_1", "0.4.10", 0, false},
		{"0.4.10+", "0.4.10", 0, false},
		{"0.4.x", "0.4.10", 0, false},
		{"-1.0", "0.4.10", 0, false},
		{"0.4.10 0.4.11", "0.4.10", 0, false},
	}
	for _, tt := range tests {
		got, ok := decide.CompareVersions(tt.a, tt.b)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("CompareVersions(%q, %q) = %d, %t, want %d, %t", tt.a, tt.b, got, ok, tt.want, tt.wantOK)
		}
		if !tt.wantOK {
			continue
		}
		if back, _ := decide.CompareVersions(tt.b, tt.a); back != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d (antisymmetry)", tt.b, tt.a, back, -tt.want)
		}
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, s := range []string{"0.4.10", "0.4.10-rc.1", "v1.2", "1.2.0+x", "", "0..1", "0.4.10-rc.1.a-b"} {
		f.Add(s, "0.4.10")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, okA := decide.CompareVersions(a, b)
		ba, okB := decide.CompareVersions(b, a)
		if okA != okB {
			t.Fatalf("CompareVersions(%q, %q) ok = %t, reversed ok = %t", a, b, okA, okB)
		}
		if ab != -ba {
			t.Fatalf("CompareVersions(%q, %q) = %d, reversed = %d", a, b, ab, ba)
		}
		if !okA {
			if ab != 0 {
				t.Fatalf("CompareVersions(%q, %q) = %d, false, want 0", a, b, ab)
			}
			return
		}
		if self, ok := decide.CompareVersions(a, a); !ok || self != 0 {
			t.Fatalf("CompareVersions(%q, %q) = %d, %t, want 0, true", a, a, self, ok)
		}
	})
}
