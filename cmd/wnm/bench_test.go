package main

import (
	"io"
	"testing"
)

// BenchmarkStartVersion is what `wnm --version` costs after package initialisation: building the
// command line (the flags come from the settings table) and parsing it.
func BenchmarkStartVersion(b *testing.B) {
	e := &env{stdout: io.Discard, stderr: io.Discard, home: "/home/u", goos: "linux"}
	b.ReportAllocs()
	for b.Loop() {
		if code := e.main([]string{"--version"}); code != 0 {
			b.Fatal(code)
		}
	}
}

// BenchmarkParseSettings parses a command line with settings, as every cycle does.
func BenchmarkParseSettings(b *testing.B) {
	e := &env{stdout: io.Discard, stderr: io.Discard, home: "/home/u", goos: "linux"}
	args := []string{"status", "--node_cap", "30", "--cpu-less-than=40", "--no_upnp", "--help"}
	b.ReportAllocs()
	for b.Loop() {
		var c cli
		k, err := newParser(e, &c)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.Parse(args[:5]); err != nil {
			b.Fatal(err)
		}
		if len(c.flagValues()) != 3 {
			b.Fatal("flags lost")
		}
	}
}
