package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// version is the build-time default version, set with -ldflags "-X main.version=V".
var version = "0.4.17"

const (
	// packageVersion and gitInfo are the fixed lines 3 and 4 of antnode's --version text.
	packageVersion = "2026.2.3.2"
	gitInfo        = "stable / 1a2b3c4 / 2026-02-20"
	branch         = "stable"

	trailerMarker = "\n#fakeantnode-version="
	// trailerTail is how many bytes at the end of the executable are searched for the trailer.
	trailerTail = 128
	// maxVersionLen keeps every trailer inside trailerTail.
	maxVersionLen = trailerTail - len(trailerMarker) - 1
)

// networkVersion is antnode's "ant/<protocol major.minor>/<network id>".
func networkVersion(networkID uint8) string {
	return fmt.Sprintf("ant/1.0/%d", networkID)
}

// versionText is antnode's four-line --version output.
func versionText(v string, networkID uint8) string {
	return "Autonomi Node v" + v + "\n" +
		"Network version: " + networkVersion(networkID) + "\n" +
		"Package version: " + packageVersion + "\n" +
		"Git info: " + gitInfo + "\n"
}

// formatTrailer is the trailer that records version v at the end of an executable.
func formatTrailer(v string) []byte {
	return []byte(trailerMarker + v + "\n")
}

// parseTrailer finds a version trailer at the very end of tail, the last bytes of a file.
// It returns the version and the trailer's length in bytes.
func parseTrailer(tail []byte) (v string, n int, ok bool) {
	body, found := bytes.CutSuffix(tail, []byte("\n"))
	if !found {
		return "", 0, false
	}
	i := bytes.LastIndex(body, []byte(trailerMarker))
	if i < 0 {
		return "", 0, false
	}
	v = string(body[i+len(trailerMarker):])
	if !validVersion(v) {
		return "", 0, false
	}
	return v, len(tail) - i, true
}

// validVersion reports whether v can be written in a trailer, printed on one line and used as
// a label value without escaping.
func validVersion(v string) bool {
	return v != "" && len(v) <= maxVersionLen && !strings.ContainsAny(v, " \t\r\n\"\\")
}

// readTrailer reads the version trailer of the file f of the given size, if it has one.
func readTrailer(f io.ReaderAt, size int64) (v string, n int, ok bool, err error) {
	tail := make([]byte, min(size, trailerTail))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil && !errors.Is(err, io.EOF) {
		return "", 0, false, err
	}
	v, n, ok = parseTrailer(tail)
	return v, n, ok, nil
}

// versionSource says where a resolved version came from.
type versionSource string

const (
	fromTrailer versionSource = "trailer"
	fromFile    versionSource = "version file"
	fromBuild   versionSource = "build"
)

// resolveVersion finds the version of the executable at exe: its trailer, then exe+".version",
// then the build-time default. An empty exe skips the first two.
func resolveVersion(exe, buildVersion string) (string, versionSource, error) {
	if exe == "" {
		return buildVersion, fromBuild, nil
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", "", fmt.Errorf("read own executable: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("read own executable: %w", err)
	}
	v, _, ok, err := readTrailer(f, st.Size())
	if err != nil {
		return "", "", fmt.Errorf("read trailer of %s: %w", exe, err)
	}
	if ok {
		return v, fromTrailer, nil
	}
	b, err := os.ReadFile(exe + ".version")
	switch {
	case err == nil:
		v := strings.TrimSpace(string(b))
		if !validVersion(v) {
			return "", "", fmt.Errorf("version file %s: bad version %q", exe+".version", v)
		}
		return v, fromFile, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("read version file: %w", err)
	}
	return buildVersion, fromBuild, nil
}

// release copies the executable at exe to out, atomically and with mode 0755, replacing any
// version trailer with one for v.
func release(exe, v, out string) error {
	if !validVersion(v) {
		return fmt.Errorf("bad version %q: want 1 to %d characters without spaces", v, maxVersionLen)
	}
	src, err := os.Open(exe)
	if err != nil {
		return fmt.Errorf("open own executable: %w", err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return fmt.Errorf("stat own executable: %w", err)
	}
	size := st.Size()
	_, n, ok, err := readTrailer(src, size)
	if err != nil {
		return fmt.Errorf("read trailer of %s: %w", exe, err)
	}
	if ok {
		size -= int64(n)
	}
	pf, err := newExecutable(out)
	if err != nil {
		return fmt.Errorf("release to %s: %w", out, err)
	}
	defer pf.Cleanup()
	if _, err := io.Copy(pf, io.NewSectionReader(src, 0, size)); err != nil {
		return fmt.Errorf("release to %s: copy: %w", out, err)
	}
	if _, err := pf.Write(formatTrailer(v)); err != nil {
		return fmt.Errorf("release to %s: write trailer: %w", out, err)
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("release to %s: %w", out, err)
	}
	return nil
}

// newExecutable starts an atomic replacement of path with mode 0755, its temp file beside it
// so that the final rename cannot cross file systems.
func newExecutable(path string) (*renameio.PendingFile, error) {
	return renameio.NewPendingFile(path,
		renameio.WithTempDir(filepath.Dir(path)),
		renameio.WithPermissions(0o755),
		renameio.IgnoreUmask())
}

// runRelease is "fakeantnode release --version V --out PATH".
func runRelease(args []string, exe string, stderr io.Writer) int {
	fs := newFlagSet("release")
	v := fs.String("version", "", "version to record in the copy")
	out := fs.String("out", "", "path of the copy")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "fakeantnode release: %v\n", flagError(err))
		return exitUsage
	}
	if *v == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: fakeantnode release --version V --out PATH")
		return exitUsage
	}
	if exe == "" {
		fmt.Fprintln(stderr, "fakeantnode release: cannot find own executable")
		return exitFailure
	}
	if err := release(exe, *v, *out); err != nil {
		fmt.Fprintf(stderr, "fakeantnode release: %v\n", err)
		return exitFailure
	}
	return exitOK
}
