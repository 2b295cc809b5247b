package fakes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The fake crontab keeps one table per user in $WNM_FAKE_STATE/crontab/<user>:
//
//	crontab -l [-u USER]       print the table; "no crontab for USER" and exit 1 without one
//	crontab [-u USER] -|FILE   replace the table with stdin or FILE, after checking it as
//	                           Debian's crontab does: a newline before EOF, and every line a
//	                           comment, blank, NAME=VALUE, or five time fields (or @reboot and
//	                           the like) and a command
//	crontab -r [-u USER]       remove the table
//
// USER defaults to $USER (or "root" without it). Tests seed a table with `crontab -` or by
// writing the state file.

// CrontabMain runs the fake crontab on os.Args and exits: the func() form for testscript.Main
// and testenv/fakes/cmd/crontab.
func CrontabMain() { os.Exit(Crontab(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// Crontab runs the fake crontab with args (without the program name) and returns its exit
// status. It reads the environment of the process.
func Crontab(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return crontab(args, stdin, stdout, stderr, os.Getenv)
}

func crontab(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, format+"\n", a...)
		return 1
	}
	if err := record(getenv, "crontab", args); err != nil {
		return fail("fake crontab: %v", err)
	}
	user := getenv("USER")
	if user == "" {
		user = "root"
	}
	var list, remove bool
	var file string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-l":
			list = true
		case a == "-r":
			remove = true
		case a == "-u":
			if i+1 == len(args) {
				return fail("crontab: option requires an argument -- 'u'")
			}
			i++
			user = args[i]
		case a == "-" || !strings.HasPrefix(a, "-"):
			if file != "" {
				return fail("crontab: usage error: only one file")
			}
			file = a
		default:
			return fail("crontab: invalid option -- '%s'", strings.TrimPrefix(a, "-"))
		}
	}
	if !userName.MatchString(user) {
		return fail("crontab: user %q unknown", user)
	}
	dir, err := stateDir(getenv, "crontab")
	if err != nil {
		return fail("fake crontab: %v", err)
	}
	path := filepath.Join(dir, user)
	switch {
	case list && (remove || file != ""), remove && file != "":
		return fail("crontab: usage error: -l, -r and a file are exclusive")
	case list:
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return fail("no crontab for %s", user)
		}
		if err != nil {
			return fail("fake crontab: %v", err)
		}
		_, _ = stdout.Write(b)
		return 0
	case remove:
		if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
			return fail("no crontab for %s", user)
		} else if err != nil {
			return fail("fake crontab: %v", err)
		}
		return 0
	case file == "":
		return fail("crontab: usage error: file name must be specified for replace")
	}
	var table []byte
	if file == "-" {
		table, err = io.ReadAll(stdin)
	} else {
		table, err = os.ReadFile(file)
	}
	if err != nil {
		return fail("crontab: %v", err)
	}
	if err := CheckCrontab(table); err != nil {
		fmt.Fprintf(stderr, "%v\nerrors in crontab file, can't install.\n", err)
		return 1
	}
	if err := os.WriteFile(path, table, 0o600); err != nil {
		return fail("fake crontab: %v", err)
	}
	return 0
}

var (
	userName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	cronEnvLine = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_]*\s*=`)
	cronTimeSet = regexp.MustCompile(`^[0-9*,/\-A-Za-z]+$`)
	cronSpecial = regexp.MustCompile(`^@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)$`)
)

// CheckCrontab checks a table as cron reads it: a non-empty table must end in a newline, and
// every line must be blank, a comment, an environment setting, or a schedule followed by a
// command. It is what the fake crontab refuses to install.
func CheckCrontab(table []byte) error {
	if len(table) > 0 && !bytes.HasSuffix(table, []byte("\n")) {
		return errors.New("new crontab file is missing newline before EOF")
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(table), "\n"), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") || cronEnvLine.MatchString(t) {
			continue
		}
		f := strings.Fields(t)
		n := 5
		if cronSpecial.MatchString(f[0]) {
			n = 1
		}
		ok := len(f) > n
		for j := 0; ok && j < n && n == 5; j++ {
			ok = cronTimeSet.MatchString(f[j])
		}
		if !ok {
			return fmt.Errorf("\"-\":%d: bad line %q", i+1, line)
		}
	}
	return nil
}
