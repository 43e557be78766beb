package linktest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/fiscalkit/gb18240/register/link"
)

// RegisterOptions configure NewRegister. The zero value means the defaults.
type RegisterOptions struct {
	RollSize        uint32        // invoices per roll (default 1000)
	FirstInvoice    uint32        // first number of the first roll (default 1)
	SingleLimit     uint32        // fen (default 1,000,000.00 yuan)
	CumulativeLimit uint32        // fen (default 4,000,000,000)
	ReturnLimit     uint32        // fen (default 1,000,000,000)
	IssueDelay      time.Duration // time each issuing command takes (default 0)
	Now             func() time.Time
}

// Register is an in-memory register simulation that implements
// link.Handler: invoice rolls, issuing with an 8-byte fiscal code chained
// over the previous one (an HMAC test profile, not the real card
// algorithm), returns and voids, daily data, declarations and roll usage.
// It is for tests of the link and of POS software; it is not the register
// engine.
type Register struct {
	opts RegisterOptions

	mu          sync.Mutex
	offset      time.Duration
	initialised bool
	initDate    time.Time
	userRolls   uint32 // rolls handed out by the "user card" so far
	waiting     []link.Roll
	current     int // index into rolls of the loaded roll; -1: none
	next        uint32
	rolls       []link.RollUsage
	invoices    []link.InvoiceDetail
	byNo        map[uint32]int
	returned    map[uint32]bool
	byRequest   map[uint64]int // request id -> invoices issued for it
	lastCode    [8]byte
	cumNormal   uint64
	cumReturn   uint64
	decls       []link.Declaration
}

var _ link.Handler = (*Register)(nil)

// NewRegister returns an initialised register with no roll loaded.
func NewRegister(opts *RegisterOptions) *Register {
	var o RegisterOptions
	if opts != nil {
		o = *opts
	}
	if o.RollSize == 0 {
		o.RollSize = 1000
	}
	if o.FirstInvoice == 0 {
		o.FirstInvoice = 1
	}
	if o.SingleLimit == 0 {
		o.SingleLimit = 100_000_000
	}
	if o.CumulativeLimit == 0 {
		o.CumulativeLimit = 4_000_000_000
	}
	if o.ReturnLimit == 0 {
		o.ReturnLimit = 1_000_000_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Register{opts: o, current: -1, byNo: map[uint32]int{}, returned: map[uint32]bool{},
		byRequest: map[uint64]int{}, initialised: true}
	r.initDate = day(r.now())
	return r
}

func (r *Register) now() time.Time {
	return r.opts.Now().Add(r.offset).In(link.ChinaTime()).Truncate(time.Second)
}

func day(t time.Time) time.Time {
	t = t.In(link.ChinaTime())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, link.ChinaTime())
}

// MachineNo is the machine number the simulation reports.
func MachineNo() [8]byte { return [8]byte{0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56} }

func refuse(cmd link.Command, code link.ErrorCode) error {
	return &link.DeviceError{Command: cmd, Code: code}
}

// Connect implements link.Handler.
func (r *Register) Connect(context.Context) (link.ConnectInfo, error) {
	return link.ConnectInfo{MachineNo: MachineNo(), ProtocolVersion: 1, MaxPacketData: link.MaxPacketData}, nil
}

func (r *Register) nextAndRemaining() (uint32, uint32) {
	if r.current < 0 {
		return 0, 0
	}
	end := r.rolls[r.current].End
	if r.next > end {
		return 0, 0
	}
	return r.next, end - r.next + 1
}

// Status implements link.Handler.
func (r *Register) Status(context.Context) (link.StatusInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := link.StatusInfo{Time: r.now(), RollsWaiting: uint8(len(r.waiting)),
		IssueDeadline: r.initDate.AddDate(1, 0, 0), Flags: link.FlagFiscalCard | link.FlagUserCard}
	if r.initialised {
		s.Flags |= link.FlagInitialised
	}
	s.NextInvoice, s.Remaining = r.nextAndRemaining()
	return s, nil
}

// DateTime implements link.Handler.
func (r *Register) DateTime(context.Context) (time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now(), nil
}

// SetDateTime implements link.Handler.
func (r *Register) SetDateTime(_ context.Context, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offset = t.Sub(r.opts.Now())
	return nil
}

// MachineInfo implements link.Handler.
func (r *Register) MachineInfo(context.Context) (link.MachineInfo, error) {
	return link.MachineInfo{MachineNo: MachineNo(), ProductionDate: time.Date(2025, 1, 2, 0, 0, 0, 0, link.ChinaTime()),
		HardwareVersion: "HW1.0", SoftwareVersion: "linktest"}, nil
}

// UserInfo implements link.Handler.
func (r *Register) UserInfo(context.Context) (link.UserInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return link.UserInfo{FiscalCardNo: [8]byte{0, 0, 0, 0, 0, 0, 0, 7}, TaxpayerID: "91110000TEST000001",
		TaxpayerName: []byte("linktest taxpayer"), InitDate: r.initDate, IssueDeadline: r.initDate.AddDate(1, 0, 0),
		SingleLimit: r.opts.SingleLimit, CumulativeLimit: r.opts.CumulativeLimit, ReturnLimit: r.opts.ReturnLimit}, nil
}

// TaxItems implements link.Handler.
func (r *Register) TaxItems(context.Context) ([]link.TaxItem, error) {
	return []link.TaxItem{{Index: 1, Rate: 300, Name: []byte("service")}, {Index: 2, Rate: 500, Name: []byte("retail")}}, nil
}

// Initialise implements link.Handler.
func (r *Register) Initialise(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.initialised = true
	return nil
}

// DistributeRoll implements link.Handler: the "user card" holds an endless
// supply of consecutive rolls.
func (r *Register) DistributeRoll(context.Context) (link.Roll, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waiting) >= 20 {
		return link.Roll{}, refuse(link.CmdDistributeRoll, link.CodeMemoryFault)
	}
	start := r.opts.FirstInvoice + r.userRolls*r.opts.RollSize
	roll := link.Roll{Start: start, End: start + r.opts.RollSize - 1}
	copy(roll.Code[:], fmt.Sprintf("14400%05d", r.userRolls+1))
	r.userRolls++
	r.waiting = append(r.waiting, roll)
	return roll, nil
}

// LoadRoll implements link.Handler.
func (r *Register) LoadRoll(context.Context) (link.Roll, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if next, _ := r.nextAndRemaining(); next != 0 {
		return link.Roll{}, refuse(link.CmdLoadRoll, link.CodeRollNotUsedUp)
	}
	if len(r.waiting) == 0 {
		return link.Roll{}, refuse(link.CmdLoadRoll, link.CodeNoInvoices)
	}
	roll := r.waiting[0]
	r.waiting = r.waiting[1:]
	r.rolls = append(r.rolls, link.RollUsage{Code: roll.Code, Start: roll.Start, End: roll.End})
	r.current = len(r.rolls) - 1
	r.next = roll.Start
	return roll, nil
}

// CurrentInvoice implements link.Handler.
func (r *Register) CurrentInvoice(context.Context) (link.CurrentInvoice, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var c link.CurrentInvoice
	c.Next, c.Remaining = r.nextAndRemaining()
	if n := len(r.invoices); n > 0 {
		c.LastIssued = r.invoices[n-1].No
	}
	return c, nil
}

func (r *Register) wait(ctx context.Context) error {
	if r.opts.IssueDelay <= 0 {
		return nil
	}
	t := time.NewTimer(r.opts.IssueDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// issueOne appends one invoice; r.mu is held.
func (r *Register) issueOne(cmd link.Command, d link.InvoiceDetail) (link.Invoice, error) {
	next, _ := r.nextAndRemaining()
	if next == 0 {
		return link.Invoice{}, refuse(cmd, link.CodeNoInvoices)
	}
	d.No, d.Time = next, r.now()
	block := make([]byte, 0, 32)
	block = append(block, r.lastCode[:]...)
	block = binary.BigEndian.AppendUint32(block, d.No)
	block = append(block, byte(d.Type))
	block = binary.BigEndian.AppendUint32(block, d.Total)
	block = binary.BigEndian.AppendUint64(block, uint64(d.Time.Unix()))
	m := hmac.New(sha256.New, []byte("linktest fiscal code profile (not a production key)"))
	m.Write(block)
	copy(d.FiscalCode[:], m.Sum(nil))
	r.lastCode = d.FiscalCode
	r.next++
	r.byNo[d.No] = len(r.invoices)
	r.invoices = append(r.invoices, d)
	r.byRequest[d.RequestID]++
	u := &r.rolls[r.current]
	switch d.Type {
	case link.TypeNormal:
		u.NormalCount++
		u.NormalTotal += d.Total
		r.cumNormal += uint64(d.Total)
	case link.TypeReturn:
		u.ReturnCount++
		u.ReturnTotal += d.Total
		r.cumReturn += uint64(d.Total)
	default:
		u.VoidCount++
	}
	if u.First.IsZero() {
		u.First = day(d.Time)
	}
	u.Last = day(d.Time)
	return d.Invoice, nil
}

// IssueNormal implements link.Handler.
func (r *Register) IssueNormal(ctx context.Context, req link.IssueRequest) (link.Invoice, error) {
	if err := r.wait(ctx); err != nil {
		return link.Invoice{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var total uint64
	for _, it := range req.Items {
		a, ok := it.Amount()
		if !ok {
			return link.Invoice{}, refuse(link.CmdIssueNormal, link.CodeSingleLimit)
		}
		total += uint64(a)
	}
	if total > uint64(r.opts.SingleLimit) {
		return link.Invoice{}, refuse(link.CmdIssueNormal, link.CodeSingleLimit)
	}
	if r.cumNormal+total > uint64(r.opts.CumulativeLimit) {
		return link.Invoice{}, refuse(link.CmdIssueNormal, link.CodeCumulativeLimit)
	}
	return r.issueOne(link.CmdIssueNormal, link.InvoiceDetail{
		Invoice: link.Invoice{Type: link.TypeNormal, Total: uint32(total), RequestID: req.RequestID},
		Branch:  req.Branch, Payer: req.Payer, Items: req.Items})
}

// IssueReturn implements link.Handler.
func (r *Register) IssueReturn(ctx context.Context, req link.ReturnRequest) (link.Invoice, error) {
	if err := r.wait(ctx); err != nil {
		return link.Invoice{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.byNo[req.OriginalNo]
	if !ok || r.invoices[i].Type != link.TypeNormal || r.returned[req.OriginalNo] {
		return link.Invoice{}, refuse(link.CmdIssueReturn, link.CodeNotFound)
	}
	orig := r.invoices[i]
	if r.cumReturn+uint64(orig.Total) > uint64(r.opts.ReturnLimit) {
		return link.Invoice{}, refuse(link.CmdIssueReturn, link.CodeReturnLimit)
	}
	inv, err := r.issueOne(link.CmdIssueReturn, link.InvoiceDetail{
		Invoice: link.Invoice{Type: link.TypeReturn, Total: orig.Total, OriginalNo: orig.No, RequestID: req.RequestID},
		Branch:  orig.Branch, Payer: orig.Payer, Items: orig.Items})
	if err == nil {
		r.returned[req.OriginalNo] = true
	}
	return inv, err
}

// Void implements link.Handler.
func (r *Register) Void(ctx context.Context, req link.VoidRequest) ([]link.Invoice, error) {
	if err := r.wait(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, rem := r.nextAndRemaining(); uint32(req.Count) > rem {
		return nil, refuse(link.CmdVoid, link.CodeNoInvoices)
	}
	var out []link.Invoice
	for range req.Count {
		inv, err := r.issueOne(link.CmdVoid, link.InvoiceDetail{Invoice: link.Invoice{Type: link.TypeVoid, RequestID: req.RequestID}})
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// Invoices implements link.Handler.
func (r *Register) Invoices(_ context.Context, q link.NumberRange, limit int) ([]link.Invoice, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []link.Invoice
	for _, d := range r.invoices {
		if d.No >= q.From && d.No <= q.To && len(out) < limit {
			out = append(out, d.Invoice)
		}
	}
	return out, nil
}

// InvoiceDetails implements link.Handler.
func (r *Register) InvoiceDetails(_ context.Context, q link.NumberRange, limit int) ([]link.InvoiceDetail, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []link.InvoiceDetail
	for _, d := range r.invoices {
		if d.No >= q.From && d.No <= q.To && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

// InvoiceDetailsByTime implements link.Handler.
func (r *Register) InvoiceDetailsByTime(_ context.Context, q link.TimeRange, limit int) ([]link.InvoiceDetail, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []link.InvoiceDetail
	skip := q.Skip
	for _, d := range r.invoices {
		if d.Time.Before(q.From) || d.Time.After(q.To) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (r *Register) taxSlot(idx uint8) int {
	if idx >= 1 && idx <= 6 {
		return int(idx) - 1
	}
	return 0
}

// sums aggregates the invoices issued on days from..to (inclusive).
func (r *Register) sums(from, to time.Time) (nc, rc, vc int, normal, ret [6]uint32) {
	for _, d := range r.invoices {
		dd := day(d.Time)
		if dd.Before(from) || dd.After(to) {
			continue
		}
		switch d.Type {
		case link.TypeNormal:
			nc++
			for _, it := range d.Items {
				a, _ := it.Amount()
				normal[r.taxSlot(it.TaxIndex)] += a
			}
		case link.TypeReturn:
			rc++
			for _, it := range d.Items {
				a, _ := it.Amount()
				ret[r.taxSlot(it.TaxIndex)] += a
			}
		default:
			vc++
		}
	}
	return
}

func sign(parts ...[]byte) (out [link.SignatureLen]byte) {
	m := hmac.New(sha256.New, []byte("linktest signature profile (not a production key)"))
	for _, p := range parts {
		m.Write(p)
	}
	s := m.Sum(nil)
	for i := range out {
		out[i] = s[i%len(s)] ^ byte(i)
	}
	return out
}

// DailyData implements link.Handler: one record per day from the
// initialisation date to today, days without sales included.
func (r *Register) DailyData(_ context.Context, q link.DateRange, limit int) ([]link.DailyData, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	from, to := day(q.From), day(q.To)
	if from.Before(r.initDate) {
		from = r.initDate
	}
	if today := day(r.now()); to.After(today) {
		to = today
	}
	var out []link.DailyData
	skip := q.Skip
	for d := from; !d.After(to) && len(out) < limit; d = d.AddDate(0, 0, 1) {
		if skip > 0 {
			skip--
			continue
		}
		nc, rc, vc, normal, ret := r.sums(d, d)
		rec := link.DailyData{Date: d, NormalCount: uint16(nc), ReturnCount: uint16(rc), VoidCount: uint16(vc),
			TaxIndex: [6]uint8{1, 2, 3, 4, 5, 6}, Normal: normal, Return: ret}
		rec.Signature = sign([]byte(d.Format("20060102")), []byte{byte(nc), byte(rc), byte(vc)})
		out = append(out, rec)
	}
	return out, nil
}

// Declare implements link.Handler.
func (r *Register) Declare(_ context.Context, req link.DeclareRequest) (link.Declaration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Mode == link.DeclareRedo {
		if len(r.decls) == 0 {
			return link.Declaration{}, refuse(link.CmdDeclare, link.CodeNotFound)
		}
		return r.decls[len(r.decls)-1], nil
	}
	start := r.initDate
	if n := len(r.decls); n > 0 {
		start = r.decls[n-1].End.AddDate(0, 0, 1)
	}
	today := day(r.now())
	end := req.EndDate
	switch {
	case req.Mode == link.DeclareStop:
		end = today
	case req.Mode == link.DeclareMonth:
		end = time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, link.ChinaTime()).AddDate(0, 0, -1)
	case end.IsZero() || !day(end).Before(today):
		end = today.AddDate(0, 0, -1)
	}
	end = day(end)
	if end.Before(start) {
		return link.Declaration{}, refuse(link.CmdDeclare, link.CodeBadRequest)
	}
	nc, rc, vc, normal, ret := r.sums(start, end)
	d := link.Declaration{Start: start, End: end, NormalCount: uint32(nc), ReturnCount: uint16(rc), VoidCount: uint16(vc),
		TaxIndex: [6]uint8{1, 2, 3, 4, 5, 6}, Normal: normal, Return: ret}
	d.Signature = sign([]byte(start.Format("20060102")), []byte(end.Format("20060102")))
	copy(d.MAC[:], d.Signature[:4])
	r.decls = append(r.decls, d)
	r.cumNormal, r.cumReturn = 0, 0
	return d, nil
}

// Declarations implements link.Handler.
func (r *Register) Declarations(_ context.Context, q link.DateRange, limit int) ([]link.Declaration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []link.Declaration
	skip := q.Skip
	for _, d := range r.decls {
		if d.End.Before(day(q.From)) || d.End.After(day(q.To)) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

// RollUsage implements link.Handler.
func (r *Register) RollUsage(_ context.Context, q link.RollUsageQuery, limit int) ([]link.RollUsage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []link.RollUsage
	for i := int(q.Skip); i < len(r.rolls) && len(out) < limit; i++ {
		out = append(out, r.rolls[i])
	}
	return out, nil
}

// Issued returns a copy of every invoice issued so far, in order.
func (r *Register) Issued() []link.InvoiceDetail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]link.InvoiceDetail(nil), r.invoices...)
}

// IssuedFor returns how many invoices were issued for a request id.
func (r *Register) IssuedFor(id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byRequest[id]
}
