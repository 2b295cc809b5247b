package main

type installCmd struct {
	Scheduler string `name:"scheduler" enum:"auto,systemd,launchd,cron" default:"auto" help:"Scheduler to install: auto, systemd, launchd or cron"`
	Print     bool   `name:"print" help:"Show every file and command without changing anything"`
	Root      string `name:"root" placeholder:"DIR" env:"WNM_ROOT" help:"Write under this prefix (packaging and tests)"`
}

func (installCmd) Run(s *session) error { return notYet("wnm install") }

type uninstallCmd struct {
	Root string `name:"root" placeholder:"DIR" env:"WNM_ROOT" help:"Work under this prefix (packaging and tests)"`
}

func (uninstallCmd) Run(s *session) error { return notYet("wnm uninstall") }
