package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goEnv returns `go env NAME`.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// The copyright file the package build generates names every module the binary links, and the
// Go that built it, each with a licence, and refers to the Apache licence instead of copying it.
func TestCopyrightCoversTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wnm")
	}
	bin := buildWnm(t, "-s -w")
	out := filepath.Join(t.TempDir(), "copyright")
	gen := exec.Command("go", "run", "./packaging/deb/gencopyright", "-binary", bin, "-modcache", goEnv(t, "GOMODCACHE"),
		"-goroot", goEnv(t, "GOROOT"), "-contact", "wnm developers <developers@wnm-project.org>", "-o", out)
	gen.Dir = root(t)
	if b, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("gencopyright: %v\n%s", err, b)
	}
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	paragraphs := map[string]string{}
	for _, p := range strings.Split(string(text), "\n\n") {
		if m := regexp.MustCompile(`(?m)^Files: (\S+)/\*$`).FindStringSubmatch(p); m != nil {
			paragraphs[m[1]] = p
		}
	}
	deps := 0
	for _, line := range strings.Split(string(mods), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || (f[0] != "dep" && f[0] != "=>") {
			continue
		}
		deps++
		p, ok := paragraphs[f[1]]
		switch {
		case !ok:
			t.Errorf("module %s %s is linked but not in the copyright file", f[1], f[2])
		case !strings.Contains(p, f[1]+" "+f[2]):
			t.Errorf("module %s: the copyright file does not name version %s", f[1], f[2])
		case !regexp.MustCompile(`(?m)^License: \S`).MatchString(p) || !regexp.MustCompile(`(?m)^Copyright: \S`).MatchString(p):
			t.Errorf("module %s: no License or Copyright field:\n%s", f[1], p)
		}
	}
	if deps < 10 {
		t.Fatalf("go version -m lists only %d modules:\n%s", deps, mods)
	}
	if _, ok := paragraphs["go"]; !ok {
		t.Error("no paragraph for the Go standard library")
	}
	s := string(text)
	for _, want := range []string{"Files: *\nCopyright: 2025-2026 wnm developers\nLicense: GPL-3\n",
		"Upstream-Contact: wnm developers <developers@wnm-project.org>\n", "/usr/share/common-licenses/Apache-2.0"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q", want)
		}
	}
	if strings.Contains(s, "TERMS AND CONDITIONS FOR USE, REPRODUCTION") {
		t.Error("the Apache licence is copied in full; Debian wants /usr/share/common-licenses referred to")
	}
}

// One maintainer address everywhere: the package (dist.sh's default, which the control file, the
// changelog and the copyright file take), the README and the Homebrew formula.
func TestMaintainerEverywhere(t *testing.T) {
	top := root(t)
	dist, err := os.ReadFile(filepath.Join(top, "packaging", "dist.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`DEB_MAINTAINER:=([^}]+)}`).FindSubmatch(dist)
	if m == nil {
		t.Fatal("packaging/dist.sh sets no default DEB_MAINTAINER")
	}
	maintainer := string(m[1])
	addr := regexp.MustCompile(`^[^<>]+ <([a-z0-9.-]+@[a-z0-9-]+(\.[a-z0-9-]+)+)>$`).FindStringSubmatch(maintainer)
	if addr == nil || strings.Contains(maintainer, "noreply") || strings.Contains(maintainer, "example") {
		t.Fatalf("the maintainer %q is not a name with a real address", maintainer)
	}
	for _, f := range []string{"README.md", "packaging/brew/Formula/wnm.rb"} {
		b, err := os.ReadFile(filepath.Join(top, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), addr[1]) {
			t.Errorf("%s does not give the maintainer's address %s", f, addr[1])
		}
		if strings.Contains(string(b), "noreply") {
			t.Errorf("%s still has a noreply address", f)
		}
	}
}
