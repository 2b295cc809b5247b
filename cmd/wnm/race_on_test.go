//go:build race

package main

// raceEnabled: this test binary runs under the race detector, and so do the wnm binaries its
// tests build (buildWnm), so that the race pass covers the cycles they run too.
const raceEnabled = true
