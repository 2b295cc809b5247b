package main

import (
	"log/slog"
	"os"
	"strings"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units/journal"
)

// newLogger builds the run's logger. The level comes from --loglevel (else WNM_LOGLEVEL or
// LOGLEVEL; DEBUG, INFO, WARNING, ERROR or CRITICAL), and -q means errors only. Where it writes
// depends on who started wnm (see journal.Choose): the journal, with every attribute as a
// WNM_* field, when systemd connected stderr to it; the system log when launchd runs wnm's job
// on macOS; readable text on stderr otherwise, and whenever the journal or syslog cannot be
// reached.
func newLogger(s *session) *slog.Logger {
	level := logLevel(s)
	text := slog.NewTextHandler(s.env.stderr, &slog.HandlerOptions{Level: level})
	target := journal.Choose(journal.Env{
		GOOS:         s.env.goos,
		Getenv:       s.getenv,
		StderrIsFD2:  s.env.stderr == os.Stderr,
		LaunchdLabel: gen.ScheduleLabel,
	})
	switch target {
	case journal.Journal:
		if journal.Available() {
			return slog.New(journal.NewHandler(journal.Options{Level: level, Fallback: text}))
		}
	case journal.Syslog:
		if h, err := journal.DialSyslog("", "", level); err == nil {
			return slog.New(h)
		}
	}
	return slog.New(text)
}

// logLevel resolves the level of the run's log.
func logLevel(s *session) slog.Level {
	if s.cli.Quiet {
		return slog.LevelError
	}
	raw := s.cli.flagValues()["loglevel"]
	if raw == "" {
		for _, k := range []string{"WNM_LOGLEVEL", "LOGLEVEL"} {
			if v := s.getenv(k); v != "" {
				raw = v
				break
			}
		}
	}
	switch strings.ToUpper(raw) {
	case "DEBUG":
		return slog.LevelDebug
	case "WARNING", "WARN":
		return slog.LevelWarn
	case "ERROR", "CRITICAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}
