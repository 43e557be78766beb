package servicepolicy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Unit is an authorised service unit (服务单位): the province centre, a city
// service centre or a county service point (V11).
type Unit struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Parent is the unit above it; empty for the province centre.
	Parent string `json:"parent,omitempty"`
	// Authorised is the date the unit was authorised (授权牌); the zero date
	// means not authorised (A1).
	Authorised Date `json:"authorised,omitzero"`
	// TaxOffice is the local tax office the unit reports to (A11).
	TaxOffice string `json:"tax_office,omitempty"`
}

// Customer is a taxpayer using registers.
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	TaxID string `json:"tax_id,omitempty"`
	Unit  string `json:"unit"` // the one service point serving it (V11)
	Zone  Zone   `json:"zone"`
	// Installed is the first installation of a register for this customer;
	// when zero, the earliest Machine.Installed of its machines is used.
	Installed time.Time `json:"installed,omitzero"`
	// UserCard is the customer's user card number (one per taxpayer, V10).
	UserCard string `json:"user_card,omitempty"`
}

// Machine is a sold register.
type Machine struct {
	Serial    string    `json:"serial"`
	Customer  string    `json:"customer"`
	Model     string    `json:"model,omitempty"`
	Paid      time.Time `json:"paid"`               // sale: payment received (V8, G3)
	Installed time.Time `json:"installed,omitzero"` // on-site installation
	// Contract is the warranty contract number (V9).
	Contract string `json:"contract,omitempty"`
	// FiscalCard is the fiscal card number (one per machine, V10).
	FiscalCard string `json:"fiscal_card,omitempty"`
	// Bundle lists what was handed over with the machine (V10).
	Bundle []string `json:"bundle,omitempty"`
}

// Certificate is a technician's work permit (上岗合格证明).
type Certificate struct {
	Number  string `json:"number"`
	Issued  Date   `json:"issued"`
	Expires Date   `json:"expires"` // last valid day
}

// Technician is a service technician of a unit.
type Technician struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Unit         string        `json:"unit"`
	Certificates []Certificate `json:"certificates,omitempty"`
}

// CertifiedAt returns the certificate valid at t, if any.
func (t *Technician) CertifiedAt(at time.Time) (Certificate, bool) {
	d := DateOf(at)
	for _, c := range t.Certificates {
		if !d.Before(c.Issued) && !c.Expires.Before(d) {
			return c, true
		}
	}
	return Certificate{}, false
}

// Event is one thing that happened on a ticket.
type Event struct {
	Kind EventKind `json:"kind"`
	At   time.Time `json:"at"`
	// Technician is set on dispatched, arrived, fixed.
	Technician string `json:"technician,omitempty"`
	// Estimate is the expected repair time, on estimate events.
	Estimate Span `json:"estimate,omitzero"`
	// Reason and Plan explain an exception (V6).
	Reason string `json:"reason,omitempty"`
	Plan   string `json:"plan,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Damage says what caused a fault, for the warranty (G3).
type Damage string

const (
	// DamageFault is a product quality fault (非人为损坏).
	DamageFault Damage = "fault"
	// DamageHuman is damage caused by people (人为损坏): not covered.
	DamageHuman Damage = "human"
)

// Ticket is a repair request and what followed it.
type Ticket struct {
	ID       string  `json:"id"`
	Unit     string  `json:"unit"`
	Customer string  `json:"customer"`
	Machine  string  `json:"machine,omitempty"` // serial number given by the customer
	Fault    string  `json:"fault,omitempty"`
	Events   []Event `json:"events"`
	// Damage is the cause found; empty means a product fault.
	Damage Damage `json:"damage,omitempty"`
	// ProofOfPurchase is set when the customer showed the invoice (购买凭证).
	ProofOfPurchase bool `json:"proof_of_purchase,omitempty"`
	// Charged is set when the repair was billed.
	Charged bool `json:"charged,omitempty"`
	// Refused is set when the unit declined to repair.
	Refused bool `json:"refused,omitempty"`
}

// first returns the first event of one of the kinds, if any.
func (t *Ticket) first(kinds ...EventKind) (Event, bool) {
	var best Event
	found := false
	for _, e := range t.Events {
		if slices.Contains(kinds, e.Kind) && (!found || e.At.Before(best.At)) {
			best, found = e, true
		}
	}
	return best, found
}

// Callback is a phone or on-site callback to a customer (回访).
type Callback struct {
	Customer   string    `json:"customer"`
	Unit       string    `json:"unit"`
	At         time.Time `json:"at"`
	OnSite     bool      `json:"on_site,omitempty"`
	Technician string    `json:"technician,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// Contact is an inquiry, question or complaint.
type Contact struct {
	ID         string    `json:"id"`
	Unit       string    `json:"unit"`
	Customer   string    `json:"customer,omitempty"`
	Topic      Topic     `json:"topic"`
	Received   time.Time `json:"received"`
	Replied    time.Time `json:"replied,omitzero"`
	Closed     time.Time `json:"closed,omitzero"`
	Summary    string    `json:"summary,omitempty"`
	Resolution string    `json:"resolution,omitempty"`
}

// Call is one call to a unit's hotline.
type Call struct {
	Unit     string    `json:"unit"`
	At       time.Time `json:"at"`
	Answered bool      `json:"answered"`
}

// ReportSubmission records that a unit handed its periodic maintenance
// report (A11) for a period to its tax office.
type ReportSubmission struct {
	Unit string `json:"unit"`
	// From and To are the first and the last day of the period covered.
	From Date `json:"from"`
	To   Date `json:"to"`
	// Submitted is when the report was handed over.
	Submitted time.Time `json:"submitted"`
	// TaxOffice and Reference (a receipt number) are for the record.
	TaxOffice string `json:"tax_office,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// Dataset holds the service records of one or more units.
type Dataset struct {
	Units       []Unit       `json:"units"`
	Customers   []Customer   `json:"customers"`
	Machines    []Machine    `json:"machines,omitempty"`
	Technicians []Technician `json:"technicians,omitempty"`
	Tickets     []Ticket     `json:"tickets,omitempty"`
	Callbacks   []Callback   `json:"callbacks,omitempty"`
	Contacts    []Contact    `json:"contacts,omitempty"`
	Calls       []Call       `json:"calls,omitempty"`
	// Reports are the maintenance reports submitted (A11).
	Reports []ReportSubmission `json:"reports,omitempty"`
}

// ParseDataset reads a Dataset from JSON (the field names of the types in
// this file; times in RFC 3339, dates as YYYY-MM-DD) and validates it.
// Unknown fields are errors; every error names its field.
func ParseDataset(data []byte) (*Dataset, error) {
	var d Dataset
	if err := decodeStrict(data, &d); err != nil {
		return nil, &FieldError{Field: jsonPath(data, &d), Problem: jsonErrorProblem(err), Err: ErrInvalidRecord}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// maxErrors caps the problems Validate reports.
const maxErrors = 20

// Validate checks that IDs are present and unique, references resolve,
// zones and kinds are known and events are in time order where order is
// fixed. It joins one *FieldError (matching ErrInvalidRecord) per problem, up
// to 20.
func (d *Dataset) Validate() error {
	var errs []error
	bad := func(field, problem string) {
		if len(errs) < maxErrors {
			errs = append(errs, &FieldError{Field: field, Problem: problem, Err: ErrInvalidRecord})
		}
	}
	idx := func(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
	// unique checks that id is set and not listed before in seen, and adds it.
	unique := func(seen map[string]bool, field, id string) {
		switch {
		case id == "":
			bad(field, "must not be empty")
		case seen[id]:
			bad(field, fmt.Sprintf("%q listed twice", id))
		}
		seen[id] = true
	}
	units := make(map[string]bool)
	for i, u := range d.Units {
		unique(units, idx("units", i)+".id", u.ID)
	}
	parent := make(map[string]string, len(d.Units))
	for i, u := range d.Units {
		if u.Parent != "" && !units[u.Parent] {
			bad(idx("units", i)+".parent", fmt.Sprintf("unknown unit %q", u.Parent))
		}
		parent[u.ID] = u.Parent
	}
	// Parent links must not loop (V11's levels form a tree). Each walk up
	// stops at a unit already walked, so this is linear in the units.
	walk := make(map[string]int, len(d.Units)) // unit → 1 + index of the walk that reached it
	for i, u := range d.Units {
		for p := u.ID; p != "" && walk[p] == 0; p = parent[p] {
			walk[p] = i + 1
			if parent[p] != "" && walk[parent[p]] == i+1 {
				bad(idx("units", i)+".parent", fmt.Sprintf("the parent links from unit %q loop back to %q", u.ID, parent[p]))
				break
			}
		}
	}
	unit := func(field, id string) {
		if !units[id] {
			bad(field, fmt.Sprintf("unknown unit %q", id))
		}
	}
	customers := make(map[string]bool)
	for i, c := range d.Customers {
		f := idx("customers", i)
		unique(customers, f+".id", c.ID)
		unit(f+".unit", c.Unit)
		if !c.Zone.valid() {
			bad(f+".zone", fmt.Sprintf("unknown zone %q", c.Zone))
		}
	}
	customer := func(field, id string) {
		if !customers[id] {
			bad(field, fmt.Sprintf("unknown customer %q", id))
		}
	}
	machines := make(map[string]bool)
	for i, m := range d.Machines {
		f := idx("machines", i)
		unique(machines, f+".serial", m.Serial)
		customer(f+".customer", m.Customer)
		if m.Paid.IsZero() {
			bad(f+".paid", "must be set")
		}
	}
	techs := make(map[string]bool)
	for i, t := range d.Technicians {
		f := idx("technicians", i)
		unique(techs, f+".id", t.ID)
		unit(f+".unit", t.Unit)
		for j, c := range t.Certificates {
			if c.Expires.Before(c.Issued) {
				bad(idx(f+".certificates", j)+".expires", "before issued")
			}
		}
	}
	vocab, _ := vocabulary(SubjectTicket)
	tickets := make(map[string]bool)
	for i, t := range d.Tickets {
		f := idx("tickets", i)
		unique(tickets, f+".id", t.ID)
		unit(f+".unit", t.Unit)
		customer(f+".customer", t.Customer)
		if t.Machine != "" && !machines[t.Machine] {
			bad(f+".machine", fmt.Sprintf("unknown machine %q", t.Machine))
		}
		if t.Damage != "" && t.Damage != DamageFault && t.Damage != DamageHuman {
			bad(f+".damage", fmt.Sprintf("unknown damage %q: want fault or human", t.Damage))
		}
		opened, hasOpened := t.first(EvOpened)
		if !hasOpened {
			bad(f+".events", "needs an opened event")
		}
		for j, e := range t.Events {
			ef := idx(f+".events", j)
			if !slices.Contains(vocab, e.Kind) {
				bad(ef+".kind", fmt.Sprintf("unknown ticket event %q", e.Kind))
			}
			if e.At.IsZero() {
				bad(ef+".at", "must be set")
			} else if hasOpened && e.At.Before(opened.At) {
				bad(ef+".at", "before the ticket was opened")
			}
			if e.Technician != "" && !techs[e.Technician] {
				bad(ef+".technician", fmt.Sprintf("unknown technician %q", e.Technician))
			}
			if e.Kind == EvDispatched && e.Technician == "" {
				bad(ef+".technician", "a dispatch names the technician")
			}
			if e.Kind == EvEstimate && (e.Estimate.IsZero() || !e.Estimate.valid()) {
				bad(ef+".estimate", "an estimate event needs a positive estimate")
			}
		}
	}
	for i, c := range d.Callbacks {
		f := idx("callbacks", i)
		customer(f+".customer", c.Customer)
		unit(f+".unit", c.Unit)
		if c.At.IsZero() {
			bad(f+".at", "must be set")
		}
	}
	contacts := make(map[string]bool)
	for i, c := range d.Contacts {
		f := idx("contacts", i)
		unique(contacts, f+".id", c.ID)
		unit(f+".unit", c.Unit)
		if c.Customer != "" {
			customer(f+".customer", c.Customer)
		}
		if c.Topic != TopicInquiry && c.Topic != TopicQuestion && c.Topic != TopicComplaint {
			bad(f+".topic", fmt.Sprintf("unknown topic %q", c.Topic))
		}
		if c.Received.IsZero() {
			bad(f+".received", "must be set")
		}
		if !c.Replied.IsZero() && c.Replied.Before(c.Received) {
			bad(f+".replied", "before received")
		}
		if !c.Closed.IsZero() && c.Closed.Before(c.Received) {
			bad(f+".closed", "before received")
		}
	}
	for i, c := range d.Calls {
		f := idx("calls", i)
		unit(f+".unit", c.Unit)
		if c.At.IsZero() {
			bad(f+".at", "must be set")
		}
	}
	for i, r := range d.Reports {
		f := idx("reports", i)
		unit(f+".unit", r.Unit)
		switch {
		case !r.From.Valid():
			bad(f+".from", "must be a date")
		case !r.To.Valid():
			bad(f+".to", "must be a date")
		case r.To.Before(r.From):
			bad(f+".to", "before from")
		}
		if r.Submitted.IsZero() {
			bad(f+".submitted", "must be set")
		}
	}
	return errors.Join(errs...)
}
