package setsid

import (
	"os"
	"testing"
)

// TestMain lets this test binary serve as the node launcher, as wnm's own binary does.
func TestMain(m *testing.M) {
	LaunchIfAsked()
	os.Exit(m.Run())
}
