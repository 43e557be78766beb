package link

import (
	"encoding/binary"
	"fmt"
	"time"
)

// chinaTime is the register's clock zone: China Standard Time as a fixed
// UTC+8 zone (design decision 2). It is never modified.
var chinaTime = time.FixedZone("CST", 8*3600)

// ChinaTime returns the fixed UTC+8 zone in which the link's BCD dates and
// times are read and written.
func ChinaTime() *time.Location { return chinaTime }

// reader decodes fixed-layout data. Like cryptobyte.String it never panics:
// the first failure is recorded and later reads return zero values.
type reader struct {
	cmd Command
	b   []byte
	err error
}

func (r *reader) fail(field, reason string) {
	if r.err == nil {
		r.err = &DataError{Command: r.cmd, Field: field, Reason: reason}
	}
}

func (r *reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail(field, fmt.Sprintf("need %d bytes, have %d", n, len(r.b)))
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8(field string) uint8 {
	if p := r.take(1, field); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16(field string) uint16 {
	if p := r.take(2, field); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if p := r.take(4, field); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64(field string) uint64 {
	if p := r.take(8, field); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (r *reader) copyTo(dst []byte, field string) {
	if p := r.take(len(dst), field); p != nil {
		copy(dst, p)
	}
}

// text returns a fixed-width field with trailing NUL bytes removed.
func (r *reader) text(n int, field string) []byte {
	p := r.take(n, field)
	for len(p) > 0 && p[len(p)-1] == 0 {
		p = p[:len(p)-1]
	}
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func bcd(b byte) (int, bool) {
	hi, lo := b>>4, b&0x0F
	if hi > 9 || lo > 9 {
		return 0, false
	}
	return int(hi)*10 + int(lo), true
}

// date decodes BCD CCYYMMDD; all-zero means the zero time.
func (r *reader) date(field string) time.Time {
	p := r.take(4, field)
	if p == nil {
		return time.Time{}
	}
	if p[0]|p[1]|p[2]|p[3] == 0 {
		return time.Time{}
	}
	return r.bcdTime(p, field)
}

// dateTime decodes BCD CCYYMMDDhhmmss; all-zero means the zero time.
func (r *reader) dateTime(field string) time.Time {
	p := r.take(7, field)
	if p == nil {
		return time.Time{}
	}
	zero := true
	for _, c := range p {
		zero = zero && c == 0
	}
	if zero {
		return time.Time{}
	}
	return r.bcdTime(p, field)
}

func (r *reader) bcdTime(p []byte, field string) time.Time {
	var v [7]int
	for i, c := range p {
		d, ok := bcd(c)
		if !ok {
			r.fail(field, fmt.Sprintf("byte %02X is not BCD", c))
			return time.Time{}
		}
		v[i] = d
	}
	year, mon, day := v[0]*100+v[1], v[2], v[3]
	h, m, s := v[4], v[5], v[6]
	t := time.Date(year, time.Month(mon), day, h, m, s, 0, chinaTime)
	if year < 1 || mon < 1 || mon > 12 || day < 1 || h > 23 || m > 59 || s > 59 ||
		t.Day() != day || int(t.Month()) != mon {
		r.fail(field, "not a valid date/time")
		return time.Time{}
	}
	return t
}

func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("end", fmt.Sprintf("%d trailing bytes", len(r.b)))
	}
	return r.err
}

// writer encodes fixed-layout data, keeping the first error.
type writer struct {
	cmd Command
	b   []byte
	err error
}

func (w *writer) fail(field, reason string) {
	if w.err == nil {
		w.err = &DataError{Command: w.cmd, Field: field, Reason: reason}
	}
}

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) raw(p []byte) { w.b = append(w.b, p...) }

// text writes p NUL-padded to n bytes; longer values are an error (callers
// cut GB18030 text at a character boundary before it gets here).
func (w *writer) text(p []byte, n int, field string) {
	if len(p) > n {
		w.fail(field, fmt.Sprintf("%d bytes, at most %d", len(p), n))
		p = p[:n]
	}
	w.b = append(w.b, p...)
	for range n - len(p) {
		w.b = append(w.b, 0)
	}
}

func toBCD(v int) byte { return byte(v/10)<<4 | byte(v%10) }

func (w *writer) bcdParts(t time.Time, n int, field string) {
	if t.IsZero() {
		for range n {
			w.b = append(w.b, 0)
		}
		return
	}
	t = t.In(chinaTime)
	if t.Year() < 1 || t.Year() > 9999 {
		w.fail(field, "year out of range")
	}
	y := t.Year()
	w.b = append(w.b, toBCD(y/100%100), toBCD(y%100), toBCD(int(t.Month())), toBCD(t.Day()))
	if n == 7 {
		w.b = append(w.b, toBCD(t.Hour()), toBCD(t.Minute()), toBCD(t.Second()))
	}
}

func (w *writer) date(t time.Time, field string)     { w.bcdParts(t, 4, field) }
func (w *writer) dateTime(t time.Time, field string) { w.bcdParts(t, 7, field) }
