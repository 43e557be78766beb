package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// LockDays is the number of days after fiscal initialisation at which the
// machine locks (five years; [YB] MACHINE_LOCK_DATE is 1835 days).
const LockDays = 1835

// MaxWaitingRolls is the number of distributed rolls the register holds
// before they are loaded ([TT] holds 20).
const MaxWaitingRolls = 20

// Config configures a Device. Memory and Fiscal are required; the zero
// value of every other field means its default.
type Config struct {
	// Memory is the opened fiscal memory (税控存储器).
	Memory *memory.Memory
	// Fiscal is the fiscal card (税控卡) reader.
	Fiscal card.Transmitter
	// User is the user card (用户卡) reader, or nil when no user card is
	// inserted; see Device.SetUserCard.
	User card.Transmitter
	// UserPIN is the user card's 8-byte PIN, presented before commands
	// that write to the user card. Nil: no PIN is presented.
	UserPIN []byte
	// Clock returns the current time; nil means time.Now. Dates are taken
	// in China Standard Time (fiscal.Zone).
	Clock func() time.Time
	// Logger receives the device's log records; nil means none.
	Logger *slog.Logger
	// Observer, if set, sees every raw APDU exchange with either card.
	Observer func(card.Exchange)
}

// Device is a fiscal cash register (税控收款机): the business rules of
// GB 18240 over a fiscal memory, a fiscal card and a user card. Its
// methods are safe for concurrent use; fiscal operations run one at a time.
type Device struct {
	mu     sync.Mutex
	mem    *memory.Memory
	fc     *card.FiscalCard
	uc     *card.UserCard // nil: no user card inserted
	upin   []byte
	clock  clockFunc
	log    *slog.Logger
	obs    func(card.Exchange)
	closed bool

	clockAdj time.Duration // set by a clock inspection (check type 3)

	// state rebuilt from fiscal memory at Open and kept current
	machine    memory.Machine
	hasMachine bool
	app        memory.Application
	hasApp     bool
	appIdx     int                // index of app in the application history (memory's CurrentApplication)
	ctl        fiscal.ControlData // controls in force: the fiscal card's EF01
	pin        [8]byte
	hasPIN     bool
	pinBad     error // latched PIN failure: no VERIFY is sent any more

	selected  bool // fiscal application selected in this card session
	roll      fiscal.Roll
	hasRoll   bool
	next      uint32 // next invoice number in roll, 0 = used up
	queueID   uint64 // open legacy "roll_queue" intent, migrated by Open (0 = none)
	nextID    uint64
	lastDaily fiscal.Date
	lastDate  fiscal.Date // newest date of any fiscal record
	period    fiscal.Date // first day of the declaration period
	perNormal fiscal.Amount
	perReturn fiscal.Amount
	returned  map[invKey]bool // originals (code, number) returned in the period
	pending   bool            // an intent could not be recovered yet
	refreshed bool            // controls and loaded roll read from the fiscal card
}

type invKey struct {
	code   fiscal.InvoiceCode
	number uint32
}

// Open starts a register on cfg: it rebuilds its state from fiscal memory,
// selects the fiscal card application, recovers every interrupted operation
// (open intents) and runs the automatic daily close for every day before
// today. An interrupted operation that needs the user card while none is
// inserted does not fail Open: the device reports RecoveryPending and
// retries before the next fiscal operation. Any other start-up failure
// (fiscal card absent, PIN out of step, ...) is returned together with the
// Device, which still answers Status, queries and reports; fiscal
// operations retry the recovery first.
func Open(ctx context.Context, cfg Config) (*Device, error) {
	if cfg.Memory == nil || cfg.Fiscal == nil {
		return nil, newErr("open", ErrBadRequest, nil, "Config.Memory and Config.Fiscal are required")
	}
	d := &Device{mem: cfg.Memory, clock: cfg.Clock, log: cfg.Logger, obs: cfg.Observer, upin: cfg.UserPIN}
	if d.clock == nil {
		d.clock = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.fc = d.newFiscalCard(cfg.Fiscal)
	if cfg.User != nil {
		d.uc = d.newUserCard(cfg.User)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	if err := d.migrateQueue(ctx); err != nil {
		return nil, err
	}
	if err := d.startup(ctx); err != nil {
		d.pending = d.pending || len(d.recoverable()) > 0
		return d, err
	}
	return d, nil
}

// SetUserCard inserts (t non-nil) or removes (nil) the user card.
func (d *Device) SetUserCard(t card.Transmitter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t == nil {
		d.uc = nil
		return
	}
	d.uc = d.newUserCard(t)
}

// Close marks the device closed. It does not close the fiscal memory,
// which the caller opened.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}

// load rebuilds the RAM state from fiscal memory.
func (d *Device) load(ctx context.Context) error {
	m := d.mem
	d.machine, d.hasMachine = m.Machine()
	d.app, d.hasApp = m.Application()
	d.appIdx = m.CurrentApplication()
	d.ctl = d.app.Control
	if c, ok := m.Controls(); ok {
		d.ctl = c
	}
	if p, ok := m.PIN(); ok {
		d.pin, d.hasPIN = [8]byte(p), true
	}
	d.pinBad = nil
	// A PIN rejection logged after the newest PIN latches durably: a new
	// process never spends another of the card's tries on a stale PIN.
	if d.hasPIN {
		evs := m.SecurityEvents()
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == memory.SecPINError && evs[i].Text == pinLatchText(d.pin) {
				d.pinBad = newErr("open", ErrPINOutOfStep, nil, "the fiscal card rejected the stored PIN earlier")
				break
			}
		}
	}
	d.clockAdj = clockOffset(m.SecurityEvents())
	d.queueID, d.nextID = 0, 1
	for _, in := range m.OpenIntents() {
		if in.ID >= d.nextID {
			d.nextID = in.ID + 1
		}
		if in.Op == opQueue {
			d.queueID = in.ID
		}
	}
	d.lastDaily, d.lastDate = fiscal.Date{}, fiscal.Date{}
	if dl, ok := m.LastDailyOf(d.appIdx); ok {
		d.lastDaily = dl.Record.Date
	}
	if dl, ok := m.LastDaily(); ok {
		d.lastDate = dl.Record.Date
	}
	d.hasRoll, d.roll, d.next = false, fiscal.Roll{}, 0
	if rl, ok := m.LastRollLoad(); ok {
		d.hasRoll, d.roll, d.next = true, rl.Roll, rl.Roll.Start
		if dd := fiscal.DateOf(rl.Loaded); dd.After(d.lastDate) {
			d.lastDate = dd
		}
	}
	last, err := m.LastInvoice(ctx)
	switch {
	case err == nil:
		if last.Detail.Date.After(d.lastDate) {
			d.lastDate = last.Detail.Date
		}
		if d.hasRoll && last.Code == d.roll.Code && d.roll.Contains(last.Detail.Number) {
			d.next = last.Detail.Number + 1
		}
	case errors.Is(err, memory.ErrNotFound):
	default:
		return newErr("open", ErrMemory, err, "")
	}
	if d.hasRoll && d.next > d.roll.End {
		d.next = 0
	}
	return d.loadPeriod(ctx)
}

// loadPeriod recomputes the declaration period and its totals.
func (d *Device) loadPeriod(ctx context.Context) error {
	d.period, d.perNormal, d.perReturn = fiscal.Date{}, 0, 0
	d.returned = map[invKey]bool{}
	if !d.hasApp {
		return nil
	}
	d.period = d.app.InitDate
	if ld, ok := d.mem.LastDeclarationOf(d.appIdx); ok && !ld.Data.End.Before(d.period) {
		d.period = ld.Data.End.AddDays(1)
	}
	// Only this taxpayer's invoices: after a change of owner during the
	// day the old owner's invoices of that day are not in the new period.
	err := d.mem.EachInvoiceOf(ctx, d.appIdx, d.period, fiscal.Date{}, func(v memory.Invoice) error {
		d.account(v)
		return nil
	})
	if err != nil {
		return newErr("open", ErrMemory, err, "")
	}
	return nil
}

// account adds an invoice of the current period to the period totals.
func (d *Device) account(v memory.Invoice) {
	switch v.Detail.Type {
	case fiscal.InvoiceNormal:
		d.perNormal += v.Detail.Total
	case fiscal.InvoiceReturn:
		d.perReturn += v.Detail.Total
		code, n := v.OriginalKey()
		d.returned[invKey{code, n}] = true
	}
}

// startup selects the fiscal application, recovers open intents and runs
// the automatic daily close.
func (d *Device) startup(ctx context.Context) error {
	if err := d.ensureSelected(ctx); err != nil {
		d.pending = len(d.recoverable()) > 0
		return err
	}
	if err := d.recover(ctx); err != nil {
		return err
	}
	if err := d.refreshControls(ctx); err != nil {
		return err
	}
	if _, owner := d.ownerIntent(); d.hasApp && d.pinBad == nil && !owner {
		today, err := d.today()
		if err != nil {
			return err
		}
		if err := d.closeDays(ctx, today.AddDays(-1)); err != nil {
			return err
		}
	}
	return nil
}

// refreshControls reads the controls in force from the fiscal card's EF01
// (the card is their authority: a control update changes them there).
func (d *Device) refreshControls(ctx context.Context) error {
	if !d.hasApp {
		return nil
	}
	ctl, err := d.fc.ReadControls(ctx)
	if err != nil {
		return d.readErr("controls", err, ErrIllegalFiscalCard)
	}
	if !ctl.Deadline.IsZero() {
		d.ctl = ctl
	}
	// The loaded roll is the card's: after a change of owner the last roll
	// in fiscal memory belongs to the old fiscal card.
	if d.hasRoll {
		ef05, err := d.fc.ReadLoadedRoll(ctx)
		if err != nil {
			return d.readErr("controls", err, ErrIllegalFiscalCard)
		}
		if !ef05.Loaded || ef05.Roll != d.roll {
			d.hasRoll, d.next = false, 0
		}
	}
	d.refreshed = true
	return nil
}

// today returns the clock's date, refusing a date before the newest fiscal
// record.
func (d *Device) today() (fiscal.Date, error) {
	t := fiscal.DateOf(d.now())
	if !d.lastDate.IsZero() && t.Before(d.lastDate) {
		return t, newErr("clock", ErrClockBackwards, nil, "clock shows %v, last fiscal record is dated %v", t, d.lastDate)
	}
	return t, nil
}

func (d *Device) newID() uint64 {
	id := d.nextID
	d.nextID++
	return id
}

// ensureSelected selects the fiscal card application once per card session.
func (d *Device) ensureSelected(ctx context.Context) error {
	if d.selected {
		return nil
	}
	if err := d.fc.Select(ctx); err != nil {
		return d.fiscalErr("select", err)
	}
	d.selected = true
	return nil
}

// fiscalErr maps an error of a fiscal-card command to a *Error.
func (d *Device) fiscalErr(op string, err error) error {
	var re *Error
	if errors.As(err, &re) {
		return err
	}
	var te *card.TransportError
	if errors.As(err, &te) {
		d.selected = false // the card session may be gone
		return newErr(op, ErrNoFiscalCard, err, "")
	}
	var se *card.StatusError
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, card.ErrAmountOverLimit):
			return newErr(op, ErrSingleLimit, err, "")
		case errors.Is(err, card.ErrWrongPIN), errors.Is(err, card.ErrPINBlocked):
			return newErr(op, ErrPINOutOfStep, err, "")
		case errors.Is(err, card.ErrSecurityStatus):
			d.selected = false
		}
		return newErr(op, ErrFiscalCardWrite, err, "")
	}
	if errors.Is(err, card.ErrBadArgument) || errors.Is(err, fiscal.ErrAmountRange) {
		return newErr(op, ErrBadRequest, err, "")
	}
	return newErr(op, ErrFiscalCardRead, err, "")
}

// userErr maps an error of a user-card command to a *Error.
func (d *Device) userErr(op string, err error) error {
	var re *Error
	if errors.As(err, &re) {
		return err
	}
	var te *card.TransportError
	if errors.As(err, &te) {
		return newErr(op, ErrNoUserCard, err, "")
	}
	if errors.Is(err, card.ErrNoInvoiceToDistribute) {
		return newErr(op, ErrNoInvoices, err, "the user card has no roll to distribute")
	}
	var se *card.StatusError
	if errors.As(err, &se) {
		return newErr(op, ErrUserCardWrite, err, "")
	}
	return newErr(op, ErrUserCardRead, err, "")
}

// memErr maps a fiscal memory error to a *Error.
func memErr(op string, err error) error {
	if errors.Is(err, memory.ErrFull) {
		return newErr(op, ErrMemoryFull, err, "")
	}
	return newErr(op, ErrMemory, err, "")
}

// verifyPIN presents the rolling fiscal PIN and makes the new one durable
// in the same fiscal-memory batch as b (one sync), before any other card
// command. A rejection latches: no further VERIFY is sent.
func (d *Device) verifyPIN(ctx context.Context, op string, b *memory.Batch) error {
	if d.pinBad != nil {
		return d.pinBad
	}
	if !d.hasPIN {
		return newErr(op, ErrNotInitialised, nil, "no fiscal PIN stored")
	}
	if err := d.ensureSelected(ctx); err != nil {
		return err
	}
	next, err := d.fc.VerifyPIN(ctx, card.PIN(d.pin))
	if err != nil {
		e := d.fiscalErr(op, err)
		if errors.Is(e, ErrPINOutOfStep) {
			d.pinBad = e
			ev := memory.SecurityEvent{Time: d.now(), Type: memory.SecPINError, Text: pinLatchText(d.pin)}
			if lerr := d.mem.LogSecurity(ctx, ev); lerr != nil {
				d.log.Warn("register: logging PIN rejection failed", "err", lerr)
			}
			d.log.Error("register: fiscal card rejected the stored PIN; no further tries", "op", op)
		}
		return e
	}
	if b == nil {
		b = new(memory.Batch)
	}
	b.SetPIN(memory.PIN(next))
	if err := d.mem.Commit(ctx, b); err != nil {
		// The card rolled the PIN and fiscal memory did not take it:
		// from now on the PIN is out of step.
		d.pinBad = newErr(op, ErrPINOutOfStep, err, "new PIN could not be stored")
		return memErr(op, err)
	}
	d.pin = next
	return nil
}

// pinLatchText names the PIN that was rejected without revealing it.
func pinLatchText(pin [8]byte) string {
	var h uint32 = 2166136261
	for _, b := range pin {
		h = (h ^ uint32(b)) * 16777619
	}
	return fmt.Sprintf("fiscal PIN rejected (pin tag %08x)", h)
}

// ready runs the checks shared by every fiscal operation.
func (d *Device) ready(ctx context.Context, op string) (fiscal.Date, error) {
	if d.closed {
		return fiscal.Date{}, newErr(op, ErrClosed, nil, "")
	}
	if !d.hasApp {
		return fiscal.Date{}, newErr(op, ErrNotInitialised, nil, "")
	}
	if d.pinBad != nil {
		return fiscal.Date{}, d.pinBad
	}
	if d.pending {
		if err := d.recover(ctx); err != nil {
			return fiscal.Date{}, err
		}
	}
	if _, ok := d.ownerIntent(); ok {
		return fiscal.Date{}, newErr(op, ErrRecoveryPending, nil, "a change of owner is under way: call ChangeOwner with the new taxpayer's cards")
	}
	if !d.refreshed {
		if err := d.ensureSelected(ctx); err != nil {
			return fiscal.Date{}, err
		}
		if err := d.refreshControls(ctx); err != nil {
			return fiscal.Date{}, err
		}
	}
	today, err := d.today()
	if err != nil {
		return today, err
	}
	if d.lastDaily.Before(today.AddDays(-1)) && !d.app.InitDate.After(today.AddDays(-1)) {
		if err := d.closeDays(ctx, today.AddDays(-1)); err != nil {
			return today, err
		}
	}
	return today, nil
}

// lockDate is the five-year lock date.
func (d *Device) lockDate() fiscal.Date {
	if !d.hasApp {
		return fiscal.Date{}
	}
	return d.app.InitDate.AddDays(LockDays)
}

// Status returns a snapshot of the register's state.
func (d *Device) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	today := fiscal.DateOf(d.now())
	s := Status{
		Machine: d.machine.Number, HasFactory: d.hasMachine, Initialised: d.hasApp, Today: today,
		Waiting: len(d.mem.WaitingRolls()), LastDaily: d.lastDaily, PeriodStart: d.period,
		PeriodNormal: d.perNormal, PeriodReturn: d.perReturn,
		PINOutOfStep: d.pinBad != nil, RecoveryPending: d.pending, Issued: d.mem.InvoiceCount(),
	}
	if d.hasApp {
		s.Taxpayer, s.InitDate, s.Controls = d.app.TaxpayerName, d.app.InitDate, d.ctl
		s.DeadlinePassed = today.After(d.ctl.Deadline)
		s.LockDate = d.lockDate()
		s.Locked = !today.Before(s.LockDate)
	}
	if d.hasRoll {
		s.Roll, s.Next = d.roll, d.next
		if d.next != 0 {
			s.Remaining = int(d.roll.End-d.next) + 1
		}
	}
	return s
}

// CurrentInvoiceNumber returns the invoice code and the number the next
// invoice will get, or ErrNoInvoices.
func (d *Device) CurrentInvoiceNumber() (fiscal.InvoiceCode, uint32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.hasApp {
		return fiscal.InvoiceCode{}, 0, newErr("current number", ErrNotInitialised, nil, "")
	}
	if !d.hasRoll || d.next == 0 {
		return d.roll.Code, 0, newErr("current number", ErrNoInvoices, nil, "")
	}
	return d.roll.Code, d.next, nil
}

// InvoiceByNumber returns a stored invoice. A zero code means the code of
// the loaded roll.
func (d *Device) InvoiceByNumber(ctx context.Context, code fiscal.InvoiceCode, number uint32) (Invoice, error) {
	d.mu.Lock()
	if code == (fiscal.InvoiceCode{}) {
		code = d.roll.Code
	}
	d.mu.Unlock()
	v, err := d.mem.Invoice(ctx, code, number)
	if err != nil {
		if errors.Is(err, memory.ErrNotFound) {
			return v, newErr("invoice", ErrNotFound, err, "")
		}
		return v, memErr("invoice", err)
	}
	return v, nil
}

// InvoicesByRequestID returns the invoices stored for a request id (see
// InvoiceRequest.RequestID), oldest first, or an error matching
// ErrNotFound if none was issued for it. An interrupted operation is
// recovered first (it may be this request's invoice); if that cannot be
// done yet (no fiscal card), the error says so and the answer is unknown.
func (d *Device) InvoicesByRequestID(ctx context.Context, id uint64) ([]Invoice, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "invoices by request id"
	if d.closed {
		return nil, newErr(op, ErrClosed, nil, "")
	}
	if d.pending {
		if err := d.recover(ctx); err != nil {
			return nil, err
		}
	}
	vs, err := d.mem.InvoicesByRequestID(ctx, id)
	if err != nil {
		if errors.Is(err, memory.ErrNotFound) {
			return nil, newErr(op, ErrNotFound, err, "")
		}
		return nil, memErr(op, err)
	}
	return vs, nil
}

// Now returns the register's time: its clock (Config.Clock) plus the
// offset a clock inspection (check type 3) set. It is the time the
// register dates invoices and records with.
func (d *Device) Now() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now()
}

// LastInvoice returns the newest stored invoice.
func (d *Device) LastInvoice(ctx context.Context) (Invoice, error) {
	v, err := d.mem.LastInvoice(ctx)
	if err != nil {
		if errors.Is(err, memory.ErrNotFound) {
			return v, newErr("last invoice", ErrNotFound, err, "")
		}
		return v, memErr("last invoice", err)
	}
	return v, nil
}

// Invoices returns the stored invoices dated from..to (zero bounds open).
func (d *Device) Invoices(ctx context.Context, from, to fiscal.Date) ([]Invoice, error) {
	v, err := d.mem.Invoices(ctx, from, to)
	if err != nil {
		return nil, memErr("invoices", err)
	}
	return v, nil
}

// TaxItems returns the machine's tax items (from initialisation).
func (d *Device) TaxItems() []fiscal.TaxItem {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]fiscal.TaxItem(nil), d.app.TaxItems...)
}

// Application returns the initialisation record.
func (d *Device) Application() (memory.Application, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.app, d.hasApp
}

// Machine returns the machine identity.
func (d *Device) Machine() (Factory, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.machine
	return Factory{Number: m.Number, Produced: m.Produced, HardwareVersion: m.HardwareVersion, SoftwareVersion: m.SoftwareVersion}, d.hasMachine
}
