package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/wnm-project/wnm/gen"
	"github.com/wnm-project/wnm/units"
	"github.com/wnm-project/wnm/worker"
	"github.com/wnm-project/wnm/worker/anm"
	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/lock"
	"github.com/wnm-project/wnm/worker/store"
	"github.com/wnm-project/wnm/worker/survey"
)

// session is one invocation of wnm: the parsed command line and what was resolved from it.
type session struct {
	env *env
	cli *cli
	log *slog.Logger
	// logResult logs a forced action's result instead of printing it (when a report follows).
	logResult bool
}

// platform returns the platform with mode m.
func (e *env) platform(m gen.Mode) config.Platform {
	return config.Platform{OS: e.goos, Mode: m, Home: e.home, CPUCount: survey.CPUCount()}
}

// sources gathers the non-database layers.
func (s *session) sources(p config.Platform) config.Sources {
	return config.Sources{
		Flags:    s.cli.flagValues(),
		Environ:  s.env.environ,
		DotEnv:   p.DotEnvPath(),
		Files:    p.FileLayerPaths(),
		Explicit: s.cli.Config,
	}
}

// mode detects wnm-python's sudo or user mode (docs/compatibility.md, "Modes and directories"): an explicit
// process_manager wins, then the process manager stored in an existing database, then root → sudo.
func (s *session) mode(ctx context.Context) (gen.Mode, error) {
	probe := s.env.platform(gen.ModeUser)
	r, err := config.Resolve(s.sources(probe), config.Defaults(probe), false, s.env.home)
	if err != nil {
		return "", err
	}
	if o, ok := r.Origins["process_manager"]; ok && o.Layer.Supplied() {
		if m, ok := units.DetectMode(r.ProcessManager); ok {
			return m, nil
		}
	}
	candidates := probe.DBCandidates()
	if o, ok := r.Origins["dbpath"]; ok && o.Layer.Supplied() {
		candidates = append([]string{r.DBPath}, candidates...)
	}
	for _, path := range candidates {
		pm, err := store.PeekProcessManager(ctx, path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			// A database that is there but cannot be read (garbage, truncated, unreadable) is the
			// operator's to fix: guessing the mode instead would point at another machine's
			// database (as root, /var/antctl) and invite creating a second one there.
			return "", fmt.Errorf("cannot read the database %s to tell the mode: %w; repair or move it, or name the mode with --process_manager", path, err)
		}
		if m, ok := units.DetectMode(pm); ok {
			return m, nil
		}
	}
	if s.env.euid == 0 && s.env.goos == "linux" {
		return gen.ModeSudo, nil
	}
	return gen.ModeUser, nil
}

// state is what most commands start from: the resolved settings and, when the machine exists, the
// open store and the settings as stored.
type state struct {
	plat     config.Platform
	resolved *config.Resolved
	st       *store.Store // nil when there is no database, or it was read read-only
	dbExists bool
	stored   *config.Config
	// anm is anm's machine file when anm is installed here (Linux), else "".
	anm string
}

func (st *state) close() {
	if st.st != nil {
		st.st.Close()
	}
}

// access says how a command opens the database.
type access int

const (
	readWrite        access = iota // migrate (or adopt) the file and allow writes
	readOnly                       // change no byte of the file
	readOnlyIfDryRun               // readOnly when the resolved settings ask for a dry run
)

// loadWith is load, read-only or not.
func (s *session) loadWith(ctx context.Context, ro bool) (*state, error) {
	if ro {
		return s.load(ctx, readOnly)
	}
	return s.load(ctx, readWrite)
}

// load resolves the settings over the database (if it exists) and validates them. A read-only
// load reads any database wnm can adopt (an older wnm's, or wnm-python's at any revision) as
// adoption would map it, without migrating it.
func (s *session) load(ctx context.Context, acc access) (*state, error) {
	m, err := s.mode(ctx)
	if err != nil {
		return nil, err
	}
	p := s.env.platform(m)
	defaults := config.Defaults(p)
	src := s.sources(p)
	r, err := config.Resolve(src, defaults, false, s.env.home)
	if err != nil {
		return nil, err
	}
	for _, w := range r.Warnings {
		s.logger().Warn(w)
	}
	out := &state{plat: p, resolved: r}
	if f := anm.Path(s.anmRoot(), anm.FileSystem); s.env.goos == "linux" {
		if _, err := os.Stat(f); err == nil {
			out.anm = f
		}
	}
	open := store.Open
	if acc == readOnly || (acc == readOnlyIfDryRun && r.DryRun) {
		open = func(ctx context.Context, path string, _ ...store.Option) (*store.Store, error) {
			return store.OpenReadOnly(ctx, path)
		}
	}
	db, err := open(ctx, r.DBPath, store.WithLogger(s.logger()))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return out, nil
	case err != nil:
		return nil, err
	}
	out.st = db
	mach, err := db.Machine(ctx)
	if errors.Is(err, store.ErrNoMachine) {
		out.dbExists = true
		return out, nil
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	out.dbExists = true
	stored := worker.ConfigFromMachine(mach, defaults, s.env.home)
	stored.DBPath = r.DBPath
	out.stored = &stored
	out.resolved, err = config.Resolve(src, stored, true, s.env.home)
	if err != nil {
		out.close()
		return nil, err
	}
	for _, name := range worker.UnsetSettings(mach) { // never stored: the value is the default
		if out.resolved.Origin(name).Layer == config.LayerDatabase {
			delete(out.resolved.Origins, name)
		}
	}
	return out, nil
}

// needMachine returns the error wnm-python gives when there is nothing to work on.
func (st *state) needMachine() error {
	if st.stored != nil {
		return nil
	}
	if !st.dbExists && st.anm != "" {
		return fmt.Errorf("no database found at %s; anm is installed on this machine (%s): see its takeover first with "+
			"sudo wnm init --migrate_anm --dry_run, then run it without --dry_run", config.Printable(st.resolved.DBPath), config.Printable(st.anm))
	}
	if !st.dbExists {
		return fmt.Errorf("no database found at %s; initialise wnm first: wnm init --rewards_address YOUR_ETH_ADDRESS", config.Printable(st.resolved.DBPath))
	}
	return fmt.Errorf("no machine configuration in %s; run wnm init", config.Printable(st.resolved.DBPath))
}

func (s *session) removeLockfile() error {
	ctx := context.Background()
	m, err := s.mode(ctx)
	if err != nil {
		return err
	}
	p := s.env.platform(m)
	r, err := config.Resolve(s.sources(p), config.Defaults(p), false, s.env.home)
	if err != nil {
		return err
	}
	path := lock.Path(r.DBPath)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		s.logger().Info("lock file does not exist", "path", path)
		return nil
	}
	if err := lock.Remove(path); err != nil {
		return err
	}
	s.logger().Info("lock file removed", "path", path)
	return nil
}
