package survey

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// versionLine matches the first line of `antnode --version`:
// "Autonomi Node v0.4.17", or a pre-release such as "v0.4.10-rc.1".
var versionLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Autonomi Node v(\S+)`) })

// VersionCache remembers what `<binary> --version` printed, keyed on the
// binary's path, size and modification time, so that surveying a thousand
// nodes does not mean a thousand execs every cycle. A binary whose size or
// mtime changed (an upgrade, antnode's in-place self-upgrade) is run again.
// Failures are never cached.
//
// The zero value is ready to use and safe for concurrent use. It is
// JSON-serialisable so the caller can persist it between cycles:
//
//	{"entries": {"/var/antctl/services/antnode1/antnode":
//	    {"size": 51234567, "mod_time_ns": 1767225600000000000, "version": "0.4.17"}}}
type VersionCache struct {
	// Entries maps a binary path to what was last learned about it.
	Entries map[string]VersionEntry `json:"entries"`

	mu       sync.Mutex
	inflight map[string]*versionCall
}

// VersionEntry is one cached `--version` answer.
type VersionEntry struct {
	// Size is the binary's size in bytes when it was run.
	Size int64 `json:"size"`
	// ModTimeNs is the binary's mtime in Unix nanoseconds when it was run.
	ModTimeNs int64 `json:"mod_time_ns"`
	// Version is the version without the leading "v", e.g. "0.4.17".
	Version string `json:"version"`
}

type versionCall struct {
	done    chan struct{}
	version string
	err     error
}

// Version returns the version reported by `<path> --version`, from the cache
// when the file at path still has the size and mtime it had when it was last
// run. Concurrent calls for the same path share one exec.
func (c *VersionCache) Version(ctx context.Context, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("antnode binary: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("antnode binary %s: not a regular file", path)
	}
	want := VersionEntry{Size: fi.Size(), ModTimeNs: fi.ModTime().UnixNano()}

	c.mu.Lock()
	if e, ok := c.Entries[path]; ok && e.Size == want.Size && e.ModTimeNs == want.ModTimeNs {
		c.mu.Unlock()
		return e.Version, nil
	}
	call, running := c.inflight[path]
	if !running {
		call = &versionCall{done: make(chan struct{})}
		if c.inflight == nil {
			c.inflight = make(map[string]*versionCall)
		}
		c.inflight[path] = call
	}
	c.mu.Unlock()

	if running {
		select {
		case <-call.done:
			return call.version, call.err
		case <-ctx.Done():
			return "", fmt.Errorf("%s --version: %w", path, ctx.Err())
		}
	}

	call.version, call.err = versionOf(ctx, path)
	c.mu.Lock()
	delete(c.inflight, path)
	if call.err == nil {
		if c.Entries == nil {
			c.Entries = make(map[string]VersionEntry)
		}
		want.Version = call.version
		c.Entries[path] = want
	}
	c.mu.Unlock()
	close(call.done)
	return call.version, call.err
}

// Prune forgets every binary whose path is not in keep, so the persisted
// cache does not grow with nodes that were removed long ago.
func (c *VersionCache) Prune(keep []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.Entries {
		if !slices.Contains(keep, p) {
			delete(c.Entries, p)
		}
	}
}

// versionOf runs the binary and parses its first line.
func versionOf(ctx context.Context, path string) (string, error) {
	out, err := runVersion(ctx, path)
	if err != nil {
		return "", err
	}
	return parseVersion(out)
}

// parseVersion reads the version from `antnode --version` output.
func parseVersion(out string) (string, error) {
	first, _, _ := strings.Cut(out, "\n")
	first = strings.TrimRight(first, "\r")
	m := versionLine().FindStringSubmatch(first)
	if m == nil {
		return "", fmt.Errorf("unrecognised --version output %q", first)
	}
	return m[1], nil
}
