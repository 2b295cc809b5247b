package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPeekMachine reads the same row as Machine without changing a byte of the file, and reads a
// database whose schema predates wnm's columns, leaving them zero.
func TestPeekMachine(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	want, err := s.Machine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	got, err := PeekMachine(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("PeekMachine (-Machine +Peek):\n%s", d)
	}
	after, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("PeekMachine changed the database file")
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(s.Path() + suffix); err == nil {
			t.Errorf("PeekMachine left %s behind", s.Path()+suffix)
		}
	}

	execRaw(t, s.Path(), "ALTER TABLE machine DROP COLUMN survey_timeout_ms; ALTER TABLE machine DROP COLUMN wnm_boot_time;")
	got, err = PeekMachine(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got.SurveyTimeoutMS != 0 || got.WNMBootTime != 0 || got.NodeCap != want.NodeCap || got.SurveyConcurrency != want.SurveyConcurrency {
		t.Errorf("old schema: got %+v", got)
	}

	empty := filepath.Join(t.TempDir(), "empty.db")
	execRaw(t, empty, "CREATE TABLE x (a);")
	if _, err := PeekMachine(ctx, empty); !errors.Is(err, ErrNoMachine) {
		t.Errorf("no machine table: err = %v, want ErrNoMachine", err)
	}
}
