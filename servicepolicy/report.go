package servicepolicy

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// SummaryRow counts the findings of one commitment at one unit.
type SummaryRow struct {
	Unit       string
	Commitment string
	Title      string
	Level      Level
	Met        int
	Breached   int
	Missed     int
	Pending    int
	Exempt     int
	// OverTarget counts met findings that missed the target.
	OverTarget int
}

// Decided is the number of findings with a final outcome.
func (r SummaryRow) Decided() int { return r.Met + r.Breached + r.Missed }

// Rate is the share of decided findings that were met, or -1 if none.
func (r SummaryRow) Rate() float64 {
	if r.Decided() == 0 {
		return -1
	}
	return float64(r.Met) / float64(r.Decided())
}

// Summary is the compliance summary of a period.
type Summary struct {
	Policy   string
	From, To time.Time
	Now      time.Time
	Rows     []SummaryRow
	// Breaches lists the breached and missed findings of the period.
	Breaches []Finding
}

// inPeriod reports whether f belongs to [from, to): its stop, due or start
// time falls in the period, or it is still pending.
func inPeriod(f *Finding, from, to time.Time) bool {
	if f.State == Pending {
		return true
	}
	t := f.decisive()
	return !t.Before(from) && t.Before(to)
}

// Summarize counts the findings of ev in [from, to) per unit and commitment
// (n/a findings are left out). A unit of "" means every unit.
func (e *Evaluator) Summarize(ev *Evaluation, unit string, from, to time.Time) *Summary {
	s := &Summary{Policy: ev.Policy, From: from, To: to, Now: ev.Now}
	order := make(map[string]int)
	for i, c := range e.p.Commitments {
		order[c.ID] = i
	}
	rows := make(map[[2]string]*SummaryRow)
	for i := range ev.Findings {
		f := &ev.Findings[i]
		if f.State == NotApplicable || (unit != "" && f.Unit != unit) || !inPeriod(f, from, to) {
			continue
		}
		k := [2]string{f.Unit, f.Commitment}
		r := rows[k]
		if r == nil {
			c, _ := e.p.Lookup(f.Commitment)
			r = &SummaryRow{Unit: f.Unit, Commitment: f.Commitment, Title: c.Title, Level: c.Level}
			rows[k] = r
		}
		switch f.State {
		case Met:
			r.Met++
			if f.OverTarget {
				r.OverTarget++
			}
		case Breached:
			r.Breached++
			s.Breaches = append(s.Breaches, *f)
		case Missed:
			r.Missed++
			s.Breaches = append(s.Breaches, *f)
		case Pending:
			r.Pending++
		case Exempt:
			r.Exempt++
		}
	}
	for _, r := range rows {
		s.Rows = append(s.Rows, *r)
	}
	sort.Slice(s.Rows, func(i, j int) bool {
		a, b := s.Rows[i], s.Rows[j]
		if a.Unit != b.Unit {
			return a.Unit < b.Unit
		}
		return order[a.Commitment] < order[b.Commitment]
	})
	sort.SliceStable(s.Breaches, func(i, j int) bool {
		a, b := s.Breaches[i], s.Breaches[j]
		if a.Unit != b.Unit {
			return a.Unit < b.Unit
		}
		if a.Commitment != b.Commitment {
			return order[a.Commitment] < order[b.Commitment]
		}
		return a.Record < b.Record
	})
	return s
}

func day(t time.Time) string { return t.In(cst).Format(time.DateOnly) }

func rateText(r SummaryRow) string {
	if r.Rate() < 0 {
		return "-"
	}
	return strconv.FormatFloat(100*r.Rate(), 'f', 1, 64) + "%"
}

// WriteText writes the summary as an aligned text table followed by the
// list of breaches.
func (s *Summary) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Compliance summary, %s to %s (evaluated %s)\nPolicy: %s\n\n", day(s.From), day(s.To.Add(-time.Nanosecond)), stamp(s.Now), s.Policy)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "unit\tid\tlevel\tmet\tbreached\tmissed\tpending\texempt\tover target\tmet rate\tcommitment")
	for _, r := range s.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", r.Unit, r.Commitment, r.Level, r.Met, r.Breached, r.Missed, r.Pending, r.Exempt, r.OverTarget, rateText(r), r.Title)
	}
	tw.Flush()
	fmt.Fprintf(ew, "\nBreaches and misses (%d):\n", len(s.Breaches))
	for _, f := range s.Breaches {
		fmt.Fprintf(ew, "  %-4s %-8s %-4s %-10s %s\n", f.Commitment, f.State, f.Unit, f.Record, f.Why)
		for _, x := range f.Exceptions {
			fmt.Fprintf(ew, "       exception %s: %s; plan: %s\n", stamp(x.At), orNone(x.Reason, "(no reason)"), orNone(x.Plan, "(no plan)"))
		}
	}
	return ew.err
}

// WriteCSV writes one CSV line per row (with a header line).
func (s *Summary) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"from", "to", "unit", "commitment", "level", "met", "breached", "missed", "pending", "exempt", "over_target", "met_rate", "title"})
	for _, r := range s.Rows {
		rate := ""
		if r.Rate() >= 0 {
			rate = strconv.FormatFloat(r.Rate(), 'f', 4, 64)
		}
		cw.Write([]string{day(s.From), day(s.To.Add(-time.Nanosecond)), r.Unit, r.Commitment, string(r.Level),
			strconv.Itoa(r.Met), strconv.Itoa(r.Breached), strconv.Itoa(r.Missed), strconv.Itoa(r.Pending),
			strconv.Itoa(r.Exempt), strconv.Itoa(r.OverTarget), rate, r.Title})
	}
	cw.Flush()
	return cw.Error()
}

// MaintenanceRow is one ticket in the maintenance report.
type MaintenanceRow struct {
	Ticket       string
	Customer     string
	CustomerName string
	TaxID        string
	Machine      string
	Fault        string
	Opened       time.Time
	Arrived      time.Time // zero if no visit
	Fixed        time.Time // zero if not fixed
	Outcome      string    // fixed, resolved by phone, escalated, open
	PartReplaced bool
	Loaner       bool
	// Warranty is "covered" or "chargeable".
	Warranty   string
	Breaches   []string // IDs of breached commitments
	Exceptions []string // reasons of exceptions
}

// MaintenanceReport is the periodic report of a unit's repair and
// maintenance work to its local tax office (A11).
type MaintenanceReport struct {
	Unit       Unit
	From, To   time.Time
	Rows       []MaintenanceRow
	Opened     int // tickets opened in the period
	Closed     int // tickets fixed or resolved by phone in the period
	Open       int // tickets still open at the end
	ByPhone    int
	Parts      int
	Loaners    int
	Installed  int // machines installed in the period
	PhoneCalls int // phone callbacks in the period
	Visits     int // on-site callbacks in the period
	Complaints []Contact
	Staffing   Staffing
	// Submitted lists the submissions of this report (same unit, same
	// first and last day), in the order recorded (A11).
	Submitted []ReportSubmission
	// StaffingScope is the figure the policy's staffing ratio (A9) uses:
	// ScopeUnit (also when empty) or ScopeTree.
	StaffingScope StaffingScope
}

// MaintenanceReport builds the A11 report of unit for [from, to): every
// ticket open at some time in the period, with its outcome, warranty and
// breaches (from ev), the installations, callbacks, complaints and staffing.
func (e *Evaluator) MaintenanceReport(ix *Index, ev *Evaluation, unit string, from, to time.Time) (*MaintenanceReport, error) {
	u, ok := ix.units[unit]
	if !ok {
		return nil, &FieldError{Field: "unit", Problem: fmt.Sprintf("unknown unit %q", unit), Err: ErrInvalidRecord}
	}
	r := &MaintenanceReport{Unit: *u, From: from, To: to, Staffing: StaffingOf(ix, unit, to)}
	breaches := make(map[string][]string)
	for i := range ev.Findings {
		f := &ev.Findings[i]
		if f.Subject == SubjectTicket && f.State == Breached && !slices.Contains(breaches[f.Record], f.Commitment) {
			breaches[f.Record] = append(breaches[f.Record], f.Commitment)
		}
	}
	warranty := MonthsSpan(12)
	r.StaffingScope = ScopeUnit
	for _, c := range e.p.Commitments {
		if c.Check == CheckWarranty {
			warranty = c.Warranty
		}
		if c.Check == CheckStaffing && c.Scope == ScopeTree {
			r.StaffingScope = ScopeTree
		}
	}
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
	for i := range ix.D.Tickets {
		t := &ix.D.Tickets[i]
		if t.Unit != unit {
			continue
		}
		opened, _ := t.first(EvOpened)
		done, isDone := t.first(EvFixed, EvResolvedByPhone)
		if !opened.At.Before(to) || (isDone && done.At.Before(from)) {
			continue
		}
		row := MaintenanceRow{Ticket: t.ID, Customer: t.Customer, Machine: t.Machine, Fault: t.Fault, Opened: opened.At, Breaches: breaches[t.ID]}
		if cu, ok := ix.customers[t.Customer]; ok {
			row.CustomerName, row.TaxID = cu.Name, cu.TaxID
		}
		if a, ok := t.first(EvArrived); ok {
			row.Arrived = a.At
		}
		_, row.PartReplaced = t.first(EvPartReplaced)
		_, row.Loaner = t.first(EvLoanerOut)
		row.Outcome = "open"
		if _, ok := t.first(EvEscalated); ok {
			row.Outcome = "escalated"
		}
		if isDone && done.At.Before(to) {
			row.Fixed = done.At
			row.Outcome = "fixed"
			if done.Kind == EvResolvedByPhone {
				row.Outcome = "resolved by phone"
				r.ByPhone++
			}
			r.Closed++
		} else {
			r.Open++
		}
		if Warranty(ix.machines[t.Machine], t, warranty).Covered {
			row.Warranty = "covered"
		} else {
			row.Warranty = "chargeable"
		}
		for _, x := range t.Events {
			if x.Kind == EvException {
				row.Exceptions = append(row.Exceptions, x.Reason)
			}
		}
		if in(opened.At) {
			r.Opened++
		}
		if row.PartReplaced {
			r.Parts++
		}
		if row.Loaner {
			r.Loaners++
		}
		r.Rows = append(r.Rows, row)
	}
	for i := range ix.D.Machines {
		m := &ix.D.Machines[i]
		if cu, ok := ix.customers[m.Customer]; ok && cu.Unit == unit && in(m.Installed) {
			r.Installed++
		}
	}
	for _, c := range ix.D.Callbacks {
		if c.Unit == unit && in(c.At) {
			if c.OnSite {
				r.Visits++
			} else {
				r.PhoneCalls++
			}
		}
	}
	for _, s := range ix.D.Reports {
		if s.Unit == unit && s.From == DateOf(from) && s.To == DateOf(to.Add(-time.Nanosecond)) {
			r.Submitted = append(r.Submitted, s)
		}
	}
	for _, c := range ix.D.Contacts {
		if c.Unit == unit && c.Topic == TopicComplaint && c.Received.Before(to) && (c.Closed.IsZero() || !c.Closed.Before(from)) {
			r.Complaints = append(r.Complaints, c)
		}
	}
	return r, nil
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(cst).Format("01-02 15:04")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteText writes the report as text.
func (r *MaintenanceReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "税控设备维修维护情况报告 / Maintenance report to %s\n", dash(r.Unit.TaxOffice))
	fmt.Fprintf(ew, "Service unit %s (%s), period %s to %s\n", r.Unit.ID, r.Unit.Name, day(r.From), day(r.To.Add(-time.Nanosecond)))
	if len(r.Submitted) == 0 {
		fmt.Fprint(ew, "Submitted: not yet\n\n")
	} else {
		for _, s := range r.Submitted {
			fmt.Fprintf(ew, "Submitted: %s to %s, reference %s\n", stamp(s.Submitted), dash(s.TaxOffice), dash(s.Reference))
		}
		fmt.Fprintln(ew)
	}
	fmt.Fprintf(ew, "Tickets: %d opened, %d closed (%d by phone), %d open at period end; %d part replacements, %d loaners\n",
		r.Opened, r.Closed, r.ByPhone, r.Open, r.Parts, r.Loaners)
	fmt.Fprintf(ew, "Installations: %d; callbacks: %d by phone, %d on site\n", r.Installed, r.PhoneCalls, r.Visits)
	st := r.Staffing
	fmt.Fprintf(ew, "Staffing: %d customers, %d certified technicians of the unit itself", st.Customers, st.Technicians)
	if len(st.Below) > 0 {
		fmt.Fprintf(ew, "; %d customers, %d with the %d unit(s) below", st.TreeCustomers, st.TreeTechnicians, len(st.Below))
	}
	fmt.Fprintf(ew, " (the A9 ratio uses %s)\n\n", scopeText(r.StaffingScope, len(st.Below)))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ticket\tcustomer\tmachine\topened\tarrived\tclosed\toutcome\tpart\tloaner\twarranty\tbreaches\tfault")
	for _, x := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Ticket, x.Customer, dash(x.Machine), clock(x.Opened), clock(x.Arrived),
			clock(x.Fixed), x.Outcome, yesNo(x.PartReplaced), yesNo(x.Loaner), x.Warranty, dash(strings.Join(x.Breaches, " ")), dash(x.Fault))
	}
	tw.Flush()
	fmt.Fprintf(ew, "\nComplaints (投诉档案): %d\n", len(r.Complaints))
	for _, c := range r.Complaints {
		state := "open"
		if !c.Closed.IsZero() {
			state = "closed " + clock(c.Closed)
		}
		fmt.Fprintf(ew, "  %s %s received %s, replied %s, %s: %s -> %s\n", c.ID, dash(c.Customer), clock(c.Received), clock(c.Replied), state, dash(c.Summary), dash(c.Resolution))
	}
	return ew.err
}

// WriteCSV writes one CSV line per ticket (with a header line).
func (r *MaintenanceReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"unit", "ticket", "customer", "customer_name", "tax_id", "machine", "fault", "opened", "arrived", "closed", "outcome", "part_replaced", "loaner", "warranty", "breaches", "exceptions"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(cst).Format(time.RFC3339)
	}
	for _, x := range r.Rows {
		cw.Write([]string{r.Unit.ID, x.Ticket, x.Customer, x.CustomerName, x.TaxID, x.Machine, x.Fault, ts(x.Opened), ts(x.Arrived), ts(x.Fixed),
			x.Outcome, yesNo(x.PartReplaced), yesNo(x.Loaner), x.Warranty, strings.Join(x.Breaches, " "), strings.Join(x.Exceptions, " | ")})
	}
	cw.Flush()
	return cw.Error()
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
