package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestVersionText(t *testing.T) {
	want := "Autonomi Node v0.4.17\n" +
		"Network version: ant/1.0/1\n" +
		"Package version: 2026.2.3.2\n" +
		"Git info: stable / 1a2b3c4 / 2026-02-20\n"
	if got := versionText("0.4.17", 1); got != want {
		t.Errorf("versionText(0.4.17, 1) = %q, want %q", got, want)
	}
}

func TestParseTrailer(t *testing.T) {
	long := string(bytes.Repeat([]byte("9"), maxVersionLen))
	tests := []struct {
		name  string
		tail  string
		wantV string
		wantN int
		ok    bool
	}{
		{"trailer", "\x7fELF...\n#fakeantnode-version=1.2.3\n", "1.2.3", len("\n#fakeantnode-version=1.2.3\n"), true},
		{"pre-release", "xx\n#fakeantnode-version=0.4.10-rc.1\n", "0.4.10-rc.1", len("\n#fakeantnode-version=0.4.10-rc.1\n"), true},
		{"longest version", "\n#fakeantnode-version=" + long + "\n", long, trailerTail, true},
		{"last trailer wins", "\n#fakeantnode-version=1\n#fakeantnode-version=2\n", "2", len("\n#fakeantnode-version=2\n"), true},
		{"no trailer", "\x7fELF\x00\x00\x01", "", 0, false},
		{"no final newline", "\n#fakeantnode-version=1.2.3", "", 0, false},
		{"empty version", "\n#fakeantnode-version=\n", "", 0, false},
		{"space in version", "\n#fakeantnode-version=1 2\n", "", 0, false},
		{"trailing junk line", "\n#fakeantnode-version=1.2.3\njunk\n", "", 0, false},
		{"empty", "", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, n, ok := parseTrailer([]byte(tt.tail))
			if v != tt.wantV || n != tt.wantN || ok != tt.ok {
				t.Errorf("parseTrailer(%q) = %q, %d, %v; want %q, %d, %v", tt.tail, v, n, ok, tt.wantV, tt.wantN, tt.ok)
			}
			if ok {
				if got := string(formatTrailer(v)); got != tt.tail[len(tt.tail)-n:] {
					t.Errorf("formatTrailer(%q) = %q, want %q", v, got, tt.tail[len(tt.tail)-n:])
				}
			}
		})
	}
}

func TestResolveVersion(t *testing.T) {
	tests := []struct {
		name       string
		content    string
		file       string // content of <exe>.version, if not empty
		wantV      string
		wantSource versionSource
	}{
		{"build default", "binary", "", "0.4.17", fromBuild},
		{"version file", "binary", " 0.5.0\n", "0.5.0", fromFile},
		{"trailer beats file", "binary\n#fakeantnode-version=0.6.0\n", "0.5.0", "0.6.0", fromTrailer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), "antnode")
			writeFile(t, exe, tt.content)
			if tt.file != "" {
				writeFile(t, exe+".version", tt.file)
			}
			v, src, err := resolveVersion(exe, "0.4.17")
			if err != nil || v != tt.wantV || src != tt.wantSource {
				t.Errorf("resolveVersion = %q, %q, %v; want %q, %q", v, src, err, tt.wantV, tt.wantSource)
			}
		})
	}
	t.Run("bad version file", func(t *testing.T) {
		exe := filepath.Join(t.TempDir(), "antnode")
		writeFile(t, exe, "binary")
		writeFile(t, exe+".version", "1 2")
		if v, _, err := resolveVersion(exe, "0.4.17"); err == nil {
			t.Errorf("resolveVersion with version file %q = %q, want an error", "1 2", v)
		}
	})
	t.Run("no executable", func(t *testing.T) {
		if v, src, err := resolveVersion("", "0.4.17"); v != "0.4.17" || src != fromBuild || err != nil {
			t.Errorf(`resolveVersion("") = %q, %q, %v; want build default`, v, src, err)
		}
	})
}

func TestRelease(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	body := "\x7fELF" + string(bytes.Repeat([]byte{0, 1, 2, '\n'}, 100))
	writeFile(t, exe, body)

	steps := []struct {
		from, v, out string
		want         string
	}{
		{exe, "1.0.0", filepath.Join(dir, "a"), body + "\n#fakeantnode-version=1.0.0\n"},
		// Releasing from a released copy replaces the trailer instead of adding one.
		{filepath.Join(dir, "a"), "2.0.0-rc.1", filepath.Join(dir, "b"), body + "\n#fakeantnode-version=2.0.0-rc.1\n"},
		// Releasing over an existing file, even the source itself, replaces it.
		{filepath.Join(dir, "b"), "3", filepath.Join(dir, "b"), body + "\n#fakeantnode-version=3\n"},
	}
	for _, s := range steps {
		if err := release(s.from, s.v, s.out); err != nil {
			t.Fatalf("release(%s, %s, %s): %v", s.from, s.v, s.out, err)
		}
		got, err := os.ReadFile(s.out)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != s.want {
			t.Errorf("release(%s, %s, %s) wrote %q, want %q", s.from, s.v, s.out, got, s.want)
		}
		st, err := os.Stat(s.out)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("release(%s, %s, %s): mode %v, want 0755", s.from, s.v, s.out, st.Mode().Perm())
		}
		if v, src, err := resolveVersion(s.out, "0.4.17"); v != s.v || src != fromTrailer || err != nil {
			t.Errorf("resolveVersion(%s) = %q, %q, %v; want %q from the trailer", s.out, v, src, err, s.v)
		}
	}
	for _, bad := range []string{"", "1 0", `1"0`, string(bytes.Repeat([]byte("1"), maxVersionLen+1))} {
		if err := release(exe, bad, filepath.Join(dir, "bad")); err == nil {
			t.Errorf("release with version %q succeeded, want an error", bad)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("release left %d files in %s, want 3 (exe, a, b): %v", len(entries), dir, entries)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}
