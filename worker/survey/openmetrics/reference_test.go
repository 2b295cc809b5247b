package openmetrics

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The package's parser reads the lines the rewriter keeps as the text format's reference parser
// (expfmt's, which the package used before it had its own) reads them. These tests give both the
// same rewritten lines and require the same families, types, labels and values, or an error on the
// same input line. The reference parser is a test dependency only: it builds protobuf messages, and
// the wnm binary links no protobuf.

// reference rewrites body as parse does (a nil sel keeps every family) and parses the rewritten text
// with expfmt's text parser. panicked reports that expfmt panicked on it (it does on a few
// malformed braced names), so there is nothing to compare.
func reference(body []byte, sel *Selection) (fams map[string]*Family, err error, panicked bool) {
	var text bytes.Buffer
	var lines []int // input line of each rewritten line
	rw := newRewriter(bytes.NewReader(body), sel, func(b []byte, n int) error {
		text.Write(b)
		text.WriteByte('\n')
		lines = append(lines, n)
		return nil
	})
	err = rw.run()
	rw.release()
	if err != nil {
		return nil, err, false
	}
	defer func() {
		if recover() != nil {
			fams, err, panicked = nil, nil, true
		}
	}()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(&text)
	if err != nil {
		var pe expfmt.ParseError
		if !errors.As(err, &pe) {
			return nil, err, false
		}
		line := len(lines) + 1
		if pe.Line >= 1 && pe.Line <= len(lines) {
			line = lines[pe.Line-1]
		}
		return nil, &ParseError{Line: line, Msg: pe.Msg}, false
	}
	fams = make(map[string]*Family, len(mfs))
	for name, mf := range mfs {
		f := &Family{Name: mf.GetName(), Type: Type(strings.ToLower(mf.GetType().String()))}
		for _, m := range mf.GetMetric() {
			var labels []LabelPair
			for _, l := range m.GetLabel() {
				labels = append(labels, LabelPair{Name: l.GetName(), Value: l.GetValue()})
			}
			f.Metrics = append(f.Metrics, Metric{Labels: labels, Value: referenceValue(m)})
		}
		fams[name] = f
	}
	return fams, nil, false
}

func referenceValue(m *dto.Metric) float64 {
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

// diffFamilies describes how got differs from want, or returns "".
func diffFamilies(want, got map[string]*Family) string {
	var d []string
	for name, w := range want {
		g := got[name]
		switch {
		case g == nil:
			d = append(d, fmt.Sprintf("family %q missing", name))
		case g.Name != w.Name || g.Type != w.Type || len(g.Metrics) != len(w.Metrics):
			d = append(d, fmt.Sprintf("family %q: got %s %s with %d series, want %s %s with %d", name,
				g.Name, g.Type, len(g.Metrics), w.Name, w.Type, len(w.Metrics)))
		default:
			for i := range w.Metrics {
				wm, gm := w.Metrics[i], g.Metrics[i]
				sameValue := wm.Value == gm.Value || math.IsNaN(wm.Value) && math.IsNaN(gm.Value)
				if !sameValue || !slices.Equal(wm.Labels, gm.Labels) {
					d = append(d, fmt.Sprintf("family %q series %d: got %v %v, want %v %v", name, i, gm.Labels, gm.Value, wm.Labels, wm.Value))
				}
			}
		}
	}
	for name := range got {
		if want[name] == nil {
			d = append(d, fmt.Sprintf("family %q not in the reference", name))
		}
	}
	slices.Sort(d)
	return strings.Join(d, "\n")
}

// short quotes body for a failure message, cut to its first 200 bytes.
func short(body []byte) string {
	if len(body) > 200 {
		return fmt.Sprintf("%q… (%d bytes)", body[:200], len(body))
	}
	return fmt.Sprintf("%q", body)
}

// checkAgainstReference parses body with Parse, and with ParseSelected for names, and requires the
// reference parser's answer for each.
func checkAgainstReference(t *testing.T, body []byte, names []string) {
	t.Helper()
	sel := Select(names...)
	for _, mode := range []struct {
		name string
		sel  *Selection
		run  func() (map[string]*Family, error)
	}{
		{"Parse", nil, func() (map[string]*Family, error) { return Parse(bytes.NewReader(body)) }},
		{"ParseSelected", sel, func() (map[string]*Family, error) {
			fams, _, err := ParseSelected(bytes.NewReader(body), names...)
			return fams, err
		}},
	} {
		want, wantErr, panicked := reference(body, mode.sel)
		if panicked {
			continue
		}
		got, err := mode.run()
		switch {
		case wantErr != nil && err == nil:
			t.Errorf("%s(%s) accepted what the reference rejects: %v", mode.name, short(body), wantErr)
		case wantErr == nil && err != nil:
			t.Errorf("%s(%s) = %v, the reference accepts it", mode.name, short(body), err)
		case wantErr != nil:
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "parse metrics: ") {
				t.Errorf("%s(%s) error %v is no *ParseError", mode.name, short(body), err)
				break
			}
			var we *ParseError
			if errors.As(wantErr, &we) && pe.Line != we.Line {
				t.Errorf("%s(%s) error %v, the reference's is on line %d: %v", mode.name, short(body), err, we.Line, we.Msg)
			}
		default:
			if d := diffFamilies(want, got); d != "" {
				t.Errorf("%s(%s) differs from the reference:\n%s", mode.name, short(body), d)
			}
		}
	}
}

// TestAgainstReference compares the parser with the reference parser on the real captures and on
// the text format's corner cases.
func TestAgainstReference(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fams, err := Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var names []string
		for name := range fams {
			if len(names)%2 == 0 { // every other family, so that ParseSelected skips some
				names = append(names, name)
			}
		}
		checkAgainstReference(t, body, names)
	}
	cases := []string{
		// Values and timestamps.
		"a 1\nb -1\nc 0\nd NaN\ne +Inf\nf -Inf\ng 1e21\nh 0.1\ni -0\nj 1_000\nk 0x1p3\nl 0x10\nm Inf\nn nan\no infinity\n",
		"a 1.5e+300\nb 4.9e-324\nc 1e400\n",
		"{\"a\"} 1 1700000000000\n",
		"{\"a\"} 1 17.5\n",
		"{\"a\"} 1 12 x\n",
		"a 1 \n",
		"a\n",
		"a{} 1\n",
		"a{}1\n",
		"a-1 2\n",
		"a.b 1\n",
		// Labels and escapes.
		"a{x=\"1\",y=\"2\"} 3\na{y=\"2\",x=\"1\"} 4\n",
		"a{x=\"q\\\"uote\",y=\"back\\\\slash\",z=\"new\\nline\"} 1\n",
		"a{x=\"bad\\tescape\"} 1\n",
		"a{x=\"1\",x=\"2\"} 1\n",
		"a{__name__=\"b\"} 1\n",
		"a{x=\"1\",} 1\n",
		"a{ x = \"1\" , y = \"2\" } 1\n",
		"a{x=1} 1\n",
		"a{x=\"1\" y=\"2\"} 1\n",
		"a{x} 1\n",
		"a{\"x.y\"=\"1\"} 1\n",
		"a{x=\"\xff\"} 1\n",
		"a{x=\"unterminated} 1\n",
		// Quoted and braced names.
		"{\"my.metric\",x=\"1\"} 2\n",
		"{\"my.metric\"} 2\n{\"my.metric\",x=\"2\"} 3\n",
		"\"quoted\" 1\n",
		"{x=\"1\",\"late.name\"} 1\n",
		"{\"a\",\"b\"} 1\n",
		"{} 1\n",
		"{\"a\\\"b\"} 1\n",
		"{\"a\xff\"} 1\n",
		// Descriptors.
		"# HELP a Help with \\\\ and \\n.\n# TYPE a gauge\na 1\n",
		"# HELP a one\n# HELP a two\na 1\n",
		"# HELP a bad \\t escape\na 1\n",
		"# HELP a trailing backslash \\\na 1\n",
		"# TYPE a gauge\n# TYPE a counter\na 1\n",
		"a 1\n# TYPE a gauge\na 2\n",
		"# TYPE a GAUGE\na 1\n",
		"# TYPE a gauge_histogram\na_bucket{le=\"+Inf\"} 1\na_sum 2\n",
		"# TYPE a nonsense\na 1\n",
		"# TYPE a\na 1\n",
		"# TYPE 1a gauge\n1a 1\n",
		"# TYPE a.b gauge\n",
		"# HELP\n# TYPE\n#\n# random comment\na 1\n",
		"# TYPE a gauge\nb 1\na 2\n",
		"# TYPE a gauge\na 1\nb 2\na 3\n",
		// Histograms and summaries.
		"# TYPE h histogram\nh_bucket{le=\"0.5\",x=\"1\"} 1\nh_bucket{x=\"1\",le=\"+Inf\"} 2\nh_count{x=\"1\"} 2\nh_sum{x=\"1\"} 0.75\n" +
			"h_bucket{le=\"+Inf\",x=\"2\"} 1\nh_count{x=\"2\"} 1\nh_sum{x=\"2\"} 3\n",
		"# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} -1\n",
		"# TYPE h histogram\nh_count -1\n",
		"# TYPE h histogram\nh_count 1.5\nh_sum -2\n",
		"# TYPE h histogram\nh_bucket{le=\"1\",le=\"2\"} 1\n",
		"# TYPE h histogram\nh 5\nh_bucket 1\n",
		"h_sum 1\n# TYPE h histogram\nh_sum 2\n",
		"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.9\"} 2\ns_sum 10\ns_count 4\n",
		"# TYPE s summary\ns{quantile=\"half\"} 1\n",
		"# TYPE s summary\ns_bucket{le=\"1\"} 1\n",
		"# TYPE s summary\ns_count 1\n# TYPE s_count gauge\n",
		"# TYPE g gauge\ng_count 1\ng_sum 2\n",
		"# TYPE c counter\nc_total 1\nc_count 2\n",
		// OpenMetrics through the rewriter.
		"# TYPE c counter\n# HELP c Help.\nc_total{a=\"1\"} 1\nc_created{a=\"1\"} 2\n# EOF\n",
		"# TYPE q gaugehistogram\nq_bucket{le=\"1\"} 2\nq_gcount 2\nq_gsum 1\n# EOF\n",
		"# TYPE i info\ni_info{v=\"1\"} 1\n# TYPE s stateset\ns{s=\"a\"} 1\n# TYPE u unknown\nu 1\n# EOF\n",
		"e_total{a=\"x # y}\"} 1 1700000000.5 # {trace=\"abc\"} 1.0 1700000000\n",
	}
	for _, c := range cases {
		checkAgainstReference(t, []byte(c), []string{"a", "h", "s", "c_total", "q", "my.metric"})
	}
}
