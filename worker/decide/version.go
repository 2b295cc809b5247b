package decide

import "strings"

// CompareVersions compares two antnode versions and returns -1, 0 or +1 as
// a is lower than, equal to or higher than b. ok is false (and the result 0)
// when either version cannot be parsed.
//
// A version is an optional leading "v", one or more dot-separated numeric
// segments, an optional pre-release ("-" and dot-separated identifiers of
// letters, digits and hyphens) and optional build metadata ("+…", ignored);
// surrounding spaces are ignored. Segments compare numerically at any length
// ("0.4.9" < "0.4.10"), missing segments count as 0 ("1.2" == "1.2.0"), and
// pre-releases follow semantic versioning: a pre-release is lower than its
// release ("0.4.10-rc.1" < "0.4.10"), numeric identifiers compare
// numerically and below alphanumeric ones, and a shorter list of
// identifiers is lower when it is a prefix of the longer.
func CompareVersions(a, b string) (int, bool) {
	va, ok := splitVersion(a)
	if !ok {
		return 0, false
	}
	vb, ok := splitVersion(b)
	if !ok {
		return 0, false
	}
	return va.compare(vb), true
}

// version is a parsed, validated version: the numeric core and the
// pre-release, both still dot-separated, so that parsing never allocates.
type version struct {
	core, pre string
}

// splitVersion validates s and splits it into core and pre-release.
func splitVersion(s string) (version, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if !validIdents(s[i+1:], false) {
			return version{}, false
		}
		s = s[:i]
	}
	core, pre, hasPre := strings.Cut(s, "-")
	if !validIdents(core, true) {
		return version{}, false
	}
	if hasPre && !validIdents(pre, false) {
		return version{}, false
	}
	return version{core: core, pre: pre}, true
}

// validIdents reports whether s is a non-empty dot-separated list of
// non-empty identifiers, made of digits only if numeric is set, else of
// ASCII letters, digits and hyphens.
func validIdents(s string, numeric bool) bool {
	for {
		id, rest, more := strings.Cut(s, ".")
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			switch {
			case c >= '0' && c <= '9':
			case numeric:
				return false
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
			default:
				return false
			}
		}
		if !more {
			return true
		}
		s = rest
	}
}

// compare orders two validated versions.
func (v version) compare(w version) int {
	a, b := v.core, w.core
	for a != "" || b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := compareNumeric(x, y); c != 0 {
			return c
		}
	}
	switch {
	case v.pre == "" && w.pre == "":
		return 0
	case v.pre == "":
		return 1
	case w.pre == "":
		return -1
	}
	a, b = v.pre, w.pre
	for {
		switch {
		case a == "" && b == "":
			return 0
		case a == "":
			return -1
		case b == "":
			return 1
		}
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := compareIdent(x, y); c != 0 {
			return c
		}
	}
}

// compareIdent orders two pre-release identifiers: numeric ones
// numerically and below alphanumeric ones, alphanumeric ones by ASCII.
func compareIdent(x, y string) int {
	nx, ny := isDigits(x), isDigits(y)
	switch {
	case nx && ny:
		return compareNumeric(x, y)
	case nx:
		return -1
	case ny:
		return 1
	}
	return strings.Compare(x, y)
}

// compareNumeric orders two digit strings by value, at any length; an
// empty string counts as 0.
func compareNumeric(x, y string) int {
	x = strings.TrimLeft(x, "0")
	y = strings.TrimLeft(y, "0")
	switch {
	case len(x) < len(y):
		return -1
	case len(x) > len(y):
		return 1
	}
	return strings.Compare(x, y)
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
