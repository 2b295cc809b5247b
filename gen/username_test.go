package gen

import (
	"regexp"
	"strings"
	"testing"
)

// TestIsUserName agrees with systemd's strict account-name rule written as a regular expression.
func TestIsUserName(t *testing.T) {
	rule := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,30}$`)
	for _, u := range []string{"", "ant", "_ant", "-ant", "1ant", "ant-1_x", "Ant", "an t", "ant.x", "é",
		strings.Repeat("a", 31), strings.Repeat("a", 32), "a" + strings.Repeat("-", 30), "a\n"} {
		if got, want := isUserName(u), rule.MatchString(u); got != want {
			t.Errorf("isUserName(%q) = %v, want %v", u, got, want)
		}
	}
}
