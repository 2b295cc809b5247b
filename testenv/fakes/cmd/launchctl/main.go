// Command launchctl is the fake launchctl of package fakes, for tests that need an executable
// named launchctl on PATH. It never talks to launchd.
package main

import "github.com/wnm-project/wnm/testenv/fakes"

func main() { fakes.LaunchctlMain() }
