package register

import (
	"context"
	"errors"

	"github.com/fiscalkit/gb18240/card"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// WriteFactoryData writes the machine identity (机器编号, production date,
// versions) into fiscal memory. It can be done once; a second call fails
// with ErrAlreadyInitialised.
func (d *Device) WriteFactoryData(ctx context.Context, f Factory) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "factory"
	if d.hasMachine {
		return newErr(op, ErrAlreadyInitialised, nil, "machine identity already written")
	}
	if f.Number == (fiscal.MachineNumber{}) {
		return newErr(op, ErrBadRequest, nil, "machine number is zero")
	}
	m := memory.Machine{Number: f.Number, Produced: f.Produced, HardwareVersion: f.HardwareVersion, SoftwareVersion: f.SoftwareVersion}
	if err := d.mem.SetMachine(ctx, m); err != nil {
		if errors.Is(err, memory.ErrWriteOnce) {
			return newErr(op, ErrAlreadyInitialised, err, "")
		}
		if errors.Is(err, memory.ErrInvalid) {
			return newErr(op, ErrBadRequest, err, "")
		}
		return memErr(op, err)
	}
	d.machine, d.hasMachine = m, true
	return nil
}

// Initialise performs fiscal initialisation (税控初始化) with the fiscal and
// user cards present (reference §4 and §2.6):
//
//  1. the machine identity is written and no initialisation was done;
//  2. the fiscal card is a fiscal card, not yet registered, and its EF02
//     machine number is this machine's (else ErrWrongFiscalCard);
//  3. the user card's EF06 lists the pair (machine, fiscal card) (else
//     ErrIllegalUserCard);
//  4. app start ≤ today ≤ 开票截止日期 ≤ app valid date;
//  5. the registration exchange GET_REGISTER_NB → REGISTER_SIGN →
//     TERMINAL_REGISTER yields the first fiscal PIN;
//  6. the tax items are read from user EF03, the control data from fiscal
//     EF01, and the application record and the PIN are committed to fiscal
//     memory together.
//
// A durable intent precedes the first card command; an initialisation
// interrupted after TERMINAL_REGISTER leaves a registered card whose PIN
// was lost, reported as ErrPINOutOfStep at the next start.
func (d *Device) Initialise(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "initialise"
	switch {
	case d.closed:
		return newErr(op, ErrClosed, nil, "")
	case !d.hasMachine:
		return newErr(op, ErrNoFactoryData, nil, "")
	case d.hasApp:
		return newErr(op, ErrAlreadyInitialised, nil, "")
	case d.pinBad != nil:
		return d.pinBad
	}
	if d.pending {
		if err := d.recover(ctx); err != nil {
			return err
		}
		if d.hasApp {
			return nil // the interrupted initialisation was completed
		}
	}
	today, err := d.today()
	if err != nil {
		return err
	}
	return d.registerCards(ctx, op, today, false, nil)
}

// Payloads of the init intent: which flow (initialisation or change of
// owner) and whether the fiscal card is registered with its PIN stored.
const (
	phaseInit      = 'I' // initialisation, before registration
	phaseInitDone  = 'i' // initialisation, registered, PIN stored
	phaseOwner     = 'O' // change of owner, before registration
	phaseOwnerDone = 'o' // change of owner, registered, PIN stored
)

// ownerPayload is the init intent payload of a change of owner: the phase
// and the new fiscal card's number, so that recovery never mistakes the
// old taxpayer's (registered) fiscal card for the new one.
func ownerPayload(phase byte, no fiscal.CardNumber) []byte {
	return append([]byte{phase}, no[:]...)
}

// parseInitPayload returns the phase of an init intent and, for a change of
// owner started by this version, the new fiscal card's number.
func parseInitPayload(p []byte) (phase byte, no fiscal.CardNumber, hasNo bool) {
	phase = phaseInit
	if len(p) >= 1 {
		phase = p[0]
	}
	if len(p) == 1+len(no) {
		copy(no[:], p[1:])
		hasNo = true
	}
	return phase, no, hasNo
}

// registerCards checks the cards, runs the registration exchange and
// finishes the initialisation (or, with owner, the change of owner). The
// records of pre, if any, are committed together with the intent, after
// the checks of the new cards.
func (d *Device) registerCards(ctx context.Context, op string, today fiscal.Date, owner bool, pre *memory.Batch) error {
	ef02, items, uc, err := d.initCheck(ctx, op, today, true)
	if err != nil {
		return err
	}
	if err := d.mem.CheckCapacity(memory.KindApplication, 1); err != nil {
		return memErr(op, err)
	}
	if pre == nil {
		pre = new(memory.Batch)
	}
	payload := []byte{phaseInit}
	if owner {
		payload = ownerPayload(phaseOwner, ef02.CardNumber)
	}
	// The intent precedes the first card command that changes state.
	id := d.newID()
	if err := d.mem.Commit(ctx, pre.BeginIntent(memory.Intent{ID: id, Op: opInit, Payload: payload})); err != nil {
		return memErr(op, err)
	}
	if owner {
		d.hasRoll, d.next = false, 0
	}
	return d.registerExchange(ctx, op, id, today, ef02, items, uc, owner)
}

// registerExchange runs GET_REGISTER_NB → REGISTER_SIGN → TERMINAL_REGISTER
// under the open init intent id, stores the first PIN and finishes.
func (d *Device) registerExchange(ctx context.Context, op string, id uint64, today fiscal.Date, ef02 card.AppInfo, items []fiscal.TaxItem, uc *card.UserCard, owner bool) error {
	// A failed initialisation changed nothing and its intent ends; a
	// change of owner keeps its intent (the old taxpayer has stopped) until
	// ChangeOwner completes it.
	fail := func() {
		if !owner {
			d.endIntent(ctx, id)
		}
	}
	reg, err := d.fc.GetRegisterNB(ctx)
	if err != nil {
		fail()
		return d.fiscalErr(op, err)
	}
	mac2, err := uc.RegisterSign(ctx, reg)
	if err != nil {
		fail()
		if errors.Is(err, card.ErrWrongFiscalCardNo) {
			return newErr(op, ErrIllegalUserCard, err, "")
		}
		return d.userErr(op, err)
	}
	pin, err := d.fc.TerminalRegister(ctx, mac2)
	if err != nil {
		// The outcome is unknown on a transport error: leave the intent
		// for recovery, which reads the registration flag.
		e := d.fiscalErr(op, err)
		if !errors.Is(e, ErrNoFiscalCard) {
			fail()
		}
		return e
	}
	done := []byte{phaseInitDone}
	if owner {
		done = ownerPayload(phaseOwnerDone, ef02.CardNumber)
	}
	id2 := d.newID()
	b := new(memory.Batch).SetPIN(memory.PIN(pin)).EndIntent(id).BeginIntent(memory.Intent{ID: id2, Op: opInit, Payload: done})
	if err := d.mem.Commit(ctx, b); err != nil {
		d.pinBad = newErr(op, ErrPINOutOfStep, err, "first PIN could not be stored")
		return memErr(op, err)
	}
	d.pin, d.hasPIN, d.pinBad = pin, true, nil
	return d.finishInit(ctx, op, id2, today, ef02, items, uc, owner)
}

// initCheck runs the checks of initialisation on both cards and returns
// the fiscal card's EF02, the tax items and the user card session.
func (d *Device) initCheck(ctx context.Context, op string, today fiscal.Date, fresh bool) (card.AppInfo, []fiscal.TaxItem, *card.UserCard, error) {
	var ef02 card.AppInfo
	if d.uc == nil {
		return ef02, nil, nil, newErr(op, ErrNoUserCard, nil, "")
	}
	if err := d.ensureSelected(ctx); err != nil {
		return ef02, nil, nil, err
	}
	ef02, err := d.fc.ReadAppInfo(ctx)
	if err != nil {
		return ef02, nil, nil, d.readErr(op, err, ErrIllegalFiscalCard)
	}
	switch {
	case ef02.MachineNumber != d.machine.Number:
		return ef02, nil, nil, newErr(op, ErrWrongFiscalCard, nil, "fiscal card is for machine %v, this is %v", ef02.MachineNumber, d.machine.Number)
	case fresh && ef02.Registered:
		return ef02, nil, nil, newErr(op, ErrIllegalFiscalCard, nil, "fiscal card is already registered")
	case today.Before(ef02.Start) || today.After(ef02.Valid):
		return ef02, nil, nil, newErr(op, ErrIllegalFiscalCard, nil, "application valid %v..%v, today is %v", ef02.Start, ef02.Valid, today)
	}
	ctl, err := d.fc.ReadControls(ctx)
	if err != nil {
		return ef02, nil, nil, d.readErr(op, err, ErrIllegalFiscalCard)
	}
	if !ctl.Deadline.IsZero() {
		if err := checkDeadline(op, today, ctl, ef02); err != nil {
			return ef02, nil, nil, err
		}
	}
	uc, err := d.userSession(ctx, op)
	if err != nil {
		return ef02, nil, nil, err
	}
	pairs, err := uc.ReadMachines(ctx)
	if err != nil {
		return ef02, nil, nil, d.userReadErr(op, err)
	}
	found := false
	for _, p := range pairs {
		if p.Machine == d.machine.Number && p.FiscalCard == ef02.CardNumber {
			found = true
		}
	}
	if !found {
		return ef02, nil, nil, newErr(op, ErrIllegalUserCard, nil, "user card does not list machine %v with fiscal card %v", d.machine.Number, ef02.CardNumber)
	}
	items, err := taxItems(ctx, uc)
	if err != nil {
		return ef02, nil, nil, d.userReadErr(op, err)
	}
	if len(items) == 0 {
		return ef02, nil, nil, newErr(op, ErrIllegalUserCard, nil, "user card holds no tax items")
	}
	return ef02, items, uc, nil
}

// checkDeadline checks today ≤ 开票截止日期 ≤ application valid date.
func checkDeadline(op string, today fiscal.Date, ctl fiscal.ControlData, ef02 card.AppInfo) error {
	if today.After(ctl.Deadline) {
		return newErr(op, ErrDeadlinePassed, nil, "deadline %v, today is %v", ctl.Deadline, today)
	}
	if ctl.Deadline.After(ef02.Valid) {
		return newErr(op, ErrIllegalFiscalCard, nil, "deadline %v after the application's valid date %v", ctl.Deadline, ef02.Valid)
	}
	return nil
}

// finishInit runs, on a registered fiscal card whose PIN is stored, the
// first control update (税控更新, from the user card's EF01 record for this
// fiscal card) if the card holds no control data yet, and commits the
// application record with the end of the intent.
func (d *Device) finishInit(ctx context.Context, op string, id uint64, today fiscal.Date, ef02 card.AppInfo, items []fiscal.TaxItem, uc *card.UserCard, owner bool) error {
	ctl, err := d.fc.ReadControls(ctx)
	if err != nil {
		return d.readErr(op, err, ErrIllegalFiscalCard)
	}
	updated := ctl.Deadline.IsZero()
	if updated {
		data, ok, err := controlRecord(ctx, uc, ef02.CardNumber)
		if err != nil {
			return d.userReadErr(op, err)
		}
		if !ok {
			return newErr(op, ErrIllegalUserCard, nil, "user card holds no control data for fiscal card %v", ef02.CardNumber)
		}
		if err := d.verifyPIN(ctx, op, nil); err != nil {
			return err
		}
		if err := d.fc.UpdateControls(ctx, data); err != nil {
			return d.fiscalErr(op, err)
		}
		if ctl, err = d.fc.ReadControls(ctx); err != nil {
			return d.readErr(op, err, ErrIllegalFiscalCard)
		}
	}
	app := memory.Application{
		TaxpayerNumber: ef02.TaxpayerNo, TaxpayerName: ef02.TaxpayerName, TaxID: ef02.TaxpayerID,
		FiscalCard: ef02.CardNumber, InitDate: today, AppStart: ef02.Start, AppValid: ef02.Valid,
		TaxItems: items, Control: ctl,
	}
	b := new(memory.Batch)
	if owner {
		b.ChangeOwner(app)
	} else {
		b.Initialise(app)
	}
	if updated {
		b.AddControlUpdate(memory.ControlUpdate{Time: d.now(), Control: ctl})
	}
	if err := d.mem.Commit(ctx, b.EndIntent(id)); err != nil {
		return memErr(op, err)
	}
	d.app, d.hasApp, d.ctl = app, true, ctl
	d.appIdx = d.mem.CurrentApplication()
	if owner {
		d.lastDaily = fiscal.Date{} // the new fiscal card closes its own days
	}
	if today.After(d.lastDate) {
		d.lastDate = today
	}
	if err := d.loadPeriod(ctx); err != nil {
		return err
	}
	return checkDeadline(op, today, ctl, ef02)
}

// endIntent marks an intent done after an operation that changed nothing;
// a failure only leaves the intent for recovery, which finds nothing to do.
func (d *Device) endIntent(ctx context.Context, id uint64) {
	if err := d.mem.EndIntent(ctx, id); err != nil {
		d.log.Warn("register: closing intent failed", "id", id, "err", err)
	}
}

// readErr maps an error reading a card file: malformed content is
// illegal, anything else a card failure.
func (d *Device) readErr(op string, err error, illegal error) error {
	if isCardFormat(err) || errors.Is(err, fiscal.ErrLength) || errors.Is(err, fiscal.ErrDate) || errors.Is(err, fiscal.ErrBCD) || errors.Is(err, fiscal.ErrBadText) {
		return newErr(op, illegal, err, "")
	}
	return d.fiscalErr(op, err)
}

// userReadErr maps an error reading a user-card file: malformed content
// makes the user card illegal.
func (d *Device) userReadErr(op string, err error) error {
	if isCardFormat(err) {
		return newErr(op, ErrIllegalUserCard, err, "")
	}
	return d.userErr(op, err)
}
