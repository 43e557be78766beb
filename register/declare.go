package register

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// DeclareMode is one of the four declaration modes (reference §4, [YB]).
type DeclareMode int

const (
	// DeclareNormal (正常申报) declares up to DeclareRequest.End, at most
	// yesterday (zero End: yesterday).
	DeclareNormal DeclareMode = iota
	// DeclareStop (停机申报) declares up to and including today; no
	// invoice can be issued today afterwards.
	DeclareStop
	// DeclareMonth (自然月申报) declares up to the end of last month.
	DeclareMonth
	// Redeclare (重新申报) writes the last declaration to the user card
	// again (DATA_COLLECT), without a new DECLARE_DUTY.
	Redeclare
)

// String returns the mode's name.
func (m DeclareMode) String() string {
	switch m {
	case DeclareNormal:
		return "normal"
	case DeclareStop:
		return "stop"
	case DeclareMonth:
		return "month"
	case Redeclare:
		return "redeclare"
	}
	return fmt.Sprintf("DeclareMode(%d)", int(m))
}

// DeclareRequest asks for a declaration (申报).
type DeclareRequest struct {
	Mode DeclareMode
	// End is the last day declared in DeclareNormal mode; zero means
	// yesterday.
	End fiscal.Date
}

// Declaration is a stored declaration: the 70-byte data, the fiscal card's
// DECLARE_DUTY response (card totals, status, MAC1, signature) and the date.
type Declaration = memory.Declaration

// Declare makes a declaration. The period starts at the initialisation date
// or the day after the previous declaration's end; its end is set by the
// mode and clipped to 开票截止日期 and to the day before the five-year lock.
// The daily close runs first (through the end); the declaration data are the
// sums of the signed daily records of the period. Then DECLARE_DUTY on the
// fiscal card, the declaration with its MAC and signature into fiscal
// memory, and DATA_COLLECT to the user card. A durable intent precedes
// DECLARE_DUTY: after a crash the declaration is completed (written to the
// user card), or recorded from fiscal EF04 if the card made it and its
// answer was lost (the 128-byte signature is then lost too and the event is
// logged), or it was not made at all.
func (d *Device) Declare(ctx context.Context, req DeclareRequest) (Declaration, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "declare"
	today, err := d.ready(ctx, op)
	if err != nil {
		return Declaration{}, err
	}
	return d.declare(ctx, op, today, req)
}

func (d *Device) declare(ctx context.Context, op string, today fiscal.Date, req DeclareRequest) (Declaration, error) {
	if req.Mode == Redeclare {
		return d.redeclare(ctx, op)
	}
	start := d.period
	var end fiscal.Date
	switch req.Mode {
	case DeclareNormal:
		end = today.AddDays(-1)
		if !req.End.IsZero() {
			if req.End.After(end) {
				return Declaration{}, newErr(op, ErrBadRequest, nil, "a normal declaration ends by yesterday (%v), not %v", end, req.End)
			}
			end = req.End
		}
	case DeclareStop:
		end = today
	case DeclareMonth:
		end = fiscal.Date{Year: today.Year, Month: today.Month, Day: 1}.AddDays(-1)
	default:
		return Declaration{}, newErr(op, ErrBadRequest, nil, "declaration mode %v", req.Mode)
	}
	if end.After(d.ctl.Deadline) {
		end = d.ctl.Deadline
	}
	if lock := d.lockDate().AddDays(-1); end.After(lock) {
		end = lock
	}
	if end.Before(start) {
		return Declaration{}, newErr(op, ErrNothingToDeclare, nil, "period would be %v..%v", start, end)
	}
	if err := d.mem.CheckCapacity(memory.KindDeclaration, 1); err != nil {
		return Declaration{}, memErr(op, err)
	}
	uc, err := d.userSession(ctx, op)
	if err != nil {
		return Declaration{}, err
	}
	if err := d.checkNoPending(ctx, op, uc); err != nil {
		return Declaration{}, err
	}
	if err := d.closeDays(ctx, end); err != nil {
		return Declaration{}, err
	}
	decl := fiscal.Declaration{Start: start, End: end, Indexes: d.ctl.Indexes}
	for _, dl := range d.mem.DailiesOf(d.appIdx, start, end) {
		r := dl.Record
		decl.NormalCount += int64(r.NormalCount)
		decl.ReturnCount += r.ReturnCount
		decl.VoidCount += r.VoidCount
		for i, x := range r.Indexes {
			if !addByIndex(&decl.Indexes, &decl.Normal, &decl.Return, x, r.Normal[i], r.Return[i]) {
				return Declaration{}, newErr(op, ErrBadRequest, nil, "more than %d tax indexes used in the period", fiscal.MaxTaxItems)
			}
		}
	}
	data, err := decl.MarshalBinary()
	if err != nil {
		return Declaration{}, newErr(op, ErrBadRequest, err, "")
	}
	id := d.newID()
	if err := d.verifyPIN(ctx, op, new(memory.Batch).BeginIntent(memory.Intent{ID: id, Op: opDeclare, Payload: data})); err != nil {
		return Declaration{}, err
	}
	resp, err := d.fc.DeclareDuty(ctx, decl)
	if err != nil {
		if isCardFormat(err) {
			// The card declared but its answer is unreadable: recovery
			// reads EF04.
			d.pending = true
			return Declaration{}, newErr(op, ErrFiscalCardRead, err, "DECLARE_DUTY response")
		}
		e := d.fiscalErr(op, err)
		if errors.Is(e, ErrNoFiscalCard) {
			d.pending = true // recovery reads EF04
			return Declaration{}, e
		}
		d.endIntent(ctx, id)
		return Declaration{}, e
	}
	rec := Declaration{Date: today, Data: decl, Response: resp}
	if err := d.commitDeclaration(ctx, op, rec); err != nil {
		return rec, err
	}
	if resp.Status != 0 {
		d.security(ctx, memory.SecTamper, fmt.Sprintf("declaration %v..%v: the fiscal card's totals (%s, %s) differ from the signed daily records (%s, %s)",
			start, end, resp.TotalValid, resp.TotalReturn, decl.Normal.Sum(), decl.Return.Sum()))
	}
	if err := d.collect(ctx, op, uc, rec); err != nil {
		d.pending = true // the intent stays open: recovery writes the user card
		return rec, err
	}
	d.endIntent(ctx, id)
	return rec, nil
}

// commitDeclaration stores a declaration and starts the next period.
func (d *Device) commitDeclaration(ctx context.Context, op string, rec Declaration) error {
	if err := d.mem.AddDeclaration(ctx, rec); err != nil {
		d.pending = true
		return memErr(op, err)
	}
	if rec.Data.End.After(d.lastDate) {
		d.lastDate = rec.Data.End
	}
	return d.loadPeriod(ctx)
}

// collect writes a declaration to the user card (DATA_COLLECT). A user card
// that already holds it (6901) counts as done.
func (d *Device) collect(ctx context.Context, op string, uc *card.UserCard, rec Declaration) error {
	dc := card.DataCollect{FiscalCard: d.app.FiscalCard, Declaration: rec.Data, Response: rec.Response}
	if err := uc.DataCollect(ctx, dc); err != nil {
		if errors.Is(err, card.ErrAlreadyCollected) {
			return nil
		}
		return d.userErr(op, err)
	}
	return nil
}

// checkNoPending refuses when the user card holds an unprocessed
// declaration of this fiscal card.
func (d *Device) checkNoPending(ctx context.Context, op string, uc *card.UserCard) error {
	recs, err := uc.ReadDeclarations(ctx)
	if err != nil {
		if isCardFormat(err) {
			return newErr(op, ErrIllegalUserCard, err, "unreadable declaration record")
		}
		return d.userErr(op, err)
	}
	for _, dr := range recs {
		if dr.Pending && dr.FiscalCard == d.app.FiscalCard {
			return newErr(op, ErrDeclarationPending, nil, "declaration %v..%v waits for the tax office", dr.Declaration.Start, dr.Declaration.End)
		}
	}
	return nil
}

// redeclare writes the last declaration to the user card again.
func (d *Device) redeclare(ctx context.Context, op string) (Declaration, error) {
	last, ok := d.mem.LastDeclarationOf(d.appIdx)
	if !ok {
		return Declaration{}, newErr(op, ErrNothingToDeclare, nil, "no declaration was made yet")
	}
	uc, err := d.userSession(ctx, op)
	if err != nil {
		return Declaration{}, err
	}
	return last, d.collect(ctx, op, uc, last)
}

// UpdateControls performs the control update (税控更新): the new deadline and
// limits the tax office wrote to the user card's EF01 go to the fiscal card
// through UPDATE_CONTROLS (the card checks their MAC and decrypts them). It
// is refused while the user card still holds an unprocessed declaration
// (ErrDeclarationPending). The controls in force are then the fiscal card's
// EF01; the update is written to the security log.
func (d *Device) UpdateControls(ctx context.Context) (fiscal.ControlData, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "update controls"
	if _, err := d.ready(ctx, op); err != nil {
		return d.ctl, err
	}
	uc, err := d.userSession(ctx, op)
	if err != nil {
		return d.ctl, err
	}
	if err := d.checkNoPending(ctx, op, uc); err != nil {
		return d.ctl, err
	}
	data, ok, err := controlRecord(ctx, uc, d.app.FiscalCard)
	if err != nil {
		return d.ctl, d.userErr(op, err)
	}
	if !ok {
		return d.ctl, newErr(op, ErrIllegalUserCard, nil, "user card holds no control data for fiscal card %v", d.app.FiscalCard)
	}
	if err := d.mem.CheckCapacity(memory.KindControlUpdate, 1); err != nil {
		return d.ctl, memErr(op, err)
	}
	id := d.newID()
	if err := d.verifyPIN(ctx, op, new(memory.Batch).BeginIntent(memory.Intent{ID: id, Op: opUpdate})); err != nil {
		return d.ctl, err
	}
	if err := d.fc.UpdateControls(ctx, data); err != nil {
		e := d.fiscalErr(op, err)
		if errors.Is(e, ErrNoFiscalCard) {
			d.pending = true
			return d.ctl, e
		}
		d.endIntent(ctx, id)
		return d.ctl, e
	}
	if err := d.finishUpdate(ctx, op, id, true); err != nil {
		return d.ctl, err
	}
	return d.ctl, nil
}

// finishUpdate reads the new controls back from the fiscal card and ends
// the update intent together with a control-update record holding them.
// With applied unset (recovery: the card's answer was lost) the record is
// written only if the card's controls differ from those before.
func (d *Device) finishUpdate(ctx context.Context, op string, id uint64, applied bool) error {
	prev := d.ctl
	if err := d.refreshControls(ctx); err != nil {
		return err
	}
	b := new(memory.Batch)
	if applied || d.ctl != prev {
		b.AddControlUpdate(memory.ControlUpdate{Time: d.now(), Control: d.ctl})
	}
	b.EndIntent(id)
	if err := d.mem.Commit(ctx, b); err != nil {
		return memErr(op, err)
	}
	return nil
}

// security writes a security-log event, logging a failure.
func (d *Device) security(ctx context.Context, typ memory.SecurityType, text string) {
	ev := memory.SecurityEvent{Time: d.now().Truncate(time.Second), Type: typ, Text: truncate(text, memory.MaxSecText)}
	if err := d.mem.LogSecurity(ctx, ev); err != nil {
		d.log.Warn("register: security log", "err", err)
	}
}

// Declarations returns the stored declarations, oldest first.
func (d *Device) Declarations() []Declaration {
	return d.mem.Declarations(fiscal.Date{}, fiscal.Date{})
}
