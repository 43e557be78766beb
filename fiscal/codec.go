package fiscal

import (
	"encoding/binary"
	"fmt"
)

// enc builds a record, cryptobyte style: appends go to b, and the first error
// is kept (with the field that caused it); later appends are no-ops.
type enc struct {
	rec string
	b   []byte
	err error
}

func (e *enc) fail(field string, err error) {
	if e.err == nil {
		e.err = fieldErr(e.rec, field, err)
	}
}

func (e *enc) u8(v byte) { e.b = append(e.b, v) }

func (e *enc) raw(p []byte) { e.b = append(e.b, p...) }

func (e *enc) u16(field string, v int) {
	if v < 0 || v > 0xFFFF {
		e.fail(field, fmt.Errorf("%w: %d does not fit 16 bits", ErrCountRange, v))
		v = 0
	}
	e.b = binary.BigEndian.AppendUint16(e.b, uint16(v))
}

func (e *enc) u32(field string, v int64) {
	if v < 0 || v > 0xFFFFFFFF {
		e.fail(field, fmt.Errorf("%w: %d does not fit 32 bits", ErrCountRange, v))
		v = 0
	}
	e.b = binary.BigEndian.AppendUint32(e.b, uint32(v))
}

func (e *enc) amount(field string, a Amount) { e.amountAt(field, -1, a) }

// amountAt appends slot i of an amount array (i < 0: a plain field). The
// field name is only formatted when the amount is refused, keeping the hot
// path free of allocations.
func (e *enc) amountAt(field string, i int, a Amount) {
	u, err := a.Uint32()
	if err != nil {
		if i >= 0 {
			field = fmt.Sprintf("%s[%d]", field, i)
		}
		e.fail(field, err)
	}
	e.b = binary.BigEndian.AppendUint32(e.b, u)
}

func (e *enc) amounts(field string, a TaxAmounts) {
	for i, v := range a {
		e.amountAt(field, i, v)
	}
}

func (e *enc) indexes(x TaxIndexes) {
	for _, v := range x {
		e.b = append(e.b, byte(v))
	}
}

func (e *enc) date(field string, d Date) {
	var err error
	e.b, err = d.AppendBCD(e.b)
	if err != nil {
		e.fail(field, err)
		e.b = append(e.b, 0, 0, 0, 0)
	}
}

func (e *enc) text(field string, s string, width int) {
	t, err := EncodeText(s, width, TextOptions{})
	if err != nil {
		e.fail(field, err)
		t = make([]byte, width)
	}
	e.b = append(e.b, t...)
}

// finish checks the built length and returns the bytes appended to the
// caller's buffer.
func (e *enc) finish(start, want int) ([]byte, error) {
	if e.err != nil {
		return e.b[:start], e.err
	}
	if got := len(e.b) - start; got != want {
		// A layout bug, not bad input: report it rather than emit a wrong record.
		return e.b[:start], &LengthError{Record: e.rec, Want: want, Got: got}
	}
	return e.b, nil
}

// dec reads a record of a known length. It never panics: the length is
// checked once up front by newDec, and reads past it are impossible because
// every layout's field sizes add up to that length.
type dec struct {
	rec string
	b   []byte
	off int
	err error
}

// decodeInto decodes b (exactly want bytes) with read and stores the value
// in dst only when every field decoded: a failed decode leaves dst as it was.
func decodeInto[T any](dst *T, rec string, b []byte, want int, read func(d *dec) T) error {
	d, err := newDec(rec, b, want)
	if err != nil {
		return err
	}
	v := read(d)
	if d.err != nil {
		return d.err
	}
	*dst = v
	return nil
}

// totals appends the index list and the normal and return amounts that the
// daily record and the declaration share.
func (e *enc) totals(x TaxIndexes, normal, ret TaxAmounts) {
	e.indexes(x)
	e.amounts("Normal", normal)
	e.amounts("Return", ret)
}

func newDec(rec string, b []byte, want int) (*dec, error) {
	if len(b) != want {
		return nil, &LengthError{Record: rec, Want: want, Got: len(b)}
	}
	return &dec{rec: rec, b: b}, nil
}

func (d *dec) next(n int) []byte {
	if d.off+n > len(d.b) {
		d.fail("?", &LengthError{Record: d.rec, Want: d.off + n, Got: len(d.b)})
		return make([]byte, n)
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *dec) fail(field string, err error) {
	if d.err == nil {
		d.err = fieldErr(d.rec, field, err)
	}
}

func (d *dec) u8() byte { return d.next(1)[0] }

func (d *dec) u16() int { return int(binary.BigEndian.Uint16(d.next(2))) }

func (d *dec) u32() uint32 { return binary.BigEndian.Uint32(d.next(4)) }

func (d *dec) amount() Amount { return Amount(d.u32()) }

func (d *dec) amounts() (a TaxAmounts) {
	for i := range a {
		a[i] = d.amount()
	}
	return a
}

func (d *dec) indexes() (x TaxIndexes) {
	for i := range x {
		x[i] = TaxIndex(d.u8())
	}
	return x
}

func (d *dec) date(field string) Date {
	v, err := DecodeDate(d.next(DateLen))
	if err != nil {
		d.fail(field, err)
	}
	return v
}

func (d *dec) text(field string, width int) string {
	s, err := DecodeText(d.next(width))
	if err != nil {
		d.fail(field, err)
	}
	return s
}

func (d *dec) invoiceType(field string) InvoiceType {
	t := InvoiceType(d.u8())
	if !t.Valid() {
		d.fail(field, fmt.Errorf("%w: 0x%02X", ErrInvoiceType, uint8(t)))
	}
	return t
}
