package gen

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/templates"
)

func TestSplitExec(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  string
	}{
		{name: "anm", in: `/var/antctl/services/antnode0007/antnode --no-upnp --bootstrap "164.92.111.156:12000" --root-dir /var/antctl/services/antnode0007 --port 55007`,
			want: []string{"/var/antctl/services/antnode0007/antnode", "--no-upnp", "--bootstrap", "164.92.111.156:12000", "--root-dir", "/var/antctl/services/antnode0007", "--port", "55007"}},
		{name: "quoted binary", in: `"/srv/my nodes/antnode" --port 1`, want: []string{"/srv/my nodes/antnode", "--port", "1"}},
		{name: "single quotes", in: `/bin/x 'a b' 'it"s'`, want: []string{"/bin/x", "a b", `it"s`}},
		{name: "quotes inside a word", in: `/bin/x --root-dir=/a" b"/c`, want: []string{"/bin/x", "--root-dir=/a b/c"}},
		{name: "escapes", in: `/bin/x "a\"b" a\\b \x41\101\u00e9 "\s"`, want: []string{"/bin/x", `a"b`, `a\b`, "AAé", " "}},
		{name: "specifier and dollar", in: `/bin/x "50%%" "$$HOME" 5$`, want: []string{"/bin/x", "50%", "$HOME", "5$"}},
		{name: "extra space", in: "  /bin/x \t a  ", want: []string{"/bin/x", "a"}},
		{name: "prefixes", in: `-+/bin/x a`, want: []string{"/bin/x", "a"}},
		{name: "dollar in the executable is literal", in: `/srv/a$b/x $$c`, want: []string{"/srv/a$b/x", "$c"}},
		{name: "argv0 prefix", in: `@/bin/x name a`, want: []string{"/bin/x", "a"}},
		{name: "empty", in: "  ", wantErr: "no command"},
		{name: "relative", in: "antnode --port 1", wantErr: `"antnode" is not an absolute path`},
		{name: "unbalanced", in: `/bin/x "a b`, wantErr: "unbalanced"},
		{name: "unknown escape", in: `/bin/x \q`, wantErr: `unknown escape "\\q"`},
		{name: "trailing backslash", in: `/bin/x \`, wantErr: "backslash at the end"},
		{name: "NUL escape", in: `/bin/x \x00`, wantErr: "NUL"},
		{name: "specifier", in: `/bin/x %i`, wantErr: "specifier %i"},
		{name: "variable", in: `/bin/x $HOME`, wantErr: "environment variable"},
		{name: "braced variable", in: `/bin/x ${HOME}`, wantErr: "environment variable"},
		{name: "two commands", in: `/bin/x ; /bin/y`, wantErr: "lone ;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitExec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SplitExec(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitExec(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SplitExec(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestSplitEnvironment(t *testing.T) {
	tests := []struct {
		name, in string
		want     [][2]string
		wantErr  string
	}{
		{name: "anm", in: `"ANT_LOG=ant_evm=error"`, want: [][2]string{{"ANT_LOG", "ant_evm=error"}}},
		{name: "several", in: `A=1 "B=two words" C=`, want: [][2]string{{"A", "1"}, {"B", "two words"}, {"C", ""}}},
		{name: "dollar kept", in: `"P=$HOME/x"`, want: [][2]string{{"P", "$HOME/x"}}},
		{name: "percent", in: `"P=100%%"`, want: [][2]string{{"P", "100%"}}},
		{name: "empty", in: "", want: nil},
		{name: "not an assignment", in: "justaword", wantErr: `"justaword" is not NAME=VALUE`},
		{name: "bad name", in: "1A=x", wantErr: `"1A=x" is not NAME=VALUE`},
		{name: "specifier", in: `"H=%h"`, wantErr: "specifier %h"},
		{name: "unbalanced", in: `"A=x`, wantErr: "unbalanced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitEnvironment(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SplitEnvironment(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("SplitEnvironment(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SplitEnvironment(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// FuzzQuoteRoundTrip checks that whatever the quoting functions of package templates accept,
// the splitters read back unchanged.
func FuzzQuoteRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", "a b", `"`, `\`, "%", "%%i", "$", "$$", "${X}", ";", "'", "é ü", `\x41`, "a\"b'c\\d e%f$g;h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
			if _, err := templates.SystemdExecArg(s); err == nil {
				t.Fatalf("SystemdExecArg(%q) accepted a control character or invalid UTF-8", s)
			}
			return
		}
		arg, err := templates.SystemdExecArg(s)
		if err != nil {
			t.Fatalf("SystemdExecArg(%q): %v", s, err)
		}
		argv, err := SplitExec("/bin/x " + arg + " tail")
		if err != nil {
			t.Fatalf("SplitExec of %s: %v", arg, err)
		}
		if diff := cmp.Diff([]string{"/bin/x", s, "tail"}, argv); diff != "" {
			t.Fatalf("exec arg %q quoted as %s reads back wrong (-want +got):\n%s", s, arg, diff)
		}
		env, err := templates.SystemdEnv("K", s)
		if err != nil {
			t.Fatalf("SystemdEnv(K, %q): %v", s, err)
		}
		kv, err := SplitEnvironment(env + " Z=1")
		if err != nil {
			t.Fatalf("SplitEnvironment of %s: %v", env, err)
		}
		if diff := cmp.Diff([][2]string{{"K", s}, {"Z", "1"}}, kv); diff != "" {
			t.Fatalf("environment value %q quoted as %s reads back wrong (-want +got):\n%s", s, env, diff)
		}
	})
}
