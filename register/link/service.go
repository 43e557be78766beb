package link

import (
	"context"
	"fmt"
	"time"
)

// Service commands of reference §5.2: inspection to a check card (45), IC
// card power and raw APDUs (59, 5A, 5B) and self-tests (5C-5F). A Handler
// offers them by also implementing InspectHandler, CardHandler or
// SelfTestHandler; the Server answers CodeUnknownCommand for a command whose
// interface the handler lacks.

// InspectHandler is implemented by handlers that serve CmdInspect.
type InspectHandler interface {
	Inspect(ctx context.Context, req InspectRequest) (InspectResult, error)
}

// CardHandler is implemented by handlers that serve the card pass-through
// commands CmdCardPowerOn, CmdCardPowerOff and CmdCardAPDU. The Server
// forwards only APDUs that AllowedAPDU accepts; everything else is refused
// with CodeCardCommandRefused before the handler is called, and handlers
// check again (DeviceHandler does).
type CardHandler interface {
	CardPowerOn(ctx context.Context, slot CardSlot) (atr []byte, err error)
	CardPowerOff(ctx context.Context, slot CardSlot) error
	CardAPDU(ctx context.Context, slot CardSlot, capdu []byte) (rapdu []byte, err error)
}

// SelfTestHandler is implemented by handlers that serve the self-test
// commands (CmdSelfTestMemory … CmdSelfTestClock).
type SelfTestHandler interface {
	SelfTest(ctx context.Context, test Command) (SelfTestResult, error)
}

// InspectRequest is the data of CmdInspect (核查数据写卡): flags u8 (bit 0:
// a PIN follows in the next field) ‖ check card PIN[8] (zero without bit 0)
// ‖ from (BCD CCYYMMDD, zero: open) ‖ to (BCD, zero: open) ‖ set time (BCD
// CCYYMMDDhhmmss, zero: none; used by a type-3 check card, 修改时钟).
// 24 bytes. The check card itself is in the register's check-card slot.
type InspectRequest struct {
	PIN      []byte // nil: none presented; else exactly 8 bytes
	From, To time.Time
	SetTime  time.Time
}

// InspectResult is the reply to CmdInspect: check type u8 (0 invoice
// details, 1 daily data, 2 declarations, 3 clock) ‖ items u32 (records
// exported) ‖ records u32 (233-byte records written to the check card) ‖
// truncated u8 (1: the check card ran out of room). 10 bytes.
type InspectResult struct {
	Type      uint8
	Items     uint32
	Records   uint32
	Truncated bool
}

// CardSlot names a card reader of the register in the card commands.
type CardSlot uint8

// Card slots (project numbering; the reference gives none).
const (
	SlotFiscal CardSlot = 1 // 税控卡
	SlotUser   CardSlot = 2 // 用户卡
)

func (s CardSlot) String() string {
	switch s {
	case SlotFiscal:
		return "fiscal card"
	case SlotUser:
		return "user card"
	}
	return fmt.Sprintf("CardSlot(%d)", uint8(s))
}

// Sizes of the card commands.
const (
	MaxATR       = 33  // ISO 7816-3
	maxCardAPDU  = 261 // the longest short APDU: header 4 ‖ Lc ‖ 255 data ‖ Le
	maxCardReply = 258 // 256 data ‖ SW1 SW2
)

// AllowedAPDU reports whether the pass-through (CmdCardAPDU) may send capdu
// to a card, and why not. Only ISO 7816-4 commands with CLA 00 that read or
// select and cannot change what the card stores are allowed: SELECT (A4),
// READ BINARY (B0), READ RECORD (B2), GET CHALLENGE (84) and GET RESPONSE
// (C0). Every proprietary command (CLA C0: ISSUE_INVOICE, VERIFY_FISCAL_PIN,
// DECLARE_DUTY, …), secure messaging (CLA 84: the PIN unblock), every write
// (UPDATE BINARY/RECORD, APPEND RECORD), VERIFY and the authentications are
// refused: the fiscal rules are enforced by the register's own card
// sequences, and a lab harness must not be able to issue, declare, load
// rolls or spend PIN retries around them. The Server also forwards a GET
// RESPONSE only directly after a pass-through command on the same slot
// that the card answered 61xx, for at most xx bytes, so it never fetches
// data the card holds for one of the register's own commands.
func AllowedAPDU(capdu []byte) (bool, string) {
	if len(capdu) < 4 {
		return false, "shorter than a command header"
	}
	if len(capdu) > maxCardAPDU {
		return false, "longer than a short APDU"
	}
	if capdu[0] != 0x00 {
		return false, fmt.Sprintf("CLA %02X: only the ISO class 00 is passed through", capdu[0])
	}
	switch capdu[1] {
	case 0xA4, 0xB0, 0xB2, 0x84, 0xC0:
		return true, ""
	}
	return false, fmt.Sprintf("INS %02X is not a read-only ISO command (A4, B0, B2, 84, C0)", capdu[1])
}

// SelfTestResult is the reply to a self-test: passed u8 (1 pass, 0 fail)
// ‖ code u8 (the error code of the failure, 0 on a pass) ‖ value u32 (what
// the test counted: records verified, the card's status word) ‖ detail[40]
// (ASCII, NUL-padded). 46 bytes.
type SelfTestResult struct {
	Passed bool
	Code   ErrorCode
	Value  uint32
	Detail string
}

// DetailLen is the size of SelfTestResult.Detail on the wire.
const DetailLen = 40

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func (x InspectRequest) encode(w *writer) {
	var pin [8]byte
	switch {
	case x.PIN == nil:
		w.u8(0)
	case len(x.PIN) != len(pin):
		w.fail("PIN", fmt.Sprintf("%d bytes, want 8", len(x.PIN)))
		w.u8(1)
	default:
		w.u8(1)
		copy(pin[:], x.PIN)
	}
	w.raw(pin[:])
	w.date(x.From, "from")
	w.date(x.To, "to")
	w.dateTime(x.SetTime, "set time")
}

func (x *InspectRequest) decode(r *reader) {
	flags := r.u8("flags")
	if r.err == nil && flags > 1 {
		r.fail("flags", fmt.Sprintf("%02X: only bit 0 is defined", flags))
	}
	var pin [8]byte
	r.copyTo(pin[:], "PIN")
	if r.err == nil && flags == 0 && pin != [8]byte{} {
		r.fail("PIN", "set although flags say none")
	}
	if flags == 1 {
		x.PIN = append([]byte(nil), pin[:]...)
	}
	x.From = r.date("from")
	x.To = r.date("to")
	x.SetTime = r.dateTime("set time")
	if r.err == nil && !x.From.IsZero() && !x.To.IsZero() && x.To.Before(x.From) {
		r.fail("to", "before from")
	}
}

func (x InspectResult) encode(w *writer) {
	w.u8(x.Type)
	w.u32(x.Items)
	w.u32(x.Records)
	w.u8(boolByte(x.Truncated))
}

func (x *InspectResult) decode(r *reader) {
	x.Type = r.u8("check type")
	if r.err == nil && x.Type > 3 {
		r.fail("check type", fmt.Sprintf("%d is not 0-3", x.Type))
	}
	x.Items = r.u32("items")
	x.Records = r.u32("records")
	t := r.u8("truncated")
	if r.err == nil && t > 1 {
		r.fail("truncated", "not 0 or 1")
	}
	x.Truncated = t == 1
}

func (x SelfTestResult) encode(w *writer) {
	w.u8(boolByte(x.Passed))
	w.u8(uint8(x.Code))
	w.u32(x.Value)
	d := []byte(x.Detail)
	if len(d) > DetailLen {
		d = d[:DetailLen] // detail is informative: cut, never fail the reply
	}
	for i, c := range d {
		if c < 0x20 || c > 0x7E {
			d = append(d[:i:i], '?')
			break
		}
	}
	w.text(d, DetailLen, "detail")
}

func (x *SelfTestResult) decode(r *reader) {
	p := r.u8("passed")
	if r.err == nil && p > 1 {
		r.fail("passed", "not 0 or 1")
	}
	x.Passed = p == 1
	x.Code = ErrorCode(r.u8("code"))
	x.Value = r.u32("value")
	d := r.text(DetailLen, "detail")
	for _, c := range d {
		if c < 0x20 || c > 0x7E {
			r.fail("detail", fmt.Sprintf("byte %02X is not printable ASCII", c))
			return
		}
	}
	x.Detail = string(d)
	if r.err == nil && x.Passed && x.Code != 0 {
		r.fail("code", "set on a passed test")
	}
}

// decodeSlot reads the card slot byte.
func decodeSlot(r *reader) CardSlot {
	s := CardSlot(r.u8("slot"))
	if r.err == nil && s != SlotFiscal && s != SlotUser {
		r.fail("slot", fmt.Sprintf("%d is not 1 (fiscal) or 2 (user)", s))
	}
	return s
}

// decodeCardAPDU reads the data of CmdCardAPDU: slot u8 ‖ command APDU
// (4-261 bytes).
func decodeCardAPDU(r *reader) (CardSlot, []byte) {
	s := decodeSlot(r)
	if r.err != nil {
		return s, nil
	}
	if len(r.b) < 4 || len(r.b) > maxCardAPDU {
		r.fail("APDU", fmt.Sprintf("%d bytes, want 4-%d", len(r.b), maxCardAPDU))
		return s, nil
	}
	return s, r.take(len(r.b), "APDU")
}

// ---- client side ----

// Inspect runs an inspection with the check card in the register's slot
// (核查数据写卡). It is not re-sent (records are appended to the check card);
// an ambiguous failure returns an error wrapping ErrOutcomeUnknown.
func (c *Client) Inspect(ctx context.Context, req InspectRequest) (InspectResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x InspectResult
	err := c.call(ctx, CmdInspect, req.encode, x.decode, false)
	if err == nil && !req.SetTime.IsZero() {
		c.clockKnown = false // a type-3 inspection may have moved the register's clock
	}
	return x, err
}

// CardPowerOn powers the card in slot on (or resets it) and returns its
// ATR. Only registers in a service mode answer it (see CardHandler).
func (c *Client) CardPowerOn(ctx context.Context, slot CardSlot) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var atr []byte
	err := c.call(ctx, CmdCardPowerOn, func(w *writer) { w.u8(uint8(slot)) }, func(r *reader) {
		if len(r.b) == 0 || len(r.b) > MaxATR {
			r.fail("ATR", fmt.Sprintf("%d bytes, want 1-%d", len(r.b), MaxATR))
			return
		}
		atr = r.take(len(r.b), "ATR")
	}, true)
	return atr, err
}

// CardPowerOff powers the card in slot off.
func (c *Client) CardPowerOff(ctx context.Context, slot CardSlot) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.call(ctx, CmdCardPowerOff, func(w *writer) { w.u8(uint8(slot)) }, nil, true)
}

// CardAPDU sends a raw command APDU to the card in slot and returns the
// response APDU (status word last). Commands that AllowedAPDU refuses are
// not sent; the register refuses them too (CodeCardCommandRefused).
func (c *Client) CardAPDU(ctx context.Context, slot CardSlot, capdu []byte) ([]byte, error) {
	if ok, why := AllowedAPDU(capdu); !ok {
		return nil, fmt.Errorf("%w: %s", ErrCardCommandRefused, why)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var rapdu []byte
	err := c.call(ctx, CmdCardAPDU, func(w *writer) { w.u8(uint8(slot)); w.raw(capdu) }, func(r *reader) {
		if len(r.b) < 2 || len(r.b) > maxCardReply {
			r.fail("response APDU", fmt.Sprintf("%d bytes, want 2-%d", len(r.b), maxCardReply))
			return
		}
		rapdu = r.take(len(r.b), "response APDU")
	}, true)
	return rapdu, err
}

// SelfTest runs one self-test (test is CmdSelfTestMemory …
// CmdSelfTestClock). A failed test is a result with Passed false, not an
// error; an error means the test could not run.
func (c *Client) SelfTest(ctx context.Context, test Command) (SelfTestResult, error) {
	if !test.SelfTest() {
		return SelfTestResult{}, fmt.Errorf("%w: %v is not a self-test", ErrMalformed, test)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var x SelfTestResult
	err := c.call(ctx, test, nil, x.decode, true)
	return x, err
}

// ---- server side ----

// pendingData remembers that the last command the server dispatched was a
// pass-through APDU the card answered 61xx: only then may a GET RESPONSE
// follow, for at most xx bytes (00: 256). Any other command in between
// clears it, so a GET RESPONSE can never fetch what the card still holds
// for one of the register's own commands (a new fiscal PIN, a 税控码).
type pendingData struct {
	slot  CardSlot
	n     int
	valid bool
}

func (p pendingData) allows(slot CardSlot, capdu []byte) (bool, string) {
	if !p.valid || p.slot != slot {
		return false, "GET RESPONSE only directly after a pass-through command the card answered 61xx"
	}
	le, n := 256, p.n
	if len(capdu) == 5 && capdu[4] != 0 {
		le = int(capdu[4])
	}
	if n == 0 {
		n = 256
	}
	if len(capdu) > 5 || le > n {
		return false, fmt.Sprintf("GET RESPONSE for %d bytes, the card holds %d", le, n)
	}
	return true, ""
}

// dispatchService serves the service commands; handled is false for any
// other command. s.mu is held.
func (s *Server) dispatchService(ctx context.Context, cmd Command, r *reader, w *writer) (handled bool, err error) {
	switch {
	case cmd == CmdInspect:
		h, ok := s.h.(InspectHandler)
		if !ok {
			return true, ErrUnsupported
		}
		var q InspectRequest
		q.decode(r)
		if err = r.end(); err != nil {
			return true, err
		}
		x, err := h.Inspect(ctx, q)
		if err == nil {
			x.encode(w)
		}
		return true, err
	case cmd == CmdCardPowerOn || cmd == CmdCardPowerOff || cmd == CmdCardAPDU:
		h, ok := s.h.(CardHandler)
		if !ok {
			return true, ErrUnsupported
		}
		switch cmd {
		case CmdCardPowerOn:
			slot := decodeSlot(r)
			if err = r.end(); err != nil {
				return true, err
			}
			atr, err := h.CardPowerOn(ctx, slot)
			if err == nil {
				if len(atr) == 0 || len(atr) > MaxATR {
					return true, fmt.Errorf("link: card handler returned a %d-byte ATR", len(atr))
				}
				w.raw(atr)
			}
			return true, err
		case CmdCardPowerOff:
			slot := decodeSlot(r)
			if err = r.end(); err != nil {
				return true, err
			}
			return true, h.CardPowerOff(ctx, slot)
		default:
			slot, capdu := decodeCardAPDU(r)
			if err = r.end(); err != nil {
				return true, err
			}
			ok, why := AllowedAPDU(capdu)
			if ok && capdu[1] == 0xC0 {
				ok, why = s.prevPending.allows(slot, capdu)
			}
			if !ok {
				s.opts.Logger.Info("link server: card command refused", "slot", slot, "why", why)
				return true, &DeviceError{Command: cmd, Code: CodeCardCommandRefused}
			}
			rapdu, err := h.CardAPDU(ctx, slot, capdu)
			if err == nil {
				if len(rapdu) < 2 || len(rapdu) > maxCardReply {
					return true, fmt.Errorf("link: card handler returned a %d-byte response APDU", len(rapdu))
				}
				w.raw(rapdu)
				if sw1 := rapdu[len(rapdu)-2]; sw1 == 0x61 {
					s.pending = pendingData{slot: slot, n: int(rapdu[len(rapdu)-1]), valid: true}
				}
			}
			return true, err
		}
	case cmd.SelfTest():
		h, ok := s.h.(SelfTestHandler)
		if !ok {
			return true, ErrUnsupported
		}
		if err = r.end(); err != nil {
			return true, err
		}
		x, err := h.SelfTest(ctx, cmd)
		if err == nil {
			x.encode(w)
		}
		return true, err
	}
	return false, nil
}
