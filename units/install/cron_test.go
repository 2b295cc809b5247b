package install

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wnm-project/wnm/gen"
)

const block = gen.CronMarker + "\nPATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin\n" + gen.CronMarker + "\n* * * * * /usr/bin/wnm run >>/var/log/wnm.log 2>&1\n"

const oldBlock = gen.CronMarker + "\nPATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin\n" + gen.CronMarker + "\n* * * * * /opt/old/wnm run >>/var/log/wnm.log 2>&1\n"

func TestMergeCrontab(t *testing.T) {
	tests := []struct {
		name, table, want string
	}{
		{"empty", "", block},
		{"appended, lines kept byte for byte", "MAILTO=\"\"\n0 3 * * *\t/usr/bin/backup   -q \n", "MAILTO=\"\"\n0 3 * * *\t/usr/bin/backup   -q \n" + block},
		{"last line without a newline", "@reboot /bin/x", "@reboot /bin/x\n" + block},
		{"CRLF lines kept", "# a\r\n@reboot /bin/x\r\n", "# a\r\n@reboot /bin/x\r\n" + block},
		{"already there", "# a\n" + block + "@reboot /bin/x\n", "# a\n" + block + "@reboot /bin/x\n"},
		{"replaced in place", "# a\n" + oldBlock + "@reboot /bin/x\n", "# a\n" + block + "@reboot /bin/x\n"},
		{"scattered old lines gathered at the first", gen.CronMarker + "\nPATH=/bin\n# mine\n" + gen.CronMarker + "\n* * * * * /old run\n", block + "# mine\n"},
		{"marker with trailing space", gen.CronMarker + " \nPATH=/bin\n", block},
		{"marker at the end", "# a\n" + gen.CronMarker + "\n", "# a\n" + block},
		{"marker after marker", gen.CronMarker + "\n" + gen.CronMarker + "\n* * * * * /old run\n# mine\n", block + "# mine\n"},
		{"look-alike comment kept", "# wnm: managed by hand\n@reboot /bin/x\n", "# wnm: managed by hand\n@reboot /bin/x\n" + block},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(mergeCrontab([]byte(tt.table), []byte(block)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mergeCrontab(%q) (-want +got):\n%s", tt.table, diff)
			}
			again := string(mergeCrontab([]byte(got), []byte(block)))
			if again != got {
				t.Errorf("mergeCrontab is not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestStripCrontab(t *testing.T) {
	tests := []struct {
		name, table, want string
		found             bool
	}{
		{"empty", "", "", false},
		{"none", "# a\n@reboot /bin/x", "# a\n@reboot /bin/x", false},
		{"only wnm", block, "", true},
		{"middle, rest byte for byte", "# a\r\n\t0 3 * * * x  \n" + block + "@reboot /bin/x", "# a\r\n\t0 3 * * * x  \n@reboot /bin/x", true},
		{"old binary", oldBlock, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := stripCrontab([]byte(tt.table))
			if string(got) != tt.want || found != tt.found {
				t.Errorf("stripCrontab(%q) = %q, %v; want %q, %v", tt.table, got, found, tt.want, tt.found)
			}
		})
	}
}

// TestMergeStripRoundTrip: installing and then uninstalling gives back the table (with a final
// newline added if it had none).
func TestMergeStripRoundTrip(t *testing.T) {
	for _, table := range []string{"", "# a\n", "MAILTO=x\n*/5 * * * * /bin/y\n"} {
		merged := mergeCrontab([]byte(table), []byte(block))
		back, found := stripCrontab(merged)
		if !found || string(back) != table {
			t.Errorf("strip(merge(%q)) = %q, %v", table, back, found)
		}
	}
}
