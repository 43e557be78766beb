package servicepolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Zone is the kind of area a customer is served in; each customer's service
// point fixes it (V11).
type Zone string

// The zones of the seed's commitments.
const (
	ZoneUrban    Zone = "urban"    // 市区
	ZoneSuburban Zone = "suburban" // 城郊
	ZoneCounty   Zone = "county"   // 周边县
	ZoneRemote   Zone = "remote"   // 边远地区
	ZoneSpecial  Zone = "special"  // 特殊地区
)

func (z Zone) valid() bool {
	switch z {
	case ZoneUrban, ZoneSuburban, ZoneCounty, ZoneRemote, ZoneSpecial:
		return true
	}
	return false
}

// Level says whether missing a commitment is a breach.
type Level string

const (
	// Mandatory commitments are breached when missed.
	Mandatory Level = "mandatory"
	// BestEffort commitments (尽量) are reported as missed, never breached.
	BestEffort Level = "best-effort"
)

// Clock says how a commitment's spans are measured.
type Clock string

const (
	// CalendarClock counts wall time around the clock (24x7 commitments).
	CalendarClock Clock = "calendar"
	// WorkingClock counts working time on the Calendar (工作日).
	WorkingClock Clock = "working"
)

// Kind is the shape of a commitment.
type Kind string

const (
	// Deadline: a Start event starts the clock, one of the Stop events must
	// follow within Limit (and ideally within Target).
	Deadline Kind = "deadline"
	// Quota: at least Count events of kind Of in every period of length Per,
	// periods counted from the Start event.
	Quota Kind = "quota"
	// Check: a built-in rule named by Check, applied to each record.
	Check Kind = "check"
	// Report: a report to produce every Per (A11). With a Limit, each
	// unit's report for a period must be submitted within Limit after the
	// period ends (Per in months, periods aligned to calendar months);
	// without one, evaluation yields nothing.
	Report Kind = "report"
)

// Subject is the kind of record a commitment is evaluated on.
type Subject string

// Subjects.
const (
	SubjectTicket   Subject = "ticket"   // a repair ticket and its events
	SubjectMachine  Subject = "machine"  // a sold machine: payment, installation, contract, bundle
	SubjectCustomer Subject = "customer" // a customer: first installation, callbacks
	SubjectContact  Subject = "contact"  // an inquiry, question or complaint
	SubjectCall     Subject = "call"     // a call to the hotline
	SubjectUnit     Subject = "unit"     // a service unit (staffing)
)

// EventKind names something that happened to a record.
type EventKind string

// Ticket events.
const (
	EvOpened          EventKind = "opened"            // repair request received (by phone)
	EvResolvedByPhone EventKind = "resolved-by-phone" // solved on the phone, no visit needed
	EvDispatched      EventKind = "dispatched"        // a technician sent (Technician set)
	EvArrived         EventKind = "arrived"           // technician on site
	EvFixed           EventKind = "fixed"             // fault removed, machine working
	EvPartOrdered     EventKind = "part-ordered"      // a replacement part needed
	EvPartReplaced    EventKind = "part-replaced"     // the part fitted
	EvCarriedIn       EventKind = "carried-in"        // machine taken to the workshop
	EvEstimate        EventKind = "estimate"          // repair time estimated (Estimate set)
	EvLoanerOut       EventKind = "loaner-out"        // loaner machine (备机) handed over
	EvLoanerBack      EventKind = "loaner-back"       // loaner returned
	EvEscalated       EventKind = "escalated"         // reported to the vendor's technical department
	EvException       EventKind = "exception"         // special circumstances told to the user (Reason, Plan)
)

// Machine, customer and contact events.
const (
	EvPaid           EventKind = "paid"            // machine: payment received
	EvInstalled      EventKind = "installed"       // machine: installed; customer: first installation
	EvCallbackPhone  EventKind = "callback-phone"  // customer: phone callback (电话回访)
	EvCallbackOnSite EventKind = "callback-onsite" // customer: on-site visit (现场回访)
	EvReceived       EventKind = "received"        // contact received
	EvReplied        EventKind = "replied"         // contact: formal reply
	EvClosed         EventKind = "closed"          // contact closed
)

// vocabulary lists the events each subject has.
func vocabulary(s Subject) ([]EventKind, bool) {
	switch s {
	case SubjectTicket:
		return []EventKind{EvOpened, EvResolvedByPhone, EvDispatched, EvArrived, EvFixed, EvPartOrdered,
			EvPartReplaced, EvCarriedIn, EvEstimate, EvLoanerOut, EvLoanerBack, EvEscalated, EvException}, true
	case SubjectMachine:
		return []EventKind{EvPaid, EvInstalled}, true
	case SubjectCustomer:
		return []EventKind{EvInstalled, EvCallbackPhone, EvCallbackOnSite}, true
	case SubjectContact:
		return []EventKind{EvReceived, EvReplied, EvClosed}, true
	}
	return nil, false
}

// CheckName names a built-in rule for Check commitments.
type CheckName string

// Built-in checks.
const (
	CheckHotline          CheckName = "hotline-answered"     // call: every hotline call answered (V1, A2, G5)
	CheckExplained        CheckName = "exception-explained"  // ticket: a breach comes with an exception with reason and plan (V6)
	CheckContract         CheckName = "warranty-contract"    // machine: warranty contract recorded at sale (V9)
	CheckBundle           CheckName = "sale-bundle"          // machine: bundle Items complete, own fiscal card, customer's user card (V10)
	CheckServicePoint     CheckName = "service-point"        // customer: served by one known service point (V11)
	CheckCertified        CheckName = "certified-dispatch"   // ticket: every dispatched technician holds a valid certificate (V12, A10)
	CheckAuthorised       CheckName = "authorised-unit"      // ticket: handled by an authorised unit (A1)
	CheckComplaintArchive CheckName = "complaint-archive"    // contact: complaint closed with a recorded resolution (A3)
	CheckStaffing         CheckName = "staffing-ratio"       // unit: at most Max customers per certified technician (A9)
	CheckWarranty         CheckName = "warranty-entitlement" // ticket: covered repairs are not charged (G3)
	CheckPaidRepair       CheckName = "paid-repair"          // ticket: repairs out of warranty are charged, not refused (G4)
)

// checkSubject returns the subject a built-in check works on.
func checkSubject(c CheckName) (Subject, bool) {
	switch c {
	case CheckHotline:
		return SubjectCall, true
	case CheckExplained, CheckCertified, CheckAuthorised, CheckWarranty, CheckPaidRepair, CheckServicePoint:
		return SubjectTicket, true
	case CheckContract, CheckBundle:
		return SubjectMachine, true
	case CheckComplaintArchive:
		return SubjectContact, true
	case CheckStaffing:
		return SubjectUnit, true
	}
	return "", false
}

// StaffingScope says which units a staffing ratio (A9) counts.
type StaffingScope string

const (
	// ScopeUnit counts the customers served directly by the unit and its
	// own technicians.
	ScopeUnit StaffingScope = "unit"
	// ScopeTree rolls up: the unit and every unit below it (province →
	// city service centre → county service point, V11).
	ScopeTree StaffingScope = "tree"
)

// Topic is the kind of a contact.
type Topic string

// Contact topics.
const (
	TopicInquiry   Topic = "inquiry"   // pre-sale inquiry (售前咨询)
	TopicQuestion  Topic = "question"  // after-sale question
	TopicComplaint Topic = "complaint" // complaint (投诉)
)

// Commitment is one service commitment as data. Which fields matter depends
// on Kind; Validate says which are missing or misplaced.
type Commitment struct {
	// ID is short and unique in a policy: "V2", "A5".
	ID string `json:"id"`
	// Title says what is promised, in one line.
	Title string `json:"title"`
	// Source quotes the text the commitment comes from.
	Source string `json:"source,omitempty"`
	Kind   Kind   `json:"kind"`
	Level  Level  `json:"level"`
	// Subject is the record kind it is evaluated on.
	Subject Subject `json:"subject"`
	// Zones, when set, limits the commitment to customers in those zones.
	Zones []Zone `json:"zones,omitempty"`
	// Exempt lists zones where the commitment does not bind (shown as exempt).
	Exempt []Zone `json:"exempt,omitempty"`
	// Topics, when set, limits a contact commitment to those topics.
	Topics []Topic `json:"topics,omitempty"`

	// Start is the event that starts the clock (Deadline) or the period
	// anchor (Quota).
	Start EventKind `json:"start,omitempty"`
	// Stop lists the events that stop the clock; the first one counts.
	Stop []EventKind `json:"stop,omitempty"`
	// When, if set, makes the commitment apply only to records that have one
	// of these events.
	When []EventKind `json:"when,omitempty"`
	// Unless makes the commitment not apply to records that have one of these
	// events.
	Unless []EventKind `json:"unless,omitempty"`
	// MinEstimate, with Start "estimate", starts the clock only at an
	// estimate longer than this (A12: more than 3 days).
	MinEstimate Span `json:"min_estimate,omitzero"`
	// Clock measures Target and Limit; empty means calendar.
	Clock  Clock `json:"clock,omitempty"`
	Target Span  `json:"target,omitzero"`
	Limit  Span  `json:"limit,omitzero"`

	// Count events of kind Of per period Per (Quota).
	Count int       `json:"count,omitempty"`
	Of    EventKind `json:"of,omitempty"`
	Per   Span      `json:"per,omitzero"`

	// Check names the built-in rule (Check).
	Check CheckName `json:"check,omitempty"`
	// Max is the staffing ratio (customers per technician) for CheckStaffing.
	Max int `json:"max,omitempty"`
	// Scope says whose customers and technicians the CheckStaffing ratio
	// counts: the unit's own (ScopeUnit, the default when empty) or the
	// unit's and every unit's below it (ScopeTree).
	Scope StaffingScope `json:"scope,omitempty"`
	// Items is the sale-bundle checklist for CheckBundle.
	Items []string `json:"items,omitempty"`
	// Warranty is the warranty period for CheckWarranty (G3: 1y).
	Warranty Span `json:"warranty,omitzero"`
}

// clock returns the effective clock.
func (c *Commitment) clock() Clock {
	if c.Clock == "" {
		return CalendarClock
	}
	return c.Clock
}

// validate checks one commitment; field names in errors are prefixed with
// path.
func (c *Commitment) validate(path string) []error {
	var errs []error
	bad := func(field, problem string) {
		errs = append(errs, &FieldError{Field: path + "." + field, Problem: problem, Err: ErrInvalidPolicy})
	}
	if c.ID == "" {
		bad("id", "must not be empty")
	}
	if c.Title == "" {
		bad("title", "must not be empty")
	}
	if c.Level != Mandatory && c.Level != BestEffort {
		bad("level", `want "mandatory" or "best-effort"`)
	}
	for i, z := range c.Zones {
		if !z.valid() {
			bad("zones["+strconv.Itoa(i)+"]", fmt.Sprintf("unknown zone %q", z))
		}
	}
	for i, z := range c.Exempt {
		if !z.valid() {
			bad("exempt["+strconv.Itoa(i)+"]", fmt.Sprintf("unknown zone %q", z))
		}
	}
	for i, t := range c.Topics {
		if t != TopicInquiry && t != TopicQuestion && t != TopicComplaint {
			bad("topics["+strconv.Itoa(i)+"]", fmt.Sprintf("unknown topic %q", t))
		}
	}
	if len(c.Topics) > 0 && c.Subject != SubjectContact {
		bad("topics", "only for subject contact")
	}
	if c.Clock != "" && c.Clock != CalendarClock && c.Clock != WorkingClock {
		bad("clock", `want "calendar" or "working"`)
	}
	vocab, hasVocab := vocabulary(c.Subject)
	event := func(field string, e EventKind) {
		if !slices.Contains(vocab, e) {
			bad(field, fmt.Sprintf("%q is not an event of subject %q", e, c.Subject))
		}
	}
	span := func(field string, s Span, required bool) {
		switch {
		case s.IsZero() && required:
			bad(field, "must be positive")
		case !s.IsZero() && !s.valid():
			bad(field, "must be positive, in one unit")
		case s.Months != 0 && c.clock() == WorkingClock && field != "per" && field != "warranty":
			bad(field, "months exist only on the calendar clock")
		}
	}
	switch c.Kind {
	case Deadline:
		if !hasVocab {
			bad("subject", "a deadline needs subject ticket, machine, customer or contact")
			break
		}
		event("start", c.Start)
		if len(c.Stop) == 0 {
			bad("stop", "must list at least one event")
		}
		for i, e := range c.Stop {
			event("stop["+strconv.Itoa(i)+"]", e)
		}
		for i, e := range c.When {
			event("when["+strconv.Itoa(i)+"]", e)
		}
		for i, e := range c.Unless {
			event("unless["+strconv.Itoa(i)+"]", e)
		}
		span("limit", c.Limit, true)
		span("target", c.Target, false)
		if !c.MinEstimate.IsZero() && c.Start != EvEstimate {
			bad("min_estimate", `only with start "estimate"`)
		}
		span("min_estimate", c.MinEstimate, false)
	case Quota:
		if !hasVocab {
			bad("subject", "a quota needs subject ticket, machine, customer or contact")
			break
		}
		event("start", c.Start)
		event("of", c.Of)
		if c.Count <= 0 {
			bad("count", "must be positive")
		}
		span("per", c.Per, true)
	case Check:
		want, ok := checkSubject(c.Check)
		switch {
		case !ok:
			bad("check", fmt.Sprintf("unknown check %q", c.Check))
		case c.Subject != want:
			bad("subject", fmt.Sprintf("check %q works on subject %q", c.Check, want))
		}
		if c.Check == CheckStaffing && c.Max <= 0 {
			bad("max", "must be positive")
		}
		switch {
		case c.Scope != "" && c.Check != CheckStaffing:
			bad("scope", "only for check "+string(CheckStaffing))
		case c.Scope != "" && c.Scope != ScopeUnit && c.Scope != ScopeTree:
			bad("scope", `want "unit" or "tree"`)
		}
		if c.Check == CheckBundle && len(c.Items) == 0 {
			bad("items", "must list the bundle")
		}
		if c.Check == CheckWarranty || c.Check == CheckPaidRepair {
			span("warranty", c.Warranty, true)
		}
	case Report:
		span("per", c.Per, true)
		span("limit", c.Limit, false)
		if !c.Limit.IsZero() && c.Per.Months == 0 {
			bad("per", "a report with a limit needs per in months (periods follow the calendar months)")
		}
	default:
		bad("kind", `want "deadline", "quota", "check" or "report"`)
	}
	return errs
}

// Policy is a named set of commitments.
type Policy struct {
	Name        string       `json:"name"`
	Commitments []Commitment `json:"commitments"`
}

// Validate checks every commitment and that IDs are unique. The returned
// error joins one *FieldError per problem.
func (p Policy) Validate() error {
	var errs []error
	seen := make(map[string]int)
	for i := range p.Commitments {
		path := "commitments[" + strconv.Itoa(i) + "]"
		errs = append(errs, p.Commitments[i].validate(path)...)
		if j, dup := seen[p.Commitments[i].ID]; dup && p.Commitments[i].ID != "" {
			errs = append(errs, &FieldError{Field: path + ".id", Problem: fmt.Sprintf("%q already used by commitments[%d]", p.Commitments[i].ID, j), Err: ErrInvalidPolicy})
		}
		seen[p.Commitments[i].ID] = i
	}
	return errors.Join(errs...)
}

// Lookup returns the commitment with the given ID.
func (p Policy) Lookup(id string) (Commitment, bool) {
	for _, c := range p.Commitments {
		if c.ID == id {
			return c, true
		}
	}
	return Commitment{}, false
}

// Combine returns one policy holding the commitments of all ps in order; a
// later commitment with an ID already present replaces the earlier one in
// place.
func Combine(name string, ps ...Policy) Policy {
	out := Policy{Name: name}
	index := make(map[string]int)
	for _, p := range ps {
		for _, c := range p.Commitments {
			c = c.clone()
			if i, ok := index[c.ID]; ok {
				out.Commitments[i] = c
				continue
			}
			index[c.ID] = len(out.Commitments)
			out.Commitments = append(out.Commitments, c)
		}
	}
	return out
}

func (c Commitment) clone() Commitment {
	c.Zones = slices.Clone(c.Zones)
	c.Exempt = slices.Clone(c.Exempt)
	c.Topics = slices.Clone(c.Topics)
	c.Stop = slices.Clone(c.Stop)
	c.When = slices.Clone(c.When)
	c.Unless = slices.Clone(c.Unless)
	c.Items = slices.Clone(c.Items)
	return c
}

// policyFile is the layout of a policy file.
type policyFile struct {
	Name string `json:"name"`
	// Base names a shipped policy the file amends: "seed", "vendor",
	// "authority", "generic", or empty for none.
	Base        string            `json:"base"`
	Commitments []json.RawMessage `json:"commitments"`
}

// BasePolicy returns a shipped policy by name: "seed" (all three),
// "vendor" (section A), "authority" (section B), "generic" (section C).
func BasePolicy(name string) (Policy, bool) {
	switch name {
	case "seed":
		return SeedPolicy(), true
	case "vendor":
		return VendorPlan(), true
	case "authority":
		return AuthorityRules(), true
	case "generic":
		return GenericPromises(), true
	}
	return Policy{}, false
}

// ParsePolicy reads a policy file (JSON):
//
//	{
//	  "name": "Acme Jiangsu 2026",
//	  "base": "seed",
//	  "commitments": [
//	    {"id": "V2", "limit": "45m"},
//	    {"id": "G1", "disabled": true},
//	    {"id": "X1", "title": "...", "kind": "deadline", ...}
//	  ]
//	}
//
// With a base, an entry whose id is already in the base amends only the
// fields it names; "disabled": true removes the commitment; a new id adds
// one. Unknown fields are errors, and every error names its field, as in
// "commitments[3].limit: must be positive". The result is validated.
func ParsePolicy(data []byte) (Policy, error) {
	var f policyFile
	if err := decodeStrict(data, &f); err != nil {
		return Policy{}, &FieldError{Field: jsonPath(data, &f), Problem: jsonErrorProblem(err), Err: ErrInvalidPolicy}
	}
	p := Policy{Name: f.Name}
	if f.Base != "" {
		b, ok := BasePolicy(f.Base)
		if !ok {
			return Policy{}, &FieldError{Field: "base", Problem: fmt.Sprintf("unknown base %q: want seed, vendor, authority or generic", f.Base), Err: ErrInvalidPolicy}
		}
		p.Commitments = b.Commitments
	}
	if p.Name == "" {
		return Policy{}, &FieldError{Field: "name", Problem: "must not be empty", Err: ErrInvalidPolicy}
	}
	inFile := make(map[string]int)
	for i, raw := range f.Commitments {
		path := "commitments[" + strconv.Itoa(i) + "]"
		var head struct {
			ID       string `json:"id"`
			Disabled bool   `json:"disabled"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return Policy{}, &FieldError{Field: path, Problem: jsonErrorProblem(err), Err: ErrInvalidPolicy}
		}
		if j, dup := inFile[head.ID]; dup && head.ID != "" {
			return Policy{}, &FieldError{Field: path + ".id", Problem: fmt.Sprintf("%q already used by commitments[%d]", head.ID, j), Err: ErrInvalidPolicy}
		}
		inFile[head.ID] = i
		at := -1
		for j := range p.Commitments {
			if head.ID != "" && p.Commitments[j].ID == head.ID {
				at = j
			}
		}
		if head.Disabled {
			if at < 0 {
				return Policy{}, &FieldError{Field: path + ".disabled", Problem: fmt.Sprintf("no commitment %q to disable", head.ID), Err: ErrInvalidPolicy}
			}
			p.Commitments = slices.Delete(p.Commitments, at, at+1)
			continue
		}
		var c Commitment
		if at >= 0 {
			c = p.Commitments[at].clone()
		}
		if err := decodeCommitment(raw, &c); err != nil {
			return Policy{}, &FieldError{Field: join(path, jsonPath(raw, &commitmentFile{Commitment: &Commitment{}})), Problem: jsonErrorProblem(err), Err: ErrInvalidPolicy}
		}
		if errs := c.validate(path); len(errs) > 0 {
			return Policy{}, errors.Join(errs...)
		}
		if at >= 0 {
			p.Commitments[at] = c
		} else {
			p.Commitments = append(p.Commitments, c)
		}
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// commitmentFile is a Commitment plus the file-only "disabled" flag.
type commitmentFile struct {
	*Commitment
	Disabled bool `json:"disabled"`
}

func decodeCommitment(raw []byte, c *Commitment) error {
	return decodeStrict(raw, &commitmentFile{Commitment: c})
}

// MarshalJSON lets a Policy be written back as a file without a base.
func (p Policy) MarshalJSON() ([]byte, error) {
	type plain Policy
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(plain(p)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// apply adds s to t on the given clock.
func apply(cal *Calendar, clock Clock, t time.Time, s Span) (time.Time, error) {
	if clock == WorkingClock {
		switch {
		case s.Days != 0:
			return cal.AddWorkingDays(t, s.Days)
		default:
			return cal.AddWorkingTime(t, s.D)
		}
	}
	switch {
	case s.Months != 0:
		return addMonths(t, s.Months), nil
	case s.Days != 0:
		return t.Add(time.Duration(s.Days) * 24 * time.Hour), nil
	}
	return t.Add(s.D), nil
}
