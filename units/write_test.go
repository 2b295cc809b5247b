package units

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, path string)
		data        string
		mode        os.FileMode
		wantChanged bool
		wantErr     string
	}{
		{name: "new file", data: "a\n", mode: 0o644, wantChanged: true},
		{name: "same bytes", setup: writeOld("a\n", 0o644), data: "a\n", mode: 0o644, wantChanged: false},
		{name: "new bytes", setup: writeOld("a\n", 0o644), data: "b\n", mode: 0o644, wantChanged: true},
		{name: "same bytes, other mode", setup: writeOld("a\n", 0o600), data: "a\n", mode: 0o644, wantChanged: true},
		{name: "new bytes, other mode", setup: writeOld("a\n", 0o600), data: "b\n", mode: 0o640, wantChanged: true},
		{name: "empty data", setup: writeOld("a\n", 0o644), data: "", mode: 0o644, wantChanged: true},
		{name: "directory", setup: func(t *testing.T, p string) { mustDo(t, os.Mkdir(p, 0o755)) }, data: "a", mode: 0o644, wantErr: "refusing to replace a directory"},
		{name: "symlink", setup: func(t *testing.T, p string) { mustDo(t, os.Symlink("/etc/hostname", p)) }, data: "a", mode: 0o644, wantErr: "refusing to replace a symlink"},
		{name: "socket", setup: makeSocket, data: "a", mode: 0o644, wantErr: "refusing to replace a socket"},
		{name: "fifo", setup: func(t *testing.T, p string) { mustDo(t, syscall.Mkfifo(p, 0o644)) }, data: "a", mode: 0o644, wantErr: "refusing to replace a named pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "antnode0001.service")
			if tt.setup != nil {
				tt.setup(t, path)
			}
			before, _ := os.Lstat(path)
			changed, err := WriteFile(path, []byte(tt.data), tt.mode)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("WriteFile error = %v, want one naming %s and containing %q", err, path, tt.wantErr)
				}
				after, _ := os.Lstat(path)
				if after.Mode() != before.Mode() {
					t.Errorf("refused WriteFile changed the file type from %v to %v", before.Mode(), after.Mode())
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			if changed != tt.wantChanged {
				t.Errorf("WriteFile changed = %v, want %v", changed, tt.wantChanged)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.data {
				t.Errorf("file holds %q, want %q", got, tt.data)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.mode {
				t.Errorf("file mode = %v, want %v", fi.Mode().Perm(), tt.mode)
			}
			if !tt.wantChanged && before != nil && !fi.ModTime().Equal(before.ModTime()) {
				t.Errorf("unchanged file was rewritten (mtime %v, was %v)", fi.ModTime(), before.ModTime())
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries after WriteFile, want only the file: %v", len(entries), entries)
			}
		})
	}
}

func TestWriteFileIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
	path := filepath.Join(t.TempDir(), "x.plist")
	if _, err := WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v under umask 077, want 0644", fi.Mode().Perm())
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "x.service")
	if _, err := WriteFile(path, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("WriteFile into a missing directory = %v, want an error naming %s", err, path)
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, path string)
		wantChanged bool
		wantErr     string
	}{
		{name: "regular file", setup: writeOld("x", 0o644), wantChanged: true},
		{name: "absent", wantChanged: false},
		{name: "directory", setup: func(t *testing.T, p string) { mustDo(t, os.Mkdir(p, 0o755)) }, wantErr: "refusing to delete a directory"},
		{name: "symlink", setup: func(t *testing.T, p string) { mustDo(t, os.Symlink("/etc/hostname", p)) }, wantErr: "refusing to delete a symlink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "antnode0001.service")
			if tt.setup != nil {
				tt.setup(t, path)
			}
			changed, err := Remove(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("Remove error = %v, want one naming %s and containing %q", err, path, tt.wantErr)
				}
				if _, err := os.Lstat(path); err != nil {
					t.Errorf("refused Remove deleted the entry: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if changed != tt.wantChanged {
				t.Errorf("Remove changed = %v, want %v", changed, tt.wantChanged)
			}
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("file still there after Remove: %v", err)
			}
		})
	}
}

func writeOld(data string, mode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, p string) {
		mustDo(t, os.WriteFile(p, []byte(data), mode))
		mustDo(t, os.Chmod(p, mode))
	}
}

func makeSocket(t *testing.T, p string) {
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Skipf("cannot make a unix socket: %v", err)
	}
	t.Cleanup(func() { l.Close() })
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
