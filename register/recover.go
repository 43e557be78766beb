package register

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// recoverable returns the open intents that are interrupted operations
// (every open intent but the waiting-roll list).
func (d *Device) recoverable() []memory.Intent {
	var out []memory.Intent
	for _, in := range d.mem.OpenIntents() {
		if in.Op != opQueue {
			out = append(out, in)
		}
	}
	return out
}

// recover completes or rolls forward every interrupted operation, oldest
// first, using the cards' own state:
//
//   - issue: fiscal EF03 holds the number and 税控码 of the last invoice the
//     card coded; if it is the intent's invoice (its number, not stored yet,
//     and a 税控码 that is not the last stored invoice's), the invoice is
//     stored with that code, otherwise the number was not used and the
//     intent ends;
//   - load: fiscal EF05 holds the loaded roll; if it is the intent's the
//     load is recorded, otherwise the load is done again;
//   - distribute: user EF07 holds the last roll handed out; if it is
//     neither waiting nor loaded it joins the waiting list (needs the user
//     card; without it the intent waits and fiscal operations go on);
//   - daily: the intent ends and the close runs again from the last
//     stored day (signing a daily record twice is harmless);
//   - init: if the fiscal card is registered, its first PIN was lost
//     (reported, never guessed); otherwise the intent just ends.
//
// Each recovered operation is logged in the security log as a power loss.
func (d *Device) recover(ctx context.Context) error {
	d.pending = false
	for _, in := range d.recoverable() {
		if err := d.recoverOne(ctx, in); err != nil {
			d.pending = true
			return err
		}
	}
	return nil
}

func (d *Device) powerLoss(ctx context.Context, text string) {
	ev := memory.SecurityEvent{Time: d.now(), Type: memory.SecPowerLoss, Text: text}
	if err := d.mem.LogSecurity(ctx, ev); err != nil {
		d.log.Warn("register: security log", "err", err)
	}
	d.log.Info("register: recovered interrupted operation", "what", text)
}

func (d *Device) recoverOne(ctx context.Context, in memory.Intent) error {
	const op = "recover"
	switch in.Op {
	case opIssue, opIssueReq:
		var v Invoice
		if err := decodeIssueIntent(in, &v); err != nil {
			return newErr(op, ErrMemory, err, "intent %d payload", in.ID)
		}
		if err := d.ensureSelected(ctx); err != nil {
			return err
		}
		ef03, err := d.fc.ReadDayAccumulation(ctx)
		if err != nil {
			return d.fiscalErr(op, err)
		}
		coded := ef03.PrevInvoice == v.Detail.Number && !d.stored(ctx, v.Code, v.Detail.Number)
		if coded {
			// EF03 knows numbers only, and a roll of another invoice code
			// may start at the number the previous roll ended with: a
			// 税控码 already stored is that earlier invoice's.
			last, err := d.mem.LastInvoice(ctx)
			switch {
			case err == nil:
				coded = last.Detail.FiscalCode != ef03.PrevFiscalCode
			case !errors.Is(err, memory.ErrNotFound):
				return memErr(op, err)
			}
		}
		if coded {
			v.Detail.FiscalCode = ef03.PrevFiscalCode
			if err := d.commitInvoice(ctx, op, in.ID, v); err != nil {
				return err
			}
			d.powerLoss(ctx, fmt.Sprintf("invoice %s/%d was coded by the fiscal card; stored on recovery", v.Code, v.Detail.Number))
			return nil
		}
		if err := d.mem.EndIntent(ctx, in.ID); err != nil {
			return memErr(op, err)
		}
		d.powerLoss(ctx, fmt.Sprintf("invoice %s/%d was not coded by the fiscal card; number stays unused", v.Code, v.Detail.Number))
		return nil
	case opLoad:
		var r fiscal.SignedRoll
		if err := r.UnmarshalBinary(in.Payload); err != nil {
			return newErr(op, ErrMemory, err, "intent %d payload", in.ID)
		}
		if err := d.ensureSelected(ctx); err != nil {
			return err
		}
		ef05, err := d.fc.ReadLoadedRoll(ctx)
		if err != nil {
			return d.fiscalErr(op, err)
		}
		if ef05.Loaded && ef05.Roll == r.Roll {
			if err := d.commitLoad(ctx, op, in.ID, r); err != nil {
				return err
			}
			d.powerLoss(ctx, fmt.Sprintf("roll %s %d-%d was loaded; recorded on recovery", r.Code, r.Start, r.End))
			return nil
		}
		if err := d.mem.EndIntent(ctx, in.ID); err != nil {
			return memErr(op, err)
		}
		d.powerLoss(ctx, fmt.Sprintf("roll %s %d-%d was not loaded; loading it again", r.Code, r.Start, r.End))
		if d.hasRoll && d.next != 0 {
			return nil // a roll with invoices is loaded: nothing to complete
		}
		return d.loadRoll(ctx, op, r)
	case opDistribute:
		if d.uc == nil {
			d.pending = true
			return nil // waits for the user card; fiscal operations go on
		}
		uc := d.uc
		if err := uc.Select(ctx); err != nil {
			return d.userErr(op, err)
		}
		p, err := uc.ReadPendingRoll(ctx)
		if err != nil {
			return d.userErr(op, err)
		}
		r := p.Roll
		if p.Pending && !d.knownRoll(r.Roll) {
			if len(d.mem.WaitingRolls()) >= MaxWaitingRolls {
				return newErr(op, ErrRollStoreFull, nil, "")
			}
			if err := d.queueRoll(ctx, in.ID, r); err != nil {
				return err
			}
			d.powerLoss(ctx, fmt.Sprintf("roll %s %d-%d was distributed; recorded on recovery", r.Code, r.Start, r.End))
			return nil
		}
		if err := d.mem.EndIntent(ctx, in.ID); err != nil {
			return memErr(op, err)
		}
		d.powerLoss(ctx, "interrupted distribution: no roll was handed out")
		return nil
	case opDeclare:
		var decl fiscal.Declaration
		if err := decl.UnmarshalBinary(in.Payload); err != nil {
			return newErr(op, ErrMemory, err, "intent %d payload", in.ID)
		}
		last, ok := d.mem.LastDeclaration()
		if !ok || last.Data != decl {
			if err := d.ensureSelected(ctx); err != nil {
				return err
			}
			ef04, err := d.fc.ReadLastDeclaration(ctx)
			if err != nil {
				return d.fiscalErr(op, err)
			}
			status, mac := ef04.Status, ef04.MAC1
			if ef04.Declaration != decl {
				if err := d.mem.EndIntent(ctx, in.ID); err != nil {
					return memErr(op, err)
				}
				d.powerLoss(ctx, fmt.Sprintf("declaration %v..%v was not made", decl.Start, decl.End))
				return nil
			}
			// The card declared; its answer (with the signature) was lost.
			resp := fiscal.DeclareDutyResponse{Status: status, MAC1: mac}
			if status == 0 {
				resp.TotalValid, resp.TotalReturn = decl.Normal.Sum(), decl.Return.Sum()
			}
			rec := Declaration{Date: fiscal.DateOf(d.now()), Data: decl, Response: resp}
			if err := d.commitDeclaration(ctx, op, rec); err != nil {
				return err
			}
			if err := d.mem.EndIntent(ctx, in.ID); err != nil {
				return memErr(op, err)
			}
			d.powerLoss(ctx, fmt.Sprintf("declaration %v..%v was made by the fiscal card but its answer was lost: recorded from EF04 without the 128-byte signature; it cannot be written to the user card", decl.Start, decl.End))
			return nil
		}
		// In fiscal memory: write it to the user card.
		if d.uc == nil {
			d.pending = true
			return nil
		}
		uc, err := d.userSession(ctx, op)
		if err != nil {
			return err
		}
		if err := d.collect(ctx, op, uc, last); err != nil {
			return err
		}
		if err := d.mem.EndIntent(ctx, in.ID); err != nil {
			return memErr(op, err)
		}
		d.powerLoss(ctx, fmt.Sprintf("declaration %v..%v written to the user card on recovery", decl.Start, decl.End))
		return nil
	case opUpdate:
		if err := d.ensureSelected(ctx); err != nil {
			return err
		}
		if err := d.finishUpdate(ctx, op, in.ID, false); err != nil {
			return err
		}
		d.powerLoss(ctx, "interrupted control update: controls read back from the fiscal card")
		return nil
	case opDaily:
		if err := d.mem.EndIntent(ctx, in.ID); err != nil {
			return memErr(op, err)
		}
		d.powerLoss(ctx, "interrupted daily close; closing again")
		return nil
	case opInit:
		phase, no, hasNo := parseInitPayload(in.Payload)
		owner := phase == phaseOwner || phase == phaseOwnerDone
		if err := d.ensureSelected(ctx); err != nil {
			return err
		}
		ef02, err := d.fc.ReadAppInfo(ctx)
		if err != nil {
			return d.fiscalErr(op, err)
		}
		if owner && hasNo && ef02.CardNumber != no {
			// The old taxpayer's card (or another): the change of owner
			// waits for ChangeOwner with the new cards.
			d.pending = true
			return nil
		}
		if phase == phaseInit || phase == phaseOwner {
			if ef02.Registered {
				if !owner {
					if err := d.mem.EndIntent(ctx, in.ID); err != nil {
						return memErr(op, err)
					}
				}
				d.powerLoss(ctx, "initialisation interrupted after TERMINAL_REGISTER: the first fiscal PIN is lost; the tax office must reset the fiscal card")
				d.pinBad = newErr(op, ErrPINOutOfStep, nil, "initialisation was interrupted after the card registered")
				return d.pinBad
			}
			if owner && hasNo {
				// Registration is run again by ChangeOwner.
				d.pending = true
				return nil
			}
			if err := d.mem.EndIntent(ctx, in.ID); err != nil {
				return memErr(op, err)
			}
			d.powerLoss(ctx, "interrupted initialisation: the fiscal card is not registered")
			return nil
		}
		// Registered with its PIN stored: finish the initialisation.
		if d.uc == nil {
			d.pending = true
			return nil
		}
		today, err := d.today()
		if err != nil {
			return err
		}
		ef02, items, uc, err := d.initCheck(ctx, op, today, false)
		if err != nil {
			return err
		}
		if err := d.finishInit(ctx, op, in.ID, today, ef02, items, uc, owner); err != nil {
			return err
		}
		d.powerLoss(ctx, "interrupted initialisation completed")
		return nil
	}
	return newErr(op, ErrMemory, nil, "unknown intent %q", in.Op)
}

// decodeIssueIntent decodes the invoice of an issue intent, with its
// request id for opIssueReq.
func decodeIssueIntent(in memory.Intent, v *Invoice) error {
	if in.Op != opIssueReq {
		return decodeIssuePayload(in.Payload, v)
	}
	if len(in.Payload) < 8 {
		return fmt.Errorf("%w: issue intent of %d bytes", memory.ErrInvalid, len(in.Payload))
	}
	id := binary.BigEndian.Uint64(in.Payload)
	if id == 0 {
		return fmt.Errorf("%w: issue intent with request id 0", memory.ErrInvalid)
	}
	if err := v.UnmarshalBinary(in.Payload[8:]); err != nil {
		return err
	}
	v.RequestID = id
	return nil
}

// decodeIssuePayload decodes an issue intent's invoice: memory's invoice
// payload, or JSON as older versions wrote it (a binary payload starts with
// the BCD century of its date, never with '{').
func decodeIssuePayload(p []byte, v *Invoice) error {
	if len(p) > 0 && p[0] == '{' {
		return json.Unmarshal(p, v)
	}
	return v.UnmarshalBinary(p)
}

func (d *Device) stored(ctx context.Context, code fiscal.InvoiceCode, number uint32) bool {
	_, err := d.mem.Invoice(ctx, code, number)
	return err == nil || !errors.Is(err, memory.ErrNotFound)
}
