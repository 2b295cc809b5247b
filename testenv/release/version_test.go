package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository's top directory (tests run in their package's directory).
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// repo is a scratch git repository holding a copy of packaging/version.sh.
type repo struct {
	t    *testing.T
	dir  string
	tick int // commit times advance one minute per commit, from a fixed start
}

func newRepo(t *testing.T, version string) *repo {
	t.Helper()
	r := &repo{t: t, dir: filepath.Join(t.TempDir(), "wnm")}
	script, err := os.ReadFile(filepath.Join(root(t), "packaging", "version.sh"))
	if err != nil {
		t.Fatal(err)
	}
	r.write("packaging/version.sh", string(script))
	r.git("init", "-q", "-b", "main")
	r.commit("the scripts")
	if version != "" {
		r.write("packaging/VERSION", version+"\n")
		r.commit("release line " + version)
	}
	return r
}

func gitEnv(extra ...string) []string {
	env := append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	var clean []string
	for _, e := range env {
		if !strings.HasPrefix(e, "WNM_VERSION=") && !strings.HasPrefix(e, "WNM_COMMIT=") && !strings.HasPrefix(e, "SOURCE_DATE_EPOCH=") {
			clean = append(clean, e)
		}
	}
	return append(clean, extra...)
}

func (r *repo) write(name, text string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	when := fmt.Sprintf("@%d +0000", 1767225600+60*r.tick)
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = gitEnv("GIT_AUTHOR_DATE="+when, "GIT_COMMITTER_DATE="+when)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit commits everything, with a file of its own so that each commit changes something.
func (r *repo) commit(msg string) {
	r.t.Helper()
	r.tick++
	r.write(fmt.Sprintf("src/%d", r.tick), msg+"\n")
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
}

func (r *repo) short() string { return r.git("rev-parse", "--short=7", "HEAD") }

// identity runs version.sh in dir and returns its VERSION, COMMIT and DATE and what it warned.
func identity(t *testing.T, dir string, env ...string) (map[string]string, string) {
	t.Helper()
	cmd := exec.Command("sh", "packaging/version.sh")
	cmd.Dir = dir
	cmd.Env = gitEnv(env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("version.sh: %v\n%s", err, stderr.String())
	}
	id := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		id[k] = v
	}
	return id, stderr.String()
}

func TestVersionScript(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	type step struct {
		name string
		do   func(r *repo)
		// want is the expected VERSION; %s stands for HEAD's short hash.
		want, warn string
	}
	commit := func(r *repo) { r.commit("work") }
	for _, c := range []struct {
		name  string
		file  string
		steps []step
	}{
		{"no tag, no file: 0.0.0 and every commit counts", "", []step{
			{"first", func(*repo) {}, "0.0.0+1.g%s", ""},
			{"one more", commit, "0.0.0+2.g%s", ""},
		}},
		{"no tag: the file's line, counted from its change", "0.1.0", []step{
			{"the release commit", func(*repo) {}, "0.1.0", ""},
			{"one after", commit, "0.1.0+1.g%s", ""},
			{"two after", commit, "0.1.0+2.g%s", ""},
			{"bumped", func(r *repo) { r.write("packaging/VERSION", "0.2.0\n"); r.commit("0.2.0") }, "0.2.0", ""},
			{"after the bump", commit, "0.2.0+1.g%s", ""},
		}},
		{"a tag agrees with the file and gives the same versions", "0.1.0", []step{
			{"tagged", func(r *repo) { r.git("tag", "v0.1.0") }, "0.1.0", ""},
			{"after", func(r *repo) { commit(r); commit(r) }, "0.1.0+2.g%s", ""},
		}},
		{"a later tag wins over an older file", "0.1.0", []step{
			{"tagged without the bump", func(r *repo) { commit(r); r.git("tag", "v0.2.0") }, "0.2.0", "HEAD is tagged v0.2.0 but packaging/VERSION says 0.1.0"},
			{"after", commit, "0.2.0+1.g%s", ""},
		}},
		{"a file changed after the tag wins", "0.1.0", []step{
			{"tagged", func(r *repo) { r.git("tag", "v0.1.0"); commit(r) }, "0.1.0+1.g%s", ""},
			{"next line", func(r *repo) { r.write("packaging/VERSION", "0.2.0\n"); r.commit("0.2.0"); commit(r) }, "0.2.0+1.g%s", ""},
		}},
		{"uncommitted changes", "0.1.0", []step{
			{"dirty release", func(r *repo) { r.write("src/1", "changed\n") }, "0.1.0+0.dirty", ""},
			{"dirty later", func(r *repo) { r.git("stash", "-q"); commit(r); r.write("src/1", "changed\n") }, "0.1.0+1.g%s.dirty", ""},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRepo(t, c.file)
			for _, s := range c.steps {
				s.do(r)
				id, warned := identity(t, r.dir)
				want := s.want
				if strings.Contains(want, "%s") {
					want = fmt.Sprintf(want, r.short())
				}
				if id["VERSION"] != want {
					t.Errorf("%s: VERSION %q, want %q", s.name, id["VERSION"], want)
				}
				if (s.warn == "") != (warned == "") || !strings.Contains(warned, s.warn) {
					t.Errorf("%s: warned %q, want %q", s.name, warned, s.warn)
				}
				hash := r.git("rev-parse", "HEAD")
				if strings.Contains(want, "dirty") {
					hash += "-dirty"
				}
				if id["COMMIT"] != hash {
					t.Errorf("%s: COMMIT %q, want %q", s.name, id["COMMIT"], hash)
				}
				if id["DATE"] != "" && !regexp.MustCompile(`^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(id["DATE"]) {
					t.Errorf("%s: DATE %q", s.name, id["DATE"])
				}
			}
		})
	}
}

// A clone without tags (as CI may check out) gives the version of a clone with them, and a
// shallow clone that cannot count says so instead of claiming the release.
func TestVersionClones(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	r := newRepo(t, "0.1.0")
	r.git("tag", "v0.1.0")
	r.commit("work")
	r.commit("more work")
	want := "0.1.0+2.g" + r.short()
	clone := func(args ...string) string {
		dir := filepath.Join(t.TempDir(), "clone")
		cmd := exec.Command("git", append(append([]string{"clone", "-q"}, args...), "file://"+r.dir, dir)...)
		cmd.Env = gitEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git clone %v: %v\n%s", args, err, out)
		}
		return dir
	}
	for _, c := range []struct {
		name      string
		args      []string
		want      string
		warnShall bool
	}{
		{"full", nil, want, false},
		{"without tags", []string{"--no-tags"}, want, false},
		{"shallow past the release commit", []string{"--depth", "4", "--no-tags"}, want, false},
		{"shallow, cut at the release commit", []string{"--depth", "3", "--no-tags"}, "0.1.0+shallow.g" + r.short(), true},
		{"shallow, depth 1", []string{"--depth", "1", "--no-tags"}, "0.1.0+shallow.g" + r.short(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, warned := identity(t, clone(c.args...))
			if id["VERSION"] != c.want {
				t.Errorf("VERSION %q, want %q", id["VERSION"], c.want)
			}
			if strings.Contains(warned, "shallow clone") != c.warnShall {
				t.Errorf("warned %q", warned)
			}
		})
	}
	// The overrides win, and SOURCE_DATE_EPOCH sets DATE.
	id, _ := identity(t, r.dir, "WNM_VERSION=9.9.9", "WNM_COMMIT=abc", "SOURCE_DATE_EPOCH=0")
	if id["VERSION"] != "9.9.9" || id["COMMIT"] != "abc" || id["DATE"] != "1970-01-01T00:00:00Z" {
		t.Errorf("overrides: %v", id)
	}
}

// dpkg orders the versions as releases follow each other, and packaging/VERSION is valid.
func TestVersionOrder(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg")
	}
	order := []string{"0.0.0+157.gabcdef0", "0.1.0", "0.1.0+0.dirty", "0.1.0+1.g1234567", "0.1.0+1.g1234567.dirty",
		"0.1.0+2.gabcdef0", "0.1.0+10.g0000000", "0.1.0+shallow.gfffffff", "0.2.0"}
	for i := 0; i+1 < len(order); i++ {
		if err := exec.Command("dpkg", "--compare-versions", order[i], "lt", order[i+1]).Run(); err != nil {
			t.Errorf("dpkg does not order %s before %s", order[i], order[i+1])
		}
	}
	b, err := os.ReadFile(filepath.Join(root(t), "packaging", "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+\n$`).Match(b) {
		t.Errorf("packaging/VERSION is %q, want x.y.z and a newline", b)
	}
}

// The binary the build stamps says the version version.sh computes: `wnm version --json`.
func TestBuildStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wnm")
	}
	top := root(t)
	cmd := exec.Command("sh", "packaging/version.sh", "--ldflags")
	cmd.Dir = top
	cmd.Env = gitEnv()
	ldflags, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := identity(t, top)
	bin := buildWnm(t, strings.TrimSpace(string(ldflags)))
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version, Commit string
		BuildDate       string `json:"build_date"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Version != id["VERSION"] || got.Commit != id["COMMIT"] || got.BuildDate != id["DATE"] {
		t.Errorf("wnm version --json says %+v, version.sh %v", got, id)
	}
}

// buildWnm builds cmd/wnm as the packages do (static, -trimpath) into a temporary directory.
func buildWnm(t *testing.T, ldflags string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wnm")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/wnm")
	build.Dir = root(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
