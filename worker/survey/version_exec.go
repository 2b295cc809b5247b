package survey

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wnm-project/wnm/units/run"
)

// versionTimeout bounds one `antnode --version`; it returns before any
// network or rewards-address work, so a healthy binary answers in
// milliseconds.
const versionTimeout = 5 * time.Second

// runVersion runs `<path> --version` and returns its standard output.
func runVersion(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	// A child that inherits the pipes must not keep us waiting after the
	// binary itself has exited or been killed: one second at most.
	stdout, stderr, err := run.Output(ctx, []string{path, "--version"}, time.Second)
	if err != nil {
		msg := strings.TrimSpace(string(stderr))
		if msg == "" {
			msg = strings.TrimSpace(string(stdout))
		}
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if msg != "" {
			return "", fmt.Errorf("%s --version: %w: %s", path, err, msg)
		}
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	return string(stdout), nil
}
