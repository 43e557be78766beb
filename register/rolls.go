package register

import (
	"context"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// Intent operation names (memory.Intent.Op) and what their payload holds.
const (
	opInit       = "init"       // no payload
	opIssue      = "issue"      // the invoice as it will be stored, without its 税控码 (memory's invoice payload; JSON before)
	opIssueReq   = "issue_req"  // request id u64 ‖ the invoice as for opIssue (an invoice with a RequestID)
	opDaily      = "daily"      // no payload: the close is redone from the last stored day
	opDistribute = "distribute" // the number of waiting rolls before the command, 1 byte
	opLoad       = "load"       // the 22-byte signed roll
	opDeclare    = "declare"    // the 70-byte declaration data
	opUpdate     = "update"     // no payload: the fiscal card's EF01 tells
	// opQueue is not an operation: registers before fiscal memory had
	// record kinds for waiting rolls kept them as the payload of an
	// always-open intent of this name (n × 22-byte signed rolls). Open
	// moves such a list into roll-distributed records and ends the intent.
	opQueue = "roll_queue"
)

// decodeQueue reads the legacy "roll_queue" payload: n × 22-byte signed rolls.
func decodeQueue(p []byte) ([]fiscal.SignedRoll, error) {
	if len(p)%fiscal.SignedRollLen != 0 {
		return nil, fmt.Errorf("roll queue of %d bytes is not a multiple of %d", len(p), fiscal.SignedRollLen)
	}
	var q []fiscal.SignedRoll
	for off := 0; off < len(p); off += fiscal.SignedRollLen {
		var r fiscal.SignedRoll
		if err := r.UnmarshalBinary(p[off : off+fiscal.SignedRollLen]); err != nil {
			return nil, err
		}
		q = append(q, r)
	}
	return q, nil
}

// migrateQueue moves the waiting rolls of a legacy "roll_queue" intent
// into roll-distributed records and ends the intent, in one batch.
func (d *Device) migrateQueue(ctx context.Context) error {
	if d.queueID == 0 {
		return nil
	}
	var legacy []fiscal.SignedRoll
	for _, in := range d.mem.OpenIntents() {
		if in.ID == d.queueID {
			q, err := decodeQueue(in.Payload)
			if err != nil {
				return newErr("open", ErrMemory, err, "waiting-roll list")
			}
			legacy = q
		}
	}
	b := new(memory.Batch)
	for _, r := range legacy {
		if !d.distributed(r.Roll) {
			b.AddRollDistribution(memory.RollDistribution{Roll: r, Time: d.now()})
		}
	}
	if err := d.mem.Commit(ctx, b.EndIntent(d.queueID)); err != nil {
		return memErr("open", err)
	}
	d.queueID = 0
	return nil
}

// distributed reports whether fiscal memory holds a distribution of r.
func (d *Device) distributed(r fiscal.Roll) bool {
	for _, x := range d.mem.RollDistributions() {
		if x.Roll.Roll == r {
			return true
		}
	}
	return false
}

// knownRoll reports whether r is waiting or was loaded already.
func (d *Device) knownRoll(r fiscal.Roll) bool {
	for _, w := range d.mem.WaitingRolls() {
		if w.Roll.Roll == r {
			return true
		}
	}
	for _, l := range d.mem.RollLoads() {
		if l.Roll == r {
			return true
		}
	}
	return false
}

// userSession selects the user application and presents the user PIN.
func (d *Device) userSession(ctx context.Context, op string) (*card.UserCard, error) {
	if d.uc == nil {
		return nil, newErr(op, ErrNoUserCard, nil, "")
	}
	uc := d.uc
	pin, hasPIN, err := userPIN(op, d.upin)
	if err != nil {
		return nil, err
	}
	if err := uc.Select(ctx); err != nil {
		return nil, d.userErr(op, err)
	}
	if hasPIN {
		if err := uc.Verify(ctx, pin); err != nil {
			return nil, d.userErr(op, err)
		}
	}
	return uc, nil
}

// Distribute takes the next invoice roll from the user card
// (DISTRIBUTE_INVOICE_NB, 分发发票) and keeps it waiting until it is loaded.
// At most MaxWaitingRolls rolls wait (ErrRollStoreFull). An interrupted
// distribution is completed from user EF07 by recovery.
func (d *Device) Distribute(ctx context.Context) (fiscal.Roll, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "distribute"
	if _, err := d.ready(ctx, op); err != nil {
		return fiscal.Roll{}, err
	}
	if n := len(d.mem.WaitingRolls()); n >= MaxWaitingRolls {
		return fiscal.Roll{}, newErr(op, ErrRollStoreFull, nil, "%d rolls waiting", n)
	}
	if err := d.mem.CheckCapacity(memory.KindRollDistributed, 1); err != nil {
		return fiscal.Roll{}, memErr(op, err)
	}
	uc, err := d.userSession(ctx, op)
	if err != nil {
		return fiscal.Roll{}, err
	}
	id := d.newID()
	if err := d.mem.BeginIntent(ctx, memory.Intent{ID: id, Op: opDistribute}); err != nil {
		return fiscal.Roll{}, memErr(op, err)
	}
	r, err := uc.DistributeInvoiceNB(ctx)
	if err != nil {
		e := d.userErr(op, err)
		if !errors.Is(e, ErrNoUserCard) {
			d.endIntent(ctx, id)
		} else {
			d.pending = true
		}
		return fiscal.Roll{}, e
	}
	if err := d.queueRoll(ctx, id, r); err != nil {
		return fiscal.Roll{}, err
	}
	return r.Roll, nil
}

// queueRoll records a distributed roll (it joins the waiting list) and
// ends the distribution intent, in one batch.
func (d *Device) queueRoll(ctx context.Context, id uint64, r fiscal.SignedRoll) error {
	if err := r.Roll.Validate(); err != nil {
		return newErr("distribute", ErrIllegalUserCard, err, "")
	}
	b := new(memory.Batch).AddRollDistribution(memory.RollDistribution{Roll: r, Time: d.now()}).EndIntent(id)
	if err := d.mem.Commit(ctx, b); err != nil {
		return memErr("distribute", err)
	}
	return nil
}

// Waiting returns the distributed rolls not yet loaded.
func (d *Device) Waiting() []fiscal.Roll {
	d.mu.Lock()
	defer d.mu.Unlock()
	ws := d.mem.WaitingRolls()
	out := make([]fiscal.Roll, len(ws))
	for i, w := range ws {
		out[i] = w.Roll.Roll
	}
	return out
}

// LoadRoll loads the oldest waiting roll into the fiscal card
// (INPUT_INVOICE_NB, 录入发票号). It is refused while the current roll still
// has invoices (ErrRollNotUsedUp) and when no roll waits (ErrNoInvoices).
// The next invoice number is then the roll's first.
func (d *Device) LoadRoll(ctx context.Context) (fiscal.Roll, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "load roll"
	if _, err := d.ready(ctx, op); err != nil {
		return fiscal.Roll{}, err
	}
	if d.hasRoll && d.next != 0 {
		return fiscal.Roll{}, newErr(op, ErrRollNotUsedUp, nil, "%d invoices left", d.roll.End-d.next+1)
	}
	ws := d.mem.WaitingRolls()
	if len(ws) == 0 {
		return fiscal.Roll{}, newErr(op, ErrNoInvoices, nil, "no distributed roll waits")
	}
	if err := d.mem.CheckCapacity(memory.KindRollLoad, 1); err != nil {
		return fiscal.Roll{}, memErr(op, err)
	}
	r := ws[0].Roll
	if err := d.loadRoll(ctx, op, r); err != nil {
		return fiscal.Roll{}, err
	}
	return r.Roll, nil
}

// loadRoll runs VERIFY (PIN and intent durable together), INPUT_INVOICE_NB,
// then commits the load.
func (d *Device) loadRoll(ctx context.Context, op string, r fiscal.SignedRoll) error {
	p, err := r.MarshalBinary()
	if err != nil {
		return newErr(op, ErrBadRequest, err, "")
	}
	id := d.newID()
	if err := d.verifyPIN(ctx, op, new(memory.Batch).BeginIntent(memory.Intent{ID: id, Op: opLoad, Payload: p})); err != nil {
		return err
	}
	if err := d.fc.InputInvoiceNB(ctx, r); err != nil {
		e := d.fiscalErr(op, err)
		if errors.Is(e, ErrNoFiscalCard) {
			d.pending = true // unknown outcome: recovery reads EF05
			return e
		}
		d.endIntent(ctx, id)
		if errors.Is(err, card.ErrConditionsNotSatisfied) {
			return newErr(op, ErrRollNotUsedUp, err, "the fiscal card refused the roll")
		}
		return e
	}
	return d.commitLoad(ctx, op, id, r)
}

// commitLoad records a roll the fiscal card took and takes it off the
// waiting list, in one batch.
func (d *Device) commitLoad(ctx context.Context, op string, id uint64, r fiscal.SignedRoll) error {
	now := d.now()
	b := new(memory.Batch).AddRollLoad(memory.RollLoad{Roll: r.Roll, Loaded: now}).EndIntent(id)
	for _, w := range d.mem.WaitingRolls() {
		if w.Roll.Roll == r.Roll {
			b.TakeRoll(memory.RollTaken{Roll: r.Roll, Time: now, Reason: memory.RollLoaded})
			break
		}
	}
	if err := d.mem.Commit(ctx, b); err != nil {
		return memErr(op, err)
	}
	d.roll, d.hasRoll, d.next = r.Roll, true, r.Roll.Start
	if t := fiscal.DateOf(now); t.After(d.lastDate) {
		d.lastDate = t
	}
	return nil
}
