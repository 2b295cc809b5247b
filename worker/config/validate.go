package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker/wallet"
)

// SettingError is a problem with the value of one setting, or of several that conflict. Its text
// starts with the first setting's name; [Resolved.Validate] adds where each value came from.
type SettingError struct {
	Names   []string // the settings involved
	Problem string   // "cpu_less_than: 120 is not a percentage from 0 to 100"
	Origins []Origin // where each of Names came from, when known
}

func (e *SettingError) Error() string {
	if len(e.Origins) == 0 {
		return e.Problem
	}
	from := make([]string, len(e.Origins))
	for i, o := range e.Origins {
		from[i] = o.Describe()
		if len(e.Names) > 1 {
			from[i] = e.Names[i] + " " + from[i]
		}
	}
	return e.Problem + " (" + strings.Join(from, "; ") + ")"
}

// Validate checks every setting's value with its Check, then the rules that span settings. It
// returns all violations joined, each a [*SettingError] naming the setting and the value.
func (c *Config) Validate() error {
	var errs []error
	for _, s := range Settings {
		if s.Check == nil {
			continue
		}
		if p := s.Check(c.Value(s.Name)); p != "" {
			errs = append(errs, &SettingError{Names: []string{s.Name}, Problem: s.Name + ": " + p})
		}
	}
	errs = append(errs, c.validatePorts()...)
	if c.RewardsAddress != "" && !hasControl(c.RewardsAddress) {
		if _, err := wallet.Parse(c.RewardsAddress, c.DonateAddress); err != nil {
			errs = append(errs, &SettingError{Names: []string{"rewards_address", "donate_address"},
				Problem: fmt.Sprintf("rewards_address: %q: %v", c.RewardsAddress, err)})
		}
	}
	return errors.Join(errs...)
}

func checkDonate(v any) string {
	s := v.(string)
	if s == "" {
		return ""
	}
	if _, err := wallet.CheckAddress(strings.TrimSpace(s)); err != nil {
		return fmt.Sprintf("%q: %v", s, err)
	}
	return ""
}

func checkManager(v any) string {
	if _, err := units.ParseSpec(v.(string)); err != nil {
		return err.Error()
	}
	return ""
}

func checkHost(v any) string {
	h := v.(string)
	bad := h == "" || strings.ContainsFunc(h, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) ||
		(net.ParseIP(h) == nil && !isHostname(h))
	return cond(bad, "%q is not an IP address or host name", h)
}

func checkLogLevel(v any) string {
	ok := slices.Contains([]string{"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"}, strings.ToUpper(v.(string)))
	return cond(!ok, "%q is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL", v)
}

func checkEnvironment(v any) string {
	if err := ValidateEnvironment(v.(string)); err != nil {
		return strings.TrimPrefix(err.Error(), "environment: ")
	}
	return ""
}

func checkPath(p string) string {
	switch {
	case p == "" || !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("%q is not an absolute path", p)
	case hasControl(p):
		return fmt.Sprintf("%q contains a control character", p)
	}
	return ""
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// Printable returns s as it is when it is safe to print in a message or a log line, else quoted
// with Go's escapes, so that a newline or another control character in a path is never printed
// raw.
func Printable(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' }) {
		return strconv.Quote(s)
	}
	return s
}

func quote(s string) string { return strconv.Quote(s) }

// isHostname reports whether h is 1 to 253 letters, digits, dots and hyphens that starts and ends
// with a letter or digit.
func isHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 || !isAlnum(h[0]) || !isAlnum(h[len(h)-1]) {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// PortRange is the inclusive range of one kind of port for node ids 1..node_cap.
type PortRange struct {
	Name     string
	Low, Top int
}

// PortRanges returns the node, metrics and RPC port ranges that ids 1..node_cap use.
func (c *Config) PortRanges() []PortRange {
	n := max(c.NodeCap, 1)
	r := func(name string, start int) PortRange { return PortRange{name, start*1000 + 1, start*1000 + n} }
	return []PortRange{r("port_start", c.PortStart), r("metrics_port_start", c.MetricsPortStart), r("rpc_port_start", c.RPCPortStart)}
}

// MaxNodeID returns the highest node id whose node, metrics and RPC ports stay within 1-65535
// and out of each other's ranges (for ids 1..MaxNodeID), at least node_cap when the ports are
// valid. Node id k uses start×1000+k in each range, so ranges a thousand apart hold ids up to
// 1,000: id 1,000's port 21000 is below id 1's metrics port 21001.
func (c *Config) MaxNodeID() int {
	starts := []int{c.PortStart, c.MetricsPortStart, c.RPCPortStart}
	top := 65535 - slices.Max(starts)*1000
	for i := range starts {
		for j := i + 1; j < len(starts); j++ {
			if gap := starts[i] - starts[j]; gap != 0 {
				top = min(top, max(gap, -gap)*1000)
			}
		}
	}
	return max(top, 1)
}

func (c *Config) validatePorts() []error {
	var errs []error
	rs := c.PortRanges()
	for _, r := range rs {
		if r.Low < 1024 || r.Top > 65535 {
			errs = append(errs, &SettingError{Names: []string{r.Name, "node_cap"},
				Problem: fmt.Sprintf("%s: %d gives ports %d-%d for node_cap %d, outside 1024-65535", r.Name, r.Low/1000, r.Low, r.Top, c.NodeCap)})
		}
	}
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			a, b := rs[i], rs[j]
			if a.Low <= b.Top && b.Low <= a.Top {
				errs = append(errs, &SettingError{Names: []string{a.Name, b.Name, "node_cap"},
					Problem: fmt.Sprintf("%s and %s overlap: ports %d-%d and %d-%d for node_cap %d", a.Name, b.Name, a.Low, a.Top, b.Low, b.Top, c.NodeCap)})
			}
		}
	}
	return errs
}

// isEnvKey reports whether k is a shell variable name: a letter or _, then letters, digits or _.
func isEnvKey(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

// ValidateEnvironment checks the environment setting: space-separated KEY=VALUE pairs, with no
// control characters anywhere (a newline would otherwise inject lines into a unit file).
func ValidateEnvironment(env string) error {
	if i := strings.IndexFunc(env, unicode.IsControl); i >= 0 && env[i] != '\t' || strings.ContainsAny(env, "\n\r\x00") {
		return fmt.Errorf("environment: %q contains a control character", env)
	}
	_, err := ParseEnvironment(env)
	return err
}

// ParseEnvironment splits the environment setting into KEY=VALUE pairs, in order.
func ParseEnvironment(env string) ([][2]string, error) {
	var out [][2]string
	for _, f := range strings.Fields(env) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !isEnvKey(k) {
			return nil, fmt.Errorf("environment: %q is not a KEY=VALUE pair (in %q)", f, env)
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			return nil, fmt.Errorf("environment: %q contains a control character", f)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
