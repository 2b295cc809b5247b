package systemd

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wnm-project/wnm/gen"
)

const testWallet = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

// exitError is a failed command's error, with the exit status callers branch on.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitError) ExitCode() int { return int(e) }

// answer is what the recording runner replies to one command.
type answer struct {
	out string
	err error
}

// recorder is a [Runner] that records every command and answers from a table keyed by the
// command line (joined with spaces); commands not in the table succeed with no output, except
// "show", which reports the unit state set with setState.
type recorder struct {
	mu      sync.Mutex
	calls   []string
	answers map[string]answer
	state   map[string]Properties // by unit name
}

func newRecorder() *recorder {
	return &recorder{answers: map[string]answer{}, state: map[string]Properties{}}
}

func (r *recorder) Run(_ context.Context, _ []byte, argv []string) ([]byte, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := strings.Join(argv, " ")
	r.calls = append(r.calls, line)
	if a, ok := r.answers[line]; ok {
		return []byte(a.out), nil, a.err
	}
	args := argv[1:]
	if len(args) > 0 && args[0] == "--user" {
		args = args[1:]
	}
	if len(args) >= 2 && args[0] == "show" {
		p, ok := r.state[args[1]]
		if !ok {
			p = Properties{LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}
		}
		return fmt.Appendf(nil, "LoadState=%s\nActiveState=%s\nSubState=%s\nMainPID=%d\n", p.LoadState, p.ActiveState, p.SubState, p.MainPID), nil, nil
	}
	return nil, nil, nil
}

// take returns the calls recorded so far and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) setState(unit string, p Properties) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state[unit] = p
}

// withLingerDir points lingerDir at dir for the test.
func withLingerDir(t *testing.T, dir string) {
	old := lingerDir
	lingerDir = dir
	t.Cleanup(func() { lingerDir = old })
}

// testNode returns a node whose directories and binary exist under storage.
func testNode(t *testing.T, storage string, id int) gen.Node {
	t.Helper()
	root := filepath.Join(storage, fmt.Sprintf("antnode%04d", id))
	n := gen.Node{
		ID: id, RootDir: root, Binary: filepath.Join(root, "antnode"),
		LogDir: filepath.Join(storage, "logs", fmt.Sprintf("antnode%04d", id)),
		Port:   55000 + id, MetricsPort: 13000 + id, Host: "127.0.0.1", Wallet: testWallet,
	}
	if err := os.MkdirAll(n.RootDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Binary, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return n
}

func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}
