package servicepolicy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// cst is China Standard Time as a fixed UTC+8 zone (no tzdata needed). It is
// never modified.
var cst = time.FixedZone("CST", 8*60*60)

// CST returns the fixed UTC+8 zone every calendar computation uses.
func CST() *time.Location { return cst }

// DayKind says how a holiday arrangement changes a day.
type DayKind uint8

const (
	// DayOff is a statutory holiday or a weekday given off by the arrangement.
	DayOff DayKind = iota + 1
	// DayWork is a make-up working day (调休): a Saturday or Sunday worked.
	DayWork
)

// String returns "off" or "work".
func (k DayKind) String() string {
	switch k {
	case DayOff:
		return "off"
	case DayWork:
		return "work"
	}
	return "DayKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (k DayKind) MarshalText() ([]byte, error) {
	if k != DayOff && k != DayWork {
		return nil, fmt.Errorf("invalid day kind %d", k)
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *DayKind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "off":
		*k = DayOff
	case "work":
		*k = DayWork
	default:
		return fmt.Errorf("day kind %q: want off or work", b)
	}
	return nil
}

// Adjustment is one day changed by a year's holiday arrangement.
type Adjustment struct {
	// Date is the day, as "YYYY-MM-DD" in files.
	Date Date `json:"date"`
	// Kind is DayOff or DayWork.
	Kind DayKind `json:"kind"`
	// Name is the festival the day belongs to (元旦, 春节, 国庆节, ...).
	Name string `json:"name,omitempty"`
}

// YearArrangement is the State Council's published holiday arrangement
// (国务院办公厅关于…部分节假日安排的通知) for one year. Its days lie in that
// year, or in the December before it (make-up days for 元旦).
type YearArrangement struct {
	Year int          `json:"year"`
	Days []Adjustment `json:"days"`
}

// Validate checks the arrangement: a sane year, days within the year or the
// December before it, known kinds, no day listed twice.
func (a YearArrangement) Validate() error {
	var errs []error
	if a.Year < 1949 || a.Year > 9998 {
		errs = append(errs, &FieldError{Field: "year", Problem: "must be between 1949 and 9998", Err: ErrInvalidCalendar})
	}
	seen := make(map[Date]bool, len(a.Days))
	for i, d := range a.Days {
		f := "days[" + strconv.Itoa(i) + "]"
		if !d.Date.Valid() {
			errs = append(errs, &FieldError{Field: f + ".date", Problem: "not a valid date", Err: ErrInvalidCalendar})
			continue
		}
		if !(d.Date.Year == a.Year || (d.Date.Year == a.Year-1 && d.Date.Month == time.December)) {
			errs = append(errs, &FieldError{Field: f + ".date", Problem: fmt.Sprintf("%s is outside %d and the December before it", d.Date, a.Year), Err: ErrInvalidCalendar})
		}
		if d.Kind != DayOff && d.Kind != DayWork {
			errs = append(errs, &FieldError{Field: f + ".kind", Problem: "want off or work", Err: ErrInvalidCalendar})
		}
		if seen[d.Date] {
			errs = append(errs, &FieldError{Field: f + ".date", Problem: d.Date.String() + " listed twice", Err: ErrInvalidCalendar})
		}
		seen[d.Date] = true
	}
	return errors.Join(errs...)
}

// ParseYearArrangement reads a YearArrangement from JSON, for example
//
//	{"year": 2028, "days": [{"date": "2028-01-01", "kind": "off", "name": "元旦"}]}
//
// Unknown fields are an error; every error names the bad field.
func ParseYearArrangement(data []byte) (YearArrangement, error) {
	var a YearArrangement
	if err := decodeStrict(data, &a); err != nil {
		return YearArrangement{}, &FieldError{Field: jsonPath(data, &a), Problem: jsonErrorProblem(err), Err: ErrInvalidCalendar}
	}
	if err := a.Validate(); err != nil {
		return YearArrangement{}, err
	}
	return a, nil
}

// HolidaySource supplies the holiday arrangement of a year. A year it has no
// data for is reported as a *YearNotCoveredError, never as an empty
// arrangement.
type HolidaySource interface {
	Arrangement(year int) (YearArrangement, error)
}

// LunarSource is the holiday data of github.com/6tail/lunar-go v1.4.7
// (package HolidayUtil), which carries every arrangement from 2002 to 2027,
// make-up working days included. Its zero value is ready to use.
//
// HolidayUtil.Fix rewrites that package's data for the whole process; this
// package never calls it. Use [Calendar.SetYear] or a [MapSource] instead.
type LunarSource struct{}

// lunarSourceName names the data in errors.
const lunarSourceName = "lunar-go v1.4.7 HolidayUtil"

// Arrangement returns the arrangement lunar-go holds for year: every entry
// whose festival ("target") lies in that year.
func (LunarSource) Arrangement(year int) (YearArrangement, error) {
	if year < 1 || year > 9998 {
		return YearArrangement{}, &YearNotCoveredError{Year: year, Source: lunarSourceName}
	}
	a := YearArrangement{Year: year}
	for _, y := range []int{year - 1, year} {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h, ok := e.Value.(*HolidayUtil.Holiday)
			if !ok {
				continue
			}
			day, err1 := ParseDate(h.GetDay())
			target, err2 := ParseDate(h.GetTarget())
			if err1 != nil || err2 != nil || target.Year != year {
				continue
			}
			k := DayOff
			if h.IsWork() {
				k = DayWork
			}
			a.Days = append(a.Days, Adjustment{Date: day, Kind: k, Name: h.GetName()})
		}
	}
	if len(a.Days) == 0 {
		return YearArrangement{}, &YearNotCoveredError{Year: year, Source: lunarSourceName}
	}
	return a, nil
}

// MapSource is a HolidaySource from arrangements the caller holds, for
// example the next year read with [ParseYearArrangement].
type MapSource map[int]YearArrangement

// Arrangement returns m[year] or a *YearNotCoveredError.
func (m MapSource) Arrangement(year int) (YearArrangement, error) {
	a, ok := m[year]
	if !ok {
		return YearArrangement{}, &YearNotCoveredError{Year: year, Source: "map"}
	}
	return a, nil
}

// ChainSource asks each source in turn and returns the first arrangement
// found; earlier sources override later ones.
type ChainSource []HolidaySource

// Arrangement implements HolidaySource.
func (c ChainSource) Arrangement(year int) (YearArrangement, error) {
	for _, s := range c {
		a, err := s.Arrangement(year)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, ErrYearNotCovered) {
			return YearArrangement{}, err
		}
	}
	return YearArrangement{}, &YearNotCoveredError{Year: year, Source: "chain"}
}

// WorkingDay is one working window of a working day in China Standard
// Time, as offsets from midnight. As CalendarOptions.Day, the zero value
// means 09:00-18:00 (nine working hours in one piece).
type WorkingDay struct {
	Start time.Duration
	End   time.Duration
}

// CalendarOptions configures a Calendar. The zero value means lunar-go data
// and a 09:00-18:00 working day.
type CalendarOptions struct {
	// Source supplies holiday arrangements; nil means LunarSource.
	Source HolidaySource
	// Day is the working window; the zero value means 09:00-18:00.
	Day WorkingDay
	// Intervals, when set, are the working windows of a day in time order,
	// for a day with a lunch break such as 09:00-12:00 and 13:30-18:00. They
	// must not overlap and their bounds are whole minutes. Set Day or
	// Intervals, not both.
	Intervals []WorkingDay
}

// Calendar is a mainland-China working-day calendar: Monday to Friday are
// working days, except statutory holidays, and some Saturdays and Sundays are
// make-up working days (调休), as each year's arrangement says. Times are
// taken in China Standard Time (UTC+8).
//
// Working time is counted only inside the working windows of working days.
// Adding a working duration returns the earliest instant at which that much
// working time has elapsed: a request on Friday at 20:00 plus one working day
// (09:00-18:00) is due on Monday at 18:00 when Monday is a working day. With
// a lunch break, an instant in the break counts as its start: 3 working hours
// from 09:00 end at 12:00, and one more minute at 13:31.
//
// A year is loaded on first use (or with [Calendar.Load]) into a table of
// prefix sums over its days, and the working windows into prefix sums over
// the minutes of a day; after that every call costs constant time (plus one
// step per year boundary crossed). A year the source does not cover is an
// error wrapping ErrYearNotCovered. A Calendar is safe for concurrent use.
type Calendar struct {
	src  HolidaySource
	ivs  []WorkingDay
	span time.Duration
	// upTo[m] is the working time of a working day before minute m
	// (0 <= m <= 1440); at[k] is the minute of the day in which the k-th
	// working minute (0-based) lies.
	upTo [minutesPerDay + 1]time.Duration
	at   []int16

	mu        sync.RWMutex
	years     map[int]*yearTable
	overrides map[int]YearArrangement
}

const minutesPerDay = 24 * 60

// yearTable is one year of working days with prefix sums.
type yearTable struct {
	year     int
	firstDay int64   // days since 1970-01-01 (CST) of 1 January
	cum      []int32 // cum[i] = working days among days 0..i-1; len = days+1
	nth      []int16 // nth[k] = day index of the k-th working day
	// provisional is set when the next year's arrangement was not available,
	// so the last days of December may still change.
	provisional bool
}

// NewCalendar returns a Calendar. It returns an error (a *FieldError
// matching ErrInvalidCalendar) only for bad working windows.
func NewCalendar(opts CalendarOptions) (*Calendar, error) {
	c := &Calendar{src: opts.Source}
	if c.src == nil {
		c.src = LunarSource{}
	}
	switch {
	case len(opts.Intervals) > 0 && opts.Day != (WorkingDay{}):
		return nil, &FieldError{Field: "Intervals", Problem: "set Day or Intervals, not both", Err: ErrInvalidCalendar}
	case len(opts.Intervals) > 0:
		c.ivs = slices.Clone(opts.Intervals)
	case opts.Day != (WorkingDay{}):
		c.ivs = []WorkingDay{opts.Day}
	default:
		c.ivs = []WorkingDay{{Start: 9 * time.Hour, End: 18 * time.Hour}}
	}
	field := "Day"
	if len(opts.Intervals) > 0 {
		field = "Intervals"
	}
	for i, iv := range c.ivs {
		f := field
		if len(opts.Intervals) > 0 {
			f += "[" + strconv.Itoa(i) + "]"
		}
		switch {
		case iv.Start < 0 || iv.End > 24*time.Hour || iv.End <= iv.Start:
			return nil, &FieldError{Field: f, Problem: "want 0 <= Start < End <= 24h", Err: ErrInvalidCalendar}
		case iv.Start%time.Minute != 0 || iv.End%time.Minute != 0:
			return nil, &FieldError{Field: f, Problem: "Start and End must be whole minutes", Err: ErrInvalidCalendar}
		case i > 0 && iv.Start < c.ivs[i-1].End:
			return nil, &FieldError{Field: f, Problem: "must start at or after the end of the window before it", Err: ErrInvalidCalendar}
		}
		c.span += iv.End - iv.Start
	}
	// Prefix sums over the minutes of a day.
	j := 0
	for m := 0; m < minutesPerDay; m++ {
		t := time.Duration(m) * time.Minute
		for j < len(c.ivs) && c.ivs[j].End <= t {
			j++
		}
		c.upTo[m+1] = c.upTo[m]
		if j < len(c.ivs) && c.ivs[j].Start <= t {
			c.upTo[m+1] += time.Minute
			c.at = append(c.at, int16(m))
		}
	}
	c.years = make(map[int]*yearTable)
	c.overrides = make(map[int]YearArrangement)
	return c, nil
}

// Intervals returns the working windows of a working day.
func (c *Calendar) Intervals() []WorkingDay { return slices.Clone(c.ivs) }

// within is the working time of a working day elapsed at offset off from
// its midnight.
func (c *Calendar) within(off time.Duration) time.Duration {
	if off <= 0 {
		return 0
	}
	if off >= 24*time.Hour {
		return c.span
	}
	m := off / time.Minute
	w := c.upTo[m]
	if c.upTo[m+1] > w {
		w += off - m*time.Minute
	}
	return w
}

// offsetOf is the earliest offset from midnight of a working day at which r
// of working time has elapsed, for 0 < r <= DayLength.
func (c *Calendar) offsetOf(r time.Duration) time.Duration {
	k := (r - 1) / time.Minute
	return time.Duration(c.at[k])*time.Minute + r - k*time.Minute
}

// DayLength is the working time of one working day.
func (c *Calendar) DayLength() time.Duration { return c.span }

// SetYear adds or replaces the arrangement of a.Year, ahead of the source
// (the State Council publishes the next year's each autumn). Tables already
// built for the affected years are rebuilt on next use.
func (c *Calendar) SetYear(a YearArrangement) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a.Days = append([]Adjustment(nil), a.Days...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.overrides[a.Year] = a
	delete(c.years, a.Year)
	delete(c.years, a.Year-1)
	return nil
}

// Load builds the tables of the given years now, so that later calls do no
// loading. It returns the first error, such as a *YearNotCoveredError.
func (c *Calendar) Load(years ...int) error {
	for _, y := range years {
		if _, err := c.table(y); err != nil {
			return err
		}
	}
	return nil
}

// Provisional reports whether the loaded table of year still lacks the next
// year's arrangement, which can move the last days of December (元旦).
func (c *Calendar) Provisional(year int) (bool, error) {
	t, err := c.table(year)
	if err != nil {
		return false, err
	}
	return t.provisional, nil
}

func (c *Calendar) arrangement(year int) (YearArrangement, error) {
	if a, ok := c.overrides[year]; ok {
		return a, nil
	}
	a, err := c.src.Arrangement(year)
	if err != nil {
		return YearArrangement{}, err
	}
	if err := a.Validate(); err != nil {
		return YearArrangement{}, fmt.Errorf("servicepolicy: holiday data for %d: %w", year, err)
	}
	return a, nil
}

// table returns the table of year, building it on first use.
func (c *Calendar) table(year int) (*yearTable, error) {
	c.mu.RLock()
	t := c.years[year]
	c.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.years[year]; t != nil {
		return t, nil
	}
	own, err := c.arrangement(year)
	if err != nil {
		return nil, err
	}
	adj := make(map[Date]DayKind)
	for _, d := range own.Days {
		if d.Date.Year == year {
			adj[d.Date] = d.Kind
		}
	}
	t = &yearTable{year: year}
	next, err := c.arrangement(year + 1)
	switch {
	case err == nil:
		for _, d := range next.Days {
			if d.Date.Year == year {
				adj[d.Date] = d.Kind
			}
		}
	case errors.Is(err, ErrYearNotCovered):
		t.provisional = true
	default:
		return nil, err
	}
	jan1 := time.Date(year, time.January, 1, 0, 0, 0, 0, cst)
	t.firstDay = epochDay(jan1)
	n := int(epochDay(time.Date(year+1, time.January, 1, 0, 0, 0, 0, cst)) - t.firstDay)
	t.cum = make([]int32, n+1)
	t.nth = make([]int16, 0, 260)
	for i := 0; i < n; i++ {
		d := jan1.AddDate(0, 0, i)
		wd := d.Weekday()
		work := wd != time.Saturday && wd != time.Sunday
		switch adj[Date{Year: year, Month: d.Month(), Day: d.Day()}] {
		case DayOff:
			work = false
		case DayWork:
			work = true
		}
		t.cum[i+1] = t.cum[i]
		if work {
			t.cum[i+1]++
			t.nth = append(t.nth, int16(i))
		}
	}
	c.years[year] = t
	return t, nil
}

// epochDay is the number of days from 1970-01-01 to t's date in CST.
func epochDay(t time.Time) int64 {
	s := t.Unix() + 8*3600
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// locate returns the table of t's year, t's day index in it and the offset
// of t from that day's midnight.
func (c *Calendar) locate(t time.Time) (*yearTable, int, time.Duration, error) {
	tab, err := c.table(t.In(cst).Year())
	if err != nil {
		return nil, 0, 0, err
	}
	ed := epochDay(t)
	i := int(ed - tab.firstDay)
	midnight := time.Unix((ed*86400)-8*3600, 0)
	return tab, i, t.Sub(midnight), nil
}

// pos is the working time elapsed in tab's year before t.
func (c *Calendar) pos(tab *yearTable, i int, off time.Duration) time.Duration {
	p := time.Duration(tab.cum[i]) * c.span
	if tab.cum[i+1] > tab.cum[i] {
		p += c.within(off)
	}
	return p
}

// IsWorkingDay reports whether t's date (in CST) is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) (bool, error) {
	tab, i, _, err := c.locate(t)
	if err != nil {
		return false, err
	}
	return tab.cum[i+1] > tab.cum[i], nil
}

// AddWorkingTime returns the earliest instant at which d of working time has
// elapsed after t. d must not be negative; d == 0 returns t.
func (c *Calendar) AddWorkingTime(t time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("servicepolicy: negative working time %v", d)
	}
	if d == 0 {
		return t, nil
	}
	tab, i, off, err := c.locate(t)
	if err != nil {
		return time.Time{}, err
	}
	p := c.pos(tab, i, off) + d
	for {
		total := time.Duration(len(tab.nth)) * c.span
		if p <= total {
			break
		}
		p -= total
		if tab, err = c.table(tab.year + 1); err != nil {
			return time.Time{}, err
		}
	}
	k, r := int(p/c.span), p%c.span
	if r == 0 {
		// Exactly k working days: the end of the k-th (1-based) one.
		k, r = k-1, c.span
	}
	day := tab.firstDay + int64(tab.nth[k])
	return time.Unix(day*86400-8*3600, 0).Add(c.offsetOf(r)).In(cst), nil
}

// AddWorkingDays returns t plus n working days of working time (n times
// DayLength).
func (c *Calendar) AddWorkingDays(t time.Time, n int) (time.Time, error) {
	return c.AddWorkingTime(t, time.Duration(n)*c.span)
}

// AddWorkingHours returns t plus h working hours.
func (c *Calendar) AddWorkingHours(t time.Time, h int) (time.Time, error) {
	return c.AddWorkingTime(t, time.Duration(h)*time.Hour)
}

// WorkingTimeBetween returns the working time elapsed from a to b (negative
// when b is before a).
func (c *Calendar) WorkingTimeBetween(a, b time.Time) (time.Duration, error) {
	if b.Before(a) {
		d, err := c.WorkingTimeBetween(b, a)
		return -d, err
	}
	ta, ia, oa, err := c.locate(a)
	if err != nil {
		return 0, err
	}
	tb, ib, ob, err := c.locate(b)
	if err != nil {
		return 0, err
	}
	d := c.pos(tb, ib, ob) - c.pos(ta, ia, oa)
	for y := ta.year; y < tb.year; y++ {
		t, err := c.table(y)
		if err != nil {
			return 0, err
		}
		d += time.Duration(len(t.nth)) * c.span
	}
	return d, nil
}

// HolidaysOf returns the adjusted days that fall in year, in date order:
// those of its own arrangement and, when loaded, the December days of the
// next year's arrangement.
func (c *Calendar) HolidaysOf(year int) ([]Adjustment, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	own, err := c.arrangement(year)
	if err != nil {
		return nil, err
	}
	var out []Adjustment
	for _, d := range own.Days {
		if d.Date.Year == year {
			out = append(out, d)
		}
	}
	if next, err := c.arrangement(year + 1); err == nil {
		for _, d := range next.Days {
			if d.Date.Year == year {
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out, nil
}

// Date is a civil date, "YYYY-MM-DD" in text.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in China Standard Time.
func DateOf(t time.Time) Date {
	y, m, d := t.In(cst).Date()
	return Date{y, m, d}
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, cst)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return DateOf(d.Time()) == d
}

// Time returns midnight of d in CST.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, cst) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
