package config

import (
	"strings"
	"testing"
)

// FuzzParseDotEnv: any text parses or fails without panicking, and every key it yields is a
// variable name.
func FuzzParseDotEnv(f *testing.F) {
	for _, s := range []string{"NODE_CAP=30 # thirty", "export A='x # y'", `B="a\"b\n"`, "C=", "# c\nD=1\r\n", `E="open`, "F='x' y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		vars, err := ParseDotEnv(text)
		if err != nil {
			return
		}
		for k := range vars {
			if !isEnvKey(k) {
				t.Errorf("key %q from %q", k, text)
			}
		}
	})
}

// FuzzParse: every setting's parser accepts or refuses any text without panicking, and a value it
// accepts prints in a canonical form that parses back to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"30", " 55000 ", "55500", "2.5", "yes", "~/x", "$HOME/y", "sqlite:////v/c.db", "-1", "1e309", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range Settings {
			v, err := Parse(s, raw, "/home/u")
			if err != nil {
				if !strings.HasPrefix(err.Error(), s.Name+": ") {
					t.Errorf("%s: error %q does not start with the setting's name", s.Name, err)
				}
				continue
			}
			var c Config
			c.SetValue(s.Name, v)
			text := c.Get(s.Name)
			if s.Kind == Path && strings.Contains(text, "$") {
				continue // an expanded variable's value may itself hold a $
			}
			back, err := Parse(s, text, "/home/u")
			if err != nil || back != v {
				t.Errorf("%s: %q parsed to %v, printed %q, which parses to %v, %v", s.Name, raw, v, text, back, err)
			}
		}
	})
}
