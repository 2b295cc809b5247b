package fakes

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The fake loginctl keeps logind's linger flags as files, as logind does in
// /var/lib/systemd/linger:
//
//	loginctl enable-linger [USER]     create the flag file
//	loginctl disable-linger [USER]    remove it
//	loginctl show-user USER --property=Linger   print Linger=yes or Linger=no
//
// The files live in $WNM_ROOT/var/lib/systemd/linger when WNM_ROOT is set and not /, else in
// $WNM_FAKE_STATE/linger; USER defaults to $USER. With $WNM_FAKE_LINGER_DENY=1 enable-linger
// fails as polkit refuses it to an unprivileged user.

// EnvLingerDeny makes the fake loginctl refuse enable-linger.
const EnvLingerDeny = "WNM_FAKE_LINGER_DENY"

// LoginctlMain runs the fake loginctl on os.Args and exits: the func() form for testscript.Main
// and testenv/fakes/cmd/loginctl.
func LoginctlMain() { os.Exit(Loginctl(os.Args[1:], os.Stdout, os.Stderr)) }

// Loginctl runs the fake loginctl with args (without the program name) and returns its exit
// status. It reads the environment of the process.
func Loginctl(args []string, stdout, stderr io.Writer) int {
	return loginctl(args, stdout, stderr, os.Getenv)
}

func loginctl(args []string, stdout, stderr io.Writer, getenv env) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, format+"\n", a...)
		return 1
	}
	if err := record(getenv, "loginctl", args); err != nil {
		return fail("fake loginctl: %v", err)
	}
	var words []string
	prop := ""
	for _, a := range args {
		switch {
		case a == "--property=Linger" || a == "-pLinger":
			prop = "Linger"
		case a == "--no-pager" || a == "--no-ask-password":
		case len(a) > 0 && a[0] == '-':
			return fail("fake loginctl: unknown option %q", a)
		default:
			words = append(words, a)
		}
	}
	if len(words) == 0 {
		return fail("fake loginctl: no verb")
	}
	user := getenv("USER")
	if len(words) > 1 {
		user = words[1]
	}
	if len(words) > 2 || !userName.MatchString(user) {
		return fail("Failed to look up user %s: No such process", user)
	}
	dir, err := lingerDir(getenv)
	if err != nil {
		return fail("fake loginctl: %v", err)
	}
	path := filepath.Join(dir, user)
	switch words[0] {
	case "enable-linger":
		if getenv(EnvLingerDeny) == "1" {
			return fail("Could not enable linger: Access denied")
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			return fail("fake loginctl: %v", err)
		}
	case "disable-linger":
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail("fake loginctl: %v", err)
		}
	case "show-user":
		if prop != "Linger" {
			return fail("fake loginctl: show-user needs --property=Linger")
		}
		v := "no"
		if exists(path) {
			v = "yes"
		}
		fmt.Fprintf(stdout, "Linger=%s\n", v)
	default:
		return fail("Unknown command verb %s.", words[0])
	}
	return 0
}

// lingerDir is where the linger flags live (see the package comment), created.
func lingerDir(getenv env) (string, error) {
	if root := getenv("WNM_ROOT"); root != "" && filepath.Clean(root) != "/" {
		if !filepath.IsAbs(root) {
			return "", fmt.Errorf("WNM_ROOT %q is not an absolute path", root)
		}
		dir := filepath.Join(root, "var/lib/systemd/linger")
		return dir, os.MkdirAll(dir, 0o755)
	}
	return stateDir(getenv, "linger")
}
