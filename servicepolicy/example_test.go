package servicepolicy_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/servicepolicy"
)

// A repair request on a Friday evening, evaluated against the seed policy.
func Example() {
	cst := servicepolicy.CST()
	t := func(s string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", s, cst)
		return v
	}
	d := &servicepolicy.Dataset{
		Units:     []servicepolicy.Unit{{ID: "P1", Name: "城东服务站", Authorised: servicepolicy.Date{Year: 2020, Month: 1, Day: 1}}},
		Customers: []servicepolicy.Customer{{ID: "C1", Unit: "P1", Zone: servicepolicy.ZoneUrban}},
		Tickets: []servicepolicy.Ticket{{ID: "K1", Unit: "P1", Customer: "C1", Events: []servicepolicy.Event{
			{Kind: servicepolicy.EvOpened, At: t("2026-11-20 20:00")},
			{Kind: servicepolicy.EvArrived, At: t("2026-11-20 21:15")},
			{Kind: servicepolicy.EvException, At: t("2026-11-20 21:20"), Reason: "board failure", Plan: "part ordered for Monday"},
			{Kind: servicepolicy.EvPartOrdered, At: t("2026-11-20 21:30")},
			{Kind: servicepolicy.EvPartReplaced, At: t("2026-11-23 11:00")},
			{Kind: servicepolicy.EvFixed, At: t("2026-11-23 11:30")},
		}}},
	}
	e, err := servicepolicy.NewEvaluator(servicepolicy.SeedPolicy(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ev, err := e.Evaluate(d, t("2026-11-24 12:00"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range ev.Findings {
		if f.Subject == servicepolicy.SubjectTicket && f.State != servicepolicy.NotApplicable {
			fmt.Printf("%-3s %-8s %s\n", f.Commitment, f.State, f.Why)
		}
	}
	// Output:
	// V2  breached arrived 1h15m after opened, due 2026-11-20 21:00 (limit 1h); exception recorded (does not pause the clock)
	// V5  breached part-replaced 2d15h after opened, due 2026-11-21 20:00 (limit 24h); exception recorded (does not pause the clock)
	// A4  met      arrived 1h15m after opened (limit 24h)
	// A5  met      fixed 2h30m working time after arrived (limit 1d)
	// A8  met      fixed 2h30m working time after opened (limit 2d)
	// V6  met      V2, V5 missed; explained: board failure; plan: part ordered for Monday
	// V11 met      handled by the customer's service point P1
	// A1  met      unit P1 authorised since 2020-01-01
	// G4  met      chargeable repair: no serial number given; no proof of purchase
}

// Working time across the 2025 Spring Festival: the holiday runs from 28
// January to 4 February, and Sunday 26 January and Saturday 8 February are
// make-up working days.
func ExampleCalendar_AddWorkingDays() {
	cal, err := servicepolicy.NewCalendar(servicepolicy.CalendarOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2025, 1, 24, 20, 0, 0, 0, servicepolicy.CST()) // Friday evening
	for n := 1; n <= 3; n++ {
		due, err := cal.AddWorkingDays(start, n)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(n, due.Format("2006-01-02 Mon 15:04"))
	}
	_, err = cal.AddWorkingDays(time.Date(2028, 3, 1, 9, 0, 0, 0, servicepolicy.CST()), 1)
	fmt.Println(errors.Is(err, servicepolicy.ErrYearNotCovered))
	// Output:
	// 1 2025-01-26 Sun 18:00
	// 2 2025-01-27 Mon 18:00
	// 3 2025-02-05 Wed 18:00
	// true
}

// A working day with a lunch break: 09:00-12:00 and 13:30-18:00.
func ExampleCalendarOptions_intervals() {
	cal, err := servicepolicy.NewCalendar(servicepolicy.CalendarOptions{Intervals: []servicepolicy.WorkingDay{
		{Start: 9 * time.Hour, End: 12 * time.Hour},
		{Start: 13*time.Hour + 30*time.Minute, End: 18 * time.Hour},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2026, 11, 24, 11, 0, 0, 0, servicepolicy.CST())
	due, err := cal.AddWorkingHours(start, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cal.DayLength(), due.Format("2006-01-02 15:04"))
	// Output: 7h30m0s 2026-11-24 14:30
}
