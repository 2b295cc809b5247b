package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/config"
)

type configCmd struct {
	Show configShowCmd `cmd:"" help:"Print every setting, its value and where it came from, changing nothing"`
	Set  configSetCmd  `cmd:"" help:"Validate settings and save them in the database"`
}

type configShowCmd struct {
	Origin bool   `name:"origin" help:"Also say where each value came from (flag, environment variable, .env, config file, database, default)"`
	Format string `name:"format" enum:"text,json,config" default:"text" placeholder:"FORMAT" help:"Output format: text, json, or config (the key = value file that -c reads)"`
}

func (configShowCmd) Help() string {
	return "Resolves the settings as a cycle would (command line, environment, .env, config files, the database, " +
		"the defaults) and prints them all. It reads the database through a read-only connection and writes nothing. " +
		"--format config writes a file that -c reads back to the same values."
}

// shownSetting is one setting in `wnm config show --json`.
type shownSetting struct {
	Name   string `json:"name"`
	Value  any    `json:"value"`
	Unit   string `json:"unit,omitempty"`
	Layer  string `json:"layer,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// Run prints the settings.
func (c configShowCmd) Run(s *session) error {
	ctx := context.Background()
	st, err := s.loadWith(ctx, true)
	if err != nil {
		return err
	}
	defer st.close()
	for _, w := range st.resolved.Warnings {
		s.logger().Warn(w)
	}
	r := st.resolved
	format := c.Format
	if s.cli.JSON {
		format = "json"
	}
	switch format {
	case "json":
		out := make([]shownSetting, 0, len(config.Settings))
		for _, set := range config.Settings {
			sh := shownSetting{Name: set.Name, Value: r.Value(set.Name), Unit: set.Unit}
			if c.Origin {
				o := r.Origin(set.Name)
				sh.Layer, sh.Origin = o.Layer.String(), originText(o)
			}
			out = append(out, sh)
		}
		enc := json.NewEncoder(s.env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "config":
		return writeConfigFile(s.env.stdout, &r.Config, r, c.Origin)
	}
	w := tabwriter.NewWriter(s.env.stdout, 0, 0, 2, ' ', 0)
	if c.Origin {
		fmt.Fprintln(w, "SETTING\tVALUE\tUNIT\tORIGIN")
	} else {
		fmt.Fprintln(w, "SETTING\tVALUE\tUNIT")
	}
	for _, set := range config.Settings {
		v := config.Printable(r.Get(set.Name))
		if v == `""` {
			v = "-"
		}
		if c.Origin {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", set.Name, v, orDash(set.Unit), originText(r.Origin(set.Name)))
		} else {
			fmt.Fprintf(w, "%s\t%s\t%s\n", set.Name, v, orDash(set.Unit))
		}
	}
	return w.Flush()
}

// originText names where a value came from: "--node_cap", "environment WNM_NODE_CAP",
// ".env /home/u/.local/share/wnm/.env: NODE_CAP", "config file /home/u/wnm/config:3", "database",
// "default".
func originText(o config.Origin) string {
	switch o.Layer {
	case config.LayerEnv:
		return "environment " + o.Where
	case config.LayerDotEnv:
		return ".env " + o.Where
	case config.LayerFile:
		return "config file " + o.Where
	case config.LayerDatabase:
		return "database"
	case config.LayerDefault:
		return "default"
	}
	return o.Where
}

// writeConfigFile writes every setting in the `key = value` format that -c reads. A value that
// would not read back as itself (surrounding spaces or quotes) is quoted; one with a control
// character cannot be written, and is refused.
func writeConfigFile(out io.Writer, c *config.Config, r *config.Resolved, origins bool) error {
	var b strings.Builder
	b.WriteString("# wnm settings, as `wnm config show --format config` resolved them; read with wnm -c FILE\n")
	for _, s := range config.Settings {
		v := c.Get(s.Name)
		if strings.ContainsFunc(v, unicode.IsControl) {
			return fmt.Errorf("config show: %s: %s contains a control character, which a config file cannot hold", s.Name, config.Printable(v))
		}
		if v != strings.TrimSpace(v) || len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			q := `"`
			if strings.HasPrefix(v, `"`) {
				q = "'"
			}
			v = q + v + q
		}
		if origins {
			fmt.Fprintf(&b, "# %s\n", originText(r.Origin(s.Name)))
		}
		fmt.Fprintf(&b, "%s = %s\n", s.Name, v)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

type configSetCmd struct {
	Pairs []string `arg:"" name:"NAME=VALUE" help:"Settings to save, such as node_cap=30"`
}

func (configSetCmd) Help() string {
	return "Parses and validates each value together with the stored settings, then saves them in one transaction. " +
		"Settings fixed at init (port starts, process_manager) cannot change: the command exits 1 and writes nothing. " +
		"Settings of a single run (dbpath, loglevel, dry_run, …) are not stored and are refused. " +
		"With --dry_run it validates and prints the changes but saves nothing."
}

// Run saves the settings.
func (c configSetCmd) Run(s *session) error {
	ctx := context.Background()
	type pair struct {
		set config.Setting
		raw string
	}
	var pairs []pair
	for _, arg := range c.Pairs {
		name, raw, ok := strings.Cut(arg, "=")
		if !ok {
			return usageErr{fmt.Errorf("config set: %s is not NAME=VALUE", config.Printable(arg))}
		}
		set, ok := config.Lookup(name)
		if !ok {
			return usageErr{fmt.Errorf("config set: unknown setting %s", config.Printable(name))}
		}
		if !set.Persist {
			return usageErr{fmt.Errorf("config set: %s is a setting of one run and is not stored; pass it as --%s", set.Name, set.Name)}
		}
		pairs = append(pairs, pair{set, raw})
	}

	st, err := s.load(ctx, readWrite)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.needMachine(); err != nil {
		return err
	}
	r := &config.Resolved{Config: *st.stored, Origins: map[string]config.Origin{}}
	for _, set := range config.Settings {
		if set.Persist {
			r.Origins[set.Name] = config.Origin{Layer: config.LayerDatabase, Where: "database"}
		}
	}
	var names []string
	for _, p := range pairs {
		o := config.Origin{Layer: config.LayerFlag, Where: "config set " + config.Printable(p.set.Name+"="+p.raw)}
		if err := r.Set(p.set, p.raw, s.env.home); err != nil {
			return fmt.Errorf("%w (%s)", err, o.Describe())
		}
		r.Origins[p.set.Name] = o
		names = append(names, p.set.Name)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	changes, err := r.Changes(st.stored)
	if err != nil {
		return err
	}
	changed := map[string]config.Change{}
	var save []string
	for _, ch := range changes {
		changed[ch.Name] = ch
		save = append(save, ch.Name)
	}
	dry := st.resolved.DryRun
	if len(save) > 0 && !dry {
		if err := worker.SaveSettings(ctx, st.st, r.Config, save); err != nil {
			return err
		}
	}
	for _, name := range dedupe(names) {
		if ch, ok := changed[name]; ok {
			s.logger().Info("setting changed", "setting", name, "old", ch.Old, "new", ch.New, "from", "config set", "dry_run", dry)
			note := ""
			if dry {
				note = " (dry run: not saved)"
			}
			fmt.Fprintf(s.env.stdout, "%s: %s -> %s%s\n", name, config.Printable(ch.Old), config.Printable(ch.New), note)
		} else {
			fmt.Fprintf(s.env.stdout, "%s: %s (unchanged)\n", name, config.Printable(r.Get(name)))
		}
		if o := st.resolved.Origin(name); o.Layer.Supplied() && o.Layer != config.LayerFlag {
			fmt.Fprintf(s.env.stderr, "wnm: note: %s is also set %s, which wins over the database on every run\n", name, o.Describe())
		}
	}
	return nil
}

func dedupe(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
