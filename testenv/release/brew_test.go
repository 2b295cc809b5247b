package release

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sourceTarball writes what make dist publishes for the formula to build from: git archive of
// this tree (uncommitted changes to tracked files included) under wnm-VERSION/, gzipped.
func sourceTarball(t *testing.T, version string) string {
	t.Helper()
	top := root(t)
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = top
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	tree := git("stash", "create") // a commit of the work tree, or nothing when it is clean
	if tree == "" {
		tree = "HEAD"
	}
	out := filepath.Join(t.TempDir(), "wnm-"+version+".tar.gz")
	cmd := exec.Command("sh", "-c", `git archive --format=tar --prefix="wnm-$1/" "$2" | gzip -n -9 >"$3"`, "_", version, tree, out)
	cmd.Dir = top
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git archive: %v\n%s", err, b)
	}
	return out
}

func fill(t *testing.T, tarball, url, commit string) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "homebrew-wnm", "Formula", "wnm.rb")
	cmd := exec.Command("sh", filepath.Join(root(t), "packaging", "brew", "fill.sh"), tarball, url, commit, out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return string(b), err
	}
	return out, nil
}

// make dist fills the formula's url, sha256 and commit (packaging/brew/fill.sh), and the
// result is valid Ruby.
func TestBrewFormulaFilled(t *testing.T) {
	if _, err := exec.LookPath("ruby"); err != nil {
		t.Skip("no ruby")
	}
	tarball := sourceTarball(t, "0.1.0")
	url := "https://github.com/wnm-project/wnm/releases/download/v0.1.0/wnm-0.1.0.tar.gz"
	formula, err := fill(t, tarball, url, "0123456789abcdef0123456789abcdef01234567")
	if err != nil {
		t.Fatalf("fill.sh: %v\n%s", err, formula)
	}
	b, err := os.ReadFile(formula)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := os.ReadFile(tarball)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tb)
	for _, want := range []string{`  url "` + url + `"`, `  sha256 "` + hex.EncodeToString(sum[:]) + `"`,
		`COMMIT = "0123456789abcdef0123456789abcdef01234567".freeze`, "  service do\n", "    run_type :interval\n", "    interval 60\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the filled formula has no %q", want)
		}
	}
	for _, f := range []string{filepath.Join(root(t), "packaging", "brew", "Formula", "wnm.rb"), formula} {
		if out, err := exec.Command("ruby", "-c", f).CombinedOutput(); err != nil {
			t.Errorf("ruby -c %s: %v\n%s", f, err, out)
		}
	}
	// What cannot go into the formula's strings is refused, and nothing is written.
	for _, c := range []struct{ url, commit string }{{`https://x/"/wnm-0.1.0.tar.gz`, "abc"}, {url, "abc; rm"}} {
		if out, err := fill(t, tarball, c.url, c.commit); err == nil {
			t.Errorf("fill.sh %q %q succeeded: %s", c.url, c.commit, out)
		}
	}
}

// The formula's install block builds wnm from the release tarball and its test block passes:
// `wnm version` says the formula's version, and a --dry_run cycle runs in a scratch HOME. Run by
// testdata/brew_harness.rb, a stand-in for the Homebrew DSL, since Homebrew cannot be installed
// here.
func TestBrewFormulaInstallAndTest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wnm")
	}
	if _, err := exec.LookPath("ruby"); err != nil {
		t.Skip("no ruby")
	}
	if _, err := os.Stat("/var/antctl/colony.db"); err == nil && os.Geteuid() == 0 {
		t.Skip("this machine has a system-wide wnm database, which wnm run as root would find before the test's")
	}
	tarball := sourceTarball(t, "0.1.0")
	formula, err := fill(t, tarball, "https://github.com/wnm-project/wnm/releases/download/v0.1.0/wnm-0.1.0.tar.gz", "0123456789abcdef0123456789abcdef01234567")
	if err != nil {
		t.Fatalf("fill.sh: %v\n%s", err, formula)
	}
	work := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", tarball, "-C", work).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	prefix := filepath.Join(work, "Cellar", "wnm", "0.1.0")
	harness, err := filepath.Abs(filepath.Join("testdata", "brew_harness.rb"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ruby", harness, formula, filepath.Join(work, "wnm-0.1.0"), prefix)
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "SOURCE_DATE_EPOCH=1767225600")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the formula's install or test failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "formula test passed (version 0.1.0)") {
		t.Fatalf("harness output:\n%s", out)
	}
	v, err := exec.Command(filepath.Join(prefix, "bin", "wnm"), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wnm version 0.1.0\n", "0123456789abcdef0123456789abcdef01234567", "2026-01-01T00:00:00Z"} {
		if !strings.Contains(string(v), want) {
			t.Errorf("the installed wnm version says %q, want %q in it", v, want)
		}
	}
	if _, err := os.Stat(filepath.Join(prefix, "share", "man", "man1", "wnm.1")); err != nil {
		t.Errorf("no man page installed: %v", err)
	}
}
