// Command loginctl is the fake loginctl of package fakes, for tests that need it as an executable.
package main

import "github.com/wnm-project/wnm/testenv/fakes"

func main() { fakes.LoginctlMain() }
