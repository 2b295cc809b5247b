// Package openmetrics reads the OpenMetrics text that antnode serves on
// /metrics, /metrics_extended and /metadata into metric families.
//
// It owns one thing: turning an exposition body into map[string]*Family. It
// does not fetch anything, interpret metric names, or decide what a value
// means; that is the survey's job.
//
// # How
//
// A streaming line rewriter normalises the OpenMetrics constructs into the
// classic Prometheus text format (version 0.0.4), and a small parser of that
// format reads the lines it keeps. The rewriter:
//
//   - `# EOF` ends the input; anything after it is ignored.
//   - `# UNIT` lines and other comments are dropped.
//   - `# TYPE x info` becomes a gauge named x_info when the samples are
//     x_info (OpenMetrics appends the suffix to samples only);
//   - `# TYPE x counter` is renamed to x_total when the samples carry the
//     _total suffix the TYPE line lacks; x_created samples are dropped;
//   - `stateset` becomes gauge, `unknown` becomes untyped, and gaugehistogram
//     samples x_gcount and x_gsum become x_count and x_sum;
//   - sample timestamps and exemplars are discarded (the survey only wants the
//     current value, and OpenMetrics timestamps are float seconds where the
//     text format wants integer milliseconds).
//
// The parser follows the rules of the text format's reference parser (see
// the parser type); its tests check it against that parser on the same
// lines. Line numbers in parse errors are those of the input. Plain
// Prometheus text (no `# EOF`) is accepted as well.
//
// # Why not a library
//
// The Prometheus libraries' OpenMetrics decoder rejects the `info` and
// `stateset` types (every antnode /metadata body), is strict about HELP
// escaping where real antnode output (libp2p's identify_remote_protocols help
// text) holds a bare double quote, and runs a generic grammar parser on every
// line, over 100 ms for the first 55 lines of a real /metrics body. Their
// classic text parser reads the rewritten text well, but builds protobuf
// messages, and linking protobuf's registry and those libraries costs every
// wnm command, --version included, several milliseconds of start-up.
package openmetrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"sync"
)

// Parse reads an OpenMetrics 1.0 (or Prometheus text 0.0.4) exposition from r
// and returns its metric families keyed by name. Family names are the sample
// names as written: a counter is found under its _total name, an info metric
// under its _info name. Families without samples are left out, so an empty
// body, or one holding only `# EOF`, yields an empty map and no error.
func Parse(r io.Reader) (map[string]*Family, error) {
	fams, _, err := parse(r, nil)
	return fams, err
}

// ParseSelected is [Parse] for a caller that wants only a few families of a
// large body. It returns only the families whose names (as Parse would key
// them) are listed, and skips every other line without handing it to the
// parser, which makes it several times cheaper on antnode's /metrics. Lines
// that are skipped are not checked, so a body that holds none of the named
// families yields an empty map and no error. HELP lines are skipped too: the
// families it returns carry no help text.
//
// It also returns, for each listed name, the value of the first sample with
// exactly that name as decimal text, without a round trip through float64:
// integers keep every digit (a wallet balance in atto units does not fit a
// float64 exactly) and a value in exponent form is expanded to plain decimal.
// Names with no such sample are absent from that map, and so are the names of
// samples written with their name inside the braces ({"name"} 1).
func ParseSelected(r io.Reader, names ...string) (map[string]*Family, map[string]string, error) {
	return Select(names...).Parse(r)
}

// A Selection is the set of family names [ParseSelected] keeps, prepared once
// for a caller that parses many bodies for the same names (a survey parses
// one per node). It is safe for concurrent use.
type Selection struct {
	sel map[string]bool
	// described holds the names a family's descriptors may carry for one of its samples to be
	// selected: the sample name itself, or without the suffix OpenMetrics adds to counter and
	// info samples.
	described map[string]bool
}

// Select prepares the selection of the named families.
func Select(names ...string) *Selection {
	s := &Selection{sel: make(map[string]bool, len(names)), described: make(map[string]bool, 2*len(names))}
	for _, n := range names {
		s.sel[n] = true
		s.described[n] = true
		for _, suffix := range []string{"_total", "_info"} {
			if base, ok := strings.CutSuffix(n, suffix); ok {
				s.described[base] = true
			}
		}
	}
	return s
}

// Parse is [ParseSelected] with the names of s.
func (s *Selection) Parse(r io.Reader) (map[string]*Family, map[string]string, error) {
	return parse(r, s)
}

func parse(r io.Reader, s *Selection) (map[string]*Family, map[string]string, error) {
	p := newParser()
	rw := newRewriter(r, s, p.line)
	err := rw.run()
	rw.release()
	if err != nil {
		return nil, nil, fmt.Errorf("parse metrics: %w", err)
	}
	fams := p.families()
	if s == nil {
		return fams, nil, nil
	}
	raw := make(map[string]string, len(rw.raw))
	for name, text := range rw.raw {
		raw[name] = decimalText(text)
	}
	return fams, raw, nil
}

// readers keeps the line readers of finished parses for the next: a survey parses a body per
// node, and a fresh 4 KB buffer each time is memory the process must fault in.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}

func newRewriter(r io.Reader, s *Selection, sink func(line []byte, n int) error) *rewriter {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	rw := &rewriter{br: br, sink: sink}
	if s != nil {
		rw.sel, rw.described = s.sel, s.described
	}
	return rw
}

// release hands the rewriter's line reader back for the next parse. The rewriter must not be
// used after it.
func (rw *rewriter) release() {
	rw.br.Reset(nil)
	readers.Put(rw.br)
	rw.br = nil
}

// run rewrites the whole input, handing each line to the sink, and returns
// the first error of the reader or the sink.
func (rw *rewriter) run() error {
	for !rw.done {
		rw.step()
	}
	return rw.err
}

// decimalText writes a sample value as plain decimal text. Plain integers
// pass through untouched; anything else goes through math/big so no digits
// are invented or lost. Text that is not a finite number (NaN, +Inf) is
// returned as written.
func decimalText(s string) string {
	if isPlainInteger(s) {
		return strings.TrimPrefix(s, "+")
	}
	var q big.Rat
	if _, ok := q.SetString(s); !ok {
		return s
	}
	if q.IsInt() {
		return q.Num().String()
	}
	f, _ := q.Float64()
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func isPlainInteger(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Sum returns the sum over every series of the family called name, and
// whether the family exists. Counter, gauge and untyped series are summed;
// for histograms and summaries the sample sum is used.
func Sum(fams map[string]*Family, name string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	var total float64
	for _, m := range f.Metrics {
		total += m.Value
	}
	return total, true
}

// Label returns the value of the label called label on the first series of
// the family called name that carries it, and whether one was found. It is
// how info metrics are read: Label(fams, "ant_networking_peer_id_info",
// "peer_id").
func Label(fams map[string]*Family, name, label string) (string, bool) {
	f := fams[name]
	if f == nil {
		return "", false
	}
	for _, m := range f.Metrics {
		for _, l := range m.Labels {
			if l.Name == label {
				return l.Value, true
			}
		}
	}
	return "", false
}

// rewriter turns OpenMetrics text into Prometheus text (version 0.0.4), one
// line at a time, and hands each line it keeps to its sink. Descriptor lines
// (HELP, TYPE, UNIT) are held back until the first sample of their family
// shows which name the samples really use; everything else streams straight
// through.
type rewriter struct {
	br  *bufio.Reader
	sel map[string]bool // families to keep; nil keeps all
	// described holds the family names whose descriptors may describe a selected family: a
	// family under any other name is skipped without its name being copied. Nil when sel is.
	described map[string]bool
	raw       map[string]string // first value text per selected sample name

	// sink receives each rewritten line, without its line end, with the number of the input
	// line it came from; an error from it ends the rewriting.
	sink func(line []byte, n int) error
	out  []byte // scratch for a line that is rewritten rather than passed on
	// names reads the metric name of a line that starts with '{' for ParseSelected.
	names parser

	inLine int    // number of the input line being rewritten (from 1)
	long   []byte // accumulates a line longer than br's buffer
	err    error  // the first error of br or sink
	done   bool

	held     []held // descriptor lines of the family named heldName
	heldName []byte // reused, so that the families skipped cost no allocation
	heldType string // the TYPE as written, lower case; "" if none yet

	cur     family // family of the samples being read
	curBase []byte // cur's name without any OpenMetrics suffix (reused)
}

type held struct {
	kind string // "HELP", "TYPE", or "" for a dropped UNIT line
	text string // the rest of the line after the family name
	line int    // input line number
}

// family is the family that the preceding descriptors opened.
type family struct {
	valid  bool   // its name without any OpenMetrics suffix is rewriter.curBase
	omType string // the TYPE as written, lower case
	keep   bool   // whether its lines go to the parser
}

func (rw *rewriter) selected(name string) bool {
	return rw.sel == nil || rw.sel[name]
}

// step reads one input line and appends its rewrite to out.
func (rw *rewriter) step() {
	line, err := rw.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		rw.long = append(rw.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = rw.br.ReadSlice('\n')
			rw.long = append(rw.long, line...)
		}
		line = rw.long
	}
	if len(line) > 0 {
		rw.inLine++
		rw.line(bytes.TrimRight(line, "\r\n"))
	}
	if err != nil && !rw.done {
		rw.flush(nil)
		if !errors.Is(err, io.EOF) {
			rw.err = err // a body cut short outweighs what its last lines lack
		}
		rw.done = true
	}
}

func (rw *rewriter) line(line []byte) {
	trimmed := trimBlanks(line)
	switch {
	case len(trimmed) == 0:
		// Dropped, like every line the parser need not see: an empty
		// line costs it an allocation, and error line numbers are mapped
		// back to the input anyway.
	case trimmed[0] == '#':
		rw.comment(trimmed[1:])
	case trimmed[0] == '{':
		// A quoted UTF-8 metric name inside the braces: rare, and the
		// parser reads it as is.
		rw.flush(nil)
		rw.cur = family{}
		if rw.sel == nil || rw.sel[string(rw.names.bracedName(trimmed))] {
			rw.emit(line)
		}
	default:
		rw.sample(trimmed)
	}
}

// put hands the line b, which came from input line n, to the sink.
func (rw *rewriter) put(b []byte, n int) {
	if rw.done {
		return
	}
	if err := rw.sink(b, n); err != nil {
		rw.err, rw.done = err, true
	}
}

func (rw *rewriter) emit(b []byte) {
	rw.put(b, rw.inLine)
}

func (rw *rewriter) comment(rest []byte) {
	keyword, rest := token(rest)
	switch string(keyword) {
	case "EOF":
		if len(bytes.TrimSpace(rest)) == 0 {
			rw.flush(nil)
			rw.done = true
			return
		}
	case "HELP", "TYPE", "UNIT":
		name, text := token(rest)
		if len(name) == 0 {
			return // a bare "# HELP": nothing to describe
		}
		if len(rw.held) > 0 && !bytes.Equal(name, rw.heldName) {
			rw.flush(nil)
		}
		if !bytes.Equal(name, rw.heldName) {
			rw.heldName = append(rw.heldName[:0], name...)
		}
		rw.cur = family{}
		switch string(keyword) {
		case "UNIT":
			rw.held = append(rw.held, held{line: rw.inLine})
		case "TYPE":
			rw.heldType = typeName(bytes.TrimSpace(text))
			rw.held = append(rw.held, held{kind: "TYPE", text: rw.heldType, line: rw.inLine})
		default:
			h := held{kind: "HELP", line: rw.inLine}
			switch {
			case rw.sel != nil:
				// ParseSelected's callers read values and labels, not help text: the line
				// groups the family's descriptors, like UNIT, and is not handed to the parser,
				// which would copy and unescape it.
				h.kind = ""
			default:
				h.text = string(text)
			}
			rw.held = append(rw.held, h)
		}
		return
	}
	// Any other comment is dropped.
}

var typeNames = []string{"counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown", "untyped"}

// typeName returns the TYPE in lower case, without allocating for the usual
// ones.
func typeName(b []byte) string {
	for _, t := range typeNames {
		if bytes.EqualFold(b, []byte(t)) {
			return t
		}
	}
	return strings.ToLower(string(b))
}

// token splits the first blank-separated word off b.
func token(b []byte) (word, rest []byte) {
	b = trimBlanks(b)
	i := indexBlank(b)
	if i < 0 {
		return b, nil
	}
	return b[:i], trimBlanks(b[i:])
}

// trimBlanks drops the leading spaces and tabs of b. It and indexBlank are bytes.TrimLeft and
// bytes.IndexAny for " \t", which cost more than the rest of a line's rewriting when the set is
// built on every call.
func trimBlanks(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// indexBlank returns the index of the first space or tab in b, or -1.
func indexBlank(b []byte) int {
	for i, c := range b {
		if c == ' ' || c == '\t' {
			return i
		}
	}
	return -1
}

// flush emits the held descriptor lines. sample is the name of the first
// sample that follows them (nil if none), which tells whether OpenMetrics
// added a suffix the descriptors lack.
func (rw *rewriter) flush(sample []byte) {
	if len(rw.held) == 0 {
		rw.heldName, rw.heldType = rw.heldName[:0], ""
		return
	}
	typ := rw.heldType
	base := rw.heldName
	if typ == "counter" {
		base = bytes.TrimSuffix(base, []byte("_total"))
	}
	rw.curBase = append(rw.curBase[:0], base...)
	rw.cur = family{valid: true, omType: rw.heldType}
	if rw.sel != nil && !rw.described[string(rw.heldName)] {
		// Neither this name nor the one a sample suffix makes of it is selected.
		rw.held = rw.held[:0]
		rw.heldName, rw.heldType = rw.heldName[:0], ""
		return
	}
	name := string(rw.heldName)
	switch typ {
	case "counter":
		if !strings.HasSuffix(name, "_total") && (suffixed(sample, name, "_total") || suffixed(sample, name, "_created")) {
			name += "_total"
		}
	case "info":
		if suffixed(sample, name, "_info") {
			name += "_info"
		}
		typ = "gauge"
	case "stateset":
		typ = "gauge"
	case "unknown":
		typ = "untyped"
	}
	keep := rw.selected(name)
	for _, h := range rw.held {
		if !keep || h.kind == "" {
			continue
		}
		rw.out = append(rw.out[:0], "# "...)
		rw.out = append(rw.out, h.kind...)
		rw.out = append(rw.out, ' ')
		rw.out = append(rw.out, name...)
		rw.out = append(rw.out, ' ')
		if h.kind == "TYPE" {
			rw.out = append(rw.out, typ...)
		} else {
			rw.out = append(rw.out, h.text...)
		}
		rw.put(rw.out, h.line)
	}
	rw.cur.keep = keep
	rw.held = rw.held[:0]
	rw.heldName, rw.heldType = rw.heldName[:0], ""
}

// The suffixes a family's samples may add to its name, by OpenMetrics type. Slices of constants
// are laid out by the linker; a map would be built at start-up by every wnm command.
var (
	counterSuffixes        = []string{"_total", "_created"}
	infoSuffixes           = []string{"_info"}
	histogramSuffixes      = []string{"_bucket", "_count", "_sum", "_created"}
	gaugeHistogramSuffixes = []string{"_bucket", "_gcount", "_gsum"}
	summarySuffixes        = []string{"_count", "_sum", "_created"}
)

// familySuffixes returns the suffixes of a family of OpenMetrics type omType. Families of other
// types (gauge, unknown, stateset, none) have samples of their own name only.
func familySuffixes(omType string) []string {
	switch omType {
	case "counter":
		return counterSuffixes
	case "info":
		return infoSuffixes
	case "histogram":
		return histogramSuffixes
	case "gaugehistogram":
		return gaugeHistogramSuffixes
	case "summary":
		return summarySuffixes
	}
	return nil
}

// ofFamily reports whether a sample named name belongs to the family base of OpenMetrics type
// omType: it is base itself, or base with one of the type's suffixes. "a0" is not of "a", and
// "a_" is of no family but its own.
func ofFamily(name, base []byte, omType string) bool {
	if bytes.Equal(name, base) {
		return true
	}
	if len(name) <= len(base) || !bytes.Equal(name[:len(base)], base) {
		return false
	}
	for _, suffix := range familySuffixes(omType) {
		if string(name[len(base):]) == suffix {
			return true
		}
	}
	return false
}

// suffixed reports whether b is name followed by suffix.
func suffixed(b []byte, name, suffix string) bool {
	return len(b) == len(name)+len(suffix) && string(b[:len(name)]) == name && string(b[len(name):]) == suffix
}

func (rw *rewriter) sample(line []byte) {
	// The name ends where the parser's does: at the first byte that cannot continue it.
	end := 0
	for end < len(line) && nameContinues(line[end], false) && line[end] != '"' {
		end++
	}
	name := line[:end]
	if end < len(line) && line[end] == '"' {
		// A quoted name, or one with a quoted part: rare, so the parser's reader unescapes it.
		n, next, err := rw.names.readName(line, 0, false)
		if err != nil {
			n, next = line, len(line) // the parser reports it, if the line is kept
		}
		name, end = n, next
	}
	if len(rw.held) > 0 {
		rw.flush(name)
	}
	// A sample of another name than the described family (descriptors with no samples of
	// their own) is an untyped family of its own, as the parser reads it.
	if rw.cur.valid && !ofFamily(name, rw.curBase, rw.cur.omType) {
		rw.cur = family{}
	}
	keep := rw.cur.keep
	if !rw.cur.valid {
		// A sample with no descriptors is an untyped family of its own.
		keep = rw.selected(string(name))
	}
	if !keep {
		return
	}

	var rename string
	if base := rw.curBase; rw.cur.valid && len(name) > len(base) {
		switch string(name[len(base):]) {
		case "_created":
			switch rw.cur.omType {
			case "counter", "histogram", "gaugehistogram", "summary":
				return // creation time: not a value
			}
		case "_gcount":
			if rw.cur.omType == "gaugehistogram" {
				rename = string(base) + "_count"
			}
		case "_gsum":
			if rw.cur.omType == "gaugehistogram" {
				rename = string(base) + "_sum"
			}
		}
	}

	// Find the end of the label set, honouring quotes and escapes, so a
	// space or '#' inside a label value is not taken for a separator.
	labelsEnd := end
	if open := skipBlanks(line, end); open < len(line) && line[open] == '{' {
		labelsEnd = closingBrace(line, open)
	}
	rest := trimBlanks(line[labelsEnd:])
	value, extra := rest, false
	if i := indexBlank(rest); i >= 0 {
		value, extra = rest[:i], len(bytes.TrimSpace(rest[i:])) > 0
	}
	if rw.sel != nil && rw.sel[string(name)] && len(value) > 0 {
		if _, seen := rw.raw[string(name)]; !seen {
			if rw.raw == nil {
				rw.raw = make(map[string]string)
			}
			rw.raw[string(name)] = string(value)
		}
	}
	if rename == "" && !extra {
		rw.emit(line)
		return
	}
	if rename != "" {
		rw.out = append(rw.out[:0], rename...)
	} else {
		rw.out = append(rw.out[:0], line[:end]...)
	}
	rw.out = append(rw.out, line[end:labelsEnd]...)
	if len(value) > 0 {
		rw.out = append(rw.out, ' ')
		rw.out = append(rw.out, value...)
	}
	rw.put(rw.out, rw.inLine)
}

// closingBrace returns the index just past the '}' that closes the '{' at
// line[open], or len(line) if it is never closed (the text parser then
// reports the error).
func closingBrace(line []byte, open int) int {
	inQuote := false
	for i := open + 1; i < len(line); i++ {
		switch c := line[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '}':
			return i + 1
		}
	}
	return len(line)
}
