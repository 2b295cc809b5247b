package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Layer is where a setting's value came from. Higher layers win.
type Layer int

// The layers, lowest precedence first.
const (
	LayerDefault Layer = iota
	LayerDatabase
	LayerFile
	LayerDotEnv
	LayerEnv
	LayerFlag
)

func (l Layer) String() string {
	return [...]string{"default", "database", "config file", ".env", "environment", "command line"}[l]
}

// Supplied reports whether the layer is one the operator supplied on this run (not the database or
// a default): such values are persisted when they differ from the database.
func (l Layer) Supplied() bool { return l >= LayerFile }

// Sources are the inputs of [Resolve].
type Sources struct {
	// Flags maps setting names to the values given on the command line, in text form.
	Flags map[string]string
	// Environ is the process environment, as os.Environ returns it.
	Environ []string
	// DotEnv is the .env file; a missing file is skipped.
	DotEnv string
	// Files are config files, lowest precedence first; missing ones are skipped.
	Files []string
	// Explicit is the -c/--config file, which wins over Files and must exist.
	Explicit string
}

// Origin says where one setting's value came from.
type Origin struct {
	Layer Layer
	Where string // "--node_cap", "WNM_NODE_CAP", "/home/u/wnm/config:3", …
}

// Describe says where the value came from in words, for messages: "from --node_cap", "from
// environment variable WNM_NODE_CAP", "from config file /home/u/wnm/config:3", "from the
// database", "the default".
func (o Origin) Describe() string {
	switch o.Layer {
	case LayerFlag:
		return "from " + o.Where
	case LayerEnv:
		return "from environment variable " + o.Where
	case LayerDotEnv:
		return "from .env file " + o.Where
	case LayerFile:
		return "from config file " + o.Where
	case LayerDatabase:
		return "from the database"
	default:
		return "the default"
	}
}

// Origin returns where setting name's value came from; a value nothing set is the default.
func (r *Resolved) Origin(name string) Origin {
	if o, ok := r.Origins[name]; ok {
		return o
	}
	return Origin{Layer: LayerDefault, Where: "default"}
}

// Validate is [Config.Validate] with every error saying where each value involved came from.
func (r *Resolved) Validate() error {
	err := r.Config.Validate()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var se *SettingError
		if errors.As(e, &se) {
			se.Origins = se.Origins[:0]
			for _, n := range se.Names {
				se.Origins = append(se.Origins, r.Origin(n))
			}
		}
	}
	return errors.Join(errs...)
}

// Resolved is a resolved configuration with the origin of every value that did not come from the
// defaults.
type Resolved struct {
	Config
	Origins map[string]Origin
	// Warnings are non-fatal findings, such as unknown keys in a config file.
	Warnings []string
}

// Supplied returns the names of the settings supplied on this run (command line, environment,
// .env or config files), in [Settings] order.
func (r *Resolved) Supplied() []string {
	var names []string
	for _, s := range Settings {
		if o, ok := r.Origins[s.Name]; ok && o.Layer.Supplied() {
			names = append(names, s.Name)
		}
	}
	return names
}

// Resolve layers the sources over base (the database's values, or the defaults when there is no
// machine yet): command line > environment > .env > config files > base. dbLayer says whether base
// came from the database. Every value is parsed; the first bad one is returned as an error naming the
// setting, the value and where it came from. Resolve does not validate cross-setting rules: see
// [Config.Validate].
func Resolve(src Sources, base Config, dbLayer bool, home string) (*Resolved, error) {
	r := &Resolved{Config: base, Origins: map[string]Origin{}}
	if dbLayer {
		for _, s := range Settings {
			if s.Persist {
				r.Origins[s.Name] = Origin{Layer: LayerDatabase, Where: "database"}
			}
		}
	}
	set := func(name, raw string, o Origin) error {
		s, ok := Lookup(name)
		if !ok {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: unknown setting %q ignored", o.Where, name))
			return nil
		}
		if err := r.Set(s, raw, home); err != nil {
			return fmt.Errorf("%w (%s)", err, o.Describe())
		}
		r.Origins[s.Name] = o
		return nil
	}

	files := src.Files
	for _, f := range files {
		if err := readConfigFile(f, false, set); err != nil {
			return nil, err
		}
	}
	if src.Explicit != "" {
		if err := readConfigFile(src.Explicit, true, set); err != nil {
			return nil, err
		}
	}

	if src.DotEnv != "" {
		vars, err := readDotEnv(src.DotEnv)
		if err != nil {
			return nil, err
		}
		if err := applyEnv(vars, LayerDotEnv, Printable(src.DotEnv)+": ", set); err != nil {
			return nil, err
		}
	}
	env := map[string]string{}
	for _, kv := range src.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if err := applyEnv(env, LayerEnv, "", set); err != nil {
		return nil, err
	}

	for _, s := range Settings { // fixed order, so the first error is deterministic
		if raw, ok := src.Flags[s.Name]; ok {
			if err := set(s.Name, raw, Origin{Layer: LayerFlag, Where: "--" + s.Name}); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// applyEnv sets every setting that has a variable in vars, preferring the WNM_ name. An empty
// value counts as not set, as in wnm-python.
func applyEnv(vars map[string]string, l Layer, prefix string, set func(string, string, Origin) error) error {
	for _, s := range Settings {
		for _, name := range s.EnvNames() {
			if v, ok := vars[name]; ok && strings.TrimSpace(v) != "" {
				if err := set(s.Name, v, Origin{Layer: l, Where: prefix + name}); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// readConfigFile reads wnm-python's config format: one `key = value` or `key: value` per line, `#`
// comments, keys being setting names.
func readConfigFile(path string, mustExist bool, set func(string, string, Origin) error) error {
	f, err := os.Open(path)
	if err != nil {
		if !mustExist && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") || strings.HasPrefix(line, "[") {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			return fmt.Errorf("%s:%d: %q is not a `key = value` line", path, n, line)
		}
		key := strings.TrimSpace(line[:i])
		val := unquote(strings.TrimSpace(line[i+1:]))
		if err := set(key, val, Origin{Layer: LayerFile, Where: fmt.Sprintf("%s:%d", Printable(path), n)}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// readDotEnv reads a dotenv file; a missing file is no error.
func readDotEnv(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf(".env: %w", err)
	}
	vars, err := ParseDotEnv(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s:%w", Printable(path), err)
	}
	return vars, nil
}

// ParseDotEnv parses dotenv text by the rules python-dotenv (which wnm-python reads .env with)
// and its kin follow:
//   - one KEY=VALUE per line, with an optional `export ` prefix and spaces around KEY and =;
//   - blank lines and lines starting with # are comments;
//   - an unquoted value ends at a # that follows a space or tab (an inline comment) and is trimmed,
//     so `NODE_CAP=30 # thirty` is 30 while `A=b#c` is b#c;
//   - a value in single quotes is taken literally, # and spaces included;
//   - a value in double quotes may hold # and spaces and the escapes \n, \t, \r, \", \' and \\;
//   - after a closing quote only spaces and a comment may follow.
//
// Variables (${VAR}) are not expanded, and a quoted value must end on its own line. An error gives
// the line number and what is wrong.
func ParseDotEnv(text string) (map[string]string, error) {
	vars := map[string]string{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || !isEnvKey(k) {
			return nil, fmt.Errorf("%d: %s is not a KEY=VALUE line", n+1, Printable(line))
		}
		val, err := dotEnvValue(v)
		if err != nil {
			return nil, fmt.Errorf("%d: %s: %w", n+1, k, err)
		}
		vars[k] = val
	}
	return vars, nil
}

// dotEnvValue reads the value part of a dotenv line, as it follows the =.
func dotEnvValue(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" || v[0] == '#' && len(v) < len(raw) {
		return "", nil // nothing, or only a comment after a space
	}
	q := v[0]
	if q != '\'' && q != '"' {
		for i := 1; i < len(v); i++ {
			if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
				return strings.TrimSpace(v[:i]), nil
			}
		}
		return v, nil
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == q:
			rest := strings.TrimSpace(v[i+1:])
			if rest != "" && !strings.HasPrefix(rest, "#") {
				return "", fmt.Errorf("%s follows the closing quote", Printable(rest))
			}
			return b.String(), nil
		case c == '\\' && q == '"' && i+1 < len(v):
			i++
			switch e := v[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '"', '\'', '\\':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("the quote %c is not closed", q)
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
