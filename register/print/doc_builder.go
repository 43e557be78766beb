package print

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Paper widths in columns of a single-byte character. GB 18240.5 Appendix B
// covers roll printers up to 82 mm; these are the common 57 and 76 mm rolls.
const (
	Columns57mm = 32
	Columns76mm = 48
	MinColumns  = 24
)

// ErrWidth is returned for a paper narrower than MinColumns.
var ErrWidth = errors.New("print: paper too narrow")

// RuneWidth returns the columns a character takes on a Chinese roll printer:
// 2 for East Asian Wide and Fullwidth characters and for East Asian Ambiguous
// ones (GB18030 prints those, such as ×, ·, —, as full-width glyphs), 1 for
// the rest, 0 for control characters.
func RuneWidth(r rune) int {
	if r < 0x20 || r == 0x7F {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth, width.EastAsianAmbiguous:
		return 2
	}
	return 1
}

// StringWidth returns the columns s takes.
func StringWidth(s string) int {
	n := 0
	for _, r := range s {
		n += RuneWidth(r)
	}
	return n
}

// cut splits s after at most cols columns, never inside a character. It
// returns at least one character when cols > 0 and s is not empty, so wrapping
// always progresses.
func cut(s string, cols int) (head, tail string) {
	used := 0
	for i, r := range s {
		w := RuneWidth(r)
		if used+w > cols && i > 0 {
			return s[:i], s[i:]
		}
		used += w
	}
	return s, ""
}

// Doc is a document for a roll printer: a list of lines, none wider than the
// paper. The builder methods record the first error (text too wide for a
// fixed-width part of the layout); Lines and Bytes report it.
//
// Every line is plain text; a printer needs nothing but GB18030 bytes and line
// feeds, so the same Doc gives the Unicode preview and the printer bytes.
type Doc struct {
	cols  int
	lines []string
	err   error
}

// NewDoc starts a document for a paper of cols columns.
func NewDoc(cols int) (*Doc, error) {
	if cols < MinColumns {
		return nil, fmt.Errorf("%w: %d columns, need at least %d", ErrWidth, cols, MinColumns)
	}
	return &Doc{cols: cols}, nil
}

// Columns returns the paper width.
func (d *Doc) Columns() int { return d.cols }

// Text adds s, wrapped at character boundaries to the paper width.
func (d *Doc) Text(s string) {
	if s == "" {
		d.lines = append(d.lines, "")
		return
	}
	for s != "" {
		var head string
		head, s = cut(s, d.cols)
		d.lines = append(d.lines, head)
	}
}

// Center adds s centred on the paper (wrapped if it is wider).
func (d *Doc) Center(s string) {
	if w := StringWidth(s); w < d.cols {
		s = strings.Repeat(" ", (d.cols-w)/2) + s
	}
	d.Text(s)
}

// Rule adds a full-width line of ch.
func (d *Doc) Rule(ch rune) {
	w := RuneWidth(ch)
	if w == 0 {
		w = 1
	}
	d.lines = append(d.lines, strings.Repeat(string(ch), d.cols/w))
}

// Field adds "label value"; a value that does not fit continues on the next
// lines, indented under the value.
func (d *Doc) Field(label, value string) {
	lw := StringWidth(label)
	if lw > d.cols/2 {
		d.Text(label)
		d.Text(value)
		return
	}
	indent := strings.Repeat(" ", lw)
	first := true
	for first || value != "" {
		var head string
		head, value = cut(value, d.cols-lw)
		if first {
			d.lines = append(d.lines, label+head)
			first = false
		} else {
			d.lines = append(d.lines, indent+head)
		}
	}
}

// Columns2 adds left and right on one line, right-aligned, or on two lines if
// they do not fit together.
func (d *Doc) Columns2(left, right string) {
	lw, rw := StringWidth(left), StringWidth(right)
	if lw+1+rw <= d.cols {
		d.lines = append(d.lines, left+strings.Repeat(" ", d.cols-lw-rw)+right)
		return
	}
	d.Text(left)
	if rw < d.cols {
		right = strings.Repeat(" ", d.cols-rw) + right
	}
	d.Text(right)
}

// Row adds one line of cells, each padded to its column width; a negative
// width right-aligns the cell. Cells wider than their column are an error
// (the caller chose the layout), recorded for Lines.
func (d *Doc) Row(widths []int, cells ...string) {
	var b strings.Builder
	for i, c := range cells {
		w := widths[i]
		right := w < 0
		if right {
			w = -w
		}
		cw := StringWidth(c)
		if cw > w {
			if d.err == nil {
				d.err = fmt.Errorf("print: cell %q is wider than its %d columns", c, w)
			}
			c, _ = cut(c, w)
			cw = StringWidth(c)
		}
		pad := strings.Repeat(" ", w-cw)
		if right {
			b.WriteString(pad + c)
		} else {
			b.WriteString(c + pad)
		}
	}
	d.lines = append(d.lines, strings.TrimRight(b.String(), " "))
}

// Lines returns the document's lines, each at most Columns() wide.
func (d *Doc) Lines() ([]string, error) {
	return d.lines, d.err
}

// Preview returns the document as Unicode text, one line per printed line.
func (d *Doc) Preview() string {
	return strings.Join(d.lines, "\n") + "\n"
}

// Bytes returns the document as GB18030 bytes with a line feed after each
// line, ready for a roll printer in its Chinese character mode.
func (d *Doc) Bytes() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	var out []byte
	for _, l := range d.lines {
		if !utf8.ValidString(l) {
			return nil, fmt.Errorf("print: line %q is not valid UTF-8", l)
		}
		b, err := fiscal.GB18030(l)
		if err != nil {
			return nil, err
		}
		out = append(append(out, b...), '\n')
	}
	return out, nil
}
