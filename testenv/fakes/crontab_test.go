package fakes

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeEnv is an environment with a private state dir and call log.
func fakeEnv(t *testing.T, vars map[string]string) (env, string) {
	t.Helper()
	dir := t.TempDir()
	m := map[string]string{EnvState: filepath.Join(dir, "state"), EnvLog: filepath.Join(dir, "calls.log"), "USER": "alice"}
	for k, v := range vars {
		m[k] = v
	}
	return func(k string) string { return m[k] }, dir
}

func TestCrontab(t *testing.T) {
	getenv, dir := fakeEnv(t, nil)
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		rc := crontab(args, strings.NewReader(stdin), &out, &errb, getenv)
		return rc, out.String(), errb.String()
	}
	steps := []struct {
		stdin            string
		args             []string
		rc               int
		stdout, inStderr string
	}{
		{"", []string{"-l"}, 1, "", "no crontab for alice"},
		{"MAILTO=\"\"\n# backup\n0 3 * * * /usr/bin/backup\n@reboot /bin/true\n", []string{"-"}, 0, "", ""},
		{"", []string{"-l"}, 0, "MAILTO=\"\"\n# backup\n0 3 * * * /usr/bin/backup\n@reboot /bin/true\n", ""},
		{"0 3 * * * /usr/bin/backup", []string{"-"}, 1, "", "missing newline before EOF"},
		{"0 3 * * /usr/bin/backup\n", []string{"-"}, 1, "", "bad line"},
		{"@hourly\n", []string{"-"}, 1, "", "bad line"},
		{"", []string{"-l", "-u", "bob"}, 1, "", "no crontab for bob"},
		{"", []string{"-r"}, 0, "", ""},
		{"", []string{"-r"}, 1, "", "no crontab for alice"},
		{"", []string{"-x"}, 1, "", "invalid option"},
		{"", nil, 1, "", "file name must be specified"},
		{"", []string{"-u", "../x", "-l"}, 1, "", "unknown"},
	}
	for i, s := range steps {
		rc, out, errs := run(s.stdin, s.args...)
		if rc != s.rc || out != s.stdout || !strings.Contains(errs, s.inStderr) {
			t.Errorf("step %d: crontab %q = %d, %q, %q; want %d, %q, stderr with %q", i, s.args, rc, out, errs, s.rc, s.stdout, s.inStderr)
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "calls.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := "crontab -l\ncrontab -\ncrontab -l\ncrontab -\ncrontab -\ncrontab -\ncrontab -l -u bob\ncrontab -r\ncrontab -r\ncrontab -x\ncrontab\ncrontab -u ../x -l\n"
	if diff := cmp.Diff(want, string(log)); diff != "" {
		t.Errorf("calls.log (-want +got):\n%s", diff)
	}
}

func TestCrontabNeedsState(t *testing.T) {
	var errb bytes.Buffer
	rc := crontab([]string{"-l"}, strings.NewReader(""), &bytes.Buffer{}, &errb, func(string) string { return "" })
	if rc == 0 || !strings.Contains(errb.String(), EnvState) {
		t.Errorf("crontab without %s = %d, %q; want a refusal", EnvState, rc, errb.String())
	}
}

func TestCheckCrontab(t *testing.T) {
	tests := []struct {
		name, table string
		ok          bool
	}{
		{"empty", "", true},
		{"wnm block", "# wnm: managed by wnm install; do not edit\nPATH=/usr/local/bin:/usr/bin\n# wnm: managed by wnm install; do not edit\n* * * * * '/opt/my wnm/wnm' run >>'/x y/wnm.log' 2>&1\n", true},
		{"ranges and names", "*/5 1-3 * jan,feb mon-fri /bin/x\n", true},
		{"no newline", "* * * * * /bin/x", false},
		{"four fields", "* * * * /bin/x\n", false},
		{"no command", "* * * * *\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckCrontab([]byte(tt.table)); (err == nil) != tt.ok {
				t.Errorf("CheckCrontab(%q) = %v, want ok %v", tt.table, err, tt.ok)
			}
		})
	}
}
