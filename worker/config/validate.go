package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/wnm-project/wnm/worker/wallet"
)

// Validate checks every rule that spans settings or bounds a value. It returns all violations
// joined, each naming the setting and the value.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	for _, name := range []string{"cpu_less_than", "cpu_remove", "mem_less_than", "mem_remove", "hd_less_than", "hd_remove"} {
		if v := c.Value(name).(int); v < 0 || v > 100 {
			bad("%s: %d is not a percentage from 0 to 100", name, v)
		}
	}
	for _, name := range []string{"node_cap", "delay_start", "delay_restart", "delay_upgrade", "delay_remove",
		"survey_delay", "action_delay", "crisis_bytes", "highest_node_id_used", "this_survey_delay", "this_action_delay", "interval",
		"hdio_read_less_than", "hdio_read_remove", "hdio_write_less_than", "hdio_write_remove",
		"netio_read_less_than", "netio_read_remove", "netio_write_less_than", "netio_write_remove"} {
		if v := c.Value(name).(int); v < 0 {
			bad("%s: %d must not be negative", name, v)
		}
	}
	for _, name := range []string{"max_concurrent_upgrades", "max_concurrent_starts", "max_concurrent_removals", "max_concurrent_operations", "survey_concurrency"} {
		if v := c.Value(name).(int); v < 1 {
			bad("%s: %d must be at least 1", name, v)
		}
	}
	if c.SurveyConcurrency > 1024 {
		bad("survey_concurrency: %d is more than 1024", c.SurveyConcurrency)
	}
	if c.SurveyTimeout < 100 || c.SurveyTimeout > 60000 {
		bad("survey_timeout: %d ms is outside 100 to 60000", c.SurveyTimeout)
	}
	for _, name := range []string{"max_load_average_allowed", "desired_load_average"} {
		if v := c.Value(name).(float64); v <= 0 {
			bad("%s: %g must be greater than 0", name, v)
		}
	}
	errs = append(errs, c.validatePorts()...)

	for _, name := range []string{"node_storage", "antnode_path", "antctl_path", "dbpath"} {
		if v := c.Get(name); v == "" || !strings.HasPrefix(v, "/") {
			bad("%s: %q is not an absolute path", name, v)
		} else if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
			bad("%s: %q contains a control character", name, v)
		}
	}
	if !slices.Contains(Managers, c.ProcessManager) {
		bad("process_manager: %q is not one of %s", c.ProcessManager, strings.Join(Managers, ", "))
	}
	if err := ValidateEnvironment(c.Environment); err != nil {
		errs = append(errs, err)
	}
	if c.Host == "" || strings.ContainsFunc(c.Host, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) ||
		(net.ParseIP(c.Host) == nil && !hostname.MatchString(c.Host)) {
		bad("host: %q is not an IP address or host name", c.Host)
	}
	if !slices.Contains([]string{"DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"}, strings.ToUpper(c.LogLevel)) {
		bad("loglevel: %q is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL", c.LogLevel)
	}
	if c.DonateAddress != "" {
		if _, err := wallet.CheckAddress(strings.TrimSpace(c.DonateAddress)); err != nil {
			bad("donate_address: %q: %w", c.DonateAddress, err)
		}
	}
	if c.RewardsAddress != "" {
		if _, err := wallet.Parse(c.RewardsAddress, c.DonateAddress); err != nil {
			bad("rewards_address: %q: %w", c.RewardsAddress, err)
		}
	}
	for _, name := range []string{"start_args", "antctl_version", "rewards_address", "rust_backtrace"} {
		if strings.ContainsFunc(c.Get(name), unicode.IsControl) {
			bad("%s: %q contains a control character", name, c.Get(name))
		}
	}
	return errors.Join(errs...)
}

var hostname = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

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

func (c *Config) validatePorts() []error {
	var errs []error
	rs := c.PortRanges()
	for _, r := range rs {
		if r.Low < 1024 || r.Top > 65535 {
			errs = append(errs, fmt.Errorf("%s: %d gives ports %d-%d for node_cap %d, outside 1024-65535", r.Name, r.Low/1000, r.Low, r.Top, c.NodeCap))
		}
	}
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			a, b := rs[i], rs[j]
			if a.Low <= b.Top && b.Low <= a.Top {
				errs = append(errs, fmt.Errorf("%s and %s overlap: ports %d-%d and %d-%d for node_cap %d", a.Name, b.Name, a.Low, a.Top, b.Low, b.Top, c.NodeCap))
			}
		}
	}
	return errs
}

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

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
		if !ok || !envKey.MatchString(k) {
			return nil, fmt.Errorf("environment: %q is not a KEY=VALUE pair (in %q)", f, env)
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			return nil, fmt.Errorf("environment: %q contains a control character", f)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
