package openmetrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Family is one metric family: the samples of one name, or a histogram or
// summary with the _bucket, _count and _sum samples that belong to it.
type Family struct {
	Name    string
	Type    Type
	Metrics []Metric
}

// Type is a family's type as the Prometheus text format spells it.
type Type string

// The family types. OpenMetrics' info and stateset families are read as
// gauges, unknown as untyped.
const (
	Counter        Type = "counter"
	Gauge          Type = "gauge"
	Summary        Type = "summary"
	Untyped        Type = "untyped"
	Histogram      Type = "histogram"
	GaugeHistogram Type = "gauge_histogram"
)

// Metric is one series of a family: its labels, in the order written, and
// its value. For a counter, gauge or untyped series that is the sample value;
// for a histogram or summary it is the sample sum (the _sum sample; 0 when
// there is none), and the labels leave out le and quantile.
type Metric struct {
	Labels []LabelPair
	Value  float64
}

// LabelPair is one label of a series.
type LabelPair struct {
	Name, Value string
}

// ParseError is a body that is not valid exposition text. Line counts the
// lines of the input, from 1.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// typeWord returns the type a TYPE line names, in any case. "gaugehistogram"
// is the OpenMetrics spelling. (A switch, not a map: a package-level map is
// built at start-up by every wnm command.)
func typeWord(w string) (Type, bool) {
	switch strings.ToLower(w) {
	case "counter":
		return Counter, true
	case "gauge":
		return Gauge, true
	case "summary":
		return Summary, true
	case "untyped":
		return Untyped, true
	case "histogram":
		return Histogram, true
	case "gauge_histogram", "gaugehistogram":
		return GaugeHistogram, true
	}
	return "", false
}

// entry is a family being read.
type entry struct {
	Family
	typed  bool // a TYPE line or a sample fixed the type
	helped bool // a HELP line was read
	// series maps the label signature of a histogram or summary series
	// (its labels but le and quantile) to its index in Metrics.
	series map[string]int
}

func (e *entry) grouped() bool {
	return e.Type == Summary || e.Type == Histogram || e.Type == GaugeHistogram
}

// parser reads the lines of the Prometheus text format (version 0.0.4)
// that the rewriter hands it, one at a time, into families. Its rules are
// those of the format's reference parser: families are keyed by name, and a
// sample named x_count, x_sum or x_bucket joins the summary or histogram x
// when that family was declared before it; a TYPE line must come before the
// family's samples and only once, as must a HELP line; label names are
// unique within a series (le and quantile aside for histograms and
// summaries) and __name__ is reserved; names and label values are UTF-8;
// escapes are \\, \" and \n; a value is a Go float (NaN, +Inf, -Inf, no hex
// floats) and may be followed by an integer timestamp, which is dropped.
type parser struct {
	fams   map[string]*entry
	cur    *entry // family of the line being read
	pairs  []LabelPair
	sorted []LabelPair       // scratch for a series signature
	tok    []byte            // scratch for unescaping names and label values
	sig    []byte            // scratch for a series signature
	names  map[string]string // label names, interned
	// Of the sample being read, for histograms and summaries.
	isCount, isSum bool
	le             float64 // NaN when absent
}

func newParser() *parser {
	return &parser{fams: make(map[string]*entry)}
}

// families returns what was read, leaving out the families without samples.
func (p *parser) families() map[string]*Family {
	out := make(map[string]*Family, len(p.fams))
	for name, e := range p.fams {
		if len(e.Metrics) > 0 {
			out[name] = &e.Family
		}
	}
	return out
}

// lineError is a parse error on the line being read; the rewriter fills in
// the input line number.
type lineError string

func (e lineError) Error() string { return string(e) }

func errorf(format string, args ...any) lineError {
	return lineError(fmt.Sprintf(format, args...))
}

// at returns b[i], or '\n' at the end of the line: a line is read as if it
// still ended in its newline.
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return '\n'
}

func skipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// line reads one line, without its line end; n is its number in the input.
func (p *parser) line(b []byte, n int) error {
	var err error
	i := skipBlanks(b, 0)
	switch {
	case i == len(b):
		return nil
	case b[i] == '#':
		err = p.comment(b, i+1)
	default:
		err = p.sample(b, i, b[i] == '{')
	}
	if err == nil {
		return nil
	}
	var msg lineError
	if errors.As(err, &msg) {
		return &ParseError{Line: n, Msg: string(msg)}
	}
	return err
}

func (p *parser) comment(b []byte, i int) error {
	i = skipBlanks(b, i)
	j := i
	for j < len(b) && !isBlank(b[j]) {
		j++
	}
	if j == len(b) {
		return nil // a keyword alone, or an empty comment
	}
	keyword := string(b[i:j])
	if keyword != "HELP" && keyword != "TYPE" {
		return nil
	}
	i = skipBlanks(b, j)
	name, i, err := p.readName(b, i, false)
	if err != nil {
		return err
	}
	c := at(b, i)
	if c == '\n' {
		return nil
	}
	if !isBlank(c) {
		return lineError("invalid metric name in comment")
	}
	if err := p.lookup(name); err != nil {
		return err
	}
	i = skipBlanks(b, i)
	if i == len(b) {
		return nil
	}
	if keyword == "HELP" {
		if p.cur.helped {
			return errorf("second HELP line for metric name %q", p.cur.Name)
		}
		// The help text is not kept, but its escapes must be valid.
		for ; i < len(b); i++ {
			if b[i] == '\\' {
				i++
				if c := at(b, i); c != '\\' && c != 'n' && c != '"' {
					return errorf("invalid escape sequence '\\%c'", c)
				}
			}
		}
		p.cur.helped = true
		return nil
	}
	if p.cur.typed {
		return errorf("second TYPE line for metric name %q, or TYPE reported after samples", p.cur.Name)
	}
	t, ok := typeWord(string(b[i:]))
	if !ok {
		return errorf("unknown metric type %q", b[i:])
	}
	p.cur.Type, p.cur.typed = t, true
	return nil
}

// readName reads a metric or label name starting at b[i] into p.tok: the
// name characters [a-zA-Z0-9_:] (no colon in a label name), or a quoted
// UTF-8 name with escapes. It returns an empty name if b[i] cannot start one,
// and the index of the first byte after the name.
func (p *parser) readName(b []byte, i int, label bool) ([]byte, int, error) {
	p.tok = p.tok[:0]
	if !nameStart(at(b, i), label) {
		return p.tok, i, nil
	}
	quoted, escaped := false, false
	for {
		c := at(b, i)
		switch {
		case escaped:
			switch c {
			case '\\', '"':
				p.tok = append(p.tok, c)
			case 'n':
				p.tok = append(p.tok, '\n')
			default:
				return nil, i, errorf("invalid escape sequence '\\%c'", c)
			}
			escaped = false
		case c == '"':
			quoted = !quoted
			if !quoted {
				return p.tok, i + 1, nil
			}
		case c == '\n':
			kind := "metric"
			if label {
				kind = "label"
			}
			return nil, i, errorf("%s name %q contains unescaped new-line", kind, p.tok)
		case c == '\\':
			escaped = true
		default:
			p.tok = append(p.tok, c)
		}
		i++
		// Inside quotes every byte continues the name.
		if !quoted && !nameContinues(at(b, i), label) {
			return p.tok, i, nil
		}
	}
}

func nameStart(c byte, label bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '"' || !label && c == ':'
}

func nameContinues(c byte, label bool) bool {
	return nameStart(c, label) || c >= '0' && c <= '9'
}

// lookup makes p.cur the family a line naming name belongs to: the family
// of that name, else the summary or histogram it is the _count, _sum or
// _bucket of, else a new family.
func (p *parser) lookup(name []byte) error {
	p.isCount, p.isSum = false, false
	if len(name) == 0 || !utf8.Valid(name) {
		return errorf("invalid metric name %q", name)
	}
	if e := p.fams[string(name)]; e != nil {
		p.cur = e
		return nil
	}
	count := len(name) > 6 && string(name[len(name)-6:]) == "_count"
	sum := len(name) > 4 && string(name[len(name)-4:]) == "_sum"
	var base []byte
	switch {
	case count:
		base = name[:len(name)-6]
	case sum:
		base = name[:len(name)-4]
	case len(name) > 7 && string(name[len(name)-7:]) == "_bucket":
		if e := p.fams[string(name[:len(name)-7])]; e != nil && (e.Type == Histogram || e.Type == GaugeHistogram) {
			p.cur = e
			return nil
		}
	}
	if base != nil {
		if e := p.fams[string(base)]; e != nil && e.grouped() {
			p.cur, p.isCount, p.isSum = e, count, sum
			return nil
		}
	}
	n := string(name)
	p.cur = &entry{Family: Family{Name: n}}
	p.fams[n] = p.cur
	return nil
}

// sample reads a sample line from b[i]; braced says it starts with '{', with
// the metric name inside the braces.
func (p *parser) sample(b []byte, i int, braced bool) error {
	p.pairs = p.pairs[:0]
	p.le = math.NaN()
	if !braced {
		name, j, err := p.readName(b, i, false)
		if err != nil {
			return err
		}
		if len(name) == 0 {
			return lineError("invalid metric name")
		}
		if err := p.lookup(name); err != nil {
			return err
		}
		i = j
		if isBlank(at(b, i)) {
			i = skipBlanks(b, i)
		}
	}
	if at(b, i) == '{' {
		var named bool
		var err error
		if i, named, err = p.labels(b, i+1, braced); err != nil {
			return err
		}
		if !named {
			return lineError("invalid metric name")
		}
		i = skipBlanks(b, i)
	}
	return p.value(b, i)
}

// labels reads a label set from just after its '{' and returns the index
// after its '}'. In a braced line, the one label without a value is the
// metric name; named reports whether there was one (true if !braced).
func (p *parser) labels(b []byte, i int, braced bool) (int, bool, error) {
	named := !braced
	for {
		i = skipBlanks(b, i)
		if at(b, i) == '}' {
			return i + 1, named, nil
		}
		lname, j, err := p.readName(b, i, true)
		if err != nil {
			return 0, false, err
		}
		if len(lname) == 0 {
			if !named {
				return 0, false, lineError("invalid label name")
			}
			return 0, false, errorf("invalid label name for metric %q", p.cur.Name)
		}
		i = j
		if isBlank(at(b, i)) {
			i = skipBlanks(b, i)
		}
		if c := at(b, i); c != '=' {
			if !braced {
				return 0, false, errorf("expected '=' after label name, found %q", c)
			}
			if named {
				return 0, false, errorf("multiple metric names for metric %q", p.cur.Name)
			}
			if c != ',' && c != '}' {
				return 0, false, errorf("unexpected end of metric name %q", c)
			}
			if err := p.lookup(lname); err != nil {
				return 0, false, err
			}
			named = true
			if c == '}' {
				return i + 1, true, nil
			}
			i++
			continue
		}
		name := p.intern(lname)
		if name == "__name__" {
			return 0, false, lineError(`label name "__name__" is reserved`)
		}
		if !utf8.ValidString(name) {
			return 0, false, errorf("invalid label name %q", name)
		}
		if i = skipBlanks(b, i+1); at(b, i) != '"' {
			return 0, false, errorf("expected '\"' at start of label value, found %q", at(b, i))
		}
		value, j, err := p.labelValue(b, i+1)
		if err != nil {
			return 0, false, err
		}
		i = j
		if err := p.label(name, value); err != nil {
			return 0, false, err
		}
		i = skipBlanks(b, i)
		switch at(b, i) {
		case ',':
			i++
		case '}':
			return i + 1, named, nil
		default:
			return 0, false, errorf("unexpected end of label value %q", value)
		}
	}
}

// bracedName returns the metric name of a sample line b that starts with
// '{': the one label without a value. It returns nil if the line breaks
// the format before the name.
func (p *parser) bracedName(b []byte) []byte {
	i := skipBlanks(b, 0) + 1
	for {
		name, j, err := p.readName(b, skipBlanks(b, i), true)
		if err != nil || len(name) == 0 {
			return nil
		}
		if i = skipBlanks(b, j); at(b, i) != '=' {
			return name
		}
		if i = skipBlanks(b, i+1); at(b, i) != '"' {
			return nil
		}
		if _, j, err = p.labelValue(b, i+1); err != nil {
			return nil
		}
		if i = skipBlanks(b, j); at(b, i) != ',' {
			return nil
		}
		i++
	}
}

// intern returns b as a string, the same string for every label of that name: a body repeats a
// few label names on many lines.
func (p *parser) intern(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	if p.names == nil {
		p.names = make(map[string]string)
	}
	s := string(b)
	p.names[s] = s
	return s
}

// labelValue reads a quoted label value from just after its opening quote
// and returns it with the index after its closing quote.
func (p *parser) labelValue(b []byte, i int) (string, int, error) {
	start := i
	for ; i < len(b) && b[i] != '"' && b[i] != '\\'; i++ {
	}
	if at(b, i) == '"' { // no escapes: the common case
		v := b[start:i]
		if !utf8.Valid(v) {
			return "", 0, errorf("invalid label value %q", v)
		}
		return string(v), i + 1, nil
	}
	p.tok = append(p.tok[:0], b[start:i]...)
	for ; ; i++ {
		switch c := at(b, i); c {
		case '"':
			if !utf8.Valid(p.tok) {
				return "", 0, errorf("invalid label value %q", p.tok)
			}
			return string(p.tok), i + 1, nil
		case '\n':
			return "", 0, errorf("label value %q contains unescaped new-line", p.tok)
		case '\\':
			i++
			switch e := at(b, i); e {
			case '"', '\\':
				p.tok = append(p.tok, e)
			case 'n':
				p.tok = append(p.tok, '\n')
			default:
				return "", 0, errorf("invalid escape sequence '\\%c'", e)
			}
		default:
			p.tok = append(p.tok, c)
		}
	}
}

// label records one label of the sample being read.
func (p *parser) label(name, value string) error {
	var t Type
	if p.cur != nil { // nil before a braced name on the first line
		t = p.cur.Type
	}
	switch {
	case t == Summary && name == "quantile":
		if _, err := parseFloat(value); err != nil {
			return errorf("expected float as value for 'quantile' label, got %q", value)
		}
		return nil
	case (t == Histogram || t == GaugeHistogram) && name == "le":
		le, err := parseFloat(value)
		if err != nil {
			return errorf("expected float as value for 'le' label, got %q", value)
		}
		p.le = le
		return nil
	}
	for _, l := range p.pairs {
		if l.Name == name {
			if p.cur == nil {
				return lineError("duplicate label names")
			}
			return errorf("duplicate label names for metric %q", p.cur.Name)
		}
	}
	p.pairs = append(p.pairs, LabelPair{Name: name, Value: value})
	return nil
}

// value reads the value, and the timestamp if any, from b[i] and adds the
// sample to its family.
func (p *parser) value(b []byte, i int) error {
	e := p.cur
	if !e.typed {
		e.Type, e.typed = Untyped, true
	}
	m := p.series()
	j := i
	for j < len(b) && !isBlank(b[j]) {
		j++
	}
	v, err := parseFloat(string(b[i:j]))
	if err != nil {
		return errorf("expected float as value, got %q", b[i:j])
	}
	switch e.Type {
	case Counter, Gauge, Untyped:
		m.Value = v
	case Summary:
		if p.isSum {
			m.Value = v
		}
	case Histogram, GaugeHistogram:
		switch {
		case p.isCount:
			if v < 0 {
				return errorf("negative count for histogram %q", e.Name)
			}
		case p.isSum:
			m.Value = v
		case !math.IsNaN(p.le) && v < 0:
			return errorf("negative bucket population for histogram %q", e.Name)
		}
	}
	if j == len(b) {
		return nil
	}
	// A timestamp: an integer, and nothing after it.
	i = skipBlanks(b, j)
	for j = i; j < len(b) && !isBlank(b[j]); j++ {
	}
	if _, err := strconv.ParseInt(string(b[i:j]), 10, 64); err != nil {
		return errorf("expected integer as timestamp, got %q", b[i:j])
	}
	if j < len(b) {
		return errorf("spurious string after timestamp: %q", b[j:])
	}
	return nil
}

// series returns the series the sample being read adds to: a new one, or for
// a histogram or summary the one with the same labels, le and quantile aside.
func (p *parser) series() *Metric {
	e := p.cur
	if !e.grouped() {
		e.Metrics = append(e.Metrics, Metric{Labels: p.labelsCopy()})
		return &e.Metrics[len(e.Metrics)-1]
	}
	p.sorted = append(p.sorted[:0], p.pairs...)
	slices.SortFunc(p.sorted, func(a, b LabelPair) int { return strings.Compare(a.Name, b.Name) })
	p.sig = p.sig[:0]
	for _, l := range p.sorted {
		// 0xff occurs in no UTF-8 text, so it separates unambiguously.
		p.sig = append(p.sig, l.Name...)
		p.sig = append(p.sig, 0xff)
		p.sig = append(p.sig, l.Value...)
		p.sig = append(p.sig, 0xff)
	}
	if k, ok := e.series[string(p.sig)]; ok {
		return &e.Metrics[k]
	}
	if e.series == nil {
		e.series = make(map[string]int)
	}
	e.series[string(p.sig)] = len(e.Metrics)
	e.Metrics = append(e.Metrics, Metric{Labels: p.labelsCopy()})
	return &e.Metrics[len(e.Metrics)-1]
}

// labelsCopy returns the labels of the sample being read, nil if none.
func (p *parser) labelsCopy() []LabelPair {
	if len(p.pairs) == 0 {
		return nil
	}
	return slices.Clone(p.pairs)
}

// parseFloat reads a sample value as the text format allows: what
// strconv.ParseFloat reads, but no hexadecimal exponent and no underscores.
func parseFloat(s string) (float64, error) {
	if strings.ContainsAny(s, "pP_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}
