package main

// The node-manager backends wnm drives. Each registers itself with units.Open when it is
// initialised; the worker opens whichever the machine's process_manager names and knows none of
// them by name. setsid is imported in main.go as well, for its launcher.
import (
	_ "github.com/wnm-project/wnm/units/launchd"
	_ "github.com/wnm-project/wnm/units/setsid"
	_ "github.com/wnm-project/wnm/units/systemd"
)
