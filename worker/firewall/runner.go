package firewall

import "github.com/wnm-project/wnm/units/run"

// Runner runs one command as an argument vector and returns its combined output; it is the seam
// tests replace to record what the firewall would run. The real one ([run.Exec]) never uses a
// shell, runs in the C locale so ufw's messages are the untranslated ones, and also looks in the
// sbin directories, because cron's PATH hides /usr/sbin/ufw.
type Runner = run.Runner

// RunnerFunc adapts a function to a [Runner].
type RunnerFunc = run.Func
