package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Build information. Every build path (make build, make deb, make dist, the Homebrew formula) sets
// these with -ldflags "-X main.version=… -X main.commit=… -X main.date=…", from
// packaging/version.sh: the version from `git describe`, the full commit hash, and the build date
// (SOURCE_DATE_EPOCH, which defaults to the commit's date, so that builds are reproducible).
// A plain `go build` or `go install` leaves them empty and [currentBuild] falls back on what the
// Go toolchain recorded in the binary.
var (
	version string
	commit  string
	date    string
)

// buildInfo is what `wnm version` prints.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"build_date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// currentBuild returns this binary's build information: the -X values, else the module version
// (`go install …@v0.1.0`) and the VCS stamp the toolchain embeds, else "unknown".
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, BuildDate: date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = fillBuild(b, bi)
	}
	for _, f := range []*string{&b.Version, &b.Commit, &b.BuildDate} {
		if *f == "" {
			*f = "unknown"
		}
	}
	return b
}

// fillBuild fills the fields the linker flags left empty from the toolchain's record.
func fillBuild(b buildInfo, bi *debug.BuildInfo) buildInfo {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = trimV(bi.Main.Version)
	}
	if b.Commit == "" && settings["vcs.revision"] != "" {
		b.Commit = settings["vcs.revision"]
		if settings["vcs.modified"] == "true" {
			b.Commit += "-dirty"
		}
	}
	if b.BuildDate == "" {
		b.BuildDate = settings["vcs.time"] // the commit's date: a plain go build records no other
	}
	return b
}

// trimV drops the "v" of a Go module version tag: v0.1.0 → 0.1.0.
func trimV(v string) string {
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

type versionCmd struct{}

func (versionCmd) Help() string {
	return "Prints the version (from git describe), the commit, the build date and the Go version the binary was " +
		"built with; --json prints them as one JSON object."
}

func (versionCmd) Run(s *session) error {
	b := currentBuild()
	if s.cli.JSON {
		out, err := json.MarshalIndent(b, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(s.env.stdout, "%s\n", out)
		return err
	}
	_, err := fmt.Fprintf(s.env.stdout, "wnm version %s\ncommit:     %s\nbuilt:      %s\ngo:         %s %s\n",
		b.Version, b.Commit, b.BuildDate, b.GoVersion, b.Platform)
	return err
}
