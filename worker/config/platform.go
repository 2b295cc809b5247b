package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// Platform is what the defaults depend on: the OS, the mode, the home directory and the CPUs.
type Platform struct {
	OS       string // runtime.GOOS
	Mode     gen.Mode
	Home     string // absolute
	CPUCount int
}

// Dirs are the platform directories of wnm-python (docs/compatibility.md, "Modes and directories").
type Dirs struct {
	Base           string // holds colony.db and the lock file
	NodeStorage    string
	Logs           string
	BootstrapCache string
}

// Dirs returns the directories for p.
func (p Platform) Dirs() Dirs {
	h := p.Home
	join := filepath.Join
	switch {
	case p.OS == "linux" && p.Mode == gen.ModeSudo:
		return Dirs{"/var/antctl", "/var/antctl/services", "/var/log/antnode", "/var/antctl/bootstrap-cache"}
	case p.OS == "linux":
		b := join(h, ".local/share/autonomi")
		return Dirs{b, join(b, "node"), join(b, "logs"), join(b, "bootstrap-cache")}
	case p.OS == "darwin" && p.Mode == gen.ModeSudo:
		b := "/Library/Application Support/autonomi"
		return Dirs{b, join(b, "node"), "/Library/Logs/autonomi", "/Library/Caches/autonomi/bootstrap-cache"}
	case p.OS == "darwin":
		b := join(h, "Library/Application Support/autonomi")
		return Dirs{b, join(b, "node"), join(h, "Library/Logs/autonomi"), join(h, "Library/Caches/autonomi/bootstrap-cache")}
	default:
		b := join(h, "autonomi")
		return Dirs{b, join(b, "node"), join(b, "logs"), join(b, "bootstrap-cache")}
	}
}

// DefaultManager is the process manager a new machine gets when none is given: launchd on macOS,
// systemd elsewhere, in the platform's mode (wnm-python defaults to the user variant).
func (p Platform) DefaultManager() string {
	kind := units.Systemd
	if p.OS == "darwin" {
		kind = units.Launchd
	}
	return units.Spec{Kind: kind, Mode: p.Mode}.String()
}

// FileLayerPaths returns wnm-python's config file locations, lowest precedence first.
func (p Platform) FileLayerPaths() []string {
	return []string{filepath.Join(p.Home, ".local/share/wnm/config"), filepath.Join(p.Home, "wnm/config")}
}

// DotEnvPath returns the .env file location.
func (p Platform) DotEnvPath() string { return filepath.Join(p.Home, ".local/share/wnm/.env") }

// DBCandidates returns the default database locations probed to detect the mode, in order.
func (p Platform) DBCandidates() []string {
	if p.OS == "darwin" {
		return []string{"/Library/Application Support/autonomi/colony.db", filepath.Join(p.Home, "Library/Application Support/autonomi/colony.db")}
	}
	return []string{"/var/antctl/colony.db", filepath.Join(p.Home, ".local/share/autonomi/colony.db")}
}

// Faucet is the fixed faucet address, also the default donate address.
const Faucet = "0x00455d78f850b0358E8cea5be24d415E01E107CF"

// Defaults returns the built-in value of every setting on p (wnm-python's code defaults, docs/compatibility.md "Defaults").
func Defaults(p Platform) Config {
	var c Config
	for _, s := range Settings {
		c.SetValue(s.Name, s.DefaultFor(p))
	}
	return c
}

// ExpandPath expands a leading ~ to home and $VAR references from the environment (an unset one
// expands to nothing). It is for paths read back from the database; what an operator supplies goes
// through [Parse], which refuses unset variables.
func ExpandPath(p, home string) string {
	return expandHome(os.ExpandEnv(p), home)
}

// expandHome replaces a leading ~ (alone, or before a /) with home. Only the ~ is replaced: the rest is kept as written, not cleaned, as a path without ~ is. (Cleaning
// "~/ /" gave "/home/u/ ", whose trailing space a config file or flag loses when read back.)
func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return strings.TrimSuffix(home, "/") + "/" + rest
	}
	return p
}

// expandStrict expands like [ExpandPath] but fails, naming the variables, when one is not set.
func expandStrict(p, home string) (string, error) {
	var unset []string
	out := os.Expand(p, func(name string) string {
		v, ok := os.LookupEnv(name)
		if !ok && !slices.Contains(unset, "$"+name) {
			unset = append(unset, "$"+name)
		}
		return v
	})
	if len(unset) > 0 {
		return "", fmt.Errorf("%s is not set", strings.Join(unset, ", "))
	}
	return expandHome(out, home), nil
}
