// Package servicepolicy expresses warranty and service-level commitments as
// data and evaluates them on service records with a Chinese working-day
// calendar.
//
// It models the after-sale commitments of a fiscal cash register (税控收款机)
// vendor and the tax authority's rules for service providers, as found in
// the project's seed document, and is independent of the rest of the module.
//
// # Commitments as data
//
// A [Commitment] is one promise. Its Kind says how it is evaluated:
//
//   - Deadline: the Start event starts a clock, the first of the Stop events
//     stops it; it must stop within Limit (and ideally within Target).
//     When/Unless restrict it to records with or without certain events
//     (V4 covers routine faults only: unless a part was ordered). Clock is
//     "calendar" (wall time, 24x7) or "working" (working time on a
//     [Calendar]). Zones restricts it to customers in some zones; Exempt
//     lists zones where it does not bind (A5: remote areas).
//   - Quota: at least Count events of kind Of in every period Per counted
//     from the Start event (A6: two phone callbacks a year).
//   - Check: a built-in rule named by Check (certified dispatch, warranty
//     entitlement, staffing ratio, ...), applied to each record.
//   - Report: a report to produce every Per (A11); see MaintenanceReport.
//     With a Limit, each unit's report for a period (calendar months, Per
//     in months) must be submitted within Limit after the period ends; a
//     [ReportSubmission] in the records says when it was.
//
// Checks, like deadlines, judge only what has happened by the evaluation
// time: a sale, dispatch, exception, closure or call after it makes the
// finding n/a (or pending), never met or breached.
//
// Level "mandatory" makes a miss a breach; "best-effort" (尽量) makes it
// "missed", reported but not a breach.
//
// Three policies ship ready-made: [VendorPlan] (V1-V12), [AuthorityRules]
// (A1-A12, with A6 split into A6 and the best-effort A6b) and
// [GenericPromises] (G1-G5); [SeedPolicy] combines them. Where the seed gives
// no figure (V7, A12) the chosen reading is in the commitment's Title. A
// vendor combines and overrides them with [Combine] or a policy file read by
// [ParsePolicy].
//
// # Readings of the seed
//
// The seed states most commitments loosely; the shipped policies read them
// as follows (each is data, so a vendor can change it):
//
//   - V2/V3/A4 run from the repair request to the arrival, on the calendar
//     clock, and do not apply to a ticket resolved by phone.
//   - V4 (2 h) runs from the arrival and applies only to routine faults: no
//     part ordered or replaced, machine not carried in. V5 (24 h) runs from
//     the request and applies when a part is involved.
//   - A11 (no figure in the seed): the monthly report is submitted within
//     15 calendar days after the month. Each authorised unit is judged for
//     every month that has ended, from the month of its authorisation or,
//     if later, of its first ticket or submission; a report handed in
//     before its period ended does not count. An unauthorised unit has no
//     duty (n/a).
//   - V7 (no figure in the seed): a loaner within 1 h of the machine being
//     carried in. A12 (no figure): within 1 day of an estimate over 3 days.
//   - A5 (1 working day) runs from the arrival. A8 (2 working days) runs
//     from the request and stops at the fix, a phone resolution or the
//     escalation.
//   - A6 counts service years from the customer's first installation; the
//     on-site visit is the best-effort A6b. A7 is one calendar month.
//   - V1/A2/G5 (24x7 hotline): every recorded hotline call was answered.
//   - V11: a ticket is handled by the customer's own service point. A1: by a
//     unit authorised on the day the ticket was opened.
//   - A9: customers served directly by the unit, special zone not counted,
//     over the unit's technicians with a valid certificate at the evaluation
//     time. [StaffingOf] also rolls the figures up over the units below
//     (province → city service centre → county service point, V11); a
//     policy sets Scope "tree" to judge the ratio on that figure instead.
//     The finding and the maintenance report say which figure is used.
//   - G3: the warranty runs 1 year from payment (the sale), covers faults not
//     caused by people, and needs proof of purchase and a known serial
//     number; a covered repair that was charged is a breach. G4: an
//     uncovered repair is chargeable, and refusing it is a breach.
//
// # Policy file format
//
// A policy file is JSON with the field names of [Commitment]; spans are
// strings such as "30m", "2h", "5d", "1mo", "1y" (see [ParseSpan]):
//
//	{"name": "Acme 2026", "base": "seed", "commitments": [
//	  {"id": "V2", "limit": "45m"},
//	  {"id": "G1", "disabled": true},
//	  {"id": "X1", "title": "...", "kind": "deadline", "level": "mandatory",
//	   "subject": "ticket", "start": "opened", "stop": ["fixed"],
//	   "clock": "working", "limit": "2d"}]}
//
// With a base, an entry with a known id changes only the fields it names.
// Unknown fields are errors; every error is a [*FieldError] naming the field,
// as in "commitments[2].limit: must be positive".
//
// # Calendar
//
// [Calendar] is a mainland-China working-day calendar in China Standard Time
// (a fixed UTC+8 zone): Monday to Friday work, minus statutory holidays,
// plus make-up working days (调休). Holiday arrangements come from a
// [HolidaySource]; the default, [LunarSource], reads the data of
// github.com/6tail/lunar-go v1.4.7, which covers the arrangements of 2002 to
// 2027 with make-up days. A year without data is a [*YearNotCoveredError]
// (errors.Is ErrYearNotCovered), never a Monday-to-Friday guess. Callers add
// or override a year with [Calendar.SetYear] (for example from a file read
// with [ParseYearArrangement]) or with a [MapSource] in a [ChainSource].
// Because next year's notice can move the last days of December (元旦), a
// year whose successor is not loaded is reported by [Calendar.Provisional].
//
// The working day is 09:00-18:00 in one piece unless [CalendarOptions] says
// otherwise: Day sets another single window, Intervals a list of windows
// such as 09:00-12:00 and 13:30-18:00 for a lunch break (whole minutes, in
// order, not overlapping). "1 working day" on the working clock is one
// working day's length of working time (the sum of the windows): a request
// on Friday at 20:00 plus one working day is due on Monday at 18:00. Each
// year is turned once into prefix sums over its days, and the windows into
// prefix sums over the 1440 minutes of a day, so adding working time costs
// constant time per call (plus one step per year boundary crossed).
//
// # Evaluation
//
// An [Evaluator] turns a [Dataset] (units, customers, machines, technicians,
// tickets with events, callbacks, contacts, hotline calls) into [Finding]s:
// for each record and commitment the due time, the [State] (pending, met,
// breached, missed, exempt, n/a) and why. Exceptions (V6) are shown on every
// finding of their ticket and never pause a clock; V6 itself is breached
// when a ticket misses a commitment without an exception carrying a reason
// and a plan. [Warranty] decides G3/G4 entitlement; [Evaluator.CallbackPlan]
// gives a customer's callback schedule and gaps; [StaffingOf] the A9 ratio
// of a unit alone and with the units below it;
// [Index.CanDispatch] and [Index.Dispatchable] the certificate rule (V12,
// A10) before a dispatch.
// [Evaluator.EvaluateTicket] streams one ticket at a time for large volumes.
//
// # Records file format
//
// [ParseDataset] reads records as JSON with the field names of [Dataset] and
// the types it holds: times in RFC 3339 with their offset
// ("2026-11-02T09:10:00+08:00"), dates as "YYYY-MM-DD", spans as above.
// A ticket is a list of events ({"kind": "arrived", "at": ..., "technician":
// "T01"}); "opened" is required and no event may precede it. Unknown fields,
// unknown references (a ticket's customer, a dispatch's technician) and
// duplicate IDs are errors naming the field, such as
// "tickets[3].events[1].kind". A submitted maintenance report is
// {"unit": "NJ-01", "from": "2026-10-01", "to": "2026-10-31", "submitted":
// "2026-11-12T10:00:00+08:00"} in "reports"; units' parent links must not
// loop. A customer's first installation is its
// Installed time, or else the earliest installation of its machines.
//
// # Reports
//
// [Evaluator.Summarize] counts findings per unit and commitment for a period
// and [Evaluator.MaintenanceReport] builds the periodic report to the local
// tax office (A11); [Evaluator.Complaints] gives the complaint archive (A3).
// All of them write text and CSV.
package servicepolicy
