//go:build !linux

package worker

func affinityCount() int { return 0 }
