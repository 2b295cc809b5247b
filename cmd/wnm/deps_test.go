package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/wnm-project/wnm/units"
)

// TestDependencyRules keeps the package boundaries of the design: worker/decide imports only the
// standard library, only cmd/wnm imports kong, only units/run (and testenv) imports os/exec, and no
// production package imports testenv.
func TestDependencyRules(t *testing.T) {
	goList := func(args ...string) []string {
		t.Helper()
		out, err := exec.Command("go", append([]string{"list"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	const mod = "github.com/wnm-project/wnm"
	deps := goList("-deps", "-f", "{{.ImportPath}} {{.Standard}}", mod+"/worker/decide")
	if len(deps) < 5 {
		t.Fatalf("go list found only %q", deps)
	}
	for _, line := range deps {
		if path, std, _ := strings.Cut(line, " "); std != "true" && path != mod+"/worker/decide" {
			t.Errorf("worker/decide depends on %s, which is not in the standard library", path)
		}
	}
	pkgs := goList("-f", "{{.ImportPath}}: {{join .Imports \" \"}}", mod+"/...")
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, line := range pkgs {
		pkg, imports, _ := strings.Cut(line, ": ")
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, "github.com/alecthomas/kong") && pkg != mod+"/cmd/wnm" {
				t.Errorf("%s imports kong; only cmd/wnm may", pkg)
			}
			if strings.HasPrefix(imp, mod+"/testenv") && !strings.HasPrefix(pkg, mod+"/testenv") {
				t.Errorf("%s imports %s outside its tests", pkg, imp)
			}
			if imp == "os/exec" && pkg != mod+"/units/run" && !strings.HasPrefix(pkg, mod+"/testenv") {
				t.Errorf("%s imports os/exec; programs run through units/run", pkg)
			}
			if imp == mod+"/cmd/wnm" {
				t.Errorf("%s imports cmd/wnm", pkg)
			}
		}
	}
}

// TestEveryBackendLinked: wnm links a backend for every process manager it accepts, so that
// units.Open never reports one of them as not available, and each manager names itself as its
// spec does.
func TestEveryBackendLinked(t *testing.T) {
	for _, spec := range units.Specs {
		m, err := units.Open(spec, units.Options{NodeStorage: t.TempDir()})
		if err != nil {
			t.Errorf("units.Open(%s) = %v", spec, err)
			continue
		}
		if m.Name() != spec.String() {
			t.Errorf("units.Open(%s) opened %s", spec, m.Name())
		}
	}
}

// TestNoProtobufLinked keeps protobuf and the Prometheus libraries out of the wnm binary. Their
// package initialisation (protobuf's type registry above all) cost every command, --version
// included, several milliseconds of start-up; wnm reads and writes the metrics text format itself
// (worker/survey/openmetrics, worker/prom.go), and only tests use those libraries as references.
func TestNoProtobufLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/wnm-project/wnm/cmd/wnm").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps found only %q", deps)
	}
	for _, dep := range deps {
		for _, banned := range []string{"google.golang.org/protobuf", "github.com/prometheus/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the wnm binary links %s", dep)
			}
		}
	}
}
