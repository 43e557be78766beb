package register

import (
	"context"
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// Issue issues a normal invoice (正常发票).
//
// Pre-checks run in the reference's order, each with its own error:
// initialised and not locked by a PIN failure (ErrNotInitialised,
// ErrPINOutOfStep), today ≤ 开票截止日期 (ErrDeadlinePassed), before the
// five-year lock (ErrLocked), invoices remain (ErrNoInvoices), the fiscal
// card answers (ErrNoFiscalCard), the period's cumulative total stays
// within 开票累计限额 (ErrCumulativeLimit). The single-invoice limit is the
// card's (SW 9401 → ErrSingleLimit).
//
// On the cards an invoice costs VERIFY_FISCAL_PIN and ISSUE_INVOICE only; in
// fiscal memory two batches (two syncs): {new PIN, intent} and {invoice,
// request id, intent done}.
//
// Exactly once: a request with a RequestID that fiscal memory already
// holds (after any interrupted operation is recovered) is not issued
// again; the invoice stored for it is returned, whatever the request's
// other fields and the register's state now (it may be closed for new
// invoices). An id stored for an invoice of another type is ErrBadRequest.
// The intent holds the id, so an invoice recovered after a power cut
// has it too. Return and Void do the same.
func (d *Device) Issue(ctx context.Context, req InvoiceRequest) (Invoice, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "issue"
	if vs, done, err := d.replay(ctx, op, req.RequestID, fiscal.InvoiceNormal); done {
		return first(vs), err
	}
	today, err := d.precheck(ctx, op)
	if err != nil {
		return Invoice{}, err
	}
	v, err := d.buildNormal(op, req)
	if err != nil {
		return Invoice{}, err
	}
	if d.perNormal+v.Detail.Total > d.ctl.TotalLimit {
		return Invoice{}, newErr(op, ErrCumulativeLimit, nil, "period total %s + %s exceeds %s", d.perNormal, v.Detail.Total, d.ctl.TotalLimit)
	}
	v.RequestID = req.RequestID
	return d.issueOne(ctx, op, today, v)
}

// Return issues a return invoice (退票) for a normal invoice of the current
// declaration period that was not returned before. It consumes the next
// invoice number, with the original's amounts, and counts against
// 退票累计限额 (ErrReturnLimit).
func (d *Device) Return(ctx context.Context, req ReturnRequest) (Invoice, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "return"
	if vs, done, err := d.replay(ctx, op, req.RequestID, fiscal.InvoiceReturn); done {
		return first(vs), err
	}
	today, err := d.precheck(ctx, op)
	if err != nil {
		return Invoice{}, err
	}
	code := req.Code
	if code == (fiscal.InvoiceCode{}) {
		code = d.roll.Code
	}
	orig, err := d.mem.Invoice(ctx, code, req.Number)
	if err != nil {
		if errors.Is(err, memory.ErrNotFound) {
			return Invoice{}, newErr(op, ErrNotFound, err, "original invoice %s/%d", code, req.Number)
		}
		return Invoice{}, memErr(op, err)
	}
	app, err := d.mem.InvoiceApplication(code, req.Number)
	if err != nil {
		return Invoice{}, memErr(op, err)
	}
	switch {
	case app != d.appIdx:
		return Invoice{}, newErr(op, ErrNotReturnable, nil, "invoice %d was issued by an earlier taxpayer of this machine", req.Number)
	case orig.Detail.Type != fiscal.InvoiceNormal:
		return Invoice{}, newErr(op, ErrNotReturnable, nil, "invoice %d is a %v invoice", req.Number, orig.Detail.Type)
	case orig.Detail.Date.Before(d.period):
		return Invoice{}, newErr(op, ErrNotReturnable, nil, "invoice %d (%v) is before the declaration period starting %v", req.Number, orig.Detail.Date, d.period)
	case d.returned[invKey{code, req.Number}]:
		return Invoice{}, newErr(op, ErrNotReturnable, nil, "invoice %d was already returned", req.Number)
	}
	if d.perReturn+orig.Detail.Total > d.ctl.ReturnLimit {
		return Invoice{}, newErr(op, ErrReturnLimit, nil, "period returns %s + %s exceed %s", d.perReturn, orig.Detail.Total, d.ctl.ReturnLimit)
	}
	v := Invoice{
		Detail:  fiscal.InvoiceDetail{Type: fiscal.InvoiceReturn, Total: orig.Detail.Total, Original: orig.Detail.Number},
		Indexes: orig.Indexes, Amounts: orig.Amounts, Lines: orig.Lines, Payer: orig.Payer, Drawer: req.Drawer,
		RequestID: req.RequestID,
	}
	if code != d.roll.Code {
		v.OriginalCode = code // the GB detail names only the original's number
	}
	return d.issueOne(ctx, op, today, v) // checks the drawer's text before any card command
}

// Void issues void invoices (废票) with no amount on the blank invoices
// starting at the current number: one, Count, or the rest of the roll.
// It returns the void invoices issued; on an error the ones issued before
// it are returned with it.
func (d *Device) Void(ctx context.Context, req VoidRequest) ([]Invoice, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "void"
	if vs, done, err := d.replay(ctx, op, req.RequestID, fiscal.InvoiceVoid); done {
		return vs, err
	}
	today, err := d.precheck(ctx, op)
	if err != nil {
		return nil, err
	}
	n := req.Count
	left := int(d.roll.End-d.next) + 1
	switch {
	case req.RestOfRoll:
		n = left
	case n == 0:
		n = 1
	case n < 0:
		return nil, newErr(op, ErrBadRequest, nil, "count %d", n)
	case n > left:
		return nil, newErr(op, ErrNoInvoices, nil, "%d voids asked, %d invoices left in the roll", n, left)
	}
	var out []Invoice
	for i := 0; i < n; i++ {
		if i > 0 {
			if today, err = d.precheck(ctx, op); err != nil {
				return out, err
			}
		}
		v := Invoice{Detail: fiscal.InvoiceDetail{Type: fiscal.InvoiceVoid}, Indexes: d.ctl.Indexes, Drawer: req.Drawer, RequestID: req.RequestID}
		inv, err := d.issueOne(ctx, op, today, v)
		if err != nil {
			return out, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// replay answers a request whose id fiscal memory holds: done reports
// that it did (with the stored invoices, or an error). An interrupted
// operation is recovered first: it may be this request's invoice.
func (d *Device) replay(ctx context.Context, op string, id uint64, typ fiscal.InvoiceType) (vs []Invoice, done bool, err error) {
	if id == 0 {
		return nil, false, nil
	}
	if d.closed {
		return nil, true, newErr(op, ErrClosed, nil, "")
	}
	if d.pending {
		if err := d.recover(ctx); err != nil {
			return nil, true, err
		}
	}
	vs, err = d.mem.InvoicesByRequestID(ctx, id)
	switch {
	case errors.Is(err, memory.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, true, memErr(op, err)
	case vs[0].Detail.Type != typ:
		return nil, true, newErr(op, ErrBadRequest, nil, "request id %d was used for %v invoice %s/%d", id, vs[0].Detail.Type, vs[0].Code, vs[0].Detail.Number)
	}
	d.log.Info("register: request answered from fiscal memory", "op", op, "request_id", id, "invoices", len(vs))
	return vs, true, nil
}

func first(vs []Invoice) Invoice {
	if len(vs) == 0 {
		return Invoice{}
	}
	return vs[0]
}

// precheck runs the pre-checks shared by issue, return and void, in the
// reference's order, up to "invoices remain".
func (d *Device) precheck(ctx context.Context, op string) (fiscal.Date, error) {
	today, err := d.ready(ctx, op)
	if err != nil {
		return today, err
	}
	if today.After(d.ctl.Deadline) {
		return today, newErr(op, ErrDeadlinePassed, nil, "deadline %v, today %v", d.ctl.Deadline, today)
	}
	if !today.Before(d.lockDate()) {
		return today, newErr(op, ErrLocked, nil, "locked since %v", d.lockDate())
	}
	if !d.hasRoll || d.next == 0 {
		return today, newErr(op, ErrNoInvoices, nil, "load an invoice roll")
	}
	if today.Before(d.period) {
		return today, newErr(op, ErrStopped, nil, "declared through %v", d.period.AddDays(-1))
	}
	if err := d.ensureSelected(ctx); err != nil {
		return today, err
	}
	if err := d.mem.CheckCapacity(memory.KindInvoice, 1); err != nil {
		return today, memErr(op, err)
	}
	return today, nil
}

// buildNormal validates a request and builds the invoice without number,
// date and code.
func (d *Device) buildNormal(op string, req InvoiceRequest) (Invoice, error) {
	if len(req.Lines) == 0 {
		return Invoice{}, newErr(op, ErrBadRequest, nil, "an invoice needs at least one line")
	}
	if len(req.Lines) > fiscal.MaxInvoiceLines {
		return Invoice{}, newErr(op, ErrTooManyLines, nil, "%d lines, at most %d", len(req.Lines), fiscal.MaxInvoiceLines)
	}
	// The text fields are checked when issueOne encodes the invoice for
	// its intent, before any card command.
	ctl := d.ctl.Indexes
	v := Invoice{Detail: fiscal.InvoiceDetail{Type: fiscal.InvoiceNormal}, Payer: req.Payer, Drawer: req.Drawer}
	v.Lines = make([]Line, 0, len(req.Lines))
	for i, l := range req.Lines {
		if l.UnitPrice < 0 || l.Amount < 0 {
			return Invoice{}, newErr(op, ErrBadRequest, nil, "line %d: negative amount", i+1)
		}
		if l.Amount == 0 {
			// Quantity (u32) × UnitPrice can exceed int64: such a line
			// exceeds any card amount and must not wrap into a small one.
			hi, lo := bits.Mul64(uint64(l.Quantity), uint64(l.UnitPrice))
			if hi != 0 || lo > uint64(fiscal.MaxCardAmount)*1000 {
				return Invoice{}, newErr(op, ErrSingleLimit, nil, "line %d: quantity %d × unit price %s exceeds %s", i+1, l.Quantity, l.UnitPrice, fiscal.MaxCardAmount)
			}
			l.Amount = fiscal.Amount((lo + 500) / 1000)
		}
		if l.Amount <= 0 {
			return Invoice{}, newErr(op, ErrBadRequest, nil, "line %d: amount is zero", i+1)
		}
		if ctl.Slot(l.TaxIndex) < 0 {
			return Invoice{}, newErr(op, ErrBadRequest, nil, "line %d: tax index %d is not one of the machine's", i+1, l.TaxIndex)
		}
		slot := v.Indexes.Slot(l.TaxIndex)
		if slot < 0 {
			slot = ctl.Slot(l.TaxIndex)
			v.Indexes[slot] = l.TaxIndex
		}
		v.Amounts[slot] += l.Amount
		v.Lines = append(v.Lines, l)
	}
	v.Detail.Total = v.Amounts.Sum()
	if _, err := v.Detail.Total.Uint32(); err != nil {
		return Invoice{}, newErr(op, ErrSingleLimit, err, "")
	}
	return v, nil
}

// issueOne numbers, dates and fiscalises one invoice.
func (d *Device) issueOne(ctx context.Context, op string, today fiscal.Date, v Invoice) (Invoice, error) {
	now := d.now()
	v.Detail.Date = today
	v.Detail.Number = d.next
	v.Code = d.roll.Code
	v.Time = memory.ClockOf(now)
	block := fiscal.IssueInvoiceBlock{
		Date: today, Type: v.Detail.Type, Number: v.Detail.Number,
		Indexes: v.Indexes, Amounts: v.Amounts, Total: v.Detail.Total,
	}
	// Checked before the PIN is spent; the card client checks it again.
	if err := block.Validate(); err != nil {
		return Invoice{}, newErr(op, ErrBadRequest, err, "")
	}
	// The intent holds the invoice as fiscal memory will store it (without
	// its 税控码); encoding it checks every field, text included.
	payload, err := v.MarshalBinary()
	if err != nil {
		return Invoice{}, newErr(op, ErrBadRequest, err, "")
	}
	in := memory.Intent{ID: d.newID(), Op: opIssue, Payload: payload}
	if v.RequestID != 0 {
		in.Op, in.Payload = opIssueReq, binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(payload)), v.RequestID)
		in.Payload = append(in.Payload, payload...)
	}
	id := in.ID
	if err := d.verifyPIN(ctx, op, new(memory.Batch).BeginIntent(in)); err != nil {
		return Invoice{}, err
	}
	code, err := d.fc.IssueInvoice(ctx, block)
	if err != nil {
		e := d.fiscalErr(op, err)
		if errors.Is(e, ErrNoFiscalCard) {
			// The card may or may not have issued it: recovery decides
			// from EF03 before anything else happens.
			d.pending = true
			return Invoice{}, e
		}
		d.endIntent(ctx, id)
		return Invoice{}, e
	}
	v.Detail.FiscalCode = code
	if err := d.commitInvoice(ctx, op, id, v); err != nil {
		return Invoice{}, err
	}
	return v, nil
}

// commitInvoice stores an invoice the card has coded, ends its intent and,
// for the last invoice of a roll, adds the roll's usage summary.
func (d *Device) commitInvoice(ctx context.Context, op string, id uint64, v Invoice) error {
	b := new(memory.Batch).AddInvoice(v).EndIntent(id)
	last := d.hasRoll && v.Code == d.roll.Code && v.Detail.Number == d.roll.End
	if last {
		u, err := d.rollUsage(ctx, d.roll, v)
		if err != nil {
			return err
		}
		b.AddRollUsage(u)
	}
	if err := d.mem.Commit(ctx, b); err != nil {
		d.pending = true // the invoice is on the card: recovery stores it
		return memErr(op, err)
	}
	if d.hasRoll && v.Code == d.roll.Code && v.Detail.Number >= d.next {
		d.next = v.Detail.Number + 1
		if d.next > d.roll.End {
			d.next = 0
		}
	}
	if !v.Detail.Date.Before(d.period) {
		d.account(v)
	}
	if v.Detail.Date.After(d.lastDate) {
		d.lastDate = v.Detail.Date
	}
	return nil
}

// rollUsage computes the summary of roll from the stored invoices plus
// the last one, extra.
func (d *Device) rollUsage(ctx context.Context, roll fiscal.Roll, extra Invoice) (memory.RollUsage, error) {
	u := memory.RollUsage{Roll: roll}
	from := fiscal.Date{}
	if rl, ok := d.mem.LastRollLoad(); ok && rl.Roll == roll {
		from = fiscal.DateOf(rl.Loaded)
	}
	err := d.mem.EachInvoice(ctx, from, fiscal.Date{}, func(v Invoice) error { u.Add(v); return nil })
	if err != nil {
		return u, memErr("roll usage", err)
	}
	u.Add(extra)
	return u, nil
}
