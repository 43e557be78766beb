package servicepolicy

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func newCal(t testing.TB) *Calendar {
	t.Helper()
	c, err := NewCalendar(CalendarOptions{})
	require.NoError(t, err)
	return c
}

func TestCalendarWorkingDays(t *testing.T) {
	c := newCal(t)
	cases := []struct {
		day  string
		work bool
		why  string
	}{
		{"2024-09-29", true, "2024 国庆 make-up Sunday"},
		{"2024-09-30", true, "plain Monday"},
		{"2024-10-01", false, "国庆"},
		{"2024-10-04", false, "国庆 Friday"},
		{"2024-10-07", false, "国庆 Monday"},
		{"2024-10-08", true, "back to work"},
		{"2024-10-12", true, "2024 国庆 make-up Saturday"},
		{"2024-10-13", false, "plain Sunday"},
		{"2025-01-26", true, "2025 春节 make-up Sunday"},
		{"2025-01-27", true, "Monday before 春节"},
		{"2025-01-28", false, "除夕"},
		{"2025-02-04", false, "last 春节 day (Tuesday)"},
		{"2025-02-05", true, "back to work"},
		{"2025-02-08", true, "2025 春节 make-up Saturday"},
		{"2025-10-08", false, "2025 国庆中秋 eighth day"},
		{"2025-10-11", true, "2025 国庆 make-up Saturday"},
		{"2026-11-20", true, "plain Friday"},
		{"2026-11-21", false, "plain Saturday"},
	}
	for _, tc := range cases {
		got, err := c.IsWorkingDay(at(tc.day + " 12:00"))
		require.NoError(t, err, tc.day)
		require.Equal(t, tc.work, got, "%s: %s", tc.day, tc.why)
	}
}

// Published totals: 251 working days in 2024, 248 in 2025 (two more statutory days from 2025).
func TestCalendarYearTotals(t *testing.T) {
	c := newCal(t)
	for year, want := range map[int]int{2024: 251, 2025: 248} {
		d, err := c.WorkingTimeBetween(time.Date(year, 1, 1, 0, 0, 0, 0, cst), time.Date(year+1, 1, 1, 0, 0, 0, 0, cst))
		require.NoError(t, err)
		require.Equal(t, want, int(d/c.DayLength()), "year %d", year)
	}
}

func TestCalendarAddWorkingTime(t *testing.T) {
	c := newCal(t)
	cases := []struct {
		name  string
		start string
		days  int
		hours int
		want  string
	}{
		{"Friday evening + 1 working day ends Monday", "2026-11-20 20:00", 1, 0, "2026-11-23 18:00"},
		{"Friday evening + 2 working hours", "2026-11-20 20:00", 0, 2, "2026-11-23 11:00"},
		{"inside the day", "2026-11-24 10:00", 1, 0, "2026-11-25 10:00"},
		{"before opening", "2026-11-24 07:00", 0, 3, "2026-11-24 12:00"},
		{"exactly at closing", "2026-11-24 18:00", 0, 1, "2026-11-25 10:00"},
		{"春节 2025: Monday 17:00 + 2h skips the holiday", "2025-01-27 17:00", 0, 2, "2025-02-05 10:00"},
		{"春节 2025: Friday evening lands on make-up Sunday", "2025-01-24 20:00", 1, 0, "2025-01-26 18:00"},
		{"春节 2025: inside the holiday + 2 days", "2025-01-30 11:00", 2, 0, "2025-02-06 18:00"},
		{"春节 2025: Thursday + 2 days reaches make-up Saturday", "2025-02-06 10:00", 2, 0, "2025-02-08 10:00"},
		{"国庆 2024: Monday before + 1 day", "2024-09-30 10:00", 1, 0, "2024-10-08 10:00"},
		{"国庆 2024: make-up Sunday counts", "2024-09-28 12:00", 1, 0, "2024-09-29 18:00"},
		{"国庆 2024: Friday after lands on make-up Saturday", "2024-10-11 10:00", 1, 0, "2024-10-12 10:00"},
		{"across 元旦 2026 into make-up Sunday 4 Jan", "2025-12-31 17:00", 0, 2, "2026-01-04 10:00"},
		{"all of 2024: ends at the close of its last working day", "2024-01-02 09:00", 251, 0, "2024-12-31 18:00"},
		{"one more hour runs into 2025", "2024-01-02 09:00", 251, 1, "2025-01-02 10:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := time.Duration(tc.days)*c.DayLength() + time.Duration(tc.hours)*time.Hour
			got, err := c.AddWorkingTime(at(tc.start), d)
			require.NoError(t, err)
			require.Equal(t, at(tc.want), got, "got %s", stamp(got))
			back, err := c.WorkingTimeBetween(at(tc.start), got)
			require.NoError(t, err)
			require.Equal(t, d, back)
		})
	}
}

// naiveAdd walks window by window, day by day, to cross-check the
// prefix-sum arithmetic.
func naiveAdd(c *Calendar, t time.Time, d time.Duration) time.Time {
	for d > 0 {
		work, err := c.IsWorkingDay(t)
		if err != nil {
			panic(err)
		}
		y, m, dd := t.In(cst).Date()
		midnight := time.Date(y, m, dd, 0, 0, 0, 0, cst)
		if work {
			for _, iv := range c.ivs {
				open, close := midnight.Add(iv.Start), midnight.Add(iv.End)
				if !t.Before(close) {
					continue
				}
				if t.Before(open) {
					t = open
				}
				if left := close.Sub(t); left >= d {
					return t.Add(d)
				} else {
					d -= left
					t = close
				}
			}
		}
		t = midnight.AddDate(0, 0, 1)
	}
	return t
}

func TestCalendarAgainstNaive(t *testing.T) {
	t.Run("one window", func(t *testing.T) { againstNaive(t, newCal(t)) })
	t.Run("lunch break", func(t *testing.T) { againstNaive(t, lunchCal(t)) })
	t.Run("three windows", func(t *testing.T) {
		c, err := NewCalendar(CalendarOptions{Intervals: []WorkingDay{{0, 2 * time.Hour}, {8*time.Hour + 17*time.Minute, 11 * time.Hour}, {22 * time.Hour, 24 * time.Hour}}})
		require.NoError(t, err)
		againstNaive(t, c)
	})
}

func againstNaive(t *testing.T, c *Calendar) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := at("2023-01-01 00:00")
	for i := 0; i < 3000; i++ {
		start := base.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))
		d := time.Duration(1+rng.Int64N(int64(60*9*time.Hour/time.Minute))) * time.Minute
		got, err := c.AddWorkingTime(start, d)
		require.NoError(t, err)
		require.Equal(t, naiveAdd(c, start, d), got, "start %s + %v", stamp(start), d)
	}
}

func TestCalendarYearNotCovered(t *testing.T) {
	c := newCal(t)
	_, err := c.IsWorkingDay(at("2028-03-01 10:00"))
	require.ErrorIs(t, err, ErrYearNotCovered)
	var yn *YearNotCoveredError
	require.ErrorAs(t, err, &yn)
	require.Equal(t, 2028, yn.Year)

	// Crossing into an uncovered year is an error, not a Monday-to-Friday guess.
	_, err = c.AddWorkingDays(at("2027-12-28 10:00"), 5)
	require.ErrorIs(t, err, ErrYearNotCovered)
	_, err = c.AddWorkingDays(at("2001-06-01 10:00"), 1)
	require.ErrorIs(t, err, ErrYearNotCovered, "lunar-go lists only the last days of 2001")

	// 2027 is covered, but its December may still move when 2028 is published.
	p, err := c.Provisional(2027)
	require.NoError(t, err)
	require.True(t, p)
	p, err = c.Provisional(2026)
	require.NoError(t, err)
	require.False(t, p)

	// A caller adds 2028 (a made-up arrangement for the test).
	a, err := ParseYearArrangement([]byte(`{"year": 2028, "days": [
		{"date": "2028-01-01", "kind": "off", "name": "元旦"},
		{"date": "2028-01-03", "kind": "off", "name": "元旦"},
		{"date": "2028-01-08", "kind": "work", "name": "元旦"},
		{"date": "2027-12-31", "kind": "off", "name": "元旦"}]}`))
	require.NoError(t, err)
	require.NoError(t, c.SetYear(a))
	got, err := c.AddWorkingDays(at("2027-12-30 10:00"), 1)
	require.NoError(t, err)
	// Thu 30 Dec 10-18 (8 h), [Fri 31 off], Sat, Sun, [Mon 3 Jan off], Tue 4 Jan 9-10.
	require.Equal(t, at("2028-01-04 10:00"), got, stamp(got))
	p, err = c.Provisional(2027)
	require.NoError(t, err)
	require.False(t, p)
	w, err := c.IsWorkingDay(at("2028-01-08 10:00"))
	require.NoError(t, err)
	require.True(t, w, "make-up Saturday from the added year")
}

func TestCalendarOverrideYear(t *testing.T) {
	c := newCal(t)
	before, err := c.AddWorkingDays(at("2026-11-20 20:00"), 1)
	require.NoError(t, err)
	require.Equal(t, at("2026-11-23 18:00"), before)
	a, err := LunarSource{}.Arrangement(2026)
	require.NoError(t, err)
	a.Days = append(a.Days, Adjustment{Date: Date{2026, 11, 23}, Kind: DayOff, Name: "test"})
	require.NoError(t, c.SetYear(a))
	after, err := c.AddWorkingDays(at("2026-11-20 20:00"), 1)
	require.NoError(t, err)
	require.Equal(t, at("2026-11-24 18:00"), after)
}

func TestCalendarSources(t *testing.T) {
	m := MapSource{2030: {Year: 2030, Days: []Adjustment{{Date: Date{2030, 1, 1}, Kind: DayOff}}}}
	c, err := NewCalendar(CalendarOptions{Source: ChainSource{m, LunarSource{}}, Day: WorkingDay{Start: 8*time.Hour + 30*time.Minute, End: 17*time.Hour + 30*time.Minute}})
	require.NoError(t, err)
	got, err := c.AddWorkingHours(at("2029-12-31 17:00"), 1)
	require.ErrorIs(t, err, ErrYearNotCovered, "2029 is in neither source: %s", got)
	w, err := c.IsWorkingDay(at("2030-01-01 10:00"))
	require.NoError(t, err)
	require.False(t, w)
	got, err = c.AddWorkingHours(at("2026-11-20 17:00"), 1)
	require.NoError(t, err)
	require.Equal(t, at("2026-11-23 09:00"), got)

	_, err = NewCalendar(CalendarOptions{Day: WorkingDay{Start: 10 * time.Hour, End: 9 * time.Hour}})
	require.ErrorIs(t, err, ErrInvalidCalendar)
}

func TestParseYearArrangementErrors(t *testing.T) {
	cases := map[string]string{
		`{"year": 2028, "days": [{"date": "2028-02-30", "kind": "off"}]}`:                                         "days[0].date",
		`{"year": 2028, "days": [{"date": "2026-02-03", "kind": "off"}]}`:                                         "days[0].date",
		`{"year": 2028, "days": [{"date": "2028-02-03", "kind": "nap"}]}`:                                         "days[0].kind",
		`{"year": 2028, "days": [{"date": "2028-02-03", "kind": "off"}, {"date": "2028-02-03", "kind": "work"}]}`: "days[1].date",
		`{"year": 99, "days": []}`:   "year",
		`{"year": 2028, "dayz": []}`: "dayz",
		`{"year": "2028"}`:           "year",
	}
	for in, field := range cases {
		_, err := ParseYearArrangement([]byte(in))
		require.ErrorIs(t, err, ErrInvalidCalendar, in)
		var fe *FieldError
		require.True(t, errors.As(err, &fe), in)
		require.Equal(t, field, fe.Field, "%s: %v", in, err)
	}
}

func FuzzParseYearArrangement(f *testing.F) {
	f.Add([]byte(`{"year": 2028, "days": [{"date": "2028-01-01", "kind": "off", "name": "元旦"}]}`))
	f.Add([]byte(`{"year": 2028, "days": [{"date": "2027-12-31", "kind": "work"}]}`))
	f.Add([]byte(`{"year": -1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseYearArrangement(data)
		if err != nil {
			return
		}
		c := newCal(t)
		if err := c.SetYear(a); err != nil {
			t.Fatalf("validated arrangement refused: %v", err)
		}
		// Using it must never panic.
		_, _ = c.AddWorkingDays(time.Date(a.Year, 6, 1, 10, 0, 0, 0, cst), 3)
	})
}

func TestParseSpan(t *testing.T) {
	for in, want := range map[string]Span{
		"30m": Dur(30 * time.Minute), "1h30m": Dur(90 * time.Minute), "5d": DaysSpan(5),
		"1mo": MonthsSpan(1), "1y": MonthsSpan(12), "": {}, "0": {},
	} {
		got, err := ParseSpan(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		back, err := ParseSpan(got.String())
		require.NoError(t, err)
		require.Equal(t, got, back)
	}
	for _, in := range []string{"-1h", "0d", "xd", "1w", "2.5d", "99999999d", "-5m"} {
		_, err := ParseSpan(in)
		require.Error(t, err, in)
	}
	require.Equal(t, at("2026-02-28 10:00"), addMonths(at("2026-01-31 10:00"), 1))
}

func TestCalendarConcurrentUse(t *testing.T) {
	c := newCal(t)
	a, err := LunarSource{}.Arrangement(2026)
	require.NoError(t, err)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				start := at("2025-06-01 10:00").Add(time.Duration(g*200+i) * 7 * time.Hour)
				if _, err := c.AddWorkingDays(start, 3); err != nil {
					t.Error(err)
					return
				}
				if g == 0 && i%50 == 0 {
					if err := c.SetYear(a); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(g)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// Every year lunar-go holds loads, validates and has a plausible number of
// working days.
func TestLunarSourceAllYears(t *testing.T) {
	c := newCal(t)
	for y := 2002; y <= 2027; y++ {
		require.NoError(t, c.Load(y), "year %d", y)
		d, err := c.WorkingTimeBetween(time.Date(y, 1, 1, 0, 0, 0, 0, cst), time.Date(y, 12, 31, 23, 59, 0, 0, cst))
		require.NoError(t, err)
		n := int(d / c.DayLength())
		require.True(t, n >= 240 && n <= 254, "year %d: %d working days", y, n)
		days, err := c.HolidaysOf(y)
		require.NoError(t, err)
		require.NotEmpty(t, days)
		for i := 1; i < len(days); i++ {
			require.True(t, days[i-1].Date.Before(days[i].Date), "year %d not in order", y)
		}
	}
	// 2023's arrangement moved 2022-12-31 (a Saturday) off; it shows under 2022.
	days, err := c.HolidaysOf(2022)
	require.NoError(t, err)
	require.Equal(t, Date{2022, 12, 31}, days[len(days)-1].Date)
}

func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"30m", "1h30m", "5d", "1mo", "1y", "0", "", "-1d", "9999999999y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpan(s)
		if err != nil {
			return
		}
		if sp.IsZero() {
			return
		}
		if !sp.valid() {
			t.Fatalf("%q parsed to invalid %+v", s, sp)
		}
		back, err := ParseSpan(sp.String())
		if err != nil || back != sp {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, sp, sp.String(), back, err)
		}
	})
}

func TestYearArrangementJSONRoundTrip(t *testing.T) {
	a, err := LunarSource{}.Arrangement(2024)
	require.NoError(t, err)
	b, err := json.Marshal(a)
	require.NoError(t, err)
	require.Contains(t, string(b), `{"date":"2024-09-29","kind":"work","name":"国庆节"}`)
	back, err := ParseYearArrangement(b)
	require.NoError(t, err)
	require.Equal(t, a, back)

	// The same year from a file behaves like the lunar-go data.
	c, err := NewCalendar(CalendarOptions{Source: MapSource{2024: back}})
	require.NoError(t, err)
	got, err := c.AddWorkingDays(at("2024-09-30 10:00"), 1)
	require.NoError(t, err)
	require.Equal(t, at("2024-10-08 10:00"), got)
	d, err := c.WorkingTimeBetween(got, at("2024-09-30 10:00"))
	require.NoError(t, err)
	require.Equal(t, -c.DayLength(), d)
	p, err := c.Provisional(2024)
	require.NoError(t, err)
	require.True(t, p, "2025 is not in this source")
}

// lunchCal is a working day of 09:00-12:00 and 13:30-18:00 (7.5 hours).
func lunchCal(t testing.TB) *Calendar {
	t.Helper()
	c, err := NewCalendar(CalendarOptions{Intervals: []WorkingDay{
		{Start: 9 * time.Hour, End: 12 * time.Hour},
		{Start: 13*time.Hour + 30*time.Minute, End: 18 * time.Hour}}})
	require.NoError(t, err)
	return c
}

func TestCalendarLunchBreak(t *testing.T) {
	c := lunchCal(t)
	require.Equal(t, 7*time.Hour+30*time.Minute, c.DayLength())
	cases := []struct {
		name, start string
		add         time.Duration
		want        string
	}{
		{"morning ends at the break, not after it", "2026-11-24 09:00", 3 * time.Hour, "2026-11-24 12:00"},
		{"one minute more resumes after lunch", "2026-11-24 09:00", 3*time.Hour + time.Minute, "2026-11-24 13:31"},
		{"across the break", "2026-11-24 11:00", 2 * time.Hour, "2026-11-24 14:30"},
		{"a request during the break starts at 13:30", "2026-11-24 12:40", time.Hour, "2026-11-24 14:30"},
		{"request at 12:00 plus one working day", "2026-11-24 12:00", 7*time.Hour + 30*time.Minute, "2026-11-25 12:00"},
		{"Friday evening + 1 working day ends Monday 18:00", "2026-11-20 20:00", 7*time.Hour + 30*time.Minute, "2026-11-23 18:00"},
		{"afternoon into the next morning", "2026-11-24 17:00", 2 * time.Hour, "2026-11-25 10:00"},
		{"国庆 2024: Monday 16:00 + 5h30m skips the holiday and the break", "2024-09-30 16:00", 5*time.Hour + 30*time.Minute, "2024-10-08 14:00"},
		{"春节 2025: inside the holiday + 3h30m", "2025-01-30 11:00", 3*time.Hour + 30*time.Minute, "2025-02-05 14:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.AddWorkingTime(at(tc.start), tc.add)
			require.NoError(t, err)
			require.Equal(t, at(tc.want), got, "got %s", stamp(got))
			back, err := c.WorkingTimeBetween(at(tc.start), got)
			require.NoError(t, err)
			require.Equal(t, tc.add, back)
		})
	}
	// The break itself is not working time.
	d, err := c.WorkingTimeBetween(at("2026-11-24 11:30"), at("2026-11-24 14:00"))
	require.NoError(t, err)
	require.Equal(t, time.Hour, d)
	// The whole of 2024 is 251 days of 7.5 hours.
	d, err = c.WorkingTimeBetween(at("2024-01-01 00:00"), at("2025-01-01 00:00"))
	require.NoError(t, err)
	require.Equal(t, 251*c.DayLength(), d)
}

func TestCalendarIntervalsValidation(t *testing.T) {
	h := time.Hour
	cases := []struct {
		name string
		opts CalendarOptions
		want string
	}{
		{"overlap", CalendarOptions{Intervals: []WorkingDay{{9 * h, 13 * h}, {12 * h, 18 * h}}}, "Intervals[1]"},
		{"out of order", CalendarOptions{Intervals: []WorkingDay{{14 * h, 18 * h}, {9 * h, 12 * h}}}, "Intervals[1]"},
		{"empty window", CalendarOptions{Intervals: []WorkingDay{{9 * h, 9 * h}}}, "Intervals[0]"},
		{"past midnight", CalendarOptions{Intervals: []WorkingDay{{20 * h, 25 * h}}}, "Intervals[0]"},
		{"not whole minutes", CalendarOptions{Intervals: []WorkingDay{{9*h + time.Second, 12 * h}}}, "whole minutes"},
		{"both Day and Intervals", CalendarOptions{Day: WorkingDay{9 * h, 17 * h}, Intervals: []WorkingDay{{9 * h, 12 * h}}}, "not both"},
	}
	for _, tc := range cases {
		_, err := NewCalendar(tc.opts)
		require.ErrorIs(t, err, ErrInvalidCalendar, tc.name)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
	c, err := NewCalendar(CalendarOptions{Intervals: []WorkingDay{{9 * h, 12 * h}, {12 * h, 18 * h}}})
	require.NoError(t, err, "touching windows are allowed")
	require.Equal(t, 9*h, c.DayLength())
	require.Len(t, c.Intervals(), 2)
}
