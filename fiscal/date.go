package fiscal

import (
	"fmt"
	"time"
)

// DateLen is the size of a BCD date on the wire.
const DateLen = 4

// Zone returns China Standard Time (UTC+8) as a fixed zone. The register's
// clock and every fiscal date are in this zone; a fixed zone needs no tzdata on
// embedded targets.
func Zone() *time.Location { return cst }

// cst is never modified: time.Location values are immutable.
var cst = time.FixedZone("CST", 8*60*60)

// Date is a calendar date in China Standard Time.
//
// On the wire (GB 18240.2, every record and command that carries a date) it is
// four BCD bytes CCYYMMDD, most significant first: 2026-11-26 is
// 20 26 11 26. The zero Date encodes as 00 00 00 00, which records use for
// "no date"; every other encoding must be a real date in years 1..9999.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date year-month-day, or an error wrapping ErrDate if it
// does not exist.
func NewDate(year int, month time.Month, day int) (Date, error) {
	d := Date{year, month, day}
	if !d.Valid() {
		return Date{}, fmt.Errorf("%w: %04d-%02d-%02d", ErrDate, year, int(month), day)
	}
	return d, nil
}

// MustDate is NewDate for constants in tests and examples; it panics on an
// invalid date.
func MustDate(year int, month time.Month, day int) Date {
	d, err := NewDate(year, month, day)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the date of t in China Standard Time.
func DateOf(t time.Time) Date {
	y, m, d := t.In(cst).Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date in years 1..9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(year int, m time.Month) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// Time returns midnight at the start of d in China Standard Time.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, cst) }

// AddDays returns the date n days after d (n may be negative).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	}
	return cmpInt(d.Day, e.Day)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// DaysUntil returns the number of days from d to e (negative if e is earlier).
func (d Date) DaysUntil(e Date) int {
	return int(e.Time().Sub(d.Time()).Hours()) / 24
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// ParseDate parses YYYY-MM-DD or YYYYMMDD.
func ParseDate(s string) (Date, error) {
	layout := "2006-01-02"
	if len(s) == 8 {
		layout = "20060102"
	}
	t, err := time.ParseInLocation(layout, s, cst)
	if err != nil {
		return Date{}, fmt.Errorf("%w: %q", ErrDate, s)
	}
	return DateOf(t), nil
}

// AppendBCD appends the 4-byte BCD CCYYMMDD form of d. It fails with ErrDate
// for a date that is neither zero nor valid.
func (d Date) AppendBCD(b []byte) ([]byte, error) {
	if !d.IsZero() && !d.Valid() {
		return b, fmt.Errorf("%w: %04d-%02d-%02d", ErrDate, d.Year, int(d.Month), d.Day)
	}
	return append(b, bcd(d.Year/100), bcd(d.Year%100), bcd(int(d.Month)), bcd(d.Day)), nil
}

// DecodeDate decodes a 4-byte BCD CCYYMMDD date. 00000000 is the zero Date.
func DecodeDate(b []byte) (Date, error) {
	if len(b) != DateLen {
		return Date{}, &LengthError{Record: "Date", Want: DateLen, Got: len(b)}
	}
	var v [4]int
	for i, x := range b[:4] {
		n, ok := unbcd(x)
		if !ok {
			return Date{}, fmt.Errorf("%w: byte %d is %02X", ErrBCD, i, x)
		}
		v[i] = n
	}
	d := Date{Year: v[0]*100 + v[1], Month: time.Month(v[2]), Day: v[3]}
	if !d.IsZero() && !d.Valid() {
		return Date{}, fmt.Errorf("%w: %02X%02X%02X%02X", ErrDate, b[0], b[1], b[2], b[3])
	}
	return d, nil
}

func bcd(n int) byte { return byte(n/10)<<4 | byte(n%10) }

func unbcd(x byte) (int, bool) {
	hi, lo := x>>4, x&0x0F
	if hi > 9 || lo > 9 {
		return 0, false
	}
	return int(hi)*10 + int(lo), true
}
