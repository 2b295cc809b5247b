package install

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/wnm-project/wnm/gen"
)

// PackagedTimer is the timer wnm's Debian package ships. Where it exists the package is in
// charge of scheduling: dpkg owns the units, and its maintainer scripts keep the admin's
// enable, disable or mask choice across upgrades. Install leaves such a host alone unless forced,
// and uninstall does not disable a timer it did not write.
var PackagedTimer = filepath.Join(gen.PackagedUnitDir, gen.ScheduleTimerName)

// packaged reports whether the wnm package's timer is installed (under the root prefix).
func (in *installer) packaged() bool { return in.exists(PackagedTimer) }

// sayPackaged tells the operator that the package schedules wnm, and how to drive it.
func (in *installer) sayPackaged() {
	in.say("the wnm package is in charge here: %s runs %s every minute; nothing changed", PackagedTimer, quoteArgv(gen.PackagedSchedule().Args()))
	in.say("see `systemctl status wnm.timer wnm.service`; `systemctl disable --now wnm.timer` stops it, `apt remove wnm` removes it;")
	in.say("pass --force to install this wnm's own scheduler anyway (a system timer in /etc/systemd/system overrides the package's)")
}

// StableBinary returns the path a scheduler should run for the wnm executable at p. That is p,
// except inside a Homebrew keg (<prefix>/Cellar/<name>/<version>/bin/wnm), a path that vanishes
// with the next `brew upgrade`: there it is the prefix's bin/ symlink, or the keg's opt/ link,
// whichever leads to the same file. On Linux os.Executable resolves symlinks, so a wnm run as
// /home/linuxbrew/.linuxbrew/bin/wnm reports its Cellar path.
func StableBinary(p string) string {
	i := strings.Index(p, "/Cellar/")
	if i < 0 {
		return p
	}
	prefix, rest := p[:i], strings.Split(p[i+len("/Cellar/"):], "/")
	if len(rest) < 3 || rest[0] == "" {
		return p
	}
	target, err := os.Stat(p)
	if err != nil {
		return p
	}
	for _, c := range []string{
		filepath.Join(prefix, "bin", filepath.Base(p)),
		filepath.Join(append([]string{prefix, "opt", rest[0]}, rest[2:]...)...),
	} {
		if fi, err := os.Stat(c); err == nil && os.SameFile(fi, target) {
			return c
		}
	}
	return p
}
