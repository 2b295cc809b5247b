package worker

import (
	"os"
	"testing"

	_ "github.com/wnm-project/wnm/units/launchd" // registers the launchd backend for NewManager
	"github.com/wnm-project/wnm/units/setsid"
	_ "github.com/wnm-project/wnm/units/systemd" // registers the systemd backend for NewManager
)

// TestMain lets this test binary serve as the setsid node launcher, as wnm's own binary does, and
// as the chaos harness's killable cycle process.
func TestMain(m *testing.M) {
	setsid.LaunchIfAsked()
	if spec := os.Getenv(envChaosCycle); spec != "" {
		os.Exit(chaosCycleMain(spec))
	}
	os.Exit(m.Run())
}
