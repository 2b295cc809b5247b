package main

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVersionStamped: the values the build stamps with -ldflags -X are what `wnm version` and
// `wnm version --json` print, with the Go version of the toolchain.
func TestVersionStamped(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "0.1.0+3.gabc1234", "abc1234abc1234abc1234abc1234abc1234abc12", "2026-01-02T03:04:05Z"
	var out bytes.Buffer
	if code := (&env{stdout: &out, stderr: &out, home: t.TempDir(), goos: "linux"}).main([]string{"version", "--json"}); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	var got buildInfo
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got.Version != version || got.Commit != commit || got.BuildDate != date || !strings.HasPrefix(got.GoVersion, "go1.") {
		t.Errorf("version --json = %+v", got)
	}
	out.Reset()
	(&env{stdout: &out, stderr: &out, home: t.TempDir(), goos: "linux"}).main([]string{"version"})
	if !strings.HasPrefix(out.String(), "wnm version 0.1.0+3.gabc1234\ncommit:     abc1234") {
		t.Errorf("version = %q", out.String())
	}
}

// TestFillBuild: without -X values, a go install'ed binary reports its module version and the
// VCS stamp the toolchain recorded; the -X values always win.
func TestFillBuild(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "feed"}, {Key: "vcs.time", Value: "2026-05-06T07:08:09Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		in, want buildInfo
	}{
		{buildInfo{}, buildInfo{Version: "0.2.0", Commit: "feed-dirty", BuildDate: "2026-05-06T07:08:09Z"}},
		{buildInfo{Version: "1.0.0", Commit: "cafe", BuildDate: "d"}, buildInfo{Version: "1.0.0", Commit: "cafe", BuildDate: "d"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, fillBuild(tt.in, bi)); diff != "" {
			t.Errorf("fillBuild(%+v) (-want +got):\n%s", tt.in, diff)
		}
	}
	devel := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	if got := fillBuild(buildInfo{}, devel); got.Version != "" {
		t.Errorf("a (devel) build reports version %q", got.Version)
	}
}

// TestManPageFlags: every visible flag and command of the command tree is in wnm(1).
func TestManPageFlags(t *testing.T) {
	var c cli
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &out, home: "/home/alice", goos: "linux"}
	parser, err := newParser(e, &c)
	if err != nil {
		t.Fatal(err)
	}
	var man bytes.Buffer
	if err := writeMan(&man, parser.Model, buildInfo{Version: "1.2.3", BuildDate: "2026-01-02T00:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	text := man.String()
	if !strings.HasPrefix(text, `.TH WNM 1 "2026\-01\-02" "wnm 1.2.3"`) {
		t.Errorf("man page header: %q", strings.SplitN(text, "\n", 2)[0])
	}
	for _, f := range parser.Model.Flags {
		if !f.Hidden && !strings.Contains(text, `\fB\-\-`+roffText(f.Name)+`\fR`) {
			t.Errorf("flag --%s missing from the man page", f.Name)
		}
	}
	for _, n := range parser.Model.Children {
		if n.Hidden == strings.Contains(text, ".B "+roffText(n.Name)+"\n") {
			t.Errorf("command %s (hidden %v) wrongly in or out of the man page", n.Name, n.Hidden)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, ".") && !strings.HasPrefix(line, `.\`) && len(line) > 1 && !strings.ContainsAny(line[1:2], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("text line read as a roff request: %q", line)
		}
	}
}
