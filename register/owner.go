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
// declaration (停机申报, through today) with the old taxpayer's cards, the
// summary of the partly used roll, the waiting rolls of the old taxpayer
// dropped (logged), then a clean initialisation with the new taxpayer's
// cards: the same checks and registration exchange as Initialise, the new
// application record written with memory's ChangeOwner (the old one stays
// in the application history), a new fiscal PIN. Every old record stays in
// fiscal memory, readable and verifiable. The new taxpayer issues from the
// next day: the stop declaration covers the day of the change. A new roll
// must be distributed and loaded.
func (d *Device) ChangeOwner(ctx context.Context, req ChangeOwnerRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "change owner"
	if req.Fiscal == nil || req.User == nil {
		return newErr(op, ErrBadRequest, nil, "the new taxpayer's fiscal and user cards are needed")
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
	for _, q := range d.queue {
		text += fmt.Sprintf("; waiting roll %v %d-%d dropped", q.Code, q.Start, q.End)
		b.TakeRoll(memory.RollTaken{Roll: q.Roll, Time: now, Reason: memory.RollDropped})
	}
	if d.hasRoll && d.next != 0 {
		text += fmt.Sprintf("; %d invoices of roll %v left unused", d.roll.End-d.next+1, d.roll.Code)
	}
	b.LogSecurity(memory.SecurityEvent{Time: now, Type: memory.SecOther, Text: truncate(text, memory.MaxSecText)})
	if err := d.mem.Commit(ctx, b); err != nil {
		return memErr(op, err)
	}
	d.queue = nil
	d.hasRoll, d.next = false, 0
	d.fc = d.newFiscalCard(req.Fiscal)
	d.uc = d.newUserCard(req.User)
	d.upin, d.selected = req.UserPIN, false
	return d.registerCards(ctx, op, today, true)
}
