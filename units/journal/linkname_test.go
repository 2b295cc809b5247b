package journal

import _ "unsafe" // for go:linkname

// journalSocket is go-systemd's journal socket path. The package documents it as a variable to
// override at build time; the socket test points it at a fake journald instead, so that the real
// journal.Send is what gets tested.
//
//go:linkname journalSocket github.com/coreos/go-systemd/v22/journal.journalSocket
var journalSocket string
