// Package templates holds the text templates of the files wnm writes (its nodes' systemd units,
// its own schedule), embedded in the binary, and the functions those templates use to quote
// values (for systemd: systemd.syntax(7), systemd.service(5) "Command lines"). It owns the
// templates and the quoting rules and nothing else: gen fills the templates with typed data. It
// must not read the filesystem or the environment, and no template may print a value that did
// not go through a quoting function or a validation in gen.
package templates

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"unicode"
	"unicode/utf8"
)

//go:embed *.tmpl
var files embed.FS

// Parse parses every embedded template, each under its file name (antnode.service.tmpl). The
// templates fail on a missing map key and have [Funcs] available.
func Parse() (*template.Template, error) {
	t, err := template.New("").Option("missingkey=error").Funcs(Funcs()).ParseFS(files, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	return t, nil
}

// Funcs returns the functions the templates call:
//
//	systemdQuote    [SystemdQuote]
//	systemdExecArg  [SystemdExecArg]
//	systemdEnv      [SystemdEnv]
//	systemdValue    [SystemdValue]
func Funcs() template.FuncMap {
	return template.FuncMap{
		"systemdQuote":   SystemdQuote,
		"systemdExecArg": SystemdExecArg,
		"systemdEnv":     SystemdEnv,
		"systemdValue":   SystemdValue,
	}
}

// checkText refuses what no systemd setting can carry: invalid UTF-8 and control characters
// (a newline would end the setting and start a new one).
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%s %q contains a control character", what, s)
	}
	return nil
}

// escapeSpecifiers doubles every %, so that systemd's specifier expansion gives it back.
func escapeSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// quoteReplacer escapes the two characters that are special inside a double-quoted systemd word.
var quoteReplacer = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// SystemdQuote returns s as one double-quoted word of a setting that systemd splits into words
// (Environment=, and ExecStart= through [SystemdExecArg]): backslash and double quote are
// escaped with a backslash and % is doubled, as systemd.syntax(7) and the specifier rules of
// systemd.unit(5) require. It refuses invalid UTF-8 and control characters.
func SystemdQuote(s string) (string, error) {
	if err := checkText("value", s); err != nil {
		return "", err
	}
	return `"` + quoteReplacer.Replace(escapeSpecifiers(s)) + `"`, nil
}

// bareWord matches words systemd takes literally without quotes in a command line.
var bareWord = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./:,@+=-]+$`) })

// SystemdExecArg returns s as one word of an ExecStart= command line: $ becomes $$ (systemd
// expands $VAR and ${VAR} in command lines), % becomes %%, and the word is double-quoted, with
// backslash and double quote escaped, unless it consists only of letters, digits and _./:,@+=-.
// It refuses invalid UTF-8 and control characters.
func SystemdExecArg(s string) (string, error) {
	if err := checkText("command line argument", s); err != nil {
		return "", err
	}
	if bareWord().MatchString(s) {
		return s, nil
	}
	q, err := SystemdQuote(strings.ReplaceAll(s, "$", "$$"))
	if err != nil {
		return "", err
	}
	return q, nil
}

// envName matches the variable names systemd accepts in Environment= and that a POSIX shell can
// refer to.
var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// SystemdEnv returns the value of one Environment= setting that assigns value to the variable
// key: the assignment key=value as one double-quoted word ([SystemdQuote]). Environment= does
// not expand $, so $ is left alone. It refuses a key that is not a letter or underscore followed
// by letters, digits and underscores, and values [SystemdQuote] refuses.
func SystemdEnv(key, value string) (string, error) {
	if !envName().MatchString(key) {
		return "", fmt.Errorf("environment variable name %q is not a letter or underscore followed by letters, digits or underscores", key)
	}
	if err := checkText("environment value of "+key, value); err != nil {
		return "", err
	}
	return SystemdQuote(key + "=" + value)
}

// SystemdValue returns s for a setting that systemd takes verbatim, without splitting it into
// words (WorkingDirectory=, Description=, User=): only % is doubled. It refuses invalid UTF-8,
// control characters, leading or trailing white space (systemd strips it) and a trailing
// backslash (which would continue the line), and an empty value.
func SystemdValue(s string) (string, error) {
	if err := checkText("value", s); err != nil {
		return "", err
	}
	switch {
	case s == "":
		return "", fmt.Errorf("value %q is empty", s)
	case strings.TrimSpace(s) != s:
		return "", fmt.Errorf("value %q starts or ends with white space", s)
	case strings.HasSuffix(s, `\`):
		return "", fmt.Errorf("value %q ends with a backslash", s)
	}
	return escapeSpecifiers(s), nil
}
