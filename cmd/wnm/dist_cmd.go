package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
)

// distFilesCmd writes what the packages ship besides the binary, from the same code the binary
// runs: wnm.service and wnm.timer as the Debian package installs them (gen's renderer, the one
// `wnm install` uses, with /usr/bin/wnm and the sudo-mode database), and the wnm(1) man page,
// rendered from the command tree. The packaging targets of the Makefile call it; it is hidden
// from --help because operators have no use for it.
type distFilesCmd struct {
	Out string `name:"out" required:"" placeholder:"DIR" help:"Directory to write wnm.service, wnm.timer and wnm.1 into (created)"`
}

func (c distFilesCmd) Run(s *session, kctx *kong.Context) error {
	sched := gen.PackagedSchedule()
	svc, err := gen.ScheduleService(sched)
	if err != nil {
		return err
	}
	timer, err := gen.ScheduleTimer(sched)
	if err != nil {
		return err
	}
	var man bytes.Buffer
	if err := writeMan(&man, kctx.Model, currentBuild()); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{gen.ScheduleServiceName, svc}, {gen.ScheduleTimerName, timer}, {"wnm.1", man.Bytes()}} {
		p := filepath.Join(c.Out, f.name)
		if _, err := units.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(s.env.stdout, "wrote %s\n", p)
	}
	return nil
}

// manFiles are the paths wnm(1) lists under FILES.
var manFiles = []struct{ path, what string }{
	{"/var/antctl/colony.db", "the database in sudo mode (root), with the cycle lock wnm_active beside it"},
	{"~/.local/share/autonomi/colony.db", "the database in user mode"},
	{"~/.local/share/wnm/.env, ~/.local/share/wnm/config, ~/wnm/config", "settings files, read in that order below the environment"},
	{gen.ScheduleEnvironmentFile, "WNM_* settings for the system service (a conffile of the Debian package)"},
	{gen.PackagedUnitDir + "/" + gen.ScheduleTimerName, "the Debian package's timer, which starts wnm.service every minute"},
	{"/etc/systemd/system/" + gen.ScheduleTimerName, "the timer sudo wnm install writes where no package ships one"},
}

// writeMan renders the wnm(1) man page from the kong model: the description, every command with
// its help, every visible flag by group with its placeholder, default and environment variable,
// the files, and the exit codes.
func writeMan(w io.Writer, app *kong.Application, b buildInfo) error {
	var m strings.Builder
	day := b.BuildDate
	if len(day) >= 10 {
		day = day[:10]
	}
	fmt.Fprintf(&m, ".TH WNM 1 %s %s \"User Commands\"\n", roffQuote(day), roffQuote("wnm "+b.Version))
	m.WriteString(".SH NAME\nwnm \\- node manager for Autonomi antnode fleets\n")
	m.WriteString(".SH SYNOPSIS\n.B wnm\n[\\fICOMMAND\\fR] [\\fIFLAGS\\fR]\n")
	m.WriteString(".SH DESCRIPTION\n")
	for i, para := range strings.Split(app.Help, "\n\n") {
		if i > 0 {
			m.WriteString(".PP\n")
		}
		m.WriteString(roffText(para) + "\n")
	}
	m.WriteString(".SH COMMANDS\n")
	for _, c := range app.Children {
		if c.Hidden || c.Type != kong.CommandNode {
			continue
		}
		fmt.Fprintf(&m, ".TP\n.B %s\n%s\n", roffText(c.Name), roffText(strings.TrimSuffix(c.Help, ".")+"."))
		if c.Detail != "" {
			m.WriteString(roffText(c.Detail) + "\n")
		}
		var own []string
		for _, f := range c.Flags {
			if !f.Hidden {
				own = append(own, "\\fB\\-\\-"+roffText(f.Name)+"\\fR")
			}
		}
		if len(own) > 0 {
			m.WriteString("Flags: " + strings.Join(own, ", ") + ".\n")
		}
	}
	var groups []string
	byGroup := map[string][]*kong.Flag{}
	for _, f := range app.Flags {
		if f.Hidden {
			continue
		}
		title := "Other flags:"
		if f.Group != nil {
			title = f.Group.Title
		}
		if _, ok := byGroup[title]; !ok {
			groups = append(groups, title)
		}
		byGroup[title] = append(byGroup[title], f)
	}
	for _, c := range app.Children {
		if c.Hidden {
			continue
		}
		for _, f := range c.Flags {
			if f.Hidden {
				continue
			}
			title := "Flags of " + c.Name + ":"
			if _, ok := byGroup[title]; !ok {
				groups = append(groups, title)
			}
			byGroup[title] = append(byGroup[title], f)
		}
	}
	m.WriteString(".SH OPTIONS\n")
	for _, g := range groups {
		fmt.Fprintf(&m, ".SS %s\n", roffText(strings.TrimSuffix(g, ":")))
		for _, f := range byGroup[g] {
			m.WriteString(".TP\n" + manFlag(f) + "\n" + roffText(f.Help) + "\n")
			if len(f.Envs) > 0 {
				m.WriteString("Environment: " + roffText(strings.Join(f.Envs, ", ")) + ".\n")
			}
		}
	}
	m.WriteString(".SH FILES\n")
	for _, f := range manFiles {
		fmt.Fprintf(&m, ".TP\n.I %s\n%s\n", roffQuote(f.path), roffText(f.what))
	}
	m.WriteString(".SH EXIT STATUS\n")
	for _, e := range []struct{ code, what string }{
		{"0", "success, including a cycle in which some node operation failed (it is logged and recorded)"},
		{"1", "a fatal condition: bad setting, no database, immutable change, failed init"},
		{"2", "a usage error (unknown flag, bad arguments) or a feature not available in this version"},
		{"75", "another cycle holds the lock (EX_TEMPFAIL); the next tick runs normally"},
	} {
		fmt.Fprintf(&m, ".TP\n.B %s\n%s\n", e.code, roffText(e.what))
	}
	m.WriteString(".SH SEE ALSO\n.BR systemctl (1),\n.BR journalctl (1),\n.BR ufw (8)\n")
	_, err := io.WriteString(w, m.String())
	return err
}

// manFlag is a flag's tag line: \fB\-\-name\fR=\fIPLACEHOLDER\fR, with its short form and aliases.
func manFlag(f *kong.Flag) string {
	var names []string
	if f.Short != 0 {
		names = append(names, "\\fB\\-"+roffText(string(f.Short))+"\\fR")
	}
	for _, n := range append([]string{f.Name}, f.Aliases...) {
		names = append(names, "\\fB\\-\\-"+roffText(n)+"\\fR")
	}
	s := strings.Join(names, ", ")
	if !f.IsBool() && !f.IsCounter() {
		s += "=\\fI" + roffText(f.FormatPlaceHolder()) + "\\fR"
	}
	return s
}

// roffText escapes text for a roff text line: backslashes, hyphens that are options or minus
// signs, and a leading dot or apostrophe, which roff would read as a request. Newlines become
// spaces; a paragraph is one input line.
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	s = strings.Join(strings.Fields(s), " ")
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuote is roffText as one double-quoted macro argument.
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `\(dq`) + `"`
}
