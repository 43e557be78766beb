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
// The working day is 09:00-18:00 unless [CalendarOptions].Day says
// otherwise; a lunch break is not modelled. "1 working day" on the working
// clock is one working day's length of working time: a request on Friday at
// 20:00 plus one working day is due on Monday at 18:00. Each year is turned
// once into prefix sums over its days, so adding working time costs constant
// time per call (plus one step per year boundary crossed).
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
// gives a customer's callback schedule and gaps; [StaffingOf] the A9 ratio;
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
// "tickets[3].events[1].kind". A customer's first installation is its
// Installed time, or else the earliest installation of its machines.
//
// # Reports
//
// [Evaluator.Summarize] counts findings per unit and commitment for a period
// and [Evaluator.MaintenanceReport] builds the periodic report to the local
// tax office (A11); [Evaluator.Complaints] gives the complaint archive (A3).
// All of them write text and CSV.
package servicepolicy
