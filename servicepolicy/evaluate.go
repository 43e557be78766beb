package servicepolicy

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// State is the outcome of one commitment on one record.
type State uint8

const (
	// Pending: the clock runs and the due time is still ahead.
	Pending State = iota + 1
	// Met: the commitment was kept.
	Met
	// Breached: a mandatory commitment was not kept.
	Breached
	// Missed: a best-effort commitment was not kept (reported, not a breach).
	Missed
	// Exempt: the commitment does not bind this record (an exempt zone).
	Exempt
	// NotApplicable: the record is not one the commitment is about.
	NotApplicable
)

// String returns the lower-case name of s.
func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Met:
		return "met"
	case Breached:
		return "breached"
	case Missed:
		return "missed"
	case Exempt:
		return "exempt"
	case NotApplicable:
		return "n/a"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is the outcome of one commitment on one record, with the reason.
type Finding struct {
	Commitment string
	Level      Level
	Subject    Subject
	// Record identifies the record: ticket ID, machine serial, customer ID,
	// contact ID, unit ID, or "unit@time" for a call.
	Record   string
	Unit     string
	Customer string
	// Start is when the clock started; Due when it runs out; Target the
	// earlier aim, if any; Stop when the stopping event happened (zero if
	// not yet).
	Start, Due, Target, Stop time.Time
	State                    State
	// OverTarget is set when the limit was kept but the target was not.
	OverTarget bool
	Why        string
	// Exceptions are the exception events (V6) of the ticket. They are shown
	// with every finding of the ticket and never stop or pause a clock.
	Exceptions []Event
}

// decisive is the time a finding is filed under in reports.
func (f *Finding) decisive() time.Time {
	switch {
	case !f.Stop.IsZero():
		return f.Stop
	case !f.Due.IsZero():
		return f.Due
	}
	return f.Start
}

// Index gives fast access to a Dataset's records by ID. Build it once with
// NewIndex; it must not be used after the Dataset changes.
type Index struct {
	D           *Dataset
	units       map[string]*Unit
	customers   map[string]*Customer
	machines    map[string]*Machine
	techs       map[string]*Technician
	callbacks   map[string][]Event // customer → callbacks as events, in time order
	fiscalCards map[string]int
	userCards   map[string]int
	installed   map[string]time.Time // customer → first installation
	children    map[string][]string  // unit → units whose Parent it is, in Dataset order
	firstTicket map[string]time.Time // unit → its earliest ticket opened
}

// NewIndex indexes d.
func NewIndex(d *Dataset) *Index {
	ix := &Index{D: d,
		units:       make(map[string]*Unit, len(d.Units)),
		customers:   make(map[string]*Customer, len(d.Customers)),
		machines:    make(map[string]*Machine, len(d.Machines)),
		techs:       make(map[string]*Technician, len(d.Technicians)),
		callbacks:   make(map[string][]Event),
		fiscalCards: make(map[string]int),
		userCards:   make(map[string]int),
		installed:   make(map[string]time.Time),
		children:    make(map[string][]string),
		firstTicket: make(map[string]time.Time),
	}
	for i := range d.Tickets {
		t := &d.Tickets[i]
		if o, ok := t.first(EvOpened); ok {
			if f, seen := ix.firstTicket[t.Unit]; !seen || o.At.Before(f) {
				ix.firstTicket[t.Unit] = o.At
			}
		}
	}
	for i := range d.Units {
		ix.units[d.Units[i].ID] = &d.Units[i]
		if p := d.Units[i].Parent; p != "" {
			ix.children[p] = append(ix.children[p], d.Units[i].ID)
		}
	}
	for i := range d.Customers {
		ix.customers[d.Customers[i].ID] = &d.Customers[i]
		if uc := d.Customers[i].UserCard; uc != "" {
			ix.userCards[uc]++
		}
	}
	for i := range d.Customers {
		if c := &d.Customers[i]; !c.Installed.IsZero() {
			ix.installed[c.ID] = c.Installed
		}
	}
	for i := range d.Machines {
		m := &d.Machines[i]
		if first, ok := ix.installed[m.Customer]; !m.Installed.IsZero() && (!ok || m.Installed.Before(first)) {
			if c, known := ix.customers[m.Customer]; !known || c.Installed.IsZero() {
				ix.installed[m.Customer] = m.Installed
			}
		}
	}
	for i := range d.Machines {
		ix.machines[d.Machines[i].Serial] = &d.Machines[i]
		if fc := d.Machines[i].FiscalCard; fc != "" {
			ix.fiscalCards[fc]++
		}
	}
	for i := range d.Technicians {
		ix.techs[d.Technicians[i].ID] = &d.Technicians[i]
	}
	for _, c := range d.Callbacks {
		k := EvCallbackPhone
		if c.OnSite {
			k = EvCallbackOnSite
		}
		ix.callbacks[c.Customer] = append(ix.callbacks[c.Customer], Event{Kind: k, At: c.At, Technician: c.Technician, Note: c.Note})
	}
	for _, evs := range ix.callbacks {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
	}
	return ix
}

// Customer returns the customer with the given ID.
func (ix *Index) Customer(id string) (*Customer, bool) { c, ok := ix.customers[id]; return c, ok }

// FirstInstalled returns the customer's first installation: Customer.Installed
// when set, else the earliest installation among the customer's machines.
func (ix *Index) FirstInstalled(customer string) (time.Time, bool) {
	t, ok := ix.installed[customer]
	return t, ok
}

// Machine returns the machine with the given serial number.
func (ix *Index) Machine(serial string) (*Machine, bool) { m, ok := ix.machines[serial]; return m, ok }

// Evaluator evaluates service records against a policy on a calendar. It is
// safe for concurrent use; an Index must not be shared with code that
// changes its Dataset.
type Evaluator struct {
	p   Policy
	cal *Calendar
	by  map[Subject][]*rule
}

// rule is a commitment with the texts its reasons repeat, built once.
type rule struct {
	*Commitment
	limitText, targetText, stopText string
}

// NewEvaluator validates p and returns an Evaluator. A nil cal means a
// default Calendar (lunar-go data, 09:00-18:00).
func NewEvaluator(p Policy, cal *Calendar) (*Evaluator, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if cal == nil {
		var err error
		if cal, err = NewCalendar(CalendarOptions{}); err != nil {
			return nil, err
		}
	}
	e := &Evaluator{p: Combine(p.Name, p), cal: cal, by: make(map[Subject][]*rule)}
	for i := range e.p.Commitments {
		c := &e.p.Commitments[i]
		e.by[c.Subject] = append(e.by[c.Subject], &rule{Commitment: c,
			limitText: c.Limit.String(), targetText: c.Target.String(), stopText: kindsText(c.Stop)})
	}
	return e, nil
}

// Policy returns the policy being evaluated.
func (e *Evaluator) Policy() Policy { return Combine(e.p.Name, e.p) }

// Calendar returns the calendar in use.
func (e *Evaluator) Calendar() *Calendar { return e.cal }

// Evaluation is the result of evaluating a Dataset at a moment.
type Evaluation struct {
	Policy   string
	Now      time.Time
	Findings []Finding
}

// Evaluate evaluates every record of d at now. It fails only when a time
// falls in a year the calendar does not cover (an error matching
// ErrYearNotCovered, naming the record).
func (e *Evaluator) Evaluate(d *Dataset, now time.Time) (*Evaluation, error) {
	ix := NewIndex(d)
	ev := &Evaluation{Policy: e.p.Name, Now: now}
	var err error
	for i := range d.Tickets {
		if ev.Findings, err = e.EvaluateTicket(ix, &d.Tickets[i], now, ev.Findings); err != nil {
			return nil, err
		}
	}
	for i := range d.Machines {
		if ev.Findings, err = e.evalMachine(ix, &d.Machines[i], now, ev.Findings); err != nil {
			return nil, err
		}
	}
	for i := range d.Customers {
		if ev.Findings, err = e.evalCustomer(ix, &d.Customers[i], now, ev.Findings); err != nil {
			return nil, err
		}
	}
	for i := range d.Contacts {
		if ev.Findings, err = e.evalContact(ix, &d.Contacts[i], now, ev.Findings); err != nil {
			return nil, err
		}
	}
	for i := range d.Calls {
		ev.Findings = e.evalCall(&d.Calls[i], now, ev.Findings)
	}
	for i := range d.Units {
		ev.Findings = e.evalUnit(ix, &d.Units[i], now, ev.Findings)
		if ev.Findings, err = e.evalReports(ix, &d.Units[i], now, ev.Findings); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// recordError names the record whose evaluation failed.
func recordError(kind, id string, err error) error {
	return fmt.Errorf("servicepolicy: %s %s: %w", kind, id, err)
}

// EvaluateTicket appends the findings of every ticket commitment on t to dst.
// It allocates only for the findings' reasons, so callers that stream
// millions of tickets reuse dst.
func (e *Evaluator) EvaluateTicket(ix *Index, t *Ticket, now time.Time, dst []Finding) ([]Finding, error) {
	zone := Zone("")
	if c, ok := ix.customers[t.Customer]; ok {
		zone = c.Zone
	}
	var exc []Event
	for _, ev := range t.Events {
		if ev.Kind == EvException {
			exc = append(exc, ev)
		}
	}
	first := len(dst)
	base := Finding{Subject: SubjectTicket, Record: t.ID, Unit: t.Unit, Customer: t.Customer, Exceptions: exc}
	cs := e.by[SubjectTicket]
	for _, c := range cs {
		if c.Kind != Deadline {
			continue
		}
		f, err := e.deadline(c, base, t.Events, zone, now)
		if err != nil {
			return dst, recordError("ticket", t.ID, err)
		}
		dst = append(dst, f)
	}
	opened, _ := t.first(EvOpened)
	// Exceptions told to the user after now have not happened yet.
	var excNow []Event
	for _, x := range exc {
		if !x.At.After(now) {
			excNow = append(excNow, x)
		}
	}
	for _, c := range cs {
		if c.Kind != Check {
			continue
		}
		f := base
		f.Commitment, f.Level = c.ID, c.Level
		f.Start = opened.At
		if _, known := checkSubject(c.Check); known && opened.At.After(now) {
			// Like a deadline whose start lies ahead: nothing to judge yet.
			f.State, f.Why = NotApplicable, "opened at "+stamp(opened.At)+" is after the evaluation time"
			dst = append(dst, f)
			continue
		}
		switch c.Check {
		case CheckExplained:
			explain(&f, dst[first:], excNow)
		case CheckCertified:
			e.certified(&f, ix, t, now)
		case CheckAuthorised:
			u, ok := ix.units[t.Unit]
			switch {
			case !ok || u.Authorised == (Date{}):
				f.State, f.Why = Breached, "unit "+t.Unit+" is not authorised"
			case DateOf(opened.At).Before(u.Authorised):
				f.State, f.Why = Breached, "unit "+t.Unit+" authorised only from "+u.Authorised.String()
			default:
				f.State, f.Why = Met, "unit "+t.Unit+" authorised since "+u.Authorised.String()
			}
		case CheckServicePoint:
			cu, ok := ix.customers[t.Customer]
			switch {
			case !ok:
				f.State, f.Why = Breached, "customer "+t.Customer+" unknown"
			case cu.Unit != t.Unit:
				f.State, f.Why = Breached, "handled by "+t.Unit+", customer is served by "+cu.Unit
			default:
				f.State, f.Why = Met, "handled by the customer's service point "+t.Unit
			}
		case CheckWarranty, CheckPaidRepair:
			w := Warranty(ix.machines[t.Machine], t, c.Warranty)
			switch {
			case c.Check == CheckWarranty && !w.Covered:
				f.State, f.Why = NotApplicable, "not covered: "+strings.Join(w.Reasons, "; ")
			case c.Check == CheckWarranty && t.Charged:
				f.State, f.Why = Breached, "covered until "+w.Until.Format(time.DateOnly)+" but the repair was charged"
			case c.Check == CheckWarranty:
				f.State, f.Why = Met, "covered until "+w.Until.Format(time.DateOnly)+": free repair"
			case w.Covered:
				f.State, f.Why = NotApplicable, "in warranty"
			case t.Refused:
				f.State, f.Why = Breached, "out of warranty and repair refused; it must be offered as paid repair"
			default:
				f.State, f.Why = Met, "chargeable repair: "+strings.Join(w.Reasons, "; ")
			}
		default:
			continue
		}
		if f.State == Breached && c.Level == BestEffort {
			f.State = Missed
		}
		dst = append(dst, f)
	}
	return dst, nil
}

// explain evaluates V6 on the other findings of the same ticket.
func explain(f *Finding, others []Finding, exc []Event) {
	var breached []string
	for i := range others {
		if others[i].State == Breached {
			breached = append(breached, others[i].Commitment)
		}
	}
	for _, x := range exc {
		if strings.TrimSpace(x.Reason) == "" || strings.TrimSpace(x.Plan) == "" {
			f.State, f.Stop = Breached, x.At
			f.Why = "exception at " + x.At.In(cst).Format("01-02 15:04") + " lacks a reason or a plan"
			return
		}
	}
	switch {
	case len(breached) == 0:
		f.State, f.Why = NotApplicable, "nothing missed"
	case len(exc) == 0:
		f.State, f.Why = Breached, strings.Join(breached, ", ")+" missed and no exception explained to the user"
	default:
		f.State, f.Stop = Met, exc[0].At
		f.Why = strings.Join(breached, ", ") + " missed; explained: " + exc[0].Reason + "; plan: " + exc[0].Plan
	}
}

// certified checks every dispatch on t made by now; later ones are not
// judged yet.
func (e *Evaluator) certified(f *Finding, ix *Index, t *Ticket, now time.Time) {
	n, later := 0, 0
	for _, ev := range t.Events {
		if ev.Kind != EvDispatched {
			continue
		}
		if ev.At.After(now) {
			later++
			continue
		}
		n++
		tech, ok := ix.techs[ev.Technician]
		if !ok {
			f.State, f.Stop, f.Why = Breached, ev.At, "dispatched unknown technician "+ev.Technician
			return
		}
		if _, ok := tech.CertifiedAt(ev.At); !ok {
			why := tech.ID + " dispatched " + ev.At.In(cst).Format("2006-01-02") + " without a valid certificate"
			for _, c := range tech.Certificates {
				if c.Expires.Before(DateOf(ev.At)) {
					why += " (" + c.Number + " expired " + c.Expires.String() + ")"
				}
			}
			f.State, f.Stop, f.Why = Breached, ev.At, why
			return
		}
	}
	if n == 0 {
		f.State, f.Why = NotApplicable, "no dispatch"
		if later > 0 {
			f.Why = "no dispatch by the evaluation time"
		}
		return
	}
	f.State, f.Why = Met, strconv.Itoa(n)+" dispatch(es), all certified"
}

// WarrantyDecision is the warranty entitlement of a repair (G3/G4).
type WarrantyDecision struct {
	// Covered: free repair under warranty; otherwise chargeable (G4).
	Covered bool
	// Until is the end of the warranty (sale + period); zero if unknown.
	Until time.Time
	// Reasons say why the repair is not covered; empty when covered.
	Reasons []string
}

// Warranty decides the entitlement of ticket t on machine m (nil when the
// serial number is unknown) for a warranty of period from the sale (G3):
// covered when the request is within the period, the damage is not human,
// and the customer showed proof of purchase and the serial number.
func Warranty(m *Machine, t *Ticket, period Span) WarrantyDecision {
	var w WarrantyDecision
	opened, _ := t.first(EvOpened)
	switch {
	case t.Machine == "":
		w.Reasons = append(w.Reasons, "no serial number given")
	case m == nil:
		w.Reasons = append(w.Reasons, "serial number "+t.Machine+" not on record")
	default:
		w.Until, _ = apply(nil, CalendarClock, m.Paid, period)
		if !opened.At.Before(w.Until) {
			w.Reasons = append(w.Reasons, "warranty ended "+w.Until.In(cst).Format(time.DateOnly))
		}
	}
	if t.Damage == DamageHuman {
		w.Reasons = append(w.Reasons, "human damage")
	}
	if !t.ProofOfPurchase {
		w.Reasons = append(w.Reasons, "no proof of purchase")
	}
	w.Covered = len(w.Reasons) == 0
	return w
}

// approx turns a span into a duration for comparisons (a month as 30 days).
func approx(s Span) time.Duration {
	return s.D + time.Duration(s.Days)*24*time.Hour + time.Duration(s.Months)*30*24*time.Hour
}

// firstOf returns the first event of one of the kinds.
func firstOf(evs []Event, kinds []EventKind) (Event, bool) {
	var best Event
	found := false
	for _, e := range evs {
		if slices.Contains(kinds, e.Kind) && (!found || e.At.Before(best.At)) {
			best, found = e, true
		}
	}
	return best, found
}

// firstBy returns the first event of one of the kinds that happened by now.
func firstBy(evs []Event, kinds []EventKind, now time.Time) (Event, bool) {
	e, ok := firstOf(evs, kinds)
	if !ok || e.At.After(now) {
		return Event{}, false
	}
	return e, true
}

func kindsText(ks []EventKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, "/")
}

// stamp formats t for reasons.
func stamp(t time.Time) string { return t.In(cst).Format("2006-01-02 15:04") }

// deadline evaluates a Deadline commitment on a record's events.
func (e *Evaluator) deadline(c *rule, base Finding, evs []Event, zone Zone, now time.Time) (Finding, error) {
	f := base
	f.Commitment, f.Level = c.ID, c.Level
	if len(c.Zones) > 0 && !slices.Contains(c.Zones, zone) {
		f.State, f.Why = NotApplicable, "zone "+string(zone)+" not covered"
		return f, nil
	}
	if len(c.When) > 0 {
		if _, ok := firstBy(evs, c.When, now); !ok {
			f.State, f.Why = NotApplicable, "no "+kindsText(c.When)
			return f, nil
		}
	}
	if len(c.Unless) > 0 {
		if u, ok := firstBy(evs, c.Unless, now); ok {
			f.State, f.Why = NotApplicable, string(u.Kind)+" at "+stamp(u.At)
			return f, nil
		}
	}
	var start Event
	found := false
	for _, ev := range evs {
		if ev.Kind != c.Start || (found && !ev.At.Before(start.At)) {
			continue
		}
		if c.Start == EvEstimate && !c.MinEstimate.IsZero() && approx(ev.Estimate) <= approx(c.MinEstimate) {
			continue
		}
		start, found = ev, true
	}
	if !found {
		f.State, f.Why = NotApplicable, "no "+string(c.Start)
		if !c.MinEstimate.IsZero() {
			f.Why += " over " + c.MinEstimate.String()
		}
		return f, nil
	}
	if start.At.After(now) {
		f.State, f.Why = NotApplicable, string(c.Start)+" at "+stamp(start.At)+" is after the evaluation time"
		return f, nil
	}
	f.Start = start.At
	clock := c.clock()
	var err error
	if f.Due, err = apply(e.cal, clock, start.At, c.Limit); err != nil {
		return f, err
	}
	if !c.Target.IsZero() {
		if f.Target, err = apply(e.cal, clock, start.At, c.Target); err != nil {
			return f, err
		}
	}
	if slices.Contains(c.Exempt, zone) {
		f.State, f.Why = Exempt, "zone "+string(zone)+" exempt (would be due "+stamp(f.Due)+")"
		return f, nil
	}
	stop, stopped := firstOf(evs, c.Stop)
	if stopped && stop.At.After(now) {
		stopped = false // not yet happened at the evaluation time
	}
	if stopped {
		f.Stop = stop.At
	}
	elapsed := func(to time.Time) string {
		if clock == WorkingClock {
			d, err := e.cal.WorkingTimeBetween(start.At, to)
			if err != nil {
				return "?"
			}
			return humanDuration(d.Round(time.Minute)) + " working time"
		}
		return humanDuration(to.Sub(start.At).Round(time.Minute))
	}
	switch {
	case stopped && stop.At.Before(start.At):
		f.State = Met
		f.Why = string(stop.Kind) + " at " + stamp(stop.At) + ", before " + string(c.Start)
	case stopped && !stop.At.After(f.Due):
		f.State = Met
		f.Why = string(stop.Kind) + " " + elapsed(stop.At) + " after " + string(c.Start) + " (limit " + c.limitText + ")"
		if !f.Target.IsZero() && stop.At.After(f.Target) {
			f.OverTarget = true
			f.Why += "; target " + c.targetText + " missed"
		}
	case stopped:
		f.State = Breached
		f.Why = string(stop.Kind) + " " + elapsed(stop.At) + " after " + string(c.Start) + ", due " + stamp(f.Due) + " (limit " + c.limitText + ")"
	case now.Before(f.Due):
		f.State, f.Why = Pending, "not "+c.stopText+" yet; due "+stamp(f.Due)
	default:
		f.State = Breached
		f.Why = "not " + c.stopText + " by " + stamp(f.Due) + " (limit " + c.limitText + "); " + elapsed(now) + " since " + string(c.Start)
	}
	if len(f.Exceptions) > 0 && f.State == Breached {
		f.Why += "; exception recorded (does not pause the clock)"
	}
	if f.State == Breached && c.Level == BestEffort {
		f.State = Missed
	}
	return f, nil
}

// evalMachine evaluates machine commitments.
func (e *Evaluator) evalMachine(ix *Index, m *Machine, now time.Time, dst []Finding) ([]Finding, error) {
	cu := ix.customers[m.Customer]
	base := Finding{Subject: SubjectMachine, Record: m.Serial, Customer: m.Customer}
	zone := Zone("")
	if cu != nil {
		base.Unit, zone = cu.Unit, cu.Zone
	}
	evs := []Event{{Kind: EvPaid, At: m.Paid}}
	if !m.Installed.IsZero() {
		evs = append(evs, Event{Kind: EvInstalled, At: m.Installed})
	}
	for _, c := range e.by[SubjectMachine] {
		switch c.Kind {
		case Deadline:
			f, err := e.deadline(c, base, evs, zone, now)
			if err != nil {
				return dst, recordError("machine", m.Serial, err)
			}
			dst = append(dst, f)
		case Check:
			f := base
			f.Commitment, f.Level, f.Start = c.ID, c.Level, m.Paid
			if (c.Check == CheckContract || c.Check == CheckBundle) && m.Paid.After(now) {
				// The sale has not happened at the evaluation time.
				f.State, f.Why = NotApplicable, "sold at "+stamp(m.Paid)+", after the evaluation time"
				dst = append(dst, f)
				continue
			}
			switch c.Check {
			case CheckContract:
				if m.Contract == "" {
					f.State, f.Why = Breached, "no warranty contract recorded"
				} else {
					f.State, f.Why = Met, "contract "+m.Contract
				}
			case CheckBundle:
				var miss []string
				for _, it := range c.Items {
					if !slices.Contains(m.Bundle, it) {
						miss = append(miss, it)
					}
				}
				if len(miss) > 0 {
					miss = []string{"bundle lacks " + strings.Join(miss, ", ")}
				}
				switch {
				case m.FiscalCard == "":
					miss = append(miss, "no fiscal card")
				case ix.fiscalCards[m.FiscalCard] > 1:
					miss = append(miss, "fiscal card "+m.FiscalCard+" shared with another machine")
				}
				switch {
				case cu == nil || cu.UserCard == "":
					miss = append(miss, "customer has no user card")
				case ix.userCards[cu.UserCard] > 1:
					miss = append(miss, "user card "+cu.UserCard+" shared with another customer")
				}
				if len(miss) > 0 {
					f.State, f.Why = Breached, strings.Join(miss, "; ")
				} else {
					f.State, f.Why = Met, "bundle complete"
				}
			default:
				continue
			}
			if f.State == Breached && c.Level == BestEffort {
				f.State = Missed
			}
			dst = append(dst, f)
		}
	}
	return dst, nil
}

// evalCustomer evaluates customer deadlines (A7) and quotas (A6).
func (e *Evaluator) evalCustomer(ix *Index, cu *Customer, now time.Time, dst []Finding) ([]Finding, error) {
	base := Finding{Subject: SubjectCustomer, Record: cu.ID, Unit: cu.Unit, Customer: cu.ID}
	evs := ix.callbacks[cu.ID]
	if inst, ok := ix.installed[cu.ID]; ok {
		evs = append([]Event{{Kind: EvInstalled, At: inst}}, evs...)
	}
	for _, c := range e.by[SubjectCustomer] {
		switch c.Kind {
		case Deadline:
			f, err := e.deadline(c, base, evs, cu.Zone, now)
			if err != nil {
				return dst, recordError("customer", cu.ID, err)
			}
			dst = append(dst, f)
		case Quota:
			var err error
			if dst, err = e.quota(c, base, evs, cu.Zone, now, dst); err != nil {
				return dst, recordError("customer", cu.ID, err)
			}
		}
	}
	return dst, nil
}

// quota evaluates a Quota commitment: one finding per period that has
// started by now.
func (e *Evaluator) quota(c *rule, base Finding, evs []Event, zone Zone, now time.Time, dst []Finding) ([]Finding, error) {
	base.Commitment, base.Level = c.ID, c.Level
	if len(c.Zones) > 0 && !slices.Contains(c.Zones, zone) {
		return dst, nil
	}
	anchor, ok := firstOf(evs, []EventKind{c.Start})
	if !ok {
		return dst, nil
	}
	ps := anchor.At
	for k := 1; ps.Before(now) && k < 1000; k++ {
		// Months count from the anchor (no drift at month ends); other
		// periods follow each other.
		var pe time.Time
		if c.Per.Months != 0 {
			pe = addMonths(anchor.At, c.Per.Months*k)
		} else {
			var err error
			if pe, err = apply(e.cal, c.clock(), ps, c.Per); err != nil {
				return dst, err
			}
		}
		n := 0
		for _, ev := range evs {
			if ev.Kind == c.Of && !ev.At.Before(ps) && ev.At.Before(pe) && !ev.At.After(now) {
				n++
			}
		}
		f := base
		f.Start, f.Due = ps, pe
		got := fmt.Sprintf("%d of %d %s in %s - %s", n, c.Count, c.Of, ps.In(cst).Format(time.DateOnly), pe.In(cst).Format(time.DateOnly))
		switch {
		case slices.Contains(c.Exempt, zone):
			f.State, f.Why = Exempt, "zone "+string(zone)+" exempt"
		case n >= c.Count:
			f.State, f.Why = Met, got
		case now.Before(pe):
			f.State, f.Why = Pending, got+" so far"
		case c.Level == BestEffort:
			f.State, f.Why = Missed, got
		default:
			f.State, f.Why = Breached, got
		}
		dst = append(dst, f)
		ps = pe
	}
	return dst, nil
}

// evalContact evaluates contact deadlines (G1, G2) and the complaint archive (A3).
func (e *Evaluator) evalContact(ix *Index, ct *Contact, now time.Time, dst []Finding) ([]Finding, error) {
	base := Finding{Subject: SubjectContact, Record: ct.ID, Unit: ct.Unit, Customer: ct.Customer}
	zone := Zone("")
	if cu, ok := ix.customers[ct.Customer]; ok {
		zone = cu.Zone
	}
	evs := []Event{{Kind: EvReceived, At: ct.Received}}
	if !ct.Replied.IsZero() {
		evs = append(evs, Event{Kind: EvReplied, At: ct.Replied})
	}
	if !ct.Closed.IsZero() {
		evs = append(evs, Event{Kind: EvClosed, At: ct.Closed})
	}
	for _, c := range e.by[SubjectContact] {
		if len(c.Topics) > 0 && !slices.Contains(c.Topics, ct.Topic) {
			continue
		}
		switch {
		case c.Kind == Deadline:
			f, err := e.deadline(c, base, evs, zone, now)
			if err != nil {
				return dst, recordError("contact", ct.ID, err)
			}
			dst = append(dst, f)
		case c.Kind == Check && c.Check == CheckComplaintArchive:
			f := base
			f.Commitment, f.Level, f.Start = c.ID, c.Level, ct.Received
			closed := !ct.Closed.IsZero() && !ct.Closed.After(now)
			if closed {
				f.Stop = ct.Closed
			}
			switch {
			case ct.Received.After(now):
				f.State, f.Why = NotApplicable, "received at "+stamp(ct.Received)+", after the evaluation time"
			case !closed:
				f.State, f.Why = Pending, "open since "+stamp(ct.Received)
			case strings.TrimSpace(ct.Resolution) == "":
				f.State, f.Why = Breached, "closed "+stamp(ct.Closed)+" without a recorded resolution"
			default:
				f.State, f.Why = Met, "closed "+stamp(ct.Closed)+": "+ct.Resolution
			}
			if f.State == Breached && c.Level == BestEffort {
				f.State = Missed
			}
			dst = append(dst, f)
		}
	}
	return dst, nil
}

// evalCall evaluates hotline commitments on one call.
func (e *Evaluator) evalCall(call *Call, now time.Time, dst []Finding) []Finding {
	for _, c := range e.by[SubjectCall] {
		if c.Kind != Check || c.Check != CheckHotline {
			continue
		}
		f := Finding{Commitment: c.ID, Level: c.Level, Subject: SubjectCall, Unit: call.Unit,
			Record: call.Unit + "@" + stamp(call.At), Start: call.At}
		if call.At.After(now) {
			f.State, f.Why = NotApplicable, "call after the evaluation time"
		} else if call.Answered {
			f.State, f.Stop, f.Why = Met, call.At, "answered"
		} else {
			f.State, f.Why = Breached, "hotline call at "+stamp(call.At)+" ("+call.At.In(cst).Weekday().String()+") not answered"
			if c.Level == BestEffort {
				f.State = Missed
			}
		}
		dst = append(dst, f)
	}
	return dst
}

// Staffing is a unit's staffing ratio (A9), for the unit alone and rolled up
// with every unit below it.
type Staffing struct {
	Unit        string
	Customers   int // customers served directly, special zone not counted
	Technicians int // the unit's technicians with a valid certificate
	Ratio       float64
	// TreeCustomers, TreeTechnicians and TreeRatio count the unit and every
	// unit below it (city centre with its county points, province with all).
	TreeCustomers   int
	TreeTechnicians int
	TreeRatio       float64
	// Below lists the units below the unit (children, grandchildren, ...).
	Below []string
}

// Of returns the customers, technicians and ratio of the given scope.
func (s Staffing) Of(scope StaffingScope) (customers, technicians int, ratio float64) {
	if scope == ScopeTree {
		return s.TreeCustomers, s.TreeTechnicians, s.TreeRatio
	}
	return s.Customers, s.Technicians, s.Ratio
}

// Below returns the units below unit, breadth first; a cycle of Parent
// links (which Dataset.Validate rejects) is cut where it closes.
func (ix *Index) Below(unit string) []string {
	seen := map[string]bool{unit: true}
	var out []string
	for q := []string{unit}; len(q) > 0; q = q[1:] {
		for _, ch := range ix.children[q[0]] {
			if !seen[ch] {
				seen[ch] = true
				out = append(out, ch)
				q = append(q, ch)
			}
		}
	}
	return out
}

// StaffingOf computes the staffing of unit at now, alone and rolled up.
func StaffingOf(ix *Index, unit string, now time.Time) Staffing {
	s := Staffing{Unit: unit, Below: ix.Below(unit)}
	tree := make(map[string]bool, len(s.Below)+1)
	tree[unit] = true
	for _, u := range s.Below {
		tree[u] = true
	}
	for i := range ix.D.Customers {
		if c := &ix.D.Customers[i]; tree[c.Unit] && c.Zone != ZoneSpecial {
			s.TreeCustomers++
			if c.Unit == unit {
				s.Customers++
			}
		}
	}
	for i := range ix.D.Technicians {
		if t := &ix.D.Technicians[i]; tree[t.Unit] {
			if _, ok := t.CertifiedAt(now); ok {
				s.TreeTechnicians++
				if t.Unit == unit {
					s.Technicians++
				}
			}
		}
	}
	if s.Technicians > 0 {
		s.Ratio = float64(s.Customers) / float64(s.Technicians)
	}
	if s.TreeTechnicians > 0 {
		s.TreeRatio = float64(s.TreeCustomers) / float64(s.TreeTechnicians)
	}
	return s
}

// scopeText says in words which figure a ratio uses.
func scopeText(scope StaffingScope, below int) string {
	if scope == ScopeTree {
		return "the unit and the " + strconv.Itoa(below) + " unit(s) below it"
	}
	return "the unit's own customers"
}

// evalUnit evaluates unit checks (A9).
func (e *Evaluator) evalUnit(ix *Index, u *Unit, now time.Time, dst []Finding) []Finding {
	for _, c := range e.by[SubjectUnit] {
		if c.Kind != Check || c.Check != CheckStaffing {
			continue
		}
		s := StaffingOf(ix, u.ID, now)
		f := Finding{Commitment: c.ID, Level: c.Level, Subject: SubjectUnit, Record: u.ID, Unit: u.ID, Start: now}
		customers, techs, ratio := s.Of(c.Scope)
		got := fmt.Sprintf("%d customers, %d certified technicians (%s)", customers, techs, scopeText(c.Scope, len(s.Below)))
		switch {
		case customers == 0:
			f.State, f.Why = NotApplicable, "no customers ("+scopeText(c.Scope, len(s.Below))+")"
		case techs == 0:
			f.State, f.Why = Breached, got
		case ratio > float64(c.Max):
			f.State, f.Why = Breached, fmt.Sprintf("%s: %.0f per technician, max %d", got, ratio, c.Max)
		default:
			f.State, f.Why = Met, fmt.Sprintf("%s: %.0f per technician, max %d", got, ratio, c.Max)
		}
		if len(s.Below) > 0 {
			if c.Scope == ScopeTree {
				f.Why += fmt.Sprintf("; own: %d customers, %d technicians", s.Customers, s.Technicians)
			} else {
				f.Why += fmt.Sprintf("; with the %d unit(s) below: %d customers, %d technicians", len(s.Below), s.TreeCustomers, s.TreeTechnicians)
			}
		}
		if f.State == Breached && c.Level == BestEffort {
			f.State = Missed
		}
		dst = append(dst, f)
	}
	return dst
}

// reportPeriod returns the period of months months (aligned to calendar
// months: January, or every third month from January, ...) holding t.
func reportPeriod(t time.Time, months int) time.Time {
	t = t.In(cst)
	m := (t.Year()*12 + int(t.Month()) - 1) / months * months
	return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, cst)
}

// periodLabel names a report period: "2026-10" for a month,
// "2026-10..2026-12" for longer ones.
func periodLabel(from, to time.Time) string {
	last := to.AddDate(0, 0, -1)
	if from.Year() == last.Year() && from.Month() == last.Month() {
		return from.Format("2006-01")
	}
	return from.Format("2006-01") + ".." + last.Format("2006-01")
}

// maxReportPeriods bounds the periods judged per unit and commitment.
const maxReportPeriods = 1000

// evalReports evaluates report commitments with a limit (A11) on unit u:
// one finding per period that has ended by now, from the period holding
// the later of the unit's authorisation and its first record (first ticket
// opened or first report submitted). An unauthorised unit has no duty.
func (e *Evaluator) evalReports(ix *Index, u *Unit, now time.Time, dst []Finding) ([]Finding, error) {
	for i := range e.p.Commitments {
		c := &e.p.Commitments[i]
		if c.Kind != Report || c.Limit.IsZero() || c.Per.Months <= 0 {
			continue
		}
		base := Finding{Commitment: c.ID, Level: c.Level, Subject: SubjectUnit, Record: u.ID, Unit: u.ID}
		if u.Authorised == (Date{}) {
			f := base
			f.State, f.Why = NotApplicable, "unit not authorised: no reporting duty"
			dst = append(dst, f)
			continue
		}
		first := ix.firstTicket[u.ID]
		var subs []ReportSubmission
		for _, r := range ix.D.Reports {
			if r.Unit != u.ID {
				continue
			}
			subs = append(subs, r)
			if f := r.From.Time(); first.IsZero() || f.Before(first) {
				first = f
			}
		}
		if first.IsZero() {
			continue
		}
		if a := u.Authorised.Time(); first.Before(a) {
			first = a
		}
		ps := reportPeriod(first, c.Per.Months)
		for k := 0; k < maxReportPeriods; k++ {
			pe := addMonths(ps, c.Per.Months)
			if pe.After(now) {
				break
			}
			f := base
			f.Record = u.ID + "@" + periodLabel(ps, pe)
			f.Start = pe
			var err error
			if f.Due, err = apply(e.cal, c.clock(), pe, c.Limit); err != nil {
				return dst, recordError("unit", u.ID, err)
			}
			from, to := DateOf(ps), DateOf(pe.Add(-time.Nanosecond))
			var early time.Time
			for _, r := range subs {
				if r.From != from || r.To != to || r.Submitted.After(now) {
					continue
				}
				if r.Submitted.Before(pe) {
					early = r.Submitted
					continue
				}
				if f.Stop.IsZero() || r.Submitted.Before(f.Stop) {
					f.Stop = r.Submitted
				}
			}
			switch {
			case !f.Stop.IsZero() && !f.Stop.After(f.Due):
				f.State, f.Why = Met, "submitted "+stamp(f.Stop)+", due "+stamp(f.Due)
			case !f.Stop.IsZero():
				f.State, f.Why = Breached, "submitted "+stamp(f.Stop)+", after the due time "+stamp(f.Due)+" (limit "+c.Limit.String()+" after the period)"
			case now.Before(f.Due):
				f.State, f.Why = Pending, "not submitted yet; due "+stamp(f.Due)
			default:
				f.State, f.Why = Breached, "not submitted by "+stamp(f.Due)+" (limit "+c.Limit.String()+" after the period)"
			}
			if !early.IsZero() && f.State != Met {
				f.Why += "; a report dated " + stamp(early) + " was handed in before the period ended and does not count"
			}
			if f.State == Breached && c.Level == BestEffort {
				f.State = Missed
			}
			dst = append(dst, f)
			ps = pe
		}
	}
	return dst, nil
}
