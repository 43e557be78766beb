package register

import (
	"context"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// ChangeOwnerRequest names the new taxpayer's cards for a change of owner.
type ChangeOwnerRequest struct {
	// Fiscal and User are the new taxpayer's fiscal and user cards.
	Fiscal, User card.Transmitter
	// UserPIN is the new user card's PIN; nil: none is presented.
	UserPIN []byte
}

// ChangeOwner performs the change of owner (停机过户): a final stop
// declaration (停机申报, through today) with the old taxpayer's cards, then a
// clean initialisation with the new taxpayer's cards: the same checks and
// registration exchange as Initialise, the new application record written
// with memory's ChangeOwner (the old one stays in the application history),
// a new fiscal PIN. The summary of the partly used roll, the old taxpayer's
// waiting rolls (taken off the list as dropped, and logged) and the start
// of the registration are committed in one batch, after the new cards have
// passed the checks. Every old record stays in fiscal memory, readable and
// verifiable. The new taxpayer issues the same day (after distributing and
// loading a roll of its own): fiscal memory keeps each application's
// records apart, so the old taxpayer's stop declaration and daily record
// cover its part of the day, the new fiscal card signs the new taxpayer's
// part, and the new period, returns and declarations see only the new
// taxpayer's invoices.
//
// A change of owner interrupted after that batch (power cut, card pulled)
// is completed by calling ChangeOwner again with the same new cards; until
// then fiscal operations are refused with ErrRecoveryPending. If the new
// fiscal card registered but its first PIN was lost, ErrPINOutOfStep.
func (d *Device) ChangeOwner(ctx context.Context, req ChangeOwnerRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "change owner"
	if req.Fiscal == nil || req.User == nil {
		return newErr(op, ErrBadRequest, nil, "the new taxpayer's fiscal and user cards are needed")
	}
	if d.closed {
		return newErr(op, ErrClosed, nil, "")
	}
	if in, ok := d.ownerIntent(); ok && d.hasApp {
		return d.resumeOwner(ctx, op, req, in)
	}
	today, err := d.ready(ctx, op)
	if err != nil {
		return err
	}
	if !today.Before(d.period) {
		// Today is not declared yet: the final stop declaration.
		if _, err := d.declare(ctx, op, today, DeclareRequest{Mode: DeclareStop}); err != nil && !errors.Is(err, ErrNothingToDeclare) {
			return err
		}
	}
	if d.pending {
		return newErr(op, ErrRecoveryPending, nil, "the stop declaration is not complete")
	}
	b := new(memory.Batch)
	if d.hasRoll && d.next != 0 && d.next != d.roll.Start {
		u, err := d.rollUsage(ctx, d.roll, Invoice{})
		if err != nil {
			return err
		}
		b.AddRollUsage(u)
	}
	text := fmt.Sprintf("change of owner: taxpayer %s (%s) stops", d.app.TaxpayerName, d.app.TaxID)
	now := d.now()
	for _, w := range d.mem.WaitingRolls() {
		q := w.Roll.Roll
		text += fmt.Sprintf("; waiting roll %v %d-%d dropped", q.Code, q.Start, q.End)
		b.TakeRoll(memory.RollTaken{Roll: q, Time: now, Reason: memory.RollDropped})
	}
	if d.hasRoll && d.next != 0 {
		text += fmt.Sprintf("; %d invoices of roll %v left unused", d.roll.End-d.next+1, d.roll.Code)
	}
	b.LogSecurity(memory.SecurityEvent{Time: now, Type: memory.SecOther, Text: truncate(text, memory.MaxSecText)})
	oldCard := d.app.FiscalCard
	restore := d.useCards(req)
	err = d.registerCards(ctx, op, today, true, b)
	if _, started := d.ownerIntent(); err != nil && !started && d.app.FiscalCard == oldCard {
		restore() // nothing was written: the old cards stay in use
	}
	return err
}

// useCards switches to the new taxpayer's cards and returns a function that
// switches back.
func (d *Device) useCards(req ChangeOwnerRequest) (restore func()) {
	fc, uc, upin, sel := d.fc, d.uc, d.upin, d.selected
	d.fc, d.uc = d.newFiscalCard(req.Fiscal), d.newUserCard(req.User)
	d.upin, d.selected = req.UserPIN, false
	return func() { d.fc, d.uc, d.upin, d.selected = fc, uc, upin, sel }
}

// ownerIntent returns the open init intent of an interrupted change of
// owner.
func (d *Device) ownerIntent() (memory.Intent, bool) {
	for _, in := range d.mem.OpenIntents() {
		if in.Op != opInit {
			continue
		}
		if phase, _, _ := parseInitPayload(in.Payload); phase == phaseOwner || phase == phaseOwnerDone {
			return in, true
		}
	}
	return memory.Intent{}, false
}

// resumeOwner completes an interrupted change of owner with the new cards:
// registration again if the new fiscal card is not registered, the rest of
// the initialisation if its first PIN is stored.
func (d *Device) resumeOwner(ctx context.Context, op string, req ChangeOwnerRequest, in memory.Intent) error {
	phase, no, hasNo := parseInitPayload(in.Payload)
	restore := d.useCards(req)
	today, err := d.today()
	if err != nil {
		restore()
		return err
	}
	ef02, items, uc, err := d.initCheck(ctx, op, today, false)
	if err == nil && hasNo && ef02.CardNumber != no {
		err = newErr(op, ErrIllegalFiscalCard, nil, "the change of owner was started with fiscal card %v, this is %v", no, ef02.CardNumber)
	}
	if err != nil {
		restore()
		return err
	}
	d.hasRoll, d.next = false, 0
	switch {
	case phase == phaseOwnerDone:
		if err := d.finishInit(ctx, op, in.ID, today, ef02, items, uc, true); err != nil {
			return err
		}
		d.pending = len(d.recoverable()) > 0
		d.powerLoss(ctx, "interrupted change of owner completed")
		return nil
	case ef02.Registered:
		d.pinBad = newErr(op, ErrPINOutOfStep, nil, "change of owner was interrupted after the new fiscal card registered: its first PIN is lost")
		return d.pinBad
	}
	return d.registerExchange(ctx, op, in.ID, today, ef02, items, uc, true)
}
