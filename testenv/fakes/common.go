package fakes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/process"

	"github.com/wnm-project/wnm/testenv/poll"
)

const (
	stopTimeout = 10 * time.Second
	killWait    = 5 * time.Second
	pollEvery   = 20 * time.Millisecond
	defaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// env is how a fake reads its environment; tests of the fakes replace it.
type env func(string) string

// record appends one line, the program name and its arguments, to $WNM_FAKE_LOG.
func record(getenv env, prog string, args []string) error {
	path := getenv(EnvLog)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvLog, err)
	}
	defer f.Close()
	words := []string{prog}
	for _, a := range args {
		words = append(words, shellWord(a))
	}
	_, err = f.WriteString(strings.Join(words, " ") + "\n")
	return err
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:,@+=%-]+$`)

// shellWord quotes a for a POSIX shell when it needs it.
func shellWord(a string) string {
	if plainWord.MatchString(a) {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// stateDir returns $WNM_FAKE_STATE/sub, created.
func stateDir(getenv env, sub ...string) (string, error) {
	root := getenv(EnvState)
	if root == "" {
		return "", fmt.Errorf("%s is not set: refusing to run without a private state dir", EnvState)
	}
	if !filepath.IsAbs(root) {
		return "", fmt.Errorf("%s %q is not an absolute path", EnvState, root)
	}
	dir := filepath.Join(append([]string{root}, sub...)...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// job is what a fake runs: the command line, its directory and environment, and where its
// output goes.
type job struct {
	argv []string
	dir  string
	env  [][2]string
	out  string // file stdout and stderr are appended to
}

// pidRecord is a started process: its pid and start time (ms since the epoch), so that a
// recycled pid is never taken for it.
type pidRecord struct {
	PID     int
	StartMS int64
}

// spawn starts j detached in its own session and returns its record. The process is not
// waited for: when the fake exits, init adopts it, as it would adopt a service of systemd.
func spawn(j job, getenv env) (pidRecord, error) {
	if len(j.argv) == 0 {
		return pidRecord{}, errors.New("empty command line")
	}
	if err := os.MkdirAll(filepath.Dir(j.out), 0o755); err != nil {
		return pidRecord{}, err
	}
	out, err := os.OpenFile(j.out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return pidRecord{}, err
	}
	defer out.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return pidRecord{}, err
	}
	defer devnull.Close()
	environ := []string{"PATH=" + defaultPATH, "LANG=C.UTF-8"}
	if h := getenv("HOME"); h != "" {
		environ = append(environ, "HOME="+h)
	}
	for _, kv := range j.env {
		environ = append(environ, kv[0]+"="+kv[1])
	}
	dir := j.dir
	if dir == "" {
		dir = "/"
	}
	cmd := &exec.Cmd{
		Path: j.argv[0], Args: j.argv, Dir: dir, Env: environ,
		Stdin: devnull, Stdout: out, Stderr: out, SysProcAttr: detached(),
	}
	if err := cmd.Start(); err != nil {
		return pidRecord{}, err
	}
	rec := pidRecord{PID: cmd.Process.Pid}
	if p, err := process.NewProcess(int32(rec.PID)); err == nil {
		rec.StartMS, _ = p.CreateTime()
	}
	_ = cmd.Process.Release()
	return rec, nil
}

// alive reports whether the process rec names still runs: it exists, is not a zombie, and
// started when rec says (within a second).
func alive(rec pidRecord) bool {
	if rec.PID <= 0 {
		return false
	}
	p, err := process.NewProcess(int32(rec.PID))
	if err != nil {
		return false
	}
	if st, err := p.Status(); err == nil && slices.Contains(st, process.Zombie) {
		return false
	}
	if rec.StartMS != 0 {
		start, err := p.CreateTime()
		if err != nil {
			return false
		}
		if d := start - rec.StartMS; d < -1000 || d > 1000 {
			return false
		}
	}
	return true
}

// terminate stops the process rec names and its process group: SIGTERM, then SIGKILL after
// stopTimeout. It returns once the process is gone.
func terminate(rec pidRecord) error {
	if !alive(rec) {
		return nil
	}
	if err := signalGroup(rec.PID, false); err != nil {
		return fmt.Errorf("SIGTERM to pid %d: %w", rec.PID, err)
	}
	if waitGone(rec, stopTimeout) {
		return nil
	}
	if err := signalGroup(rec.PID, true); err != nil {
		return fmt.Errorf("SIGKILL to pid %d: %w", rec.PID, err)
	}
	if waitGone(rec, killWait) {
		return nil
	}
	return fmt.Errorf("pid %d still alive after SIGKILL", rec.PID)
}

func waitGone(rec pidRecord, d time.Duration) bool {
	return poll.Wait(d, pollEvery, func() bool { return !alive(rec) })
}

// pidFile names the file a process record is kept in.
const pidSuffix = ".pid"

func writePID(path string, rec pidRecord) error {
	return os.WriteFile(path, fmt.Appendf(nil, "%d %d\n", rec.PID, rec.StartMS), 0o644)
}

// readPID reads a process record; a missing file is the zero record.
func readPID(path string) (pidRecord, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pidRecord{}, nil
	}
	if err != nil {
		return pidRecord{}, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return pidRecord{}, fmt.Errorf("pid file %s: %q", path, b)
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return pidRecord{}, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pidRecord{PID: pid, StartMS: start}, nil
}

// running returns the live process recorded at path, removing a record of a dead one.
func running(path string) (pidRecord, bool) {
	rec, err := readPID(path)
	if err != nil || rec.PID == 0 {
		return pidRecord{}, false
	}
	if alive(rec) {
		return rec, true
	}
	_ = os.Remove(path)
	return pidRecord{}, false
}

// KillAll ends every process a fake recorded under the state dir and removes the records. Tests
// call it from t.Cleanup so that no node outlives its test.
func KillAll(state string) error {
	var errs []error
	_ = filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, pidSuffix) {
			return nil
		}
		rec, err := readPID(path)
		if err == nil && rec.PID > 0 {
			if err := terminate(rec); err != nil {
				errs = append(errs, err)
			}
		}
		_ = os.Remove(path)
		return nil
	})
	return errors.Join(errs...)
}
