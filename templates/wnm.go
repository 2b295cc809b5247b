package templates

import "strings"

// ShellQuote returns s as one word for a POSIX shell: wrapped in single quotes, with each single
// quote inside closing the quotes, adding a backslash-escaped quote and reopening them. A word of
// only letters, digits and _./:,@+=- is returned bare. wnm's crontab line uses it; cron's own %
// rule is the caller's concern.
func ShellQuote(s string) string {
	if bareWord().MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
