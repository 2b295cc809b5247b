// Command systemctl is the fake systemctl of package fakes, for tests that need an executable
// named systemctl on PATH. It never talks to systemd.
package main

import "github.com/wnm-project/wnm/testenv/fakes"

func main() { fakes.SystemctlMain() }
