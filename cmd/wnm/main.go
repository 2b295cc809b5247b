// Command wnm manages a fleet of Autonomi antnode processes on one machine. Run with no command it
// does one survey → decide → act cycle, which is what its timer (or cron line) runs every minute.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }
