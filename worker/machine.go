package worker

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/wnm-project/wnm/worker/config"
	"github.com/wnm-project/wnm/worker/store"
)

// The machine row and the settings are mapped through the settings table: every persisted
// setting names its column (config.Setting.ColumnName), and store.Machine.Columns gives the field
// that holds it. Columns that are not settings (cpu_count, last_stopped_at, wnm_boot_time, the
// container columns…) are left alone.

// rowValue reads a column field as a setting value (int, float64, bool or string) and says whether
// it is NULL.
func rowValue(ptr any) (v any, null bool) {
	switch p := ptr.(type) {
	case *int:
		return *p, false
	case *int64:
		return int(*p), false
	case *float64:
		return *p, false
	case *bool:
		return *p, false
	case *string:
		return *p, false
	case **int:
		if *p == nil {
			return 0, true
		}
		return **p, false
	case **int64:
		if *p == nil {
			return 0, true
		}
		return int(**p), false
	case **string:
		if *p == nil {
			return "", true
		}
		return **p, false
	}
	panic(fmt.Sprintf("worker: machine column of type %T has no setting mapping", ptr))
}

// setRow writes a setting value into a column field. A nullable integer is NULL for 0 ("never
// set"); a nullable text column that is NULL stays NULL while the value is empty, so an adopted
// row keeps its NULLs.
func setRow(ptr any, v any) {
	switch p := ptr.(type) {
	case *int:
		*p = v.(int)
	case *int64:
		*p = int64(v.(int))
	case *float64:
		*p = v.(float64)
	case *bool:
		*p = v.(bool)
	case *string:
		*p = v.(string)
	case **int:
		if n := v.(int); n != 0 {
			*p = &n
		} else {
			*p = nil
		}
	case **int64:
		if n := int64(v.(int)); n != 0 {
			*p = &n
		} else {
			*p = nil
		}
	case **string:
		if s := v.(string); s != "" || *p != nil {
			*p = &s
		}
	default:
		panic(fmt.Sprintf("worker: machine column of type %T has no setting mapping", ptr))
	}
}

// column returns the field of m's column for s; the settings table and the store must agree.
func column(cols map[string]any, s config.Setting) any {
	ptr, ok := cols[s.ColumnName()]
	if !ok {
		panic("worker: setting " + s.Name + " names machine column " + s.ColumnName() + ", which the store does not have")
	}
	return ptr
}

// ConfigFromMachine returns the settings stored in m, over defaults for the run-only settings and
// for columns that were never set. Paths stored unexpanded, as wnm-python stores
// "~/.local/bin/antnode", are expanded.
func ConfigFromMachine(m store.Machine, defaults config.Config, home string) config.Config {
	c := defaults
	cols := m.Columns()
	for _, s := range config.Settings {
		if !s.Persist {
			continue
		}
		v, null := rowValue(column(cols, s))
		if s.UnsetInRow && (null || reflect.ValueOf(v).IsZero()) {
			continue
		}
		if s.Kind == config.Path {
			v = config.ExpandPath(v.(string), home)
		}
		c.SetValue(s.Name, v)
	}
	return c
}

// UnsetSettings returns the persisted settings whose column in m was never set (NULL or zero where
// the table says so): they read as their defaults.
func UnsetSettings(m store.Machine) []string {
	var names []string
	cols := m.Columns()
	for _, s := range config.Settings {
		if !s.Persist || !s.UnsetInRow {
			continue
		}
		if v, null := rowValue(column(cols, s)); null || reflect.ValueOf(v).IsZero() {
			names = append(names, s.Name)
		}
	}
	return names
}

// ApplyConfig writes the persisted settings of c into m, leaving the columns that are not settings
// (cpu_count, last_stopped_at, wnm's boot time…) as they are.
func ApplyConfig(m *store.Machine, c config.Config) {
	cols := m.Columns()
	for _, s := range config.Settings {
		if s.Persist {
			setRow(column(cols, s), c.Value(s.Name))
		}
	}
}

// SaveSettings writes the named persisted settings of c into the machine row, in one transaction.
// The other columns keep their bytes, NULLs included.
func SaveSettings(ctx context.Context, st *store.Store, c config.Config, names []string) error {
	err := st.Write(ctx, func(w *store.Writer) error {
		m, err := w.Machine()
		if err != nil {
			return err
		}
		cols := m.Columns()
		for _, name := range names {
			if s, ok := config.Lookup(name); ok && s.Persist {
				setRow(column(cols, s), c.Value(s.Name))
			}
		}
		return w.UpdateMachine(m)
	})
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// MachineFromConfig returns the machine row a new installation starts with. The boot time is
// recorded both as wnm-python's last_stopped_at and as wnm's own, so the first cycle does not
// mistake the init for a reboot.
func MachineFromConfig(c config.Config, cpus int, boot time.Time) store.Machine {
	m := store.Machine{
		ID:                  1,
		CPUCount:            cpus,
		NodeRemovalStrategy: "youngest",
		MaxNodePerContainer: 200,
		MinContainerCount:   1,
		DockerImage:         "iweave/antnode:latest",
		LastStoppedAt:       boot.Unix(),
		WNMBootTime:         boot.Unix(),
	}
	if boot.IsZero() {
		m.LastStoppedAt, m.WNMBootTime = 0, 0
	}
	ApplyConfig(&m, c)
	return m
}

// CreateStore creates the database at path holding m, atomically: on failure no file is left.
func CreateStore(ctx context.Context, path string, m store.Machine) (*store.Store, error) {
	return store.Create(ctx, path, m)
}
