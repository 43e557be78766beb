package servicepolicy

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixture is a small data set the table tests add one record to.
func fixture() *Dataset {
	return &Dataset{
		Units: []Unit{
			{ID: "P1", Name: "城区服务站", Authorised: Date{2020, 1, 1}, TaxOffice: "市税务局"},
			{ID: "U2", Name: "unlicensed shop"},
		},
		Customers: []Customer{
			{ID: "urban", Unit: "P1", Zone: ZoneUrban, Installed: at("2024-03-01 10:00"), UserCard: "UC1"},
			{ID: "sub", Unit: "P1", Zone: ZoneSuburban, UserCard: "UC2"},
			{ID: "county", Unit: "P1", Zone: ZoneCounty, UserCard: "UC3"},
			{ID: "remote", Unit: "P1", Zone: ZoneRemote, UserCard: "UC4"},
			{ID: "shared", Unit: "P1", Zone: ZoneUrban, UserCard: "UC1"},
		},
		Machines: []Machine{
			{Serial: "M-new", Customer: "urban", Paid: at("2026-06-01 10:00"), Contract: "W1", FiscalCard: "F1"},
			{Serial: "M-old", Customer: "urban", Paid: at("2024-01-01 10:00"), Contract: "W2", FiscalCard: "F2"},
		},
		Technicians: []Technician{
			{ID: "T1", Unit: "P1", Certificates: []Certificate{{Number: "C1", Issued: Date{2025, 1, 1}, Expires: Date{2027, 12, 31}}}},
			{ID: "T2", Unit: "P1", Certificates: []Certificate{{Number: "C2", Issued: Date{2023, 1, 1}, Expires: Date{2026, 9, 30}}}},
		},
	}
}

func evs(pairs ...any) []Event {
	var out []Event
	for i := 0; i < len(pairs); i += 2 {
		e := Event{Kind: pairs[i].(EventKind), At: at(pairs[i+1].(string))}
		if e.Kind == EvDispatched {
			e.Technician = "T1"
		}
		out = append(out, e)
	}
	return out
}

func evalOne(t *testing.T, tk Ticket, now string) map[string]Finding {
	t.Helper()
	d := fixture()
	d.Tickets = append(d.Tickets, tk)
	require.NoError(t, d.Validate())
	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	fs, err := e.EvaluateTicket(NewIndex(d), &d.Tickets[0], at(now), nil)
	require.NoError(t, err)
	out := make(map[string]Finding)
	for _, f := range fs {
		out[f.Commitment] = f
	}
	return out
}

func TestTicketCommitments(t *testing.T) {
	tk := func(cust string, events []Event) Ticket {
		return Ticket{ID: "K1", Unit: "P1", Customer: cust, Events: events}
	}
	cases := []struct {
		name  string
		t     Ticket
		now   string
		id    string
		state State
		due   string // checked when set
		over  bool   // OverTarget expected
	}{
		// V2 urban arrival: target 30 min, limit 60 min.
		{"V2 within target", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 10:25")), "2026-11-03 00:00", "V2", Met, "2026-11-02 11:00", false},
		{"V2 over target within limit", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 10:42")), "2026-11-03 00:00", "V2", Met, "", true},
		{"V2 late", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 11:15")), "2026-11-03 00:00", "V2", Breached, "", false},
		{"V2 still running", tk("urban", evs(EvOpened, "2026-11-02 10:00")), "2026-11-02 10:30", "V2", Pending, "", false},
		{"V2 overdue without arrival", tk("urban", evs(EvOpened, "2026-11-02 10:00")), "2026-11-02 12:00", "V2", Breached, "", false},
		{"V2 calendar clock at night (24x7)", tk("urban", evs(EvOpened, "2026-11-07 23:30", EvArrived, "2026-11-08 00:20")), "2026-11-09 00:00", "V2", Met, "2026-11-08 00:30", true},
		{"V2 solved by phone", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvResolvedByPhone, "2026-11-02 10:10")), "2026-11-03 00:00", "V2", NotApplicable, "", false},
		{"V2 not for suburbs", tk("sub", evs(EvOpened, "2026-11-02 10:00")), "2026-11-03 00:00", "V2", NotApplicable, "", false},
		// V3 suburb/county: target 1 h, limit 2 h.
		{"V3 county over target", tk("county", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 11:30")), "2026-11-03 00:00", "V3", Met, "2026-11-02 12:00", true},
		{"V3 suburb late", tk("sub", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 12:10")), "2026-11-03 00:00", "V3", Breached, "", false},
		{"V3 not for remote", tk("remote", evs(EvOpened, "2026-11-02 10:00")), "2026-11-03 00:00", "V3", NotApplicable, "", false},
		// V4 routine fault within 2 h of arrival.
		{"V4 met", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 10:30", EvFixed, "2026-11-02 12:20")), "2026-11-03 00:00", "V4", Met, "2026-11-02 12:30", false},
		{"V4 breached", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 10:30", EvFixed, "2026-11-02 12:40")), "2026-11-03 00:00", "V4", Breached, "", false},
		{"V4 not routine (part)", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 10:30", EvPartOrdered, "2026-11-02 11:00")), "2026-11-03 00:00", "V4", NotApplicable, "", false},
		// V5 part replaced within 24 h of the request.
		{"V5 met", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvPartOrdered, "2026-11-02 11:00", EvPartReplaced, "2026-11-03 09:00")), "2026-11-04 00:00", "V5", Met, "2026-11-03 10:00", false},
		{"V5 breached", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvPartOrdered, "2026-11-02 11:00", EvPartReplaced, "2026-11-03 16:00")), "2026-11-04 00:00", "V5", Breached, "", false},
		{"V5 no part", tk("urban", evs(EvOpened, "2026-11-02 10:00")), "2026-11-04 00:00", "V5", NotApplicable, "", false},
		// V7 loaner when the machine leaves for the workshop.
		{"V7 met", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvCarriedIn, "2026-11-02 11:00", EvLoanerOut, "2026-11-02 11:20")), "2026-11-04 00:00", "V7", Met, "2026-11-02 12:00", false},
		{"V7 breached", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvCarriedIn, "2026-11-02 11:00")), "2026-11-02 15:00", "V7", Breached, "", false},
		// A4 on site within 24 h when the phone did not solve it.
		{"A4 met", tk("remote", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-03 09:00")), "2026-11-04 00:00", "A4", Met, "2026-11-03 10:00", false},
		{"A4 breached", tk("remote", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-03 11:00")), "2026-11-04 00:00", "A4", Breached, "", false},
		// A5 fixed within 1 working day of arrival; remote exempt.
		{"A5 Friday evening arrival, fixed Monday", tk("urban", evs(EvOpened, "2026-11-20 19:00", EvArrived, "2026-11-20 19:40", EvFixed, "2026-11-23 16:00")), "2026-11-24 00:00", "A5", Met, "2026-11-23 18:00", false},
		{"A5 next day late", tk("urban", evs(EvOpened, "2026-11-23 09:30", EvArrived, "2026-11-23 10:00", EvFixed, "2026-11-24 11:00")), "2026-11-25 00:00", "A5", Breached, "2026-11-24 10:00", false},
		{"A5 across 春节 2025", tk("urban", evs(EvOpened, "2025-01-27 15:00", EvArrived, "2025-01-27 16:00", EvFixed, "2025-02-05 14:00")), "2025-02-06 00:00", "A5", Met, "2025-02-05 16:00", false},
		{"A5 across 国庆 2024 late", tk("urban", evs(EvOpened, "2024-09-30 14:00", EvArrived, "2024-09-30 15:00", EvFixed, "2024-10-08 16:00")), "2024-10-09 00:00", "A5", Breached, "2024-10-08 15:00", false},
		{"A5 make-up Saturday counts (国庆 2024)", tk("urban", evs(EvOpened, "2024-10-11 15:00", EvArrived, "2024-10-11 16:00", EvFixed, "2024-10-12 15:00")), "2024-10-13 00:00", "A5", Met, "2024-10-12 16:00", false},
		{"A5 remote exempt", tk("remote", evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-03 10:00", EvFixed, "2026-11-06 10:00")), "2026-11-07 00:00", "A5", Exempt, "2026-11-04 10:00", false},
		// A8 fixed or escalated within 2 working days of the request.
		{"A8 Friday evening request escalated Tuesday", tk("urban", evs(EvOpened, "2026-11-20 20:00", EvEscalated, "2026-11-24 17:00")), "2026-11-25 00:00", "A8", Met, "2026-11-24 18:00", false},
		{"A8 escalated too late", tk("urban", evs(EvOpened, "2026-11-20 20:00", EvEscalated, "2026-11-25 09:30")), "2026-11-26 00:00", "A8", Breached, "", false},
		{"A8 pending over the weekend", tk("urban", evs(EvOpened, "2026-11-20 20:00")), "2026-11-22 12:00", "A8", Pending, "2026-11-24 18:00", false},
		// A12 loaner when the repair will take over 3 days.
		{"A12 breached", tk("urban", []Event{{Kind: EvOpened, At: at("2026-11-02 10:00")}, {Kind: EvEstimate, At: at("2026-11-02 12:00"), Estimate: DaysSpan(5)}, {Kind: EvLoanerOut, At: at("2026-11-03 18:00")}}), "2026-11-04 00:00", "A12", Breached, "2026-11-03 12:00", false},
		{"A12 met", tk("urban", []Event{{Kind: EvOpened, At: at("2026-11-02 10:00")}, {Kind: EvEstimate, At: at("2026-11-02 12:00"), Estimate: DaysSpan(4)}, {Kind: EvLoanerOut, At: at("2026-11-02 14:00")}}), "2026-11-04 00:00", "A12", Met, "", false},
		{"A12 short repair", tk("urban", []Event{{Kind: EvOpened, At: at("2026-11-02 10:00")}, {Kind: EvEstimate, At: at("2026-11-02 12:00"), Estimate: DaysSpan(2)}}), "2026-11-04 00:00", "A12", NotApplicable, "", false},
		// V11 the customer's own service point; A1 authorised units.
		{"V11 other unit", Ticket{ID: "K1", Unit: "U2", Customer: "urban", Events: evs(EvOpened, "2026-11-02 10:00")}, "2026-11-03 00:00", "V11", Breached, "", false},
		{"A1 unauthorised unit", Ticket{ID: "K1", Unit: "U2", Customer: "urban", Events: evs(EvOpened, "2026-11-02 10:00")}, "2026-11-03 00:00", "A1", Breached, "", false},
		{"A1 authorised", tk("urban", evs(EvOpened, "2026-11-02 10:00")), "2026-11-03 00:00", "A1", Met, "", false},
		// V12/A10 certified dispatch.
		{"V12 certified", tk("urban", evs(EvOpened, "2026-11-02 10:00", EvDispatched, "2026-11-02 10:05")), "2026-11-03 00:00", "V12", Met, "", false},
		{"A10 expired certificate", tk("urban", []Event{{Kind: EvOpened, At: at("2026-11-02 10:00")}, {Kind: EvDispatched, At: at("2026-11-02 10:05"), Technician: "T2"}}), "2026-11-03 00:00", "A10", Breached, "", false},
		{"V12 expired certificate", tk("urban", []Event{{Kind: EvOpened, At: at("2026-11-02 10:00")}, {Kind: EvDispatched, At: at("2026-11-02 10:05"), Technician: "T2"}}), "2026-11-03 00:00", "V12", Breached, "", false},
		{"A10 certificate still valid then", tk("urban", []Event{{Kind: EvOpened, At: at("2026-09-30 10:00")}, {Kind: EvDispatched, At: at("2026-09-30 10:05"), Technician: "T2"}}), "2026-11-03 00:00", "A10", Met, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := evalOne(t, tc.t, tc.now)[tc.id]
			require.True(t, ok, "no finding for %s", tc.id)
			require.Equal(t, tc.state, f.State, "%s: %s", tc.id, f.Why)
			require.NotEmpty(t, f.Why)
			if tc.due != "" {
				require.Equal(t, at(tc.due), f.Due, "due %s", stamp(f.Due))
			}
			require.Equal(t, tc.over, f.OverTarget, f.Why)
		})
	}
}

func TestExceptionsAreVisibleNotPauses(t *testing.T) {
	base := evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 11:30")
	// A breach and no exception: V6 breached.
	fs := evalOne(t, Ticket{ID: "K1", Unit: "P1", Customer: "urban", Events: base}, "2026-11-03 00:00")
	require.Equal(t, Breached, fs["V2"].State)
	require.Equal(t, Breached, fs["V6"].State, fs["V6"].Why)

	// An exception with reason and plan: V6 met, V2 still breached and shows it.
	withExc := append(append([]Event(nil), base...), Event{Kind: EvException, At: at("2026-11-02 10:40"), Reason: "road closed by flooding", Plan: "technician re-routed via ring road"})
	fs = evalOne(t, Ticket{ID: "K1", Unit: "P1", Customer: "urban", Events: withExc}, "2026-11-03 00:00")
	require.Equal(t, Breached, fs["V2"].State, "an exception never pauses the clock")
	require.Len(t, fs["V2"].Exceptions, 1)
	require.Contains(t, fs["V2"].Why, "exception recorded")
	require.Equal(t, Met, fs["V6"].State, fs["V6"].Why)
	require.Contains(t, fs["V6"].Why, "road closed")

	// An exception without a plan: V6 breached.
	noPlan := append(append([]Event(nil), base...), Event{Kind: EvException, At: at("2026-11-02 10:40"), Reason: "busy"})
	fs = evalOne(t, Ticket{ID: "K1", Unit: "P1", Customer: "urban", Events: noPlan}, "2026-11-03 00:00")
	require.Equal(t, Breached, fs["V6"].State)

	// Nothing missed: V6 does not apply.
	fs = evalOne(t, Ticket{ID: "K1", Unit: "P1", Customer: "urban", Events: evs(EvOpened, "2026-11-02 10:00", EvResolvedByPhone, "2026-11-02 10:05")}, "2026-11-03 00:00")
	require.Equal(t, NotApplicable, fs["V6"].State)
}

func TestWarranty(t *testing.T) {
	d := fixture()
	ix := NewIndex(d)
	open := evs(EvOpened, "2026-11-02 10:00")
	cases := []struct {
		name    string
		t       Ticket
		covered bool
		g3, g4  State
	}{
		{"in warranty, free", Ticket{Machine: "M-new", ProofOfPurchase: true}, true, Met, NotApplicable},
		{"in warranty but charged", Ticket{Machine: "M-new", ProofOfPurchase: true, Charged: true}, true, Breached, NotApplicable},
		{"human damage is chargeable", Ticket{Machine: "M-new", ProofOfPurchase: true, Damage: DamageHuman, Charged: true}, false, NotApplicable, Met},
		{"no proof of purchase", Ticket{Machine: "M-new"}, false, NotApplicable, Met},
		{"no serial number", Ticket{ProofOfPurchase: true}, false, NotApplicable, Met},
		{"expired: paid repair", Ticket{Machine: "M-old", ProofOfPurchase: true, Charged: true}, false, NotApplicable, Met},
		{"expired and refused", Ticket{Machine: "M-old", ProofOfPurchase: true, Refused: true}, false, NotApplicable, Breached},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.t.ID, tc.t.Unit, tc.t.Customer, tc.t.Events = "K1", "P1", "urban", open
			w := Warranty(ix.machines[tc.t.Machine], &tc.t, MonthsSpan(12))
			require.Equal(t, tc.covered, w.Covered, w.Reasons)
			require.Equal(t, tc.covered, len(w.Reasons) == 0)
			fs := evalOne(t, tc.t, "2026-11-03 00:00")
			require.Equal(t, tc.g3, fs["G3"].State, fs["G3"].Why)
			require.Equal(t, tc.g4, fs["G4"].State, fs["G4"].Why)
		})
	}
	// The warranty ends one year after the sale, to the minute.
	m := ix.machines["M-new"]
	w := Warranty(m, &Ticket{Machine: "M-new", ProofOfPurchase: true, Events: evs(EvOpened, "2027-06-01 09:59")}, MonthsSpan(12))
	require.True(t, w.Covered)
	w = Warranty(m, &Ticket{Machine: "M-new", ProofOfPurchase: true, Events: evs(EvOpened, "2027-06-01 10:00")}, MonthsSpan(12))
	require.False(t, w.Covered)
}

func findings(t *testing.T, d *Dataset, now string) map[string][]Finding {
	t.Helper()
	require.NoError(t, d.Validate())
	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	ev, err := e.Evaluate(d, at(now))
	require.NoError(t, err)
	out := make(map[string][]Finding)
	for _, f := range ev.Findings {
		out[f.Commitment+"/"+f.Record] = append(out[f.Commitment+"/"+f.Record], f)
	}
	return out
}

func TestMachineCommitments(t *testing.T) {
	d := fixture()
	d.Machines = append(d.Machines,
		Machine{Serial: "ok", Customer: "urban", Paid: at("2026-11-02 10:00"), Installed: at("2026-11-06 10:00"), Contract: "W9", FiscalCard: "F9",
			Bundle: []string{"register", "cash-drawer", "user-card", "fiscal-card", "manual", "demo-disc", "warranty-card", "commitment-letter"}},
		Machine{Serial: "late", Customer: "sub", Paid: at("2026-11-02 10:00"), Installed: at("2026-11-08 10:00"), FiscalCard: "F9",
			Bundle: []string{"register", "manual"}},
		Machine{Serial: "waiting", Customer: "shared", Paid: at("2026-11-02 10:00"), Contract: "W10", FiscalCard: "F10"},
	)
	fs := findings(t, d, "2026-11-20 00:00")
	require.Equal(t, Met, fs["V8/ok"][0].State)
	require.Equal(t, Breached, fs["V8/late"][0].State)
	require.Equal(t, Breached, fs["V8/waiting"][0].State, "not installed 18 days after payment")
	require.Equal(t, Met, fs["V9/ok"][0].State)
	require.Equal(t, Breached, fs["V9/late"][0].State)
	require.Equal(t, Breached, fs["V10/ok"][0].State, "fiscal card F9 is also on machine late")
	require.Contains(t, fs["V10/ok"][0].Why, "F9 shared")
	require.Contains(t, fs["V10/late"][0].Why, "cash-drawer")
	require.Contains(t, fs["V10/waiting"][0].Why, "user card UC1 shared")
}

func TestCustomerCallbacks(t *testing.T) {
	d := fixture()
	d.Customers = append(d.Customers,
		Customer{ID: "new-ok", Unit: "P1", Zone: ZoneUrban, Installed: at("2026-10-01 10:00"), UserCard: "N1"},
		Customer{ID: "new-late", Unit: "P1", Zone: ZoneUrban, Installed: at("2026-10-01 10:00"), UserCard: "N2"},
		Customer{ID: "old", Unit: "P1", Zone: ZoneCounty, Installed: at("2025-11-10 10:00"), UserCard: "N3"},
	)
	d.Callbacks = []Callback{
		{Customer: "new-ok", Unit: "P1", At: at("2026-10-20 10:00")},
		{Customer: "new-late", Unit: "P1", At: at("2026-11-05 10:00")},
		{Customer: "old", Unit: "P1", At: at("2025-12-01 10:00")},
		{Customer: "old", Unit: "P1", At: at("2026-11-15 10:00"), OnSite: true},
	}
	fs := findings(t, d, "2026-11-20 00:00")
	require.Equal(t, Met, fs["A7/new-ok"][0].State)
	require.Equal(t, Breached, fs["A7/new-late"][0].State)
	require.Equal(t, at("2026-11-01 10:00"), fs["A7/new-late"][0].Due)
	// old: service year 2025-11-10 .. 2026-11-10 with one phone callback.
	a6 := fs["A6/old"]
	require.Len(t, a6, 2)
	require.Equal(t, Breached, a6[0].State, a6[0].Why)
	require.Contains(t, a6[0].Why, "1 of 2")
	require.Equal(t, Pending, a6[1].State)
	require.Equal(t, Missed, fs["A6b/old"][0].State, "best effort: missed, not breached")
	require.Equal(t, Met, fs["A6b/old"][1].State)
	require.Equal(t, Pending, fs["A6/new-ok"][0].State)

	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	ix := NewIndex(d)
	p, err := e.CallbackPlan(ix, "old", at("2026-11-20 00:00"))
	require.NoError(t, err)
	require.True(t, p.Overdue)
	require.Equal(t, at("2026-06-01 10:00"), p.NextDue)
	require.Len(t, p.Gaps, 1)
	require.True(t, p.Gaps[0].Open)
	p, err = e.CallbackPlan(ix, "new-late", at("2026-11-20 00:00"))
	require.NoError(t, err)
	require.False(t, p.Overdue)
	require.Len(t, p.Gaps, 1, "first callback came after the one-month limit")
	require.Equal(t, at("2027-05-05 10:00"), p.NextDue)
	_, err = e.CallbackPlan(ix, "nobody", at("2026-11-20 00:00"))
	require.ErrorIs(t, err, ErrInvalidRecord)
}

func TestContactsAndCalls(t *testing.T) {
	d := fixture()
	d.Contacts = []Contact{
		{ID: "I1", Unit: "P1", Topic: TopicInquiry, Received: at("2026-11-02 10:00"), Replied: at("2026-11-03 06:00")},
		{ID: "I2", Unit: "P1", Topic: TopicInquiry, Received: at("2026-11-02 10:00"), Replied: at("2026-11-03 16:00")},
		{ID: "Q1", Unit: "P1", Topic: TopicComplaint, Customer: "urban", Received: at("2026-11-02 10:00"), Replied: at("2026-11-04 12:00"), Closed: at("2026-11-05 12:00")},
		{ID: "Q2", Unit: "P1", Topic: TopicComplaint, Received: at("2026-11-02 10:00"), Replied: at("2026-11-03 12:00"), Closed: at("2026-11-05 12:00"), Resolution: "refund of call-out fee"},
		{ID: "Q3", Unit: "P1", Topic: TopicComplaint, Received: at("2026-11-18 10:00")},
	}
	d.Calls = []Call{{Unit: "P1", At: at("2026-11-08 03:10"), Answered: false}, {Unit: "P1", At: at("2026-11-08 03:20"), Answered: true}}
	fs := findings(t, d, "2026-11-19 00:00")
	require.Equal(t, Met, fs["G1/I1"][0].State)
	require.Equal(t, Breached, fs["G1/I2"][0].State)
	require.Equal(t, Breached, fs["G2/Q1"][0].State, "reply after 50 h")
	require.Equal(t, Breached, fs["A3/Q1"][0].State, "closed without resolution")
	require.Equal(t, Met, fs["A3/Q2"][0].State)
	require.Equal(t, Pending, fs["A3/Q3"][0].State)
	require.Equal(t, Pending, fs["G2/Q3"][0].State)
	_, ok := fs["G1/Q1"]
	require.False(t, ok, "G1 is for inquiries only")
	for _, id := range []string{"V1", "A2", "G5"} {
		require.Equal(t, Breached, fs[id+"/P1@2026-11-08 03:10"][0].State, id)
		require.Equal(t, Met, fs[id+"/P1@2026-11-08 03:20"][0].State, id)
	}
}

func TestStaffing(t *testing.T) {
	d := fixture()
	d.Customers = d.Customers[:0]
	for i := 0; i < 401; i++ {
		d.Customers = append(d.Customers, Customer{ID: fmt.Sprint("c", i), Unit: "P1", Zone: ZoneUrban})
	}
	for i := 0; i < 50; i++ {
		d.Customers = append(d.Customers, Customer{ID: fmt.Sprint("s", i), Unit: "P1", Zone: ZoneSpecial})
	}
	d.Machines = nil
	// T2's certificate has expired by now: one certified technician.
	fs := findings(t, d, "2026-11-20 00:00")
	require.Equal(t, Breached, fs["A9/P1"][0].State, fs["A9/P1"][0].Why)
	require.Contains(t, fs["A9/P1"][0].Why, "401 customers, 1 certified")
	d.Technicians = append(d.Technicians, Technician{ID: "T3", Unit: "P1", Certificates: []Certificate{{Number: "C3", Issued: Date{2026, 1, 1}, Expires: Date{2028, 1, 1}}}})
	fs = findings(t, d, "2026-11-20 00:00")
	require.Equal(t, Breached, fs["A9/P1"][0].State, "401 > 2*200")
	d.Customers = d.Customers[1:]
	fs = findings(t, d, "2026-11-20 00:00")
	require.Equal(t, Met, fs["A9/P1"][0].State, fs["A9/P1"][0].Why)
	require.Equal(t, NotApplicable, fs["A9/U2"][0].State)
}

func TestEvaluateYearNotCovered(t *testing.T) {
	d := fixture()
	d.Tickets = []Ticket{{ID: "K-2028", Unit: "P1", Customer: "urban", Events: evs(EvOpened, "2028-03-01 10:00", EvArrived, "2028-03-01 10:30")}}
	e, err := NewEvaluator(SeedPolicy(), nil)
	require.NoError(t, err)
	_, err = e.Evaluate(d, at("2028-03-02 00:00"))
	require.ErrorIs(t, err, ErrYearNotCovered)
	require.Contains(t, err.Error(), "K-2028")
	var yn *YearNotCoveredError
	require.ErrorAs(t, err, &yn)
	require.Equal(t, 2028, yn.Year)

	// A calendar-clock-only policy needs no holiday data.
	p := Combine("vendor", VendorPlan())
	e, err = NewEvaluator(p, nil)
	require.NoError(t, err)
	ev, err := e.Evaluate(d, at("2028-03-02 00:00"))
	require.NoError(t, err)
	require.NotEmpty(t, ev.Findings)
}

func TestFirstInstallationFromMachines(t *testing.T) {
	d := fixture()
	d.Customers = append(d.Customers, Customer{ID: "fresh", Unit: "P1", Zone: ZoneUrban, UserCard: "F"})
	d.Machines = append(d.Machines,
		Machine{Serial: "F-2", Customer: "fresh", Paid: at("2026-10-01 10:00"), Installed: at("2026-10-20 10:00")},
		Machine{Serial: "F-1", Customer: "fresh", Paid: at("2026-09-01 10:00"), Installed: at("2026-09-03 10:00")})
	ix := NewIndex(d)
	got, ok := ix.FirstInstalled("fresh")
	require.True(t, ok)
	require.Equal(t, at("2026-09-03 10:00"), got)
	got, _ = ix.FirstInstalled("urban")
	require.Equal(t, at("2024-03-01 10:00"), got, "the customer's own date wins")
	fs := findings(t, d, "2026-11-01 00:00")
	require.Equal(t, Breached, fs["A7/fresh"][0].State, "no callback within a month of 3 September")
	require.Equal(t, at("2026-10-03 10:00"), fs["A7/fresh"][0].Due)
}

func TestEvaluationTimeIgnoresLaterEvents(t *testing.T) {
	k := Ticket{ID: "K1", Unit: "P1", Customer: "urban", Events: evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 10:25", EvCarriedIn, "2026-11-02 11:00", EvLoanerOut, "2026-11-02 10:50")}
	// At 10:20 the technician has not arrived yet: V2 is pending, not met.
	fs := evalOne(t, k, "2026-11-02 10:20")
	require.Equal(t, Pending, fs["V2"].State, fs["V2"].Why)
	require.True(t, fs["V2"].Stop.IsZero())
	require.Equal(t, NotApplicable, fs["V7"].State, "carried in after the evaluation time")
	// Later, the loaner handed over before the machine left counts as met.
	fs = evalOne(t, k, "2026-11-03 00:00")
	require.Equal(t, Met, fs["V2"].State)
	require.Equal(t, Met, fs["V7"].State, fs["V7"].Why)
	require.Contains(t, fs["V7"].Why, "before carried-in")
}

func TestEvaluatorConcurrentUse(t *testing.T) {
	d := sampleFixture()
	e, err := NewEvaluator(SeedPolicy(), newCal(t))
	require.NoError(t, err)
	ix := NewIndex(d)
	want, err := e.EvaluateTicket(ix, &d.Tickets[0], at("2026-11-20 00:00"), nil)
	require.NoError(t, err)
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			var dst []Finding
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				dst, err = e.EvaluateTicket(ix, &d.Tickets[0], at("2026-11-20 00:00"), dst[:0])
				if err == nil && len(dst) != len(want) {
					err = fmt.Errorf("got %d findings, want %d", len(dst), len(want))
				}
			}
			errs <- err
		}()
	}
	for g := 0; g < 4; g++ {
		require.NoError(t, <-errs)
	}
}

// Checks judge only what has happened by the evaluation time, as deadlines do.
func TestChecksHonourEvaluationTime(t *testing.T) {
	full := []string{"register", "cash-drawer", "user-card", "fiscal-card", "manual", "demo-disc", "warranty-card", "commitment-letter"}
	base := func() *Dataset {
		d := fixture()
		d.Customers = d.Customers[:4] // no shared user card
		d.Machines = []Machine{
			{Serial: "nocontract", Customer: "sub", Paid: at("2026-11-10 10:00"), FiscalCard: "F1", Bundle: full},
			{Serial: "short", Customer: "county", Paid: at("2026-11-10 10:00"), Contract: "W1", FiscalCard: "F2", Bundle: full[:2]},
		}
		d.Tickets = []Ticket{
			{ID: "uncert", Unit: "P1", Customer: "urban", Events: []Event{
				{Kind: EvOpened, At: at("2026-11-10 10:00")},
				{Kind: EvDispatched, At: at("2026-11-10 10:05"), Technician: "T1"},
				{Kind: EvDispatched, At: at("2026-11-12 10:05"), Technician: "T2"}, // T2 expired 2026-09-30
			}},
			{ID: "unexplained", Unit: "P1", Customer: "urban", Events: []Event{
				{Kind: EvOpened, At: at("2026-11-10 10:00")},
				{Kind: EvException, At: at("2026-11-12 09:00")}, // no reason, no plan
			}},
		}
		d.Contacts = []Contact{{ID: "Q", Unit: "P1", Topic: TopicComplaint, Received: at("2026-11-10 10:00"),
			Replied: at("2026-11-10 12:00"), Closed: at("2026-11-12 10:00")}}
		d.Calls = []Call{{Unit: "P1", At: at("2026-11-12 03:00")}}
		return d
	}
	cases := []struct {
		now, key string
		want     State
		why      string
	}{
		{"2026-11-09 00:00", "V9/nocontract", NotApplicable, "after the evaluation time"},
		{"2026-11-11 00:00", "V9/nocontract", Breached, "no warranty contract"},
		{"2026-11-09 00:00", "V10/short", NotApplicable, "after the evaluation time"},
		{"2026-11-11 00:00", "V10/short", Breached, "bundle lacks"},
		{"2026-11-09 00:00", "V12/uncert", NotApplicable, "after the evaluation time"},
		{"2026-11-10 10:00", "V12/uncert", NotApplicable, "no dispatch by the evaluation time"},
		{"2026-11-11 00:00", "V12/uncert", Met, "1 dispatch(es), all certified"},
		{"2026-11-13 00:00", "V12/uncert", Breached, "T2 dispatched 2026-11-12"},
		{"2026-11-13 00:00", "A10/uncert", Breached, "T2 dispatched"},
		{"2026-11-09 00:00", "A1/uncert", NotApplicable, "after the evaluation time"},
		{"2026-11-11 00:00", "V6/unexplained", Breached, "no exception explained"},
		{"2026-11-13 00:00", "V6/unexplained", Breached, "lacks a reason or a plan"},
		{"2026-11-09 00:00", "A3/Q", NotApplicable, "after the evaluation time"},
		{"2026-11-11 00:00", "A3/Q", Pending, "open since"},
		{"2026-11-13 00:00", "A3/Q", Breached, "without a recorded resolution"},
		{"2026-11-11 00:00", "V1/P1@2026-11-12 03:00", NotApplicable, "after the evaluation time"},
		{"2026-11-13 00:00", "V1/P1@2026-11-12 03:00", Breached, "not answered"},
	}
	for _, tc := range cases {
		fs := findings(t, base(), tc.now)
		got, ok := fs[tc.key]
		require.True(t, ok, "%s at %s: no finding", tc.key, tc.now)
		require.Equal(t, tc.want, got[0].State, "%s at %s: %s", tc.key, tc.now, got[0].Why)
		require.Contains(t, got[0].Why, tc.why, "%s at %s", tc.key, tc.now)
	}
}

// When and Unless look only at events that happened by the evaluation time:
// a part ordered later does not take V4 off a routine repair yet.
func TestDeadlineConditionsHonourEvaluationTime(t *testing.T) {
	k := Ticket{ID: "K1", Unit: "P1", Customer: "urban", Events: evs(EvOpened, "2026-11-02 10:00", EvArrived, "2026-11-02 10:25", EvPartOrdered, "2026-11-02 15:00")}
	fs := evalOne(t, k, "2026-11-02 13:00")
	require.Equal(t, Breached, fs["V4"].State, fs["V4"].Why)
	require.Equal(t, NotApplicable, fs["V5"].State, fs["V5"].Why)
	fs = evalOne(t, k, "2026-11-02 16:00")
	require.Equal(t, NotApplicable, fs["V4"].State, fs["V4"].Why)
	require.Equal(t, Pending, fs["V5"].State, fs["V5"].Why)
}

// V11's three levels: a province centre, a city centre, two county points.
func treeDataset() *Dataset {
	d := &Dataset{Units: []Unit{
		{ID: "PROV", Authorised: Date{2020, 1, 1}},
		{ID: "CITY", Parent: "PROV", Authorised: Date{2020, 1, 1}},
		{ID: "CTY1", Parent: "CITY", Authorised: Date{2020, 1, 1}},
		{ID: "CTY2", Parent: "CITY", Authorised: Date{2020, 1, 1}},
	}}
	add := func(unit string, n int, zone Zone) {
		for i := 0; i < n; i++ {
			d.Customers = append(d.Customers, Customer{ID: fmt.Sprint(unit, zone, i), Unit: unit, Zone: zone})
		}
	}
	add("CITY", 100, ZoneUrban)
	add("CTY1", 250, ZoneCounty)
	add("CTY1", 40, ZoneSpecial)
	add("CTY2", 150, ZoneCounty)
	cert := []Certificate{{Number: "C", Issued: Date{2025, 1, 1}, Expires: Date{2027, 12, 31}}}
	old := []Certificate{{Number: "X", Issued: Date{2020, 1, 1}, Expires: Date{2025, 12, 31}}}
	d.Technicians = []Technician{
		{ID: "t-city1", Unit: "CITY", Certificates: cert},
		{ID: "t-city2", Unit: "CITY", Certificates: cert},
		{ID: "t-cty1", Unit: "CTY1", Certificates: cert},
		{ID: "t-cty1-old", Unit: "CTY1", Certificates: old},
		{ID: "t-prov", Unit: "PROV", Certificates: cert},
	}
	return d
}

func TestStaffingRollUp(t *testing.T) {
	d := treeDataset()
	require.NoError(t, d.Validate())
	ix := NewIndex(d)
	now := at("2026-11-20 00:00")
	cases := []struct {
		unit                   string
		own, ownT, tree, treeT int
		below                  []string
	}{
		{"PROV", 0, 1, 500, 4, []string{"CITY", "CTY1", "CTY2"}},
		{"CITY", 100, 2, 500, 3, []string{"CTY1", "CTY2"}},
		{"CTY1", 250, 1, 250, 1, nil},
		{"CTY2", 150, 0, 150, 0, nil},
	}
	for _, tc := range cases {
		s := StaffingOf(ix, tc.unit, now)
		require.Equal(t, tc.own, s.Customers, tc.unit)
		require.Equal(t, tc.ownT, s.Technicians, tc.unit)
		require.Equal(t, tc.tree, s.TreeCustomers, tc.unit)
		require.Equal(t, tc.treeT, s.TreeTechnicians, tc.unit)
		require.Equal(t, tc.below, s.Below, tc.unit)
	}

	tree := SeedPolicy()
	for i := range tree.Commitments {
		if tree.Commitments[i].ID == "A9" {
			tree.Commitments[i].Scope = ScopeTree
		}
	}
	states := []struct {
		unit        string
		own, rolled State
		why         string
	}{
		// Own: CTY1 has 250 per technician; rolled up CITY has 500/3 = 167.
		{"CTY1", Breached, Breached, "250 customers, 1 certified technicians"},
		{"CITY", Met, Met, ""},
		{"CTY2", Breached, Breached, "150 customers, 0 certified"},
		// PROV serves nobody itself (n/a) but answers for 500 over 4 (125) below.
		{"PROV", NotApplicable, Met, ""},
	}
	for _, p := range []struct {
		pol  Policy
		tree bool
	}{{SeedPolicy(), false}, {tree, true}} {
		e, err := NewEvaluator(p.pol, nil)
		require.NoError(t, err)
		ev, err := e.Evaluate(d, now)
		require.NoError(t, err)
		got := make(map[string]Finding)
		for _, f := range ev.Findings {
			if f.Commitment == "A9" {
				got[f.Record] = f
			}
		}
		for _, tc := range states {
			want := tc.own
			if p.tree {
				want = tc.rolled
			}
			require.Equal(t, want, got[tc.unit].State, "%s tree=%v: %s", tc.unit, p.tree, got[tc.unit].Why)
			if p.tree {
				require.Contains(t, got[tc.unit].Why, "the unit and the", tc.unit)
			} else {
				require.Contains(t, got[tc.unit].Why, "the unit's own customers", tc.unit)
			}
		}
		if p.tree {
			require.Contains(t, got["CITY"].Why, "500 customers, 3 certified technicians")
			require.Contains(t, got["CITY"].Why, "own: 100 customers, 2 technicians")
		} else {
			require.Contains(t, got["CITY"].Why, "with the 2 unit(s) below: 500 customers, 3 technicians")
		}
	}
}

func TestUnitParentLoopRejected(t *testing.T) {
	d := &Dataset{Units: []Unit{{ID: "A", Parent: "C"}, {ID: "B", Parent: "A"}, {ID: "C", Parent: "B"}, {ID: "D", Parent: "A"}, {ID: "E", Parent: "E"}}}
	err := d.Validate()
	require.ErrorIs(t, err, ErrInvalidRecord)
	require.Contains(t, err.Error(), "units[0].parent")
	require.Contains(t, err.Error(), "units[4].parent")
	require.NotContains(t, err.Error(), "units[3].parent", "D hangs below the loop but is not in it")
	// An Index of unvalidated data still terminates.
	require.ElementsMatch(t, []string{"B", "C", "D"}, NewIndex(d).Below("A"))
}

func TestStaffingScopeValidated(t *testing.T) {
	p := Policy{Name: "x", Commitments: []Commitment{{ID: "A9", Title: "t", Kind: Check, Level: Mandatory, Subject: SubjectUnit, Check: CheckStaffing, Max: 200, Scope: "region"}}}
	require.ErrorContains(t, p.Validate(), "commitments[0].scope")
	_, err := ParsePolicy([]byte(`{"name": "x", "base": "seed", "commitments": [{"id": "A9", "scope": "tree"}]}`))
	require.NoError(t, err)
	_, err = ParsePolicy([]byte(`{"name": "x", "base": "seed", "commitments": [{"id": "V9", "scope": "tree"}]}`))
	require.ErrorContains(t, err, "commitments[0].scope")
}

// A11: the report for a month is due 15 days after the month ends.
func TestReportSubmission(t *testing.T) {
	mk := func(subs ...ReportSubmission) *Dataset {
		d := fixture()
		d.Units[0].Authorised = Date{2026, 8, 20}
		d.Tickets = []Ticket{{ID: "K", Unit: "P1", Customer: "urban", Events: evs(EvOpened, "2026-09-10 10:00", EvArrived, "2026-09-10 10:20", EvFixed, "2026-09-10 11:00")}}
		d.Reports = subs
		return d
	}
	sub := func(from, to Date, when string) ReportSubmission {
		return ReportSubmission{Unit: "P1", From: from, To: to, Submitted: at(when)}
	}
	sep, oct := [2]Date{{2026, 9, 1}, {2026, 9, 30}}, [2]Date{{2026, 10, 1}, {2026, 10, 31}}
	cases := []struct {
		name   string
		d      *Dataset
		now    string
		record string
		want   State
		why    string
	}{
		{"September running: nothing due", mk(), "2026-09-30 23:00", "P1@2026-09", 0, ""},
		{"September ended, within 15 days", mk(), "2026-10-10 00:00", "P1@2026-09", Pending, "due 2026-10-16 00:00"},
		{"not submitted in time", mk(), "2026-10-16 00:00", "P1@2026-09", Breached, "not submitted by 2026-10-16 00:00"},
		{"submitted on the 15th", mk(sub(sep[0], sep[1], "2026-10-15 17:00")), "2026-11-20 00:00", "P1@2026-09", Met, "submitted 2026-10-15 17:00"},
		{"submitted late", mk(sub(sep[0], sep[1], "2026-10-20 09:00")), "2026-11-20 00:00", "P1@2026-09", Breached, "after the due time"},
		{"submission after now is not known yet", mk(sub(sep[0], sep[1], "2026-10-12 09:00")), "2026-10-11 00:00", "P1@2026-09", Pending, "not submitted yet"},
		{"submitted before the month ended does not count", mk(sub(sep[0], sep[1], "2026-09-28 09:00")), "2026-10-20 00:00", "P1@2026-09", Breached, "before the period ended"},
		{"a report for another period does not count", mk(sub(oct[0], oct[1], "2026-10-05 09:00")), "2026-10-20 00:00", "P1@2026-09", Breached, "not submitted"},
		{"October is judged too", mk(sub(sep[0], sep[1], "2026-10-15 17:00")), "2026-11-20 00:00", "P1@2026-10", Breached, "not submitted by 2026-11-16 00:00"},
		{"August is before the first ticket", mk(), "2026-11-20 00:00", "P1@2026-08", 0, ""},
		{"an unauthorised unit has no duty", mk(), "2026-11-20 00:00", "U2", NotApplicable, "not authorised"},
	}
	for _, tc := range cases {
		require.NoError(t, tc.d.Validate(), tc.name)
		fs := findings(t, tc.d, tc.now)
		got, ok := fs["A11/"+tc.record]
		if tc.want == 0 {
			require.False(t, ok, "%s: unexpected %v", tc.name, got)
			continue
		}
		require.True(t, ok, "%s: no finding", tc.name)
		require.Len(t, got, 1, tc.name)
		require.Equal(t, tc.want, got[0].State, "%s: %s", tc.name, got[0].Why)
		require.Contains(t, got[0].Why, tc.why, tc.name)
	}

	// The limit is configurable; a quarterly report is aligned to quarters.
	p, err := ParsePolicy([]byte(`{"name": "q", "base": "seed", "commitments": [{"id": "A11", "per": "3mo", "limit": "30d"}]}`))
	require.NoError(t, err)
	e, err := NewEvaluator(p, nil)
	require.NoError(t, err)
	ev, err := e.Evaluate(mk(sub(Date{2026, 7, 1}, Date{2026, 9, 30}, "2026-10-25 10:00")), at("2026-11-20 00:00"))
	require.NoError(t, err)
	var q []Finding
	for _, f := range ev.Findings {
		if f.Commitment == "A11" && f.Unit == "P1" {
			q = append(q, f)
		}
	}
	require.Len(t, q, 1)
	require.Equal(t, "P1@2026-07..2026-09", q[0].Record)
	require.Equal(t, Met, q[0].State, q[0].Why)
	require.Equal(t, at("2026-10-31 00:00"), q[0].Due)

	_, err = ParsePolicy([]byte(`{"name": "q", "base": "seed", "commitments": [{"id": "A11", "per": "30d"}]}`))
	require.ErrorContains(t, err, "commitments[0].per")
}

func TestReportSubmissionValidated(t *testing.T) {
	d := fixture()
	d.Reports = []ReportSubmission{
		{Unit: "nope", From: Date{2026, 9, 1}, To: Date{2026, 9, 30}, Submitted: at("2026-10-10 10:00")},
		{Unit: "P1", From: Date{2026, 9, 1}, To: Date{2026, 8, 30}, Submitted: at("2026-10-10 10:00")},
		{Unit: "P1", From: Date{2026, 9, 1}, To: Date{2026, 9, 30}},
	}
	err := d.Validate()
	require.ErrorIs(t, err, ErrInvalidRecord)
	for _, f := range []string{"reports[0].unit", "reports[1].to", "reports[2].submitted"} {
		require.Contains(t, err.Error(), f)
	}
	_, err = ParseDataset([]byte(`{"units": [{"id": "P1"}], "customers": [], "reports": [{"unit": "P1", "from": "2026-09-01", "to": "2026-09-31", "submitted": "2026-10-10T10:00:00+08:00"}]}`))
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	require.Contains(t, fe.Field, "reports")
}
