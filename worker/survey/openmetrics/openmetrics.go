// Package openmetrics reads the OpenMetrics text that antnode serves on
// /metrics, /metrics_extended and /metadata into client_model metric
// families.
//
// It owns one thing: turning an exposition body into
// map[string]*dto.MetricFamily. It does not fetch anything, interpret metric
// names, or decide what a value means; that is the survey's job.
//
// # Why not expfmt's OpenMetrics decoder
//
// prometheus/common v0.73.1 does ship an OpenMetrics 1.0 decoder
// (expfmt.NewDecoder with TypeOpenMetrics), but it cannot be used here:
//
//   - it rejects the `info` and `stateset` types outright, so every antnode
//     /metadata body fails;
//   - it is strict about HELP escaping, and real antnode output (libp2p's
//     identify_remote_protocols help text) contains a bare double quote, so
//     /metrics fails at that line;
//   - it runs a generic ABNF parser on every line: measured here, over
//     100 ms for the first 55 lines of a real /metrics body, where the text
//     parser reads all 547 in a millisecond or two. A cycle scrapes up to a
//     thousand nodes.
//
// So Parse feeds expfmt's classic text parser through a streaming line
// rewriter that normalises what that parser cannot read:
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
// Line numbers in parse errors are those of the input. Plain Prometheus text
// (no `# EOF`) is accepted as well.
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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Parse reads an OpenMetrics 1.0 (or Prometheus text 0.0.4) exposition from r
// and returns its metric families keyed by name. Family names are the sample
// names as written: a counter is found under its _total name, an info metric
// under its _info name. Families without samples are left out, so an empty
// body, or one holding only `# EOF`, yields an empty map and no error.
func Parse(r io.Reader) (map[string]*dto.MetricFamily, error) {
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
// Names with no such sample are absent from that map.
func ParseSelected(r io.Reader, names ...string) (map[string]*dto.MetricFamily, map[string]string, error) {
	sel := make(map[string]bool, len(names))
	for _, n := range names {
		sel[n] = true
	}
	return parse(r, sel)
}

func parse(r io.Reader, sel map[string]bool) (map[string]*dto.MetricFamily, map[string]string, error) {
	rw := &rewriter{br: bufio.NewReaderSize(r, 4<<10), sel: sel}
	if sel != nil {
		// The names a family's descriptors may carry for one of its samples to be selected: the
		// sample name itself, or without the suffix OpenMetrics adds to counter and info samples.
		rw.described = make(map[string]bool, 2*len(sel))
		for n := range sel {
			rw.described[n] = true
			for _, suffix := range []string{"_total", "_info"} {
				if base, ok := strings.CutSuffix(n, suffix); ok {
					rw.described[base] = true
				}
			}
		}
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rw)
	if err != nil {
		return nil, nil, fmt.Errorf("parse metrics: %w", rw.inputLine(err))
	}
	if sel == nil {
		return fams, nil, nil
	}
	raw := make(map[string]string, len(rw.raw))
	for name, text := range rw.raw {
		raw[name] = decimalText(text)
	}
	return fams, raw, nil
}

// inputLine rewrites the line number of a parse error, which counts the
// rewritten lines, to the number of the input line it came from.
func (rw *rewriter) inputLine(err error) error {
	var pe expfmt.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case pe.Line >= 1 && pe.Line <= len(rw.lines):
		pe.Line = rw.lines[pe.Line-1]
	default: // at the end of the input
		pe.Line = rw.inLine + 1
	}
	return pe
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
func Sum(fams map[string]*dto.MetricFamily, name string) (float64, bool) {
	mf, ok := fams[name]
	if !ok {
		return 0, false
	}
	var total float64
	for _, m := range mf.GetMetric() {
		total += value(m)
	}
	return total, true
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	case m.Histogram != nil:
		return m.Histogram.GetSampleSum()
	case m.Summary != nil:
		return m.Summary.GetSampleSum()
	}
	return 0
}

// Label returns the value of the label called label on the first series of
// the family called name that carries it, and whether one was found. It is
// how info metrics are read: Label(fams, "ant_networking_peer_id_info",
// "peer_id").
func Label(fams map[string]*dto.MetricFamily, name, label string) (string, bool) {
	for _, m := range fams[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				return lp.GetValue(), true
			}
		}
	}
	return "", false
}

// rewriter is an io.Reader that turns OpenMetrics text into text the classic
// expfmt parser accepts, one line at a time. Descriptor lines (HELP, TYPE,
// UNIT) are held back until the first sample of their family shows which name
// the samples really use; everything else streams straight through.
type rewriter struct {
	br  *bufio.Reader
	sel map[string]bool // families to keep; nil keeps all
	// described holds the family names whose descriptors may describe a selected family: a
	// family under any other name is skipped without its name being copied. Nil when sel is.
	described map[string]bool
	raw       map[string]string // first value text per selected sample name

	out []byte // rewritten text not yet handed to Read
	off int

	inLine int    // number of the input line being rewritten (from 1)
	lines  []int  // input line number of each output line
	long   []byte // accumulates a line longer than br's buffer
	err    error  // sticky error from br, returned once out is drained
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

// Read implements io.Reader. It rewrites whole lines until p can be filled,
// so the parser's buffered reads do not come back once per line.
func (rw *rewriter) Read(p []byte) (int, error) {
	if rw.off > 0 { // keep the buffer from growing with the body
		rw.out = rw.out[:copy(rw.out, rw.out[rw.off:])]
		rw.off = 0
	}
	for len(rw.out) < len(p) && !rw.done {
		rw.step()
	}
	if rw.off == len(rw.out) {
		if rw.err != nil {
			return 0, rw.err
		}
		return 0, io.EOF
	}
	n := copy(p, rw.out[rw.off:])
	rw.off += n
	return n, nil
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
	if err != nil {
		if !errors.Is(err, io.EOF) {
			rw.err = err
		}
		rw.flush(nil)
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
		// text parser reads it as is.
		rw.flush(nil)
		rw.cur = family{}
		if rw.sel == nil {
			rw.emit(line)
		}
	default:
		rw.sample(trimmed)
	}
}

// endLine terminates an output line that came from input line n.
func (rw *rewriter) endLine(n int) {
	rw.out = append(rw.out, '\n')
	rw.lines = append(rw.lines, n)
}

func (rw *rewriter) emit(b []byte) {
	rw.out = append(rw.out, b...)
	rw.endLine(rw.inLine)
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
		rw.out = append(rw.out, "# "...)
		rw.out = append(rw.out, h.kind...)
		rw.out = append(rw.out, ' ')
		rw.out = append(rw.out, name...)
		rw.out = append(rw.out, ' ')
		if h.kind == "TYPE" {
			rw.out = append(rw.out, typ...)
		} else {
			rw.out = append(rw.out, h.text...)
		}
		rw.endLine(h.line)
	}
	rw.cur.keep = keep
	rw.held = rw.held[:0]
	rw.heldName, rw.heldType = rw.heldName[:0], ""
}

// familySuffixes are the suffixes a family's samples may add to its name, by OpenMetrics type.
// Families of other types (gauge, unknown, stateset, none) have samples of their own name only.
var familySuffixes = map[string][]string{
	"counter":        {"_total", "_created"},
	"info":           {"_info"},
	"histogram":      {"_bucket", "_count", "_sum", "_created"},
	"gaugehistogram": {"_bucket", "_gcount", "_gsum"},
	"summary":        {"_count", "_sum", "_created"},
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
	for _, suffix := range familySuffixes[omType] {
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
	end := len(line)
	for i, c := range line {
		if c == '{' || c == ' ' || c == '\t' {
			end = i
			break
		}
	}
	name := line[:end]
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
	if end < len(line) && line[end] == '{' {
		labelsEnd = closingBrace(line, end)
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
		rw.out = append(rw.out, rename...)
	} else {
		rw.out = append(rw.out, name...)
	}
	rw.out = append(rw.out, line[end:labelsEnd]...)
	if len(value) > 0 {
		rw.out = append(rw.out, ' ')
		rw.out = append(rw.out, value...)
	}
	rw.endLine(rw.inLine)
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
