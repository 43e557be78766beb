package servicepolicy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Span is a length of time as a commitment states it: a clock duration
// ("30m", "2h"), a number of days ("5d") or a number of calendar months
// ("1mo", "1y" = 12 months). Exactly one of the three parts is non-zero in a
// valid Span.
//
// How a Span is measured depends on the commitment's [Clock]: on the calendar
// clock "2h" is two hours of wall time and "5d" is five times 24 hours; on the
// working clock "2h" is two working hours and "1d" is one working day (the
// length of the calendar's working day). Months exist only on the calendar
// clock.
type Span struct {
	// D is a clock duration (wall time or working time).
	D time.Duration
	// Days is a number of whole days (calendar days or working days).
	Days int
	// Months is a number of calendar months.
	Months int
}

// Dur returns a Span of the clock duration d.
func Dur(d time.Duration) Span { return Span{D: d} }

// DaysSpan returns a Span of n days.
func DaysSpan(n int) Span { return Span{Days: n} }

// MonthsSpan returns a Span of n calendar months.
func MonthsSpan(n int) Span { return Span{Months: n} }

// IsZero reports whether s is the zero Span (no limit given).
func (s Span) IsZero() bool { return s.D == 0 && s.Days == 0 && s.Months == 0 }

// valid reports whether s has exactly one positive part.
func (s Span) valid() bool {
	n := 0
	for _, p := range []bool{s.D != 0, s.Days != 0, s.Months != 0} {
		if p {
			n++
		}
	}
	return n == 1 && s.D >= 0 && s.Days >= 0 && s.Months >= 0
}

// String formats s the way [ParseSpan] reads it.
func (s Span) String() string {
	switch {
	case s.Months != 0 && s.Months%12 == 0:
		return strconv.Itoa(s.Months/12) + "y"
	case s.Months != 0:
		return strconv.Itoa(s.Months) + "mo"
	case s.Days != 0:
		return strconv.Itoa(s.Days) + "d"
	case s.D != 0:
		return shortDuration(s.D)
	}
	return "0"
}

// humanDuration prints d for people: whole days as "d" ("8d1h", not
// "193h"). Only for reasons; spans use shortDuration.
func humanDuration(d time.Duration) string {
	if d >= 24*time.Hour {
		days, rest := d/(24*time.Hour), d%(24*time.Hour)
		if rest == 0 {
			return strconv.FormatInt(int64(days), 10) + "d"
		}
		return strconv.FormatInt(int64(days), 10) + "d" + shortDuration(rest)
	}
	return shortDuration(d)
}

// shortDuration prints d without trailing zero units ("1h" not "1h0m0s").
func shortDuration(d time.Duration) string {
	str := d.String()
	if strings.HasSuffix(str, "m0s") {
		str = str[:len(str)-2]
	}
	if strings.HasSuffix(str, "h0m") {
		str = str[:len(str)-2]
	}
	return str
}

// maxSpanCount bounds day and month counts read from files, so that adding a
// span to a time can never overflow.
const maxSpanCount = 100 * 366

// ParseSpan reads a Span: an integer followed by "d" (days), "mo" (months) or
// "y" (years of 12 months), or any positive Go duration string ("45m",
// "1h30m"). "0" and "" give the zero Span.
func ParseSpan(text string) (Span, error) {
	if text == "" || text == "0" {
		return Span{}, nil
	}
	for _, u := range []struct {
		suffix string
		mk     func(int) Span
	}{
		{"mo", MonthsSpan},
		{"y", func(n int) Span { return MonthsSpan(12 * n) }},
		{"d", DaysSpan},
	} {
		num, ok := strings.CutSuffix(text, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 || n > maxSpanCount {
			return Span{}, fmt.Errorf("span %q: want a positive whole number before %q", text, u.suffix)
		}
		return u.mk(n), nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return Span{}, fmt.Errorf("span %q: want e.g. 30m, 2h, 5d, 1mo or 1y", text)
	}
	if d <= 0 {
		return Span{}, fmt.Errorf("span %q: must be positive", text)
	}
	if d > maxSpanCount*24*time.Hour {
		return Span{}, fmt.Errorf("span %q: too long", text)
	}
	return Dur(d), nil
}

// MarshalText implements encoding.TextMarshaler.
func (s Span) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// addMonths adds n calendar months to t in the China Standard Time zone; a
// day that does not exist in the target month is clamped to its last day
// (31 January + 1 month = 28 or 29 February).
func addMonths(t time.Time, n int) time.Time {
	t = t.In(cst)
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, cst)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	hh, mm, ss := t.Clock()
	return time.Date(first.Year(), first.Month(), d, hh, mm, ss, t.Nanosecond(), cst)
}
