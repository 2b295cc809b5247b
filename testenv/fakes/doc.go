// Package fakes holds recording stand-ins for the service-manager commands wnm runs, so that the
// systemd and launchd managers (and wnm's own install) can be driven end to end on any Linux
// machine without touching its real service manager:
//
//	systemctl  [--user] daemon-reload|enable|disable|start|stop|restart|show|is-active|is-enabled
//	launchctl  bootstrap|bootout|kickstart|print
//	crontab    -l | - (the user's crontab kept in the state directory)
//	loginctl   enable-linger|show-user (refused when $WNM_FAKE_LINGER_DENY is set)
//
// Each fake appends its command line to the file named by $WNM_FAKE_LOG (one line per call, the
// program name first, arguments quoted like a POSIX shell would need) and keeps its state in
// the directory named by $WNM_FAKE_STATE, which it refuses to run without. The fakes really run
// what they are told to: systemctl start parses the unit back (go-systemd's unit parser plus
// systemd's quoting rules, package gen) and runs its ExecStart= detached, in its own session,
// with the unit's Environment= and WorkingDirectory=; launchctl bootstrap and kickstart run a
// plist's ProgramArguments the same way. The process ids are recorded, so node processes come
// and go: stop and bootout kill them (SIGTERM, then SIGKILL after 10 s), and is-active, show and
// print answer from whether they still run. They do not restart processes that exit
// (Restart=, KeepAlive) and they never start a process as another user.
//
// systemctl looks for unit files in $WNM_FAKE_UNIT_DIR (a list separated by colons) or, without
// it, in $WNM_ROOT/etc/systemd/system (--system; WNM_ROOT must be set and not /) or
// $HOME/.config/systemd/user (--user). It loads a unit the first time it is used and keeps that
// copy until daemon-reload, warning as systemctl does when the file changed on disk meanwhile,
// so a missing daemon-reload shows in tests.
//
// The fakes are usable three ways: as executables (testenv/fakes/cmd/systemctl and
// testenv/fakes/cmd/launchctl), as testscript commands ([SystemctlMain], [LaunchctlMain] in a
// testscript.Main map), and in-process ([Systemctl], [Launchctl]). [KillAll] ends every process
// a fake started under a state dir, for test cleanup.
//
// This package is for tests only; it must not be imported by wnm itself.
package fakes

// Environment variables the fakes read.
const (
	// EnvLog names the file each fake appends its command line to; unset means no log.
	EnvLog = "WNM_FAKE_LOG"
	// EnvState names the directory the fakes keep their state in; it is required.
	EnvState = "WNM_FAKE_STATE"
	// EnvUnitDir names the directories the fake systemctl reads unit files from.
	EnvUnitDir = "WNM_FAKE_UNIT_DIR"
)
