package gen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reads systemd settings back: the inverse of the quoting in package templates, and
// what adoption needs to read units written by anm and wnm-python. It follows systemd.syntax(7)
// ("Quoting"), systemd.service(5) ("Command lines") and the specifier rules of systemd.unit(5),
// and refuses what it cannot resolve without a running systemd (specifiers other than %%, and
// environment variable references in command lines).

// separators are the characters that separate words in a systemd setting.
const separators = " \t\n\r"

// splitWords splits s into words as systemd's extract_first_word does with unquoting and C
// escapes: single and double quotes group (also in the middle of a word), and backslash escapes
// are interpreted inside and outside quotes. A lone unquoted ";" (a command separator) is refused.
func splitWords(s string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && strings.IndexByte(separators, s[i]) >= 0 {
			i++
		}
		if i == len(s) {
			return words, nil
		}
		if s[i] == ';' && (i+1 == len(s) || strings.IndexByte(separators, s[i+1]) >= 0) {
			return nil, fmt.Errorf("%q: several commands on one line (a lone ;) are not supported", s)
		}
		var w strings.Builder
		var quote byte
	word:
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\':
				r, n, err := unescape(s[i:])
				if err != nil {
					return nil, fmt.Errorf("%q: %w", s, err)
				}
				w.WriteString(r)
				i += n
				continue
			case quote != 0 && c == quote:
				quote = 0
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote == 0 && strings.IndexByte(separators, c) >= 0:
				break word
			default:
				w.WriteByte(c)
			}
			i++
		}
		if quote != 0 {
			return nil, fmt.Errorf("%q: unbalanced quoting", s)
		}
		words = append(words, w.String())
	}
}

// unescape reads one C escape at the start of s (which begins with a backslash), as systemd's
// cunescape_one does, and returns what it stands for and how many bytes it took.
func unescape(s string) (string, int, error) {
	if len(s) < 2 {
		return "", 0, errors.New("backslash at the end")
	}
	simple := map[byte]string{'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v", '\\': `\`, '"': `"`, '\'': "'", 's': " "}
	if r, ok := simple[s[1]]; ok {
		return r, 2, nil
	}
	num := func(digits, base int) (rune, error) {
		if len(s) < 2+digits {
			return 0, fmt.Errorf("short escape %q", s)
		}
		v, err := strconv.ParseUint(s[2:2+digits], base, 32)
		if err != nil {
			return 0, fmt.Errorf("bad escape %q", s[:2+digits])
		}
		if v == 0 {
			return 0, fmt.Errorf("escape %q is a NUL", s[:2+digits])
		}
		return rune(v), nil
	}
	switch c := s[1]; {
	case c == 'x':
		v, err := num(2, 16)
		if err != nil {
			return "", 0, err
		}
		return string([]byte{byte(v)}), 4, nil
	case c == 'u' || c == 'U':
		digits := 4
		if c == 'U' {
			digits = 8
		}
		v, err := num(digits, 16)
		if err != nil {
			return "", 0, err
		}
		if !utf8.ValidRune(v) {
			return "", 0, fmt.Errorf("escape %q is not a valid code point", s[:2+digits])
		}
		return string(v), 2 + digits, nil
	case c >= '0' && c <= '7':
		s = s[:min(len(s), 4)]
		// octal escapes are shifted one to the left: \NNN with the first digit as s[1]
		if len(s) < 4 {
			return "", 0, fmt.Errorf("short escape %q", s)
		}
		v, err := strconv.ParseUint(s[1:4], 8, 8)
		if err != nil || v == 0 {
			return "", 0, fmt.Errorf("bad octal escape %q", s)
		}
		return string([]byte{byte(v)}), 4, nil
	}
	return "", 0, fmt.Errorf("unknown escape %q", s[:2])
}

// resolveSpecifiers turns %% into %, the only specifier that means the same in every unit, and
// refuses every other specifier (%i, %h, ...), whose value depends on the unit and the host.
func resolveSpecifiers(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q: lone %% at the end", s)
		}
		return "", fmt.Errorf("%q: specifier %%%c is not supported", s, s[i+1])
	}
	return b.String(), nil
}

// resolveDollars turns $$ into $ in one command line word and refuses references to environment
// variables ($NAME, ${NAME}), which systemd would expand when it starts the command.
func resolveDollars(s string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) {
			switch c := s[i+1]; {
			case c == '$':
				b.WriteByte('$')
				i++
				continue
			case c == '{' || c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
				return "", fmt.Errorf("%q: environment variable references are not supported", s)
			}
		}
		b.WriteByte('$')
	}
	return b.String(), nil
}

// SplitExec returns the command line an ExecStart= value (as a unit file holds it) runs: the
// words split and unquoted, %% resolved, $$ resolved in the arguments (systemd expands no
// variables in the executable's path, so a $ there is literal), and the executable first. Prefixes of the
// executable (@, -, :, +, !, !!) are dropped; with @, the word after the executable (the argv[0]
// systemd would pass) is dropped too. It fails on an empty command, unbalanced quotes, unknown
// escapes, specifiers other than %%, environment variable references, and several commands.
func SplitExec(value string) ([]string, error) {
	words, err := splitWords(value)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("ExecStart %q: no command", value)
	}
	exe := words[0]
	prefix := exe[:len(exe)-len(strings.TrimLeft(exe, "@-:+!"))]
	exe = exe[len(prefix):]
	args := words[1:]
	if strings.Contains(prefix, "@") {
		if len(args) == 0 {
			return nil, fmt.Errorf("ExecStart %q: @ without an argv[0]", value)
		}
		args = args[1:]
	}
	argv := append([]string{exe}, args...)
	for i, w := range argv {
		if w, err = resolveSpecifiers(w); err != nil {
			return nil, fmt.Errorf("ExecStart: %w", err)
		}
		if i > 0 { // systemd expands variables in the arguments, not in the executable's path
			if w, err = resolveDollars(w); err != nil {
				return nil, fmt.Errorf("ExecStart: %w", err)
			}
		}
		argv[i] = w
	}
	if !strings.HasPrefix(argv[0], "/") {
		return nil, fmt.Errorf("ExecStart %q: executable %q is not an absolute path", value, argv[0])
	}
	return argv, nil
}

// SplitEnvironment returns the assignments of one Environment= value, in order: %% resolved,
// words split and unquoted, each NAME=VALUE. It fails on specifiers other than %%, bad quoting,
// and words that are not an assignment to a valid name.
func SplitEnvironment(value string) ([][2]string, error) {
	resolved, err := resolveSpecifiers(value)
	if err != nil {
		return nil, fmt.Errorf("unit Environment= value: %w", err)
	}
	words, err := splitWords(resolved)
	if err != nil {
		return nil, fmt.Errorf("unit Environment= value: %w", err)
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || !validEnvName(k) {
			return nil, fmt.Errorf("unit Environment= value %q: %q is not NAME=VALUE", value, w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func validEnvName(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		letter := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		digit := c >= '0' && c <= '9'
		if !letter && (i == 0 || !digit) {
			return false
		}
	}
	return true
}
