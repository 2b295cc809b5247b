package netns

import (
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRunPattern(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"top level", "TestUFW", "^TestUFW$"},
		{"subtest", "TestUFW/open_twice", "^TestUFW$/^open_twice$"},
		{"metacharacters", "TestX/a.b(c)", `^TestX$/^a\.b\(c\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runPattern(tt.in); got != tt.want {
				t.Errorf("runPattern(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUnescapeMount(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "/etc/ufw", "/etc/ufw"},
		{"space", `/tmp/a\040b`, "/tmp/a b"},
		{"backslash", `/tmp/a\134b`, `/tmp/a\b`},
		{"short escape kept", `/tmp/a\04`, `/tmp/a\04`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unescapeMount(tt.in); got != tt.want {
				t.Errorf("unescapeMount(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// treeEntry is one file of a directory tree as listTree sees it.
type treeEntry struct {
	Mode fs.FileMode
	Data string // file contents or symlink target
}

func listTree(t *testing.T, root string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		e := treeEntry{Mode: info.Mode()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			e.Data, err = os.Readlink(path)
		case info.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(path)
			e.Data = string(b)
		}
		out[rel] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCopyTree(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ufw")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "applications.d"), 0o755))
	must(os.WriteFile(filepath.Join(src, "user.rules"), []byte("*filter\nCOMMIT\n"), 0o640))
	must(os.WriteFile(filepath.Join(src, "ufw-init"), []byte("#!/bin/sh\n"), 0o755))
	must(os.WriteFile(filepath.Join(src, "applications.d", "x"), []byte("[x]\n"), 0o644))
	must(os.Symlink("user.rules", filepath.Join(src, "link")))
	must(os.Chmod(filepath.Join(src, "applications.d"), 0o750))

	tests := []struct {
		name string
		src  string
	}{
		{"directory", src},
		{"single file", filepath.Join(src, "ufw-init")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "copy")
			if err := copyTree(tt.src, dst); err != nil {
				t.Fatalf("copyTree(%q) = %v", tt.src, err)
			}
			if diff := cmp.Diff(listTree(t, tt.src), listTree(t, dst)); diff != "" {
				t.Errorf("copy differs from source (-src +copy):\n%s", diff)
			}
		})
	}
}

func TestCopyTreeRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	err = copyTree(dir, filepath.Join(t.TempDir(), "copy"))
	if err == nil || !strings.Contains(err.Error(), sock) {
		t.Errorf("copyTree(dir with socket) = %v, want an error naming %s", err, sock)
	}
}

// stopTB records the first Skip or Fatal and stops the calling function with a panic, as the real
// methods stop the goroutine.
type stopTB struct {
	testing.TB
	got string
}

type stopped struct{}

func (s *stopTB) Helper() {}
func (s *stopTB) Skipf(format string, args ...any) {
	s.got = "skip"
	panic(stopped{})
}

func (s *stopTB) Skip(args ...any) {
	s.got = "skip"
	panic(stopped{})
}

func (s *stopTB) Fatalf(format string, args ...any) {
	s.got = "fatal"
	panic(stopped{})
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name  string
		env   string
		tools []string
		want  string // "skip", "fatal" or "" (runs)
	}{
		{"disabled", "0", nil, "skip"},
		{"disabled word", "no", nil, "skip"},
		{"required but tool missing", "1", []string{"wnm-no-such-tool"}, "fatal"},
		{"optional and tool missing", "", []string{"wnm-no-such-tool"}, "skip"},
	}
	if Available() == nil {
		tests = append(tests, struct {
			name  string
			env   string
			tools []string
			want  string
		}{"required and present", "1", []string{"sh"}, ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvIntegration, tt.env)
			fake := &stopTB{TB: t}
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(stopped); !ok {
							panic(r)
						}
					}
				}()
				Require(fake, tt.tools...)
			}()
			if fake.got != tt.want {
				t.Errorf("Require with %s=%q and tools %q: got %q, want %q", EnvIntegration, tt.env, tt.tools, fake.got, tt.want)
			}
		})
	}
}

func TestInChildOutsideChild(t *testing.T) {
	if _, ok := os.LookupEnv(envChild); ok {
		t.Skip("running as a namespace child")
	}
	if InChild(t) {
		t.Error("InChild() = true in a process that no Reexec started")
	}
}

// TestRunIsolated checks the isolation itself: a private copy takes the writes, a tmpfs hides
// what was there, the network namespace holds only loopback, and the host copy is left unchanged.
func TestRunIsolated(t *testing.T) {
	Require(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "rules")
	hidden := filepath.Join(dir, "run")
	if err := os.WriteFile(file, []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(hidden, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hidden, "lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `set -e
echo isolated >> ` + file + `
cat ` + file + `
ls -A ` + hidden + ` | wc -l
touch ` + hidden + `/inside
awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev
`
	got := RunIsolated(t, Config{Private: []string{file}, Tmpfs: []string{hidden}}, script)
	want := "host\nisolated\n0\nlo\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("script output (-want +got):\n%s", diff)
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != "host\n" {
		t.Errorf("host file after the run = %q, %v; want %q", data, err, "host\n")
	}
	entries, err := os.ReadDir(hidden)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "lock" {
		t.Errorf("host dir %s after the run holds %v, want only lock", hidden, entries)
	}
}

// TestCommandStopsOnMountFailure checks that the command does not run at all when a mount fails.
func TestCommandStopsOnMountFailure(t *testing.T) {
	Require(t)
	marker := filepath.Join(t.TempDir(), "ran")
	cmd := Command(context.Background(), t, Config{Tmpfs: []string{"/nonexistent/wnm-netns-test"}}, "/bin/touch", marker)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("Command with a bad tmpfs path succeeded:\n%s", out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("command ran although its mount failed:\n%s", out)
	}
}

// TestReexec runs its own body again inside a namespace: the child proves it is isolated (fresh
// loopback that works, a private file) and the parent checks that the host file did not change.
func TestReexec(t *testing.T) {
	const envFile = "WNM_NETNS_TEST_FILE" // the child inherits the parent's environment
	if InChild(t) {
		file := os.Getenv(envFile)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen on loopback: %v", err)
		}
		defer l.Close()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatalf("dial loopback: %v", err)
		}
		c.Close()
		if err := os.WriteFile(file, []byte("child\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	Require(t)
	file := filepath.Join(t.TempDir(), "private")
	t.Setenv(envFile, file)
	if err := os.WriteFile(file, []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := Reexec(t, Config{Private: []string{file}})
	if !strings.Contains(out, "--- PASS: TestReexec") {
		t.Errorf("Reexec output lacks the child's pass:\n%s", out)
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != "host\n" {
		t.Errorf("host file after the child = %q, %v; want %q", data, err, "host\n")
	}
}

func TestCheckIsolated(t *testing.T) {
	if _, err := os.Stat("/proc/self/mountinfo"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	net, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skipf("no namespace links: %v", err)
	}
	mnt, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Skipf("no namespace links: %v", err)
	}
	tests := []struct {
		name    string
		info    childInfo
		wantErr string // substring; "" for none
	}{
		{"same network namespace", childInfo{NetNS: net, MntNS: "mnt:[1]"}, "the parent's"},
		{"same mount namespace", childInfo{NetNS: "net:[1]", MntNS: mnt}, "the parent's"},
		{"parent unknown", childInfo{MntNS: "mnt:[1]"}, "the parent's"},
		{"path not mounted", childInfo{NetNS: "net:[1]", MntNS: "mnt:[1]", Mounted: []string{"/nonexistent/wnm"}}, "/nonexistent/wnm is not a mount point"},
		{"isolated", childInfo{NetNS: "net:[1]", MntNS: "mnt:[1]", Mounted: []string{"/"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkIsolated(tt.info)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("checkIsolated(%+v) = %v, want nil", tt.info, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("checkIsolated(%+v) = %v, want an error containing %q", tt.info, err, tt.wantErr)
			}
		})
	}
}

// TestRunIsolatedThroughSymlink replaces a directory named through a symlink, as /lib/ufw is on
// merged-/usr systems, and checks that the child sees it as a mount point.
func TestRunIsolatedThroughSymlink(t *testing.T) {
	if InChild(t) {
		return // InChild has checked the mount point
	}
	Require(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "usr", "lib", "tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("usr/lib", filepath.Join(dir, "lib")); err != nil {
		t.Fatal(err)
	}
	Reexec(t, Config{Private: []string{filepath.Join(dir, "lib", "tool")}})
}
