package survey

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// versionTimeout bounds one `antnode --version`; it returns before any
// network or rewards-address work, so a healthy binary answers in
// milliseconds.
const versionTimeout = 5 * time.Second

// runVersion runs `<path> --version` and returns its standard output. This is
// the package's only use of os/exec.
func runVersion(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A child that inherits the pipes must not keep us waiting after the
	// binary itself has exited or been killed.
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if msg != "" {
			return "", fmt.Errorf("%s --version: %w: %s", path, err, msg)
		}
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	return stdout.String(), nil
}
