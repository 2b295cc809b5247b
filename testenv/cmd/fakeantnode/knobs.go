package main

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"
)

// knobs are the misbehaviour switches read from FAKEANTNODE_* environment variables.
type knobs struct {
	StartDelay       time.Duration
	HangMetrics      bool
	GarbageMetrics   bool
	HTTPStatus       int
	Crash            bool // CrashAfter was set, possibly to 0
	CrashAfter       time.Duration
	CPUBurn          bool
	SelfUpgradeAfter time.Duration
	UpgradeFrom      string // non-empty only with SelfUpgradeAfter set, possibly to 0
	Version          string
	MetricsFile      string // served verbatim as /metrics and /metrics_extended
}

// parseKnobs reads the knobs through getenv. An unset or empty variable leaves its knob off;
// a bad value is an error naming the variable and the value.
func parseKnobs(getenv func(string) string) (knobs, error) {
	var k knobs
	var errs []error
	dur := func(name string, p *time.Duration) bool {
		v := getenv(name)
		if v == "" {
			return false
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 2s", name, v))
			return false
		}
		*p = d
		return true
	}
	flag := func(name string, p *bool) {
		v := getenv(name)
		if v == "" {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want 1 or 0", name, v))
			return
		}
		*p = b
	}
	dur("FAKEANTNODE_START_DELAY", &k.StartDelay)
	flag("FAKEANTNODE_HANG_METRICS", &k.HangMetrics)
	flag("FAKEANTNODE_GARBAGE_METRICS", &k.GarbageMetrics)
	if v := getenv("FAKEANTNODE_HTTP_STATUS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 599 || http.StatusText(n) == "" {
			errs = append(errs, fmt.Errorf("FAKEANTNODE_HTTP_STATUS=%q: want an HTTP status code such as 503", v))
		} else {
			k.HTTPStatus = n
		}
	}
	k.Crash = dur("FAKEANTNODE_CRASH_AFTER", &k.CrashAfter)
	flag("FAKEANTNODE_CPU_BURN", &k.CPUBurn)
	dur("FAKEANTNODE_SELF_UPGRADE_AFTER", &k.SelfUpgradeAfter)
	k.UpgradeFrom = getenv("FAKEANTNODE_UPGRADE_FROM")
	switch after := getenv("FAKEANTNODE_SELF_UPGRADE_AFTER"); {
	case after != "" && k.UpgradeFrom == "":
		errs = append(errs, errors.New("FAKEANTNODE_SELF_UPGRADE_AFTER needs FAKEANTNODE_UPGRADE_FROM=/path/to/new/binary"))
	case after == "" && k.UpgradeFrom != "":
		errs = append(errs, errors.New("FAKEANTNODE_UPGRADE_FROM needs FAKEANTNODE_SELF_UPGRADE_AFTER=3s"))
	}
	if v := getenv("FAKEANTNODE_VERSION"); v != "" {
		if !validVersion(v) {
			errs = append(errs, fmt.Errorf("FAKEANTNODE_VERSION=%q: want a version without spaces or quotes", v))
		}
		k.Version = v
	}
	if v := getenv("FAKEANTNODE_METRICS_FILE"); v != "" {
		if !filepath.IsAbs(v) {
			errs = append(errs, fmt.Errorf("FAKEANTNODE_METRICS_FILE=%q: want an absolute path", v))
		} else {
			k.MetricsFile = v
		}
	}
	return k, errors.Join(errs...)
}
