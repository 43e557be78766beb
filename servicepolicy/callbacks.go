package servicepolicy

import (
	"fmt"
	"time"
)

// CallbackGap is a stretch without a phone callback longer than the policy
// allows (A6 spacing, or the A7 first-callback limit after installation).
type CallbackGap struct {
	From, To time.Time
	// Allowed is the longest stretch the policy allows here.
	Allowed Span
	// Open is set when the gap runs up to now (no callback yet).
	Open bool
}

// CallbackPlan is a customer's callback schedule (A6/A7).
type CallbackPlan struct {
	Customer  string
	Unit      string
	Installed time.Time
	Phone     []time.Time
	OnSite    []time.Time
	// NextDue is when the next phone callback is due.
	NextDue time.Time
	// Overdue is set when NextDue has passed.
	Overdue bool
	Gaps    []CallbackGap
}

// callbackRules finds the first-callback limit (a customer deadline from
// installed to callback-phone) and the spacing (a phone-callback quota's
// period divided by its count) in the policy.
func (e *Evaluator) callbackRules() (first, spacing Span) {
	for _, c := range e.p.Commitments {
		switch {
		case c.Subject == SubjectCustomer && c.Kind == Deadline && c.Start == EvInstalled && len(c.Stop) == 1 && c.Stop[0] == EvCallbackPhone:
			first = c.Limit
		case c.Subject == SubjectCustomer && c.Kind == Quota && c.Of == EvCallbackPhone && spacing.IsZero():
			if c.Per.Months != 0 && c.Per.Months%c.Count == 0 {
				spacing = MonthsSpan(c.Per.Months / c.Count)
			} else {
				spacing = Dur(approx(c.Per) / time.Duration(c.Count))
			}
		}
	}
	if first.IsZero() {
		first = spacing
	}
	return first, spacing
}

// CallbackPlan returns the callback schedule of a customer at now: the
// callbacks made, the next one due and every gap longer than the policy
// allows. It needs a policy with a phone-callback quota (A6).
func (e *Evaluator) CallbackPlan(ix *Index, customer string, now time.Time) (CallbackPlan, error) {
	cu, ok := ix.customers[customer]
	if !ok {
		return CallbackPlan{}, &FieldError{Field: "customer", Problem: fmt.Sprintf("unknown customer %q", customer), Err: ErrInvalidRecord}
	}
	first, spacing := e.callbackRules()
	if spacing.IsZero() {
		return CallbackPlan{}, &FieldError{Problem: "policy " + e.p.Name + " has no phone-callback quota", Err: ErrInvalidPolicy}
	}
	installed := ix.installed[cu.ID]
	p := CallbackPlan{Customer: cu.ID, Unit: cu.Unit, Installed: installed}
	for _, ev := range ix.callbacks[cu.ID] {
		if ev.Kind == EvCallbackOnSite {
			p.OnSite = append(p.OnSite, ev.At)
		} else {
			p.Phone = append(p.Phone, ev.At)
		}
	}
	if installed.IsZero() {
		return p, nil
	}
	prev, allowed := installed, first
	for _, at := range p.Phone {
		if at.Before(installed) {
			continue
		}
		due, _ := apply(nil, CalendarClock, prev, allowed)
		if at.After(due) {
			p.Gaps = append(p.Gaps, CallbackGap{From: prev, To: at, Allowed: allowed})
		}
		prev, allowed = at, spacing
	}
	p.NextDue, _ = apply(nil, CalendarClock, prev, allowed)
	if now.After(p.NextDue) {
		p.Overdue = true
		p.Gaps = append(p.Gaps, CallbackGap{From: prev, To: now, Allowed: allowed, Open: true})
	}
	return p, nil
}
