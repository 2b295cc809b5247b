package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/anm"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// anmRoot is the prefix under which anm's files are read and its cron file moved: WNM_ROOT, as
// for install (tests point it at a fixture tree); the host when unset.
func (s *session) anmRoot() string {
	root := s.getenv("WNM_ROOT")
	if root == "" || filepath.Clean(root) == "/" {
		return ""
	}
	return filepath.Clean(root)
}

// migrateAnm takes over an anm installation: anm's settings become the machine's, every node unit
// anm wrote becomes a node row (under its own unit name), and anm's cron job is moved aside. With
// --dry_run it prints the same takeover and writes nothing.
func (s *session) migrateAnm(ctx context.Context) error {
	root := s.anmRoot()
	if s.env.goos != "linux" {
		return errors.New("--migrate_anm: anm runs on Linux only; there is nothing to migrate on " + s.env.goos)
	}
	if s.env.euid != 0 {
		return errors.New("--migrate_anm must run as root: anm's nodes are system units in /etc/systemd/system, " +
			"its files in /var/antctl belong to root, and moving /etc/cron.d/anm needs root. Run: sudo wnm init --migrate_anm " +
			"(nothing was changed)")
	}
	t, err := anm.Read(root)
	if err != nil {
		return fmt.Errorf("--migrate_anm: %w (nothing was changed)", err)
	}

	// anm's values replace the defaults; whatever the operator supplies still wins.
	p := s.env.platform(gen.ModeSudo)
	base := config.Defaults(p)
	base.ProcessManager = "systemd+sudo"
	if root != "" {
		base.DBPath = anm.Path(root, base.DBPath)
	}
	for _, st := range t.Settings {
		def, ok := config.Lookup(st.Name)
		if !ok {
			return fmt.Errorf("--migrate_anm: anm's %s maps to unknown setting %s", st.Key, st.Name)
		}
		if err := base.Set(def, st.Value, s.env.home); err != nil {
			return fmt.Errorf("--migrate_anm: %w (anm's %s=%q in %s; nothing was changed)", err, st.Key, st.Raw, st.Source)
		}
	}
	r, err := config.Resolve(s.sources(p), base, false, s.env.home)
	if err != nil {
		return err
	}
	cfg := r.Config
	if cfg.ProcessManager != "systemd+sudo" {
		return fmt.Errorf("--migrate_anm: anm's nodes are systemd system units; process_manager must be systemd+sudo, not %s", cfg.ProcessManager)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("--migrate_anm: %w (nothing was changed)", err)
	}
	if _, err := os.Stat(cfg.DBPath); err == nil {
		return fmt.Errorf("--migrate_anm: %s already exists; this machine is initialised (nothing was changed)", cfg.DBPath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	now := s.env.now()
	rows := make([]store.Node, 0, len(t.Nodes))
	for _, n := range t.Nodes {
		row := worker.AdoptedRow(n.Adopted, now, cfg.ProcessManager, cfg.Host)
		if !n.Age.IsZero() {
			row.Age = n.Age.Unix()
		}
		rows = append(rows, row)
	}
	// New ids are chosen as a cycle chooses them: above every id known (rows, units adopted or
	// not, node directories), none whose ports a row or a refused unit holds.
	var ports []int
	for _, rf := range t.Refused {
		ports = append(ports, rf.Ports...)
	}
	next := 0
	if ids := worker.NextIDs(cfg, rows, t.KnownIDs, ports, 1); len(ids) > 0 {
		next = ids[0]
	}
	s.printTakeover(t, r, cfg, rows, next, root)
	if cfg.DryRun {
		fmt.Fprintln(s.env.stdout, "Dry run: nothing was written, moved or started.")
		return nil
	}

	// anm must not start a run while wnm takes over: its cron file goes first, and a run that
	// began meanwhile (its lock file appeared) undoes the move.
	undo, err := t.DisableCron()
	if err != nil {
		return fmt.Errorf("--migrate_anm: %w (nothing was changed)", err)
	}
	restore := func() {
		if undo != "" {
			if err := os.Rename(anm.Path(root, anm.FileCronDisabled), anm.Path(root, anm.FileCron)); err != nil {
				s.logger().Error("could not put anm's cron file back", "err", err, "run", undo)
			}
		}
	}
	if _, err := os.Stat(anm.Path(root, anm.FileBlock)); err == nil {
		restore()
		return fmt.Errorf("--migrate_anm: %w (nothing was changed)", anm.BlockedError{Path: anm.Path(root, anm.FileBlock)})
	}
	boot, err := survey.BootTime(ctx)
	if err != nil {
		s.logger().Warn("cannot read the boot time; the first cycle will resurvey", "err", err)
	}
	m := worker.MachineFromConfig(cfg, survey.CPUCount(), boot)
	if len(t.KnownIDs) > 0 {
		h := slices.Max(t.KnownIDs)
		m.HighestNodeIDUsed = &h
	}
	if err := createWithNodes(ctx, cfg.DBPath, m, rows); err != nil {
		restore()
		return fmt.Errorf("--migrate_anm: %w (anm's cron file is back in place)", err)
	}
	for _, row := range rows {
		s.logger().Info("adopted anm node", "node", row.ID, "service", row.Service, "port", row.Port, "metrics_port", row.MetricsPort, "wallet", row.Wallet)
	}
	for _, ig := range t.Ignored {
		s.logger().Info("anm setting without a wnm equivalent", "key", ig.Key, "value", ig.Raw, "source", ig.Source, "why", ig.Why)
	}
	s.logger().Info("migrated from anm", "db", cfg.DBPath, "nodes", len(rows), "refused", len(t.Refused), "cron_moved_to", anm.Path(root, anm.FileCronDisabled))
	fmt.Fprintf(s.env.stdout, "Initialized wnm in %s with %d adopted anm nodes.\n", cfg.DBPath, len(rows))
	if undo == "" && t.CronDisabled {
		undo = anm.UndoCron(root)
	}
	if undo != "" {
		fmt.Fprintf(s.env.stdout, "anm's cron job is disabled. To undo the takeover: wnm uninstall; rm %s; %s\n", cfg.DBPath, undo)
	}
	fmt.Fprintln(s.env.stdout, "Next: sudo wnm install   (runs a wnm cycle every minute)")
	return nil
}

// createWithNodes creates the database with m and the adopted rows in one step: the file appears
// with all of them or not at all.
func createWithNodes(ctx context.Context, path string, m store.Machine, rows []store.Node) error {
	db, err := store.Create(ctx, path, m, store.WithNodes(rows...))
	if err != nil {
		return err
	}
	return db.Close()
}

// printTakeover prints what the takeover does: settings with their source and converted value,
// anm-only settings, every node with its ports and wallet, refused units, and the cron change.
func (s *session) printTakeover(t *anm.Takeover, r *config.Resolved, cfg config.Config, rows []store.Node, next int, root string) {
	out := s.env.stdout
	fmt.Fprintf(out, "Taking over anm (%s):\n\nSettings:\n", anm.Path(root, anm.DirAntctl))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  SETTING\tVALUE\tFROM\tANM VALUE\tNOTE")
	// A setting given twice (DelayRestart beside DelayReStart) shows once, with the value that won.
	shown := map[string]bool{}
	for _, st := range t.Settings {
		if shown[st.Name] {
			continue
		}
		shown[st.Name] = true
		final, _ := t.Value(st.Name)
		val, note := cfg.Get(st.Name), final.Note
		if o, ok := r.Origins[st.Name]; ok && o.Layer.Supplied() {
			note = strings.TrimPrefix(note+"; ", "; ") + "overridden by " + o.Where
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s=%s\t%s\n", st.Name, val, final.Source, final.Key, final.Raw, note)
	}
	fmt.Fprintf(w, "  process_manager\t%s\t\t\tanm's nodes are systemd system units\n", cfg.ProcessManager)
	fmt.Fprintf(w, "  dbpath\t%s\t\t\t\n", cfg.DBPath)
	w.Flush()
	if t.NoUPnPMixed {
		fmt.Fprintln(out, "  note: only some units pass --no-upnp; each adopted node keeps its unit's choice, and no_upnp applies to the nodes wnm adds")
	}
	if len(t.Ignored) > 0 {
		fmt.Fprintln(out, "\nanm settings without a wnm equivalent (kept in anm's files, not applied):")
		for _, ig := range t.Ignored {
			fmt.Fprintf(out, "  %s=%s (%s): %s\n", ig.Key, ig.Raw, ig.Source, ig.Why)
		}
	}
	fmt.Fprintf(out, "\nNodes adopted (%d; none is restarted):\n", len(rows))
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  ID\tUNIT\tPORT\tMETRICS\tWALLET\tUSER\tROOT DIR\tBORN")
	for _, n := range rows {
		fmt.Fprintf(w, "  %d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", n.ID, n.Service, n.Port, n.MetricsPort, n.Wallet, n.User, n.RootDir,
			time.Unix(n.Age, 0).UTC().Format(time.DateOnly))
	}
	w.Flush()
	if len(t.Refused) > 0 {
		fmt.Fprintf(out, "\nUnits not adopted (%d; left as they are, their ids and ports are never reused):\n", len(t.Refused))
		for _, rf := range t.Refused {
			fmt.Fprintf(out, "  %s: %s\n", rf.Service, rf.Reason)
		}
	}
	if next > 0 {
		fmt.Fprintf(out, "\nThe next new node is id %d (ids held on this machine: %s).\n", next, idList(t.KnownIDs))
	} else {
		fmt.Fprintf(out, "\nNo new node can be added: every id whose ports are valid is held (ids held on this machine: %s).\n", idList(t.KnownIDs))
	}
	if t.CronPresent {
		fmt.Fprintf(out, "anm's cron job: %s is moved to %s (cron ignores that name); undo: %s\n",
			anm.Path(root, anm.FileCron), anm.Path(root, anm.FileCronDisabled), anm.UndoCron(root))
	} else if t.CronDisabled {
		// An earlier takeover was interrupted after it moved the file.
		fmt.Fprintf(out, "anm's cron job: already moved to %s; undo: %s\n", anm.Path(root, anm.FileCronDisabled), anm.UndoCron(root))
	} else {
		fmt.Fprintf(out, "anm's cron job: %s does not exist; nothing to disable\n", anm.Path(root, anm.FileCron))
	}
}

func idList(ids []int) string {
	if len(ids) == 0 {
		return "none"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, " ")
}
