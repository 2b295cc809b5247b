package config

import (
	"os"
	"path/filepath"
	"strings"
)

// Mode is wnm-python's "sudo" or "user" mode: it picks the directories and the kind of services.
type Mode string

// The two modes.
const (
	ModeSudo Mode = "sudo"
	ModeUser Mode = "user"
)

// Managers lists the process managers wnm supports, spelled as wnm-python spells them.
var Managers = []string{"systemd+sudo", "systemd+user", "setsid+sudo", "setsid+user", "launchd+sudo", "launchd+user"}

// ManagerMode returns the mode a process manager name implies, and whether it names one.
func ManagerMode(pm string) (Mode, bool) {
	switch {
	case strings.Contains(pm, "+sudo"):
		return ModeSudo, true
	case strings.Contains(pm, "+user"), strings.Contains(pm, "+zen"):
		return ModeUser, true
	}
	return "", false
}

// Platform is what the defaults depend on: the OS, the mode, the home directory and the CPUs.
type Platform struct {
	OS       string // runtime.GOOS
	Mode     Mode
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
	case p.OS == "linux" && p.Mode == ModeSudo:
		return Dirs{"/var/antctl", "/var/antctl/services", "/var/log/antnode", "/var/antctl/bootstrap-cache"}
	case p.OS == "linux":
		b := join(h, ".local/share/autonomi")
		return Dirs{b, join(b, "node"), join(b, "logs"), join(b, "bootstrap-cache")}
	case p.OS == "darwin" && p.Mode == ModeSudo:
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
	base := "systemd"
	if p.OS == "darwin" {
		base = "launchd"
	}
	return base + "+" + string(p.Mode)
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
	d := p.Dirs()
	cpus := p.CPUCount
	if cpus < 1 {
		cpus = 1
	}
	return Config{
		NodeCap:            20,
		CPULessThan:        50,
		CPURemove:          70,
		MemLessThan:        60,
		MemRemove:          75,
		HDLessThan:         75,
		HDRemove:           90,
		MaxLoadAverage:     float64(cpus),
		DesiredLoadAverage: float64(cpus) * 0.6,
		DelayStart:         300,
		DelayRestart:       600,
		DelayUpgrade:       300,
		DelayRemove:        300,
		MaxUpgrades:        1,
		MaxStarts:          1,
		MaxRemovals:        1,
		MaxOperations:      1,
		NodeStorage:        d.NodeStorage,
		DonateAddress:      Faucet,
		PortStart:          55,
		MetricsPortStart:   13,
		RPCPortStart:       30,
		ProcessManager:     p.DefaultManager(),
		CrisisBytes:        2_000_000_000,
		Host:               "127.0.0.1",
		AntnodePath:        filepath.Join(p.Home, ".local/bin/antnode"),
		AntctlPath:         filepath.Join(p.Home, ".local/bin/antctl"),
		SurveyTimeout:      2000,
		SurveyConcurrency:  32,
		DBPath:             filepath.Join(d.Base, "colony.db"),
		LogLevel:           "INFO",
	}
}

// ExpandPath expands a leading ~ to home and $VAR references from the environment.
func ExpandPath(p, home string) string {
	p = os.ExpandEnv(p)
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}
