package worker

import (
	"os"
	"testing"

	"github.com/wnm-project/wnm/units/setsid"
)

// TestMain lets this test binary serve as the setsid node launcher, as wnm's own binary does.
func TestMain(m *testing.M) {
	setsid.LaunchIfAsked()
	os.Exit(m.Run())
}
