package setsid

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"
)

// LaunchVerb is the hidden first argument with which wnm re-executes itself to start a node:
//
//	wnm __wnm-launch-node <pid file> <account> -- <binary> <antnode arguments…>
//
// The launcher records its own pid and start time in the pid file, atomically, switches to the
// node's account (uid:gid:groups, or "-" to stay) and only then replaces itself with the node
// binary (execve keeps the pid). So a node can never bind its ports
// before its pid is on disk, whenever wnm itself is killed: the process that Start forks is
// already the node as far as the pid file is concerned. A launcher that cannot write the pid file
// exits 127 without running the node.
const LaunchVerb = "__wnm-launch-node"

// LaunchIfAsked runs the launcher when os.Args asks for it and never returns in that case. Every
// program that may serve as a [Options.Launcher] (wnm's main, and test binaries' TestMain) calls it
// first.
func LaunchIfAsked() {
	if len(os.Args) < 2 || os.Args[1] != LaunchVerb {
		return
	}
	err := launch(os.Args[2:])
	fmt.Fprintf(os.Stderr, "wnm node launcher: %v\n", err)
	os.Exit(127)
}

// launchArgs is the launcher's command line for node binary argv.
func launchArgs(self, pidFile string, c *credential, argv []string) []string {
	account := "-"
	if c != nil {
		gs := make([]string, len(c.groups))
		for i, g := range c.groups {
			gs[i] = strconv.FormatUint(uint64(g), 10)
		}
		account = fmt.Sprintf("%d:%d:%s", c.uid, c.gid, strings.Join(gs, ","))
	}
	return append([]string{self, LaunchVerb, pidFile, account, "--"}, argv...)
}

// parseAccount reads launchArgs' account argument.
func parseAccount(s string) (*credential, error) {
	if s == "-" {
		return nil, nil
	}
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return nil, fmt.Errorf("account %q: want uid:gid:groups", s)
	}
	num := func(v string) (uint32, error) {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("account %q: %q is not a number", s, v)
		}
		return uint32(n), nil
	}
	c := &credential{}
	var err error
	if c.uid, err = num(f[0]); err != nil {
		return nil, err
	}
	if c.gid, err = num(f[1]); err != nil {
		return nil, err
	}
	if f[2] != "" {
		for _, g := range strings.Split(f[2], ",") {
			n, err := num(g)
			if err != nil {
				return nil, err
			}
			c.groups = append(c.groups, n)
		}
	}
	return c, nil
}

// launch writes the pid file and execs the node; it returns only on failure.
func launch(args []string) error {
	if len(args) < 4 || args[2] != "--" || !filepath.IsAbs(args[0]) || !filepath.IsAbs(args[3]) {
		return fmt.Errorf("usage: %s <absolute pid file> <account> -- <absolute binary> [args…]; got %q", LaunchVerb, strings.Join(args, " "))
	}
	pidFile, argv := args[0], args[3:]
	cred, err := parseAccount(args[1])
	if err != nil {
		return err
	}
	pid := os.Getpid()
	start, err := createTime(context.Background(), pid)
	if err != nil {
		return fmt.Errorf("read own start time: %w", err)
	}
	if err := renameio.WriteFile(pidFile, formatPIDFile(pidRecord{PID: pid, StartMS: start}), 0o644); err != nil {
		return fmt.Errorf("record pid: %w", err)
	}
	if cred != nil {
		err = becomeAccount(cred)
	}
	if err == nil {
		err = execNode(argv[0], argv, os.Environ())
	}
	// Still here: the node never ran. Take back the record of a process that will not be the node.
	_ = os.Remove(pidFile)
	return fmt.Errorf("exec %s: %w", argv[0], err)
}
