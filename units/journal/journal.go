// Package journal owns the log/slog handlers wnm writes its log through when a service manager
// runs it: [Handler] sends each record to the systemd journal in its native protocol, with every
// attribute as its own WNM_* field so that `journalctl -u wnm WNM_ACTION=upgrade` finds every
// upgrade, and [DialSyslog] gives a [SyslogHandler] that writes to the syslog socket, which macOS
// forwards to unified logging. It maps slog levels to priorities and attribute keys to field
// names, and [Choose] says from the process's environment which of them (or plain text) fits.
// It must not decide what is logged or at which level, and it builds no logger of its own: the
// command line does that.
//
// See systemd-journald.service(8), systemd.journal-fields(7) and
// https://systemd.io/JOURNAL_NATIVE_PROTOCOL/ for the protocol.
package journal

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	sdjournal "github.com/coreos/go-systemd/v22/journal"
)

// FieldPrefix starts the name of every journal field made from a slog attribute.
const FieldPrefix = "WNM_"

// Identifier is the SYSLOG_IDENTIFIER wnm's entries carry (journalctl -t wnm) and the tag of its
// syslog lines.
const Identifier = "wnm"

// maxFieldName is journald's limit on the length of a field name.
const maxFieldName = 64

// SendFunc sends one entry to the journal: go-systemd's [sdjournal.Send] has this signature.
type SendFunc func(message string, priority sdjournal.Priority, fields map[string]string) error

// Options configure a [Handler].
type Options struct {
	// Level is the minimum level logged; nil means slog.LevelInfo.
	Level slog.Leveler
	// Send delivers an entry; nil means go-systemd's journal.Send over /run/systemd/journal/socket.
	Send SendFunc
	// Fallback receives a record the journal refused (its socket went away, say), so that the
	// line is not lost; nil drops such records and returns the send error from Handle.
	Fallback slog.Handler
}

// Handler is a slog.Handler that writes to the systemd journal. Each record becomes one entry:
// MESSAGE is the record's message followed by its attributes as key=value text (what `journalctl`
// shows), PRIORITY comes from the level (see [Priority]), SYSLOG_IDENTIFIER is [Identifier], and
// every attribute is also a field of its own named by [FieldName]. It is safe for concurrent use.
type Handler struct {
	level    slog.Leveler
	send     SendFunc
	fallback slog.Handler
	scope    scope
}

// pair is one flattened attribute: its dotted key and its value as text.
type pair struct{ key, value string }

// scope is what WithAttrs and WithGroup accumulate: attributes already flattened under their
// groups, and the dotted group prefix for later ones ("" at the top).
type scope struct {
	attrs []pair
	group string
}

func (s scope) withAttrs(attrs []slog.Attr) scope {
	return scope{appendAttrs(append([]pair(nil), s.attrs...), s.group, attrs), s.group}
}

func (s scope) withGroup(name string) scope { return scope{s.attrs, s.group + name + "."} }

// pairs returns the scope's attributes followed by r's, flattened.
func (s scope) pairs(r slog.Record) []pair {
	ps := append(make([]pair, 0, len(s.attrs)+r.NumAttrs()), s.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		ps = appendAttrs(ps, s.group, []slog.Attr{a})
		return true
	})
	return ps
}

// NewHandler returns a journal [Handler] configured by opts.
func NewHandler(opts Options) *Handler {
	h := &Handler{level: opts.Level, send: opts.Send, fallback: opts.Fallback}
	if h.level == nil {
		h.level = slog.LevelInfo
	}
	if h.send == nil {
		h.send = sdjournal.Send
	}
	return h
}

// Available reports whether the local journal accepts native-protocol entries: its socket exists
// and can be dialled. A process whose stderr is a journal stream may still find the socket
// unusable (inside some containers, say); the caller then logs as text.
func Available() bool { return sdjournal.Enabled() }

// Enabled reports whether records at level l are logged.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs returns a handler whose entries also carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.scope = h.scope.withAttrs(attrs)
	if h.fallback != nil {
		h2.fallback = h.fallback.WithAttrs(attrs)
	}
	return &h2
}

// WithGroup returns a handler that qualifies later attributes with name: key k becomes
// name.k in MESSAGE and WNM_NAME_K as a field.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.scope = h.scope.withGroup(name)
	if h.fallback != nil {
		h2.fallback = h.fallback.WithGroup(name)
	}
	return &h2
}

// Handle sends r to the journal. If the journal refuses it and a fallback handler is set, the
// record goes there instead and Handle succeeds.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	msg, fields := entry(r.Message, h.scope.pairs(r))
	err := h.send(msg, Priority(r.Level), fields)
	if err == nil {
		return nil
	}
	if h.fallback != nil {
		return h.fallback.Handle(ctx, r)
	}
	return fmt.Errorf("send to the journal: %w", err)
}

// entry returns the MESSAGE text and the fields of one journal entry for a record with message
// msg and the flattened attributes pairs. A later attribute with the same field name wins.
func entry(msg string, pairs []pair) (string, map[string]string) {
	fields := make(map[string]string, len(pairs)+1)
	fields["SYSLOG_IDENTIFIER"] = Identifier
	for _, p := range pairs {
		fields[FieldName(p.key)] = p.value
	}
	return line(msg, pairs), fields
}

// line returns msg followed by the pairs as key=value text, as a person reads it.
func line(msg string, pairs []pair) string {
	var b strings.Builder
	b.WriteString(msg)
	for _, p := range pairs {
		b.WriteByte(' ')
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(quote(p.value))
	}
	return b.String()
}

// Priority maps a slog level to a syslog priority: debug and below → 7 (debug), info → 6
// (info), warn → 4 (warning), error → 3 (err). Levels between two named ones take the lower
// named one's priority.
func Priority(l slog.Level) sdjournal.Priority {
	switch {
	case l >= slog.LevelError:
		return sdjournal.PriErr
	case l >= slog.LevelWarn:
		return sdjournal.PriWarning
	case l >= slog.LevelInfo:
		return sdjournal.PriInfo
	default:
		return sdjournal.PriDebug
	}
}

// FieldName returns the journal field for the attribute key k: [FieldPrefix] followed by k in
// upper snake case. Dots (group separators), dashes, spaces and any other character journald does
// not allow become underscores, a lower-to-upper case change in camelCase starts a new word
// ("nodeID" → WNM_NODE_ID), and the name is cut to journald's 64 characters. So "action" gives
// WNM_ACTION and "duration_seconds" gives WNM_DURATION_SECONDS.
func FieldName(k string) string {
	var b strings.Builder
	b.WriteString(FieldPrefix)
	prevLower := false
	for _, c := range k {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteRune(c - 'a' + 'A')
			prevLower = true
			continue
		case c >= 'A' && c <= 'Z':
			if prevLower {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		case c >= '0' && c <= '9':
			b.WriteRune(c)
			prevLower = true // "port2Start" → PORT2_START
			continue
		default:
			b.WriteByte('_')
		}
		prevLower = false
	}
	name := b.String()
	if len(name) > maxFieldName {
		name = name[:maxFieldName]
	}
	return name
}

// appendAttrs flattens attrs under the dotted prefix and appends them to ps, following slog's
// rules: LogValuers are resolved, empty attributes are dropped, and a group with an empty key is
// inlined.
func appendAttrs(ps []pair, prefix string, attrs []slog.Attr) []pair {
	for _, a := range attrs {
		a.Value = a.Value.Resolve()
		if a.Equal(slog.Attr{}) {
			continue
		}
		if a.Value.Kind() == slog.KindGroup {
			p := prefix
			if a.Key != "" {
				p += a.Key + "."
			}
			ps = appendAttrs(ps, p, a.Value.Group())
			continue
		}
		ps = append(ps, pair{prefix + a.Key, valueText(a.Value)})
	}
	return ps
}

// valueText formats v as slog's TextHandler does, but without quoting.
func valueText(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return err.Error()
		}
		if ss, ok := v.Any().([]string); ok {
			return strings.Join(ss, ",")
		}
	}
	return v.String()
}

// quote returns s as it appears after key= in a message: bare when it is a simple word, else
// Go-quoted, as slog's TextHandler does.
func quote(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		if c == ' ' || c == '=' || c == '"' || c < ' ' || c == 0x7f || c == utf8.RuneError {
			return strconv.Quote(s)
		}
	}
	return s
}

// Target is where [Choose] says a process should log.
type Target int

const (
	// Text is readable text on stderr.
	Text Target = iota
	// Journal is the systemd journal's native protocol.
	Journal
	// Syslog is the syslog socket (macOS unified logging).
	Syslog
)

// String returns "text", "journal" or "syslog".
func (t Target) String() string {
	switch t {
	case Text:
		return "text"
	case Journal:
		return "journal"
	case Syslog:
		return "syslog"
	}
	return "Target(" + strconv.Itoa(int(t)) + ")"
}

// Env is what [Choose] looks at.
type Env struct {
	GOOS string
	// Getenv reads the process environment.
	Getenv func(string) string
	// StderrIsFD2 is false when stderr has been replaced (tests): only the real fd 2 can be the
	// journal's stream.
	StderrIsFD2 bool
	// JournalStream reports whether fd 2 is the journal's stream transport; nil means
	// [StderrIsJournalStream].
	JournalStream func() bool
	// LaunchdLabel is the label of wnm's launchd job: launchd sets XPC_SERVICE_NAME to it.
	LaunchdLabel string
}

// Choose returns where a process in e should log: the journal when systemd connected its stderr
// to the journal (a timer's cycle, `systemctl start wnm`), the system log when launchd runs it as
// the wnm job on macOS, and text on stderr everywhere else (a terminal, cron, a pipe). WNM_LOG_TARGET
// set to text, journal or syslog overrides the choice.
func Choose(e Env) Target {
	switch e.Getenv("WNM_LOG_TARGET") {
	case "text":
		return Text
	case "journal":
		return Journal
	case "syslog":
		return Syslog
	}
	if e.StderrIsFD2 {
		stream := e.JournalStream
		if stream == nil {
			stream = StderrIsJournalStream
		}
		if stream() {
			return Journal
		}
	}
	if e.GOOS == "darwin" && e.LaunchdLabel != "" && e.Getenv("XPC_SERVICE_NAME") == e.LaunchdLabel {
		return Syslog
	}
	return Text
}

// StderrIsJournalStream reports whether the process's stderr is connected to the journal: go-systemd's
// check that fd 2 is the device and inode JOURNAL_STREAM names, or a JOURNAL_STREAM that cannot be
// parsed (systemd set it, in a form this check does not know). A JOURNAL_STREAM that names another
// file means stderr was redirected (`wnm status 2>file` run from a unit's shell) and gives false.
func StderrIsJournalStream() bool {
	ok, err := sdjournal.StderrIsJournalStream()
	return ok || (err != nil && os.Getenv("JOURNAL_STREAM") != "")
}
