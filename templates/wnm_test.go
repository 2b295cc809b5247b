package templates

import (
	"os/exec"
	"testing"
)

func TestShellQuote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"path", "/usr/local/bin/wnm", "/usr/local/bin/wnm"},
		{"space", "/opt/my apps/wnm", "'/opt/my apps/wnm'"},
		{"single quote", "/opt/it's/wnm", `'/opt/it'\''s/wnm'`},
		{"dollar and backtick", "/opt/$HOME/`id`", "'/opt/$HOME/`id`'"},
		{"empty", "", "''"},
		{"glob", "/opt/*", "'/opt/*'"},
	}
	sh, err := exec.LookPath("sh")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ShellQuote(tt.in)
			if got != tt.want {
				t.Errorf("ShellQuote(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err != nil {
				return
			}
			// The shell must read the word back as the original string.
			out, err := exec.Command(sh, "-c", "printf %s "+got).Output()
			if err != nil {
				t.Fatalf("sh -c printf %%s %s: %v", got, err)
			}
			if string(out) != tt.in {
				t.Errorf("sh reads ShellQuote(%q) back as %q", tt.in, out)
			}
		})
	}
}
