package worker

import (
	"context"
	"time"

	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
)

// ConfigFromMachine returns the settings stored in m, over defaults for the run-only settings.
func ConfigFromMachine(m store.Machine, defaults config.Config, home string) config.Config {
	c := defaults
	c.NodeCap = m.NodeCap
	c.CPULessThan, c.CPURemove = m.CPULessThan, m.CPURemove
	c.MemLessThan, c.MemRemove = m.MemLessThan, m.MemRemove
	c.HDLessThan, c.HDRemove = m.HDLessThan, m.HDRemove
	c.HDIOReadLessThan, c.HDIOReadRemove = int(m.HDIOReadLessThan), int(m.HDIOReadRemove)
	c.HDIOWriteLessThan, c.HDIOWriteRemove = int(m.HDIOWriteLessThan), int(m.HDIOWriteRemove)
	c.NetIOReadLessThan, c.NetIOReadRemove = int(m.NetIOReadLessThan), int(m.NetIOReadRemove)
	c.NetIOWriteLessThan, c.NetIOWriteRemove = int(m.NetIOWriteLessThan), int(m.NetIOWriteRemove)
	c.MaxLoadAverage, c.DesiredLoadAverage = m.MaxLoadAverageAllowed, m.DesiredLoadAverage
	c.DelayStart, c.DelayRestart, c.DelayUpgrade, c.DelayRemove = m.DelayStart, m.DelayRestart, m.DelayUpgrade, m.DelayRemove
	c.SurveyDelay, c.ActionDelay = m.SurveyDelay, m.ActionDelay
	c.MaxUpgrades, c.MaxStarts = m.MaxConcurrentUpgrades, m.MaxConcurrentStarts
	c.MaxRemovals, c.MaxOperations = m.MaxConcurrentRemovals, m.MaxConcurrentOperations
	c.NodeStorage = config.ExpandPath(m.NodeStorage, home)
	c.RewardsAddress, c.DonateAddress = m.RewardsAddress, m.DonateAddress
	c.PortStart, c.MetricsPortStart, c.RPCPortStart = m.PortStart, m.MetricsPortStart, m.RPCPortStart
	if m.ProcessManager != "" {
		c.ProcessManager = m.ProcessManager
	}
	c.HighestNodeIDUsed = 0
	if m.HighestNodeIDUsed != nil {
		c.HighestNodeIDUsed = *m.HighestNodeIDUsed
	}
	c.CrisisBytes = int(m.CrisisBytes)
	c.Host = m.Host
	c.Environment, c.StartArgs = m.Environment, m.StartArgs
	c.NoUPnP = m.NoUPnP
	// wnm-python stores these unexpanded ("~/.local/bin/antnode").
	if m.AntnodePath != "" {
		c.AntnodePath = config.ExpandPath(m.AntnodePath, home)
	}
	if m.AntctlPath != "" {
		c.AntctlPath = config.ExpandPath(m.AntctlPath, home)
	}
	c.AntctlDebug, c.AntctlVersion = m.AntctlDebug, m.AntctlVersion
	if m.SurveyTimeoutMS > 0 {
		c.SurveyTimeout = m.SurveyTimeoutMS
	}
	if m.SurveyConcurrency > 0 {
		c.SurveyConcurrency = m.SurveyConcurrency
	}
	return c
}

// ApplyConfig writes the persisted settings of c into m, leaving the columns that are not settings
// (cpu_count, last_stopped_at, wnm's boot time…) as they are.
func ApplyConfig(m *store.Machine, c config.Config) {
	m.NodeCap = c.NodeCap
	m.CPULessThan, m.CPURemove = c.CPULessThan, c.CPURemove
	m.MemLessThan, m.MemRemove = c.MemLessThan, c.MemRemove
	m.HDLessThan, m.HDRemove = c.HDLessThan, c.HDRemove
	m.HDIOReadLessThan, m.HDIOReadRemove = int64(c.HDIOReadLessThan), int64(c.HDIOReadRemove)
	m.HDIOWriteLessThan, m.HDIOWriteRemove = int64(c.HDIOWriteLessThan), int64(c.HDIOWriteRemove)
	m.NetIOReadLessThan, m.NetIOReadRemove = int64(c.NetIOReadLessThan), int64(c.NetIOReadRemove)
	m.NetIOWriteLessThan, m.NetIOWriteRemove = int64(c.NetIOWriteLessThan), int64(c.NetIOWriteRemove)
	m.MaxLoadAverageAllowed, m.DesiredLoadAverage = c.MaxLoadAverage, c.DesiredLoadAverage
	m.DelayStart, m.DelayRestart, m.DelayUpgrade, m.DelayRemove = c.DelayStart, c.DelayRestart, c.DelayUpgrade, c.DelayRemove
	m.SurveyDelay, m.ActionDelay = c.SurveyDelay, c.ActionDelay
	m.MaxConcurrentUpgrades, m.MaxConcurrentStarts = c.MaxUpgrades, c.MaxStarts
	m.MaxConcurrentRemovals, m.MaxConcurrentOperations = c.MaxRemovals, c.MaxOperations
	m.NodeStorage = c.NodeStorage
	m.RewardsAddress, m.DonateAddress = c.RewardsAddress, c.DonateAddress
	m.PortStart, m.MetricsPortStart, m.RPCPortStart = c.PortStart, c.MetricsPortStart, c.RPCPortStart
	m.ProcessManager = c.ProcessManager
	if c.HighestNodeIDUsed > 0 {
		v := c.HighestNodeIDUsed
		m.HighestNodeIDUsed = &v
	}
	m.CrisisBytes = int64(c.CrisisBytes)
	m.Host = c.Host
	m.Environment, m.StartArgs = c.Environment, c.StartArgs
	m.NoUPnP = c.NoUPnP
	m.AntnodePath, m.AntctlPath = c.AntnodePath, c.AntctlPath
	m.AntctlDebug, m.AntctlVersion = c.AntctlDebug, c.AntctlVersion
	m.SurveyTimeoutMS, m.SurveyConcurrency = c.SurveyTimeout, c.SurveyConcurrency
}

// MachineFromConfig returns the machine row a new installation starts with. The boot time is
// recorded both as wnm-python's last_stopped_at and as wnm's own, so the first cycle does not
// mistake the init for a reboot.
func MachineFromConfig(c config.Config, cpus int, boot time.Time) store.Machine {
	m := store.Machine{
		ID:                  1,
		CPUCount:            cpus,
		NodeRemovalStrategy: "youngest",
		MaxNodePerContainer: 200,
		MinContainerCount:   1,
		DockerImage:         "iweave/antnode:latest",
		LastStoppedAt:       boot.Unix(),
		WNMBootTime:         boot.Unix(),
	}
	if boot.IsZero() {
		m.LastStoppedAt, m.WNMBootTime = 0, 0
	}
	ApplyConfig(&m, c)
	return m
}

// CreateStore creates the database at path holding m, atomically: on failure no file is left.
func CreateStore(ctx context.Context, path string, m store.Machine) (*store.Store, error) {
	return store.Create(ctx, path, m)
}
