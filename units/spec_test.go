package units

import (
	"errors"
	"strings"
	"testing"

	"github.com/wnm-project/wnm/gen"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Spec
		wantErr bool
	}{
		{"systemd+sudo", Spec{Systemd, gen.ModeSudo}, false},
		{"systemd+user", Spec{Systemd, gen.ModeUser}, false},
		{"setsid+sudo", Spec{Setsid, gen.ModeSudo}, false},
		{"setsid+user", Spec{Setsid, gen.ModeUser}, false},
		{"launchd+sudo", Spec{Launchd, gen.ModeSudo}, false},
		{"launchd+user", Spec{Launchd, gen.ModeUser}, false},
		{"systemd", Spec{}, true},
		{"docker", Spec{}, true},
		{"antctl+zen", Spec{}, true},
		{"antctl+sudo", Spec{}, true},
		{"Systemd+sudo", Spec{}, true},
		{" systemd+sudo", Spec{}, true},
		{"systemd+sudo+user", Spec{}, true},
		{"systemd+", Spec{}, true},
		{"", Spec{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseSpec(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil {
				want := `"` + tt.in + `" is not one of systemd+sudo, systemd+user, setsid+sudo, setsid+user, launchd+sudo, launchd+user`
				if err.Error() != want {
					t.Errorf("error = %q, want %q", err, want)
				}
				return
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
			if got.Sudo() != strings.HasSuffix(tt.in, "+sudo") {
				t.Errorf("Sudo() = %v for %q", got.Sudo(), tt.in)
			}
		})
	}
}

func TestDetectMode(t *testing.T) {
	tests := []struct {
		in     string
		want   gen.Mode
		wantOK bool
	}{
		{"systemd+sudo", gen.ModeSudo, true},
		{"setsid+user", gen.ModeUser, true},
		{"antctl+sudo", gen.ModeSudo, true},
		{"antctl+zen", gen.ModeUser, true},
		{"launchd+user", gen.ModeUser, true},
		{"systemd", "", false},
		{"", "", false},
		{"docker+root", "", false},
	}
	for _, tt := range tests {
		got, ok := DetectMode(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("DetectMode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// fakeManager is a Manager that remembers how it was opened.
type fakeManager struct {
	Manager
	spec Spec
	o    Options
}

func (f *fakeManager) Name() string { return f.spec.String() }

const fakeKind Kind = "fake-for-test"

func init() {
	Register(fakeKind, func(spec Spec, o Options) (Manager, error) {
		if o.NodeStorage == "/refused" {
			return nil, errors.New("refused by the backend")
		}
		return &fakeManager{spec: spec, o: o}, nil
	})
}

func TestOpen(t *testing.T) {
	m, err := Open(Spec{fakeKind, gen.ModeUser}, Options{NodeStorage: "/srv/nodes", NodeAccount: "ant"})
	if err != nil {
		t.Fatal(err)
	}
	f := m.(*fakeManager)
	if f.Name() != "fake-for-test+user" || f.o.NodeStorage != "/srv/nodes" || f.o.NodeAccount != "ant" || f.o.Logger == nil {
		t.Errorf("Open passed %+v, %+v", f.spec, f.o)
	}
	if _, err := Open(Spec{fakeKind, gen.ModeUser}, Options{NodeStorage: "/refused"}); err == nil || err.Error() != "refused by the backend" {
		t.Errorf("Open with a failing backend = %v, want its error", err)
	}
	for _, spec := range []Spec{{"docker", gen.ModeUser}, {fakeKind, "root"}, {}} {
		_, err := Open(spec, Options{})
		var na NotAvailableError
		if !errors.As(err, &na) || na.Manager != spec.String() {
			t.Errorf("Open(%v) = %v, want NotAvailableError", spec, err)
		}
	}
	if got := (NotAvailableError{"docker+user"}).Error(); got != "process manager docker+user is not available in this version of wnm" {
		t.Errorf("NotAvailableError = %q", got)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering a kind twice did not panic")
		}
	}()
	Register(fakeKind, func(Spec, Options) (Manager, error) { return nil, nil })
}
