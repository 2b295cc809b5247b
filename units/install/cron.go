package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units/run"
)

// mergeCrontab returns table with wnm's managed lines replaced by block, the rendered lines of
// [gen.CronLines]. A managed line is the line right after a [gen.CronMarker] line; both go. The
// block takes the place of the first managed line found, or is appended at the end. Every other
// byte of table is kept as it was, except that a last line without a newline gets one before an
// appended block.
func mergeCrontab(table, block []byte) []byte {
	var out bytes.Buffer
	inserted := false
	forEachLine(table, func(line []byte, managed bool) {
		switch {
		case !managed:
			out.Write(line)
		case !inserted:
			out.Write(block)
			inserted = true
		}
	})
	if !inserted {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		out.Write(block)
	}
	return out.Bytes()
}

// stripCrontab returns table without wnm's managed lines and their markers, and whether it had
// any. Every other byte is kept.
func stripCrontab(table []byte) ([]byte, bool) {
	var out bytes.Buffer
	found := false
	forEachLine(table, func(line []byte, managed bool) {
		if managed {
			found = true
			return
		}
		out.Write(line)
	})
	return out.Bytes(), found
}

// forEachLine calls fn with each line of table, newline included, and whether it is a marker or
// the line a marker manages.
func forEachLine(table []byte, fn func(line []byte, managed bool)) {
	afterMarker := false
	for len(table) > 0 {
		n := bytes.IndexByte(table, '\n') + 1
		if n == 0 {
			n = len(table)
		}
		line := table[:n]
		table = table[n:]
		switch {
		case isMarker(line):
			afterMarker = true
			fn(line, true)
		case afterMarker:
			afterMarker = false
			fn(line, true)
		default:
			fn(line, false)
		}
	}
}

func isMarker(line []byte) bool {
	return strings.TrimRight(string(line), " \t\r\n") == gen.CronMarker
}

// crontabArgv is crontab with args: the current account's crontab, root's in system mode.
func crontabArgv(args ...string) []string { return append([]string{"crontab"}, args...) }

// readCrontab returns the account's crontab; none at all is an empty one.
func (in *installer) readCrontab(ctx context.Context) ([]byte, bool, error) {
	out, ran, err := in.query(ctx, nil, crontabArgv("-l")...)
	if run.ExitCode(err) > 0 && strings.Contains(strings.ToLower(err.Error()), "no crontab for") {
		return nil, ran, nil
	}
	if err != nil {
		return nil, ran, fmt.Errorf("read the crontab: %w", err)
	}
	return out, ran, nil
}

func (in *installer) installCron(ctx context.Context) error {
	block, err := gen.ScheduleCron(in.s)
	if err != nil {
		return err
	}
	if err := in.mkdirLog(); err != nil {
		return err
	}
	old, ran, err := in.readCrontab(ctx)
	if err != nil {
		return err
	}
	if !ran {
		in.say("not run (--root %s): crontab - with these lines added:\n%s", in.o.Root, bytes.TrimSuffix(block, []byte("\n")))
		return nil
	}
	table := mergeCrontab(old, block)
	if bytes.Equal(table, old) {
		in.say("already installed, nothing changed: the %s runs %q every minute", in.t, strings.Join(in.s.Args(), " "))
		return nil
	}
	if _, _, err := in.command(ctx, table, crontabArgv("-")...); err != nil {
		return fmt.Errorf("write the crontab: %w", err)
	}
	in.say("installed: the %s runs %q every minute, its output appended to %s; see `crontab -l`", in.t, strings.Join(in.s.Args(), " "), in.o.LogFile)
	return nil
}

// uninstallCron removes wnm's lines from the crontab. When the crontab command is missing and
// cron was not asked for by name, there is nothing to remove.
func (in *installer) uninstallCron(ctx context.Context, asked bool) (bool, error) {
	old, ran, err := in.readCrontab(ctx)
	if errors.Is(err, run.ErrNotFound) && !asked {
		return false, nil
	}
	if err != nil || !ran {
		return false, err
	}
	table, found := stripCrontab(old)
	if !found {
		return false, nil
	}
	if _, _, err := in.command(ctx, table, crontabArgv("-")...); err != nil {
		return true, fmt.Errorf("write the crontab: %w", err)
	}
	in.say("removed wnm's lines from the crontab")
	return true, nil
}
