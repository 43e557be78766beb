package card

import (
	"encoding/binary"
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

// wr builds a fixed-layout record, recording the first bad field as an
// *ArgumentError (cryptobyte style: later calls are no-ops after a failure
// but keep the length right).
type wr struct {
	what  string
	b     []byte
	start int
	err   error
}

func newWr(what string, b []byte) *wr { return &wr{what: what, b: b, start: len(b)} }

func (w *wr) fail(field, reason string, cause error) {
	if w.err == nil {
		w.err = &ArgumentError{Command: w.what, Field: field, Reason: reason, Err: orBad(cause)}
	}
}

func orBad(err error) error {
	if err == nil {
		return ErrBadArgument
	}
	return err
}

func (w *wr) u8(v byte)    { w.b = append(w.b, v) }
func (w *wr) raw(p []byte) { w.b = append(w.b, p...) }
func (w *wr) zero(n int)   { w.b = append(w.b, make([]byte, n)...) }
func (w *wr) xor(from int) { w.b = append(w.b, fiscal.XOR(w.b[w.start+from:])) }

func (w *wr) u16(field string, v int) {
	if v < 0 || v > 0xFFFF {
		w.fail(field, fmt.Sprintf("%d outside 0..65535", v), fiscal.ErrCountRange)
		v = 0
	}
	w.b = binary.BigEndian.AppendUint16(w.b, uint16(v))
}

func (w *wr) u32(field string, v int64) {
	if v < 0 || v > 0xFFFFFFFF {
		w.fail(field, fmt.Sprintf("%d outside the u32 range", v), fiscal.ErrCountRange)
		v = 0
	}
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(v))
}

func (w *wr) date(field string, d fiscal.Date) {
	b, err := d.AppendBCD(w.b)
	if err != nil {
		w.fail(field, "invalid date", err)
		b = append(w.b, 0, 0, 0, 0)
	}
	w.b = b
}

func (w *wr) text(field, s string, width int) {
	t, err := fiscal.EncodeText(s, width, fiscal.TextOptions{})
	if err != nil {
		w.fail(field, fmt.Sprintf("text does not fit %d bytes of GB18030", width), err)
		t = make([]byte, width)
	}
	w.b = append(w.b, t...)
}

// rec appends a fiscal record encoding of fixed size n.
func (w *wr) rec(field string, n int, appendFn func([]byte) ([]byte, error)) {
	b, err := appendFn(w.b)
	if err != nil {
		w.fail(field, "invalid record", err)
		b = append(w.b[:len(w.b):len(w.b)], make([]byte, n)...)
	}
	w.b = b
}

func (w *wr) done(want int) ([]byte, error) {
	if w.err != nil {
		return w.b[:w.start], w.err
	}
	if got := len(w.b) - w.start; got != want {
		// A layout bug, not bad input: refuse rather than emit a wrong record.
		return w.b[:w.start], &FormatError{What: w.what, Reason: fmt.Sprintf("layout built %d bytes, want %d", got, want), Err: ErrMalformedRecord}
	}
	return w.b, nil
}

// rd decodes a fixed-layout record. It never panics: the total length is
// checked once, and every layout's fields add up to it.
type rd struct {
	what string
	b    []byte
	off  int
	err  error
}

func newRd(what string, b []byte, want int) (*rd, error) {
	if len(b) != want {
		return nil, &FormatError{What: what, Reason: fmt.Sprintf("%d bytes, want %d", len(b), want), Err: ErrMalformedRecord}
	}
	return &rd{what: what, b: b}, nil
}

func (r *rd) next(n int) []byte {
	if r.off+n > len(r.b) {
		r.failAt(r.off, "layout overruns the record", nil)
		return make([]byte, n)
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *rd) failAt(off int, reason string, cause error) {
	if r.err == nil {
		r.err = &FormatError{What: r.what, Offset: off, Reason: reason, Err: ErrMalformedRecord, Cause: cause}
	}
}

func (r *rd) u8() byte { return r.next(1)[0] }
func (r *rd) u16() int { return int(binary.BigEndian.Uint16(r.next(2))) }
func (r *rd) u32() uint32 {
	return binary.BigEndian.Uint32(r.next(4))
}

func (r *rd) copy(dst []byte) { copy(dst, r.next(len(dst))) }

func (r *rd) date(field string) fiscal.Date {
	off := r.off
	d, err := fiscal.DecodeDate(r.next(fiscal.DateLen))
	if err != nil {
		r.failAt(off, field+": bad BCD date", err)
	}
	return d
}

func (r *rd) text(field string, width int) string {
	off := r.off
	s, err := fiscal.DecodeText(r.next(width))
	if err != nil {
		r.failAt(off, field+": bad GB18030 text", err)
	}
	return s
}

// rec decodes a fixed-size fiscal record in place.
func (r *rd) rec(field string, n int, unmarshal func([]byte) error) {
	off := r.off
	if err := unmarshal(r.next(n)); err != nil {
		r.failAt(off, field, err)
	}
}

func (r *rd) done() error { return r.err }
