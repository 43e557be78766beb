package linktest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
	"github.com/fiscalkit/gb18240/register/link"
)

// DeviceOptions configure NewDevice. The zero value means the defaults.
type DeviceOptions struct {
	// Dir holds the fiscal memory (Dir/memory) and the emulated cards'
	// state (Dir/fiscal.card, Dir/user.card). An existing Dir is opened
	// again; "" keeps everything in memory.
	Dir string
	// Seed names the emulator's test crypto profile (default
	// "linktest"). Reopening a Dir needs the same seed.
	Seed string
	// Rolls is the number of 1000-invoice rolls on the user card
	// (default 100).
	Rolls int
	// Logger receives the device's log records (default none).
	Logger *slog.Logger
	// ServiceMode lets Handler serve the card commands 59, 5A and 5B
	// (link.DeviceOptions.ServiceMode).
	ServiceMode bool
}

// Device is a register.Device on emulated cards (card/emulator) and a
// fiscal memory, with a settable clock, ready to be served with
// link.DeviceHandler.
type Device struct {
	Dev   *register.Device
	Mem   *memory.Memory
	Cards *emulator.CardSet

	dir     string
	service bool
	logger  *slog.Logger
	offset  atomic.Int64 // clock offset in nanoseconds
	saveMu  sync.Mutex
	saveErr atomic.Pointer[error]
}

// SaveErr returns the last error of saving the cards' state after a
// command, if any.
func (d *Device) SaveErr() error {
	if p := d.saveErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Now is the device's clock: the host's time plus the offset set by 3B.
func (d *Device) Now() time.Time { return time.Now().Add(time.Duration(d.offset.Load())) }

// SetClock moves the device's clock to t.
func (d *Device) SetClock(t time.Time) error {
	d.offset.Store(int64(time.Until(t)))
	return nil
}

// NewDevice opens (or creates, writing factory data, initialising and
// loading a first roll) a register on emulated cards.
func NewDevice(ctx context.Context, opts *DeviceOptions) (*Device, error) {
	var o DeviceOptions
	if opts != nil {
		o = *opts
	}
	if o.Seed == "" {
		o.Seed = "linktest"
	}
	if o.Rolls <= 0 {
		o.Rolls = 100
	}
	prof := emulator.TestProfileDoNotShip(o.Seed)
	d := &Device{dir: o.Dir, service: o.ServiceMode, logger: o.Logger}
	fresh := true
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, err
		}
		fc, ferr := emulator.LoadFile(filepath.Join(o.Dir, "fiscal.card"), emulator.Options{Profile: prof})
		uc, uerr := emulator.LoadFile(filepath.Join(o.Dir, "user.card"), emulator.Options{Profile: prof})
		switch {
		case ferr == nil && uerr == nil:
			d.Cards = &emulator.CardSet{Fiscal: fc, User: uc, Profile: prof}
			fresh = false
		case errors.Is(ferr, fs.ErrNotExist) && errors.Is(uerr, fs.ErrNotExist):
		default:
			// errors.Join keeps both causes reachable with errors.Is (a wrong
			// profile seed, a damaged file) and drops a missing file's nil.
			return nil, fmt.Errorf("linktest: card state in %s: %w", o.Dir, errors.Join(ferr, uerr))
		}
	}
	if d.Cards == nil {
		code, err := fiscal.ParseInvoiceCode("1440000000")
		if err != nil {
			return nil, err
		}
		cs, err := emulator.Issue(emulator.IssueOptions{
			Options: emulator.Options{Profile: prof},
			Rolls:   []emulator.PurchasedRoll{{Code: code, Start: 1, End: uint32(o.Rolls) * 1000, Rolls: o.Rolls}},
		})
		if err != nil {
			return nil, err
		}
		d.Cards = cs
	}
	var err error
	if o.Dir != "" {
		d.Mem, err = memory.OpenDir(ctx, filepath.Join(o.Dir, "memory"), nil)
	} else {
		d.Mem, err = memory.Open(ctx, memory.NewMemFS(), nil)
	}
	if err != nil {
		return nil, err
	}
	if d.Dev, err = d.openDevice(ctx); d.Dev == nil {
		d.Mem.Close()
		return nil, err
	}
	if fresh {
		f := register.Factory{Number: d.Cards.Options.MachineNo, Produced: fiscal.MustDate(2026, 1, 5),
			HardwareVersion: "EMU-1", SoftwareVersion: "fiscalkit"}
		if err := d.Dev.WriteFactoryData(ctx, f); err != nil {
			return nil, err
		}
		if err := d.Dev.Initialise(ctx); err != nil {
			return nil, err
		}
		if _, err := d.Dev.Distribute(ctx); err != nil {
			return nil, err
		}
		if _, err := d.Dev.LoadRoll(ctx); err != nil {
			return nil, err
		}
		if err := d.Save(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Device) openDevice(ctx context.Context) (*register.Device, error) {
	return register.Open(ctx, register.Config{Memory: d.Mem, Fiscal: d.Cards.Fiscal, User: d.Cards.User,
		UserPIN: []byte("12345678"), Clock: d.Now, Logger: d.logger})
}

// Restart closes Dev and opens a new register.Device on the same fiscal
// memory and cards (reset, as after a power cycle), as a restarted
// register does; it then runs start-up recovery. Handlers made before
// serve the closed device: call Handler again. Stop serving the old
// handler first.
func (d *Device) Restart(ctx context.Context) error {
	d.Dev.Close()
	d.Cards.Fiscal.Reset()
	d.Cards.User.Reset()
	dev, err := d.openDevice(ctx)
	if dev == nil {
		return err
	}
	d.Dev = dev
	return err
}

// Save writes the cards' state into Dir (nothing without a Dir).
func (d *Device) Save() error {
	if d.dir == "" {
		return nil
	}
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	if err := d.Cards.Fiscal.SaveFile(filepath.Join(d.dir, "fiscal.card")); err != nil {
		return err
	}
	return d.Cards.User.SaveFile(filepath.Join(d.dir, "user.card"))
}

// Close saves the cards and closes the device and its fiscal memory.
func (d *Device) Close() error {
	err := d.Save()
	d.Dev.Close()
	return errors.Join(err, d.Mem.Close())
}

// Handler returns link.DeviceHandler for the device with its memory,
// clock, card slots (the emulated fiscal and user cards) and check-card
// slot (the issued check card; none after reopening a Dir), saving the
// cards' state after every command that changes them. It also serves the
// service commands (link.InspectHandler, link.CardHandler,
// link.SelfTestHandler; the card commands only with
// DeviceOptions.ServiceMode) and the lookup by request id
// (link.RequestHandler).
func (d *Device) Handler() link.Handler {
	h := link.DeviceHandler(d.Dev, &link.DeviceOptions{Memory: d.Mem, Clock: d.Now, SetClock: d.SetClock,
		CheckCard: func() card.Transmitter {
			if d.Cards.Check == nil {
				return nil
			}
			return d.Cards.Check
		},
		FiscalReader: CardReader(d.Cards.Fiscal), UserReader: CardReader(d.Cards.User), ServiceMode: d.service})
	return &savingHandler{Handler: h, d: d}
}

// CardReader adapts an emulated card to link.CardReader: PowerOn is the
// card's Reset, PowerOff removes its power.
func CardReader(c *emulator.Card) link.CardReader { return emuReader{c} }

type emuReader struct{ c *emulator.Card }

func (r emuReader) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	return r.c.Transmit(ctx, capdu)
}
func (r emuReader) PowerOn(context.Context) ([]byte, error) { return r.c.PowerOn(), nil }
func (r emuReader) PowerOff(context.Context) error          { r.c.PowerOff(); return nil }

type savingHandler struct {
	link.Handler
	d *Device
}

var (
	_ link.InspectHandler  = (*savingHandler)(nil)
	_ link.CardHandler     = (*savingHandler)(nil)
	_ link.SelfTestHandler = (*savingHandler)(nil)
	_ link.RequestHandler  = (*savingHandler)(nil)
)

// InvoicesByRequest looks invoices up by request id; it may recover an
// interrupted operation first, so the cards are saved after it.
func (h *savingHandler) InvoicesByRequest(ctx context.Context, id uint64, skip, limit int) ([]link.Invoice, error) {
	v, err := h.Handler.(link.RequestHandler).InvoicesByRequest(ctx, id, skip, limit)
	return v, h.saved(err)
}

func (h *savingHandler) Inspect(ctx context.Context, req link.InspectRequest) (link.InspectResult, error) {
	v, err := h.Handler.(link.InspectHandler).Inspect(ctx, req)
	return v, h.saved(err)
}

func (h *savingHandler) CardPowerOn(ctx context.Context, slot link.CardSlot) ([]byte, error) {
	return h.Handler.(link.CardHandler).CardPowerOn(ctx, slot)
}

func (h *savingHandler) CardPowerOff(ctx context.Context, slot link.CardSlot) error {
	return h.Handler.(link.CardHandler).CardPowerOff(ctx, slot)
}

func (h *savingHandler) CardAPDU(ctx context.Context, slot link.CardSlot, capdu []byte) ([]byte, error) {
	return h.Handler.(link.CardHandler).CardAPDU(ctx, slot, capdu)
}

func (h *savingHandler) SelfTest(ctx context.Context, test link.Command) (link.SelfTestResult, error) {
	return h.Handler.(link.SelfTestHandler).SelfTest(ctx, test)
}

// saved stores the cards' state; a failure to save never turns the
// command's own result into an error (an issued invoice stays issued), it
// is kept for SaveErr.
func (h *savingHandler) saved(err error) error {
	if serr := h.d.Save(); serr != nil {
		h.d.saveErr.Store(&serr)
	}
	return err
}

func (h *savingHandler) Initialise(ctx context.Context) error {
	return h.saved(h.Handler.Initialise(ctx))
}

func (h *savingHandler) DistributeRoll(ctx context.Context) (link.Roll, error) {
	r, err := h.Handler.DistributeRoll(ctx)
	return r, h.saved(err)
}

func (h *savingHandler) LoadRoll(ctx context.Context) (link.Roll, error) {
	r, err := h.Handler.LoadRoll(ctx)
	return r, h.saved(err)
}

func (h *savingHandler) IssueNormal(ctx context.Context, req link.IssueRequest) (link.Invoice, error) {
	v, err := h.Handler.IssueNormal(ctx, req)
	return v, h.saved(err)
}

func (h *savingHandler) IssueReturn(ctx context.Context, req link.ReturnRequest) (link.Invoice, error) {
	v, err := h.Handler.IssueReturn(ctx, req)
	return v, h.saved(err)
}

func (h *savingHandler) Declare(ctx context.Context, req link.DeclareRequest) (link.Declaration, error) {
	v, err := h.Handler.Declare(ctx, req)
	return v, h.saved(err)
}

func (h *savingHandler) Void(ctx context.Context, req link.VoidRequest) ([]link.Invoice, error) {
	v, err := h.Handler.Void(ctx, req)
	return v, h.saved(err)
}
