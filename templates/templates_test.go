package templates

import (
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tmpl, err := Parse()
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if tmpl.Lookup("antnode.service.tmpl") == nil {
		t.Errorf("Parse: no template antnode.service.tmpl; have %s", tmpl.DefinedTemplates())
	}
	// missingkey=error: a map without a key the template needs fails instead of rendering "<no value>".
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, "antnode.service.tmpl", map[string]any{}); err == nil {
		t.Errorf("executing with an empty map succeeded; want a missing key error:\n%s", b.String())
	}
}

func TestFuncs(t *testing.T) {
	for _, name := range []string{"systemdQuote", "systemdExecArg", "systemdEnv", "systemdValue"} {
		if Funcs()[name] == nil {
			t.Errorf("Funcs()[%q] is missing", name)
		}
	}
}

func TestSystemdQuote(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "plain", in: "ANT_LOG=all", want: `"ANT_LOG=all"`},
		{name: "empty", in: "", want: `""`},
		{name: "space", in: "a b", want: `"a b"`},
		{name: "quote and backslash", in: `say "hi" \o/`, want: `"say \"hi\" \\o/"`},
		{name: "percent", in: "100%", want: `"100%%"`},
		{name: "dollar kept", in: "$HOME", want: `"$HOME"`},
		{name: "single quote", in: "it's", want: `"it's"`},
		{name: "unicode", in: "ünï", want: `"ünï"`},
		{name: "newline", in: "a\nExecStartPre=+/bin/sh", wantErr: "control character"},
		{name: "carriage return", in: "a\rb", wantErr: "control character"},
		{name: "tab", in: "a\tb", wantErr: "control character"},
		{name: "NUL", in: "a\x00b", wantErr: "control character"},
		{name: "C1 control", in: "a\u0085b", wantErr: "control character"},
		{name: "invalid UTF-8", in: "a\xffb", wantErr: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SystemdQuote(tt.in)
			checkResult(t, "SystemdQuote", tt.in, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestSystemdExecArg(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "flag", in: "--root-dir", want: "--root-dir"},
		{name: "path", in: "/var/antctl/services/antnode0001/antnode", want: "/var/antctl/services/antnode0001/antnode"},
		{name: "address", in: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", want: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
		{name: "host and port", in: "127.0.0.1:12000", want: "127.0.0.1:12000"},
		{name: "empty", in: "", want: `""`},
		{name: "space", in: "/srv/my nodes/antnode", want: `"/srv/my nodes/antnode"`},
		{name: "percent bare", in: "/srv/50%/antnode", want: `"/srv/50%%/antnode"`},
		{name: "dollar", in: "$HOME", want: `"$$HOME"`},
		{name: "braced variable", in: "${HOME}/x", want: `"$${HOME}/x"`},
		{name: "lone semicolon", in: ";", want: `";"`},
		{name: "quotes", in: `a"b'c`, want: `"a\"b'c"`},
		{name: "backslash", in: `a\b`, want: `"a\\b"`},
		{name: "tilde", in: "~/x", want: `"~/x"`},
		{name: "newline", in: "x\n[Service]", wantErr: "control character"},
		{name: "invalid UTF-8", in: "\xc3", wantErr: "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SystemdExecArg(tt.in)
			checkResult(t, "SystemdExecArg", tt.in, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestSystemdEnv(t *testing.T) {
	tests := []struct {
		name, key, value, want, wantErr string
	}{
		{name: "anm log", key: "ANT_LOG", value: "ant_evm=error", want: `"ANT_LOG=ant_evm=error"`},
		{name: "empty value", key: "X", value: "", want: `"X="`},
		{name: "spaces and specials", key: "_x1", value: `a b "c" \d %p $HOME`, want: `"_x1=a b \"c\" \\d %%p $HOME"`},
		{name: "key with digit first", key: "1X", value: "v", wantErr: "variable name"},
		{name: "key with dash", key: "A-B", value: "v", wantErr: "variable name"},
		{name: "key with equals", key: "A=B", value: "v", wantErr: "variable name"},
		{name: "empty key", key: "", value: "v", wantErr: "variable name"},
		{name: "newline injection", key: "A", value: "x\nUser=root", wantErr: "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SystemdEnv(tt.key, tt.value)
			named := tt.key
			if strings.Contains(tt.wantErr, "control") {
				named = tt.value
			}
			checkResult(t, "SystemdEnv", named, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestSystemdValue(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "path", in: "/var/antctl/services/antnode0001", want: "/var/antctl/services/antnode0001"},
		{name: "space kept", in: "/srv/my nodes", want: "/srv/my nodes"},
		{name: "percent", in: "/srv/100%", want: "/srv/100%%"},
		{name: "quotes kept", in: `/srv/"q"`, want: `/srv/"q"`},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "leading space", in: " /srv", wantErr: "white space"},
		{name: "trailing space", in: "/srv ", wantErr: "white space"},
		{name: "trailing backslash", in: `/srv\`, wantErr: "backslash"},
		{name: "newline", in: "ant\nUser=root", wantErr: "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SystemdValue(tt.in)
			checkResult(t, "SystemdValue", tt.in, got, err, tt.want, tt.wantErr)
		})
	}
}

func checkResult(t *testing.T, fn, in, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s(%q) = %q, %v; want an error containing %q", fn, in, got, err, wantErr)
		}
		if named := strconv.Quote(in); !strings.Contains(err.Error(), named) {
			t.Errorf("%s(%q) error %q does not name the value %s", fn, in, err, named)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s(%q): %v", fn, in, err)
	}
	if got != want {
		t.Errorf("%s(%q) = %s, want %s", fn, in, got, want)
	}
}
