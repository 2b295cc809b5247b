// Package fakeantnode builds and drives the fake antnode binary (testenv/cmd/fakeantnode) for
// tests: [Build] compiles it once per test process, [Release] makes a copy that reports another
// version, and [FreePort] finds a loopback port for a node to use.
//
// The binary's command line, version sources and FAKEANTNODE_* misbehaviour knobs are
// documented in testenv/cmd/fakeantnode. In short:
//
//	FAKEANTNODE_START_DELAY=2s        sleep before opening the metrics port
//	FAKEANTNODE_HANG_METRICS=1        accept metrics connections but never answer
//	FAKEANTNODE_GARBAGE_METRICS=1     serve unparseable text with status 200
//	FAKEANTNODE_HTTP_STATUS=503       answer every endpoint with that status
//	FAKEANTNODE_CRASH_AFTER=5s        write critical_failure.log in the log dir, exit 1
//	FAKEANTNODE_CPU_BURN=1            spin one goroutine
//	FAKEANTNODE_SELF_UPGRADE_AFTER=3s with FAKEANTNODE_UPGRADE_FROM=PATH: replace its own
//	                                  executable with PATH, then exit 0 (--stop-on-upgrade) or
//	                                  re-exec itself
//	FAKEANTNODE_VERSION=x             report version x
//
// This package is test-only: it calls the go tool and takes a [testing.TB]. It must not be
// imported by non-test code.
package fakeantnode

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ImportPath is the package path of the fake antnode command.
const ImportPath = "github.com/wnm-project/wnm/testenv/cmd/fakeantnode"

// buildDirPrefix names the per-process temp dirs that hold built binaries.
const buildDirPrefix = "wnm-fakeantnode-"

var build struct {
	once sync.Once
	path string
	err  error
}

// Build compiles the fake antnode (CGO_ENABLED=0) the first time it is called in a test
// process and returns the path of the binary; later calls return the same path. The binary
// lives in a temp dir that outlives the test that built it, so that every test in the process
// can share it; temp dirs left by earlier test processes more than two hours old are removed.
func Build(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.path, build.err = buildOnce()
	})
	if build.err != nil {
		t.Fatalf("build fakeantnode: %v", build.err)
	}
	return build.path
}

func buildOnce() (string, error) {
	sweepStaleBuilds(2 * time.Hour)
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("find the go tool: %w", err)
	}
	dir, err := os.MkdirTemp("", buildDirPrefix)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "fakeantnode")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	cmd := exec.Command(goTool, "build", "-o", out, ImportPath)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if _, file, _, ok := runtime.Caller(0); ok {
		cmd.Dir = filepath.Dir(file) // inside the module, whatever the test's working dir
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	return out, nil
}

// sweepStaleBuilds removes build dirs of earlier test processes, best effort. Only dirs older
// than age go, so the binary of a test process still running is left alone.
func sweepStaleBuilds(age time.Duration) {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), buildDirPrefix+"*"))
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.IsDir() && time.Since(st.ModTime()) > age {
			os.RemoveAll(m)
		}
	}
}

// Release writes a copy of the fake antnode bin to out that reports version v, by running
// "bin release --version v --out out". Copying out elsewhere carries the version along.
func Release(t testing.TB, bin, v, out string) {
	t.Helper()
	cmd := exec.Command(bin, "release", "--version", v, "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
}

// FreePort returns a port on 127.0.0.1 that was free for both TCP and UDP when it was
// checked. Another process can still take it before the caller binds it; tests that cannot
// afford that should let the node pick its own metrics port (--enable-metrics-server with no
// --metrics-server-port) and read it from the node's stdout.
func FreePort(t testing.TB) int {
	t.Helper()
	var errs []error
	for range 20 {
		port, err := freePort()
		if err == nil {
			return port
		}
		errs = append(errs, err)
	}
	t.Fatalf("find a free port: %v", errors.Join(errs...))
	return 0
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, err
	}
	pc.Close()
	return port, nil
}
