// Command wnm manages a fleet of Autonomi antnode processes on one machine. Run with no command it
// does one survey → decide → act cycle, which is what its timer (or cron line) runs every minute.
package main

import (
	"os"

	"github.com/wnm-project/wnm/units/setsid"
)

func main() {
	// wnm re-executes itself to start setsid nodes: the launcher records the node's pid, then
	// becomes the node. It is not a command an operator types.
	setsid.LaunchIfAsked()
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}
