package link

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register"
)

// The service commands on the engine (service.go). deviceHandler
// implements InspectHandler, CardHandler and SelfTestHandler; each answers
// ErrUnsupported when the option it needs is not set.

var (
	_ InspectHandler  = (*deviceHandler)(nil)
	_ CardHandler     = (*deviceHandler)(nil)
	_ SelfTestHandler = (*deviceHandler)(nil)
)

// Inspect runs register.Device.Inspect with the check card of
// DeviceOptions.CheckCard.
func (h *deviceHandler) Inspect(ctx context.Context, req InspectRequest) (InspectResult, error) {
	if h.opts.CheckCard == nil {
		return InspectResult{}, ErrUnsupported
	}
	r := register.InspectRequest{Check: h.opts.CheckCard(), PIN: req.PIN, SetTime: req.SetTime}
	if !req.From.IsZero() {
		r.From = fiscal.DateOf(req.From)
	}
	if !req.To.IsZero() {
		r.To = fiscal.DateOf(req.To)
	}
	res, err := h.dev.Inspect(ctx, r)
	if err != nil {
		return InspectResult{}, devErr(CmdInspect, err)
	}
	return InspectResult{Type: uint8(res.Type), Items: uint32(max(res.Items, 0)), Records: uint32(max(res.Records, 0)),
		Truncated: res.Truncated}, nil
}

// reader returns the slot's reader, or the error to answer.
func (h *deviceHandler) reader(cmd Command, slot CardSlot) (CardReader, error) {
	switch slot {
	case SlotFiscal:
		if h.opts.FiscalReader == nil {
			return nil, ErrUnsupported
		}
		return h.opts.FiscalReader, nil
	case SlotUser:
		if h.opts.UserReader == nil {
			return nil, &DeviceError{Command: cmd, Code: CodeNoUserCard}
		}
		return h.opts.UserReader, nil
	}
	return nil, &DataError{Command: cmd, Field: "slot", Reason: fmt.Sprintf("%d is not a card slot", slot)}
}

func (h *deviceHandler) serviceReader(cmd Command, slot CardSlot) (CardReader, error) {
	if !h.opts.ServiceMode {
		return nil, ErrUnsupported
	}
	return h.reader(cmd, slot)
}

// reselect selects the fiscal application again after a pass-through
// command that may have changed the fiscal card's session (a power-on, a
// SELECT), so that the engine's next card sequence finds the card as it
// left it.
func (h *deviceHandler) reselect(ctx context.Context, cmd Command, rd CardReader) error {
	if _, err := card.NewChannel(rd, nil).SelectName(ctx, card.DFNameFiscal); err != nil {
		return fmt.Errorf("%w: selecting the fiscal application again: %w",
			&DeviceError{Command: cmd, Code: CodeFiscalCardRead}, err)
	}
	return nil
}

// CardPowerOn powers the slot's card on; for the fiscal card the fiscal
// application is selected again before the reply.
func (h *deviceHandler) CardPowerOn(ctx context.Context, slot CardSlot) ([]byte, error) {
	rd, err := h.serviceReader(CmdCardPowerOn, slot)
	if err != nil {
		return nil, err
	}
	atr, err := rd.PowerOn(ctx)
	if err != nil {
		return nil, cardPowerErr(CmdCardPowerOn, slot, err)
	}
	if slot == SlotFiscal {
		if err := h.reselect(ctx, CmdCardPowerOn, rd); err != nil {
			return nil, err
		}
	}
	return atr, nil
}

// CardPowerOff powers the slot's card off. The engine's fiscal operations
// fail with "no fiscal card" until it is powered on again.
func (h *deviceHandler) CardPowerOff(ctx context.Context, slot CardSlot) error {
	rd, err := h.serviceReader(CmdCardPowerOff, slot)
	if err != nil {
		return err
	}
	if err := rd.PowerOff(ctx); err != nil {
		return cardPowerErr(CmdCardPowerOff, slot, err)
	}
	return nil
}

func cardPowerErr(cmd Command, slot CardSlot, err error) error {
	code := CodeFiscalCardPower
	if slot == SlotUser {
		code = CodeUserCardPower
	}
	return fmt.Errorf("%w: %w", &DeviceError{Command: cmd, Code: code}, err)
}

// CardAPDU forwards one read-only ISO command (AllowedAPDU, checked here
// again) and returns the card's response unchanged, status word included;
// a SELECT on the fiscal card is followed by selecting the fiscal
// application again (a 61xx answer to it is fetched first and returned as
// the response), so read fiscal-card files by SFI (READ BINARY with P1 =
// 0x80|SFI, READ RECORD with P2 = SFI<<3|4).
func (h *deviceHandler) CardAPDU(ctx context.Context, slot CardSlot, capdu []byte) ([]byte, error) {
	rd, err := h.serviceReader(CmdCardAPDU, slot)
	if err != nil {
		return nil, err
	}
	if ok, _ := AllowedAPDU(capdu); !ok {
		return nil, &DeviceError{Command: CmdCardAPDU, Code: CodeCardCommandRefused}
	}
	rapdu, err := rd.Transmit(ctx, capdu)
	if err != nil {
		code := CodeFiscalCardRead
		if slot == SlotUser {
			code = CodeUserCardRead
		}
		return nil, fmt.Errorf("%w: %w", &DeviceError{Command: CmdCardAPDU, Code: code}, err)
	}
	if slot == SlotFiscal && capdu[1] == 0xA4 {
		if n := len(rapdu); n == 2 && rapdu[0] == 0x61 {
			// Fetch the FCI now: selecting the fiscal application again
			// below would replace it.
			if rapdu, err = rd.Transmit(ctx, []byte{0x00, 0xC0, 0x00, 0x00, rapdu[1]}); err != nil {
				return nil, fmt.Errorf("%w: %w", &DeviceError{Command: CmdCardAPDU, Code: CodeFiscalCardRead}, err)
			}
		}
		if err := h.reselect(ctx, CmdCardAPDU, rd); err != nil {
			return nil, err
		}
	}
	return rapdu, nil
}

// SelfTest runs one self-test:
//   - 5C memory: memory.Memory.Verify over every segment (needs
//     DeviceOptions.Memory); Value is the number of good records.
//   - 5D fiscal card, 5E user card: SELECT of the card's application; a
//     pass means the card answers 9000; Value is the status word (0 when
//     the card did not answer at all).
//   - 5F clock: the clock's date is not before the newest invoice or daily
//     record; Value is that record's date as the decimal CCYYMMDD.
func (h *deviceHandler) SelfTest(ctx context.Context, test Command) (SelfTestResult, error) {
	switch test {
	case CmdSelfTestMemory:
		if h.opts.Memory == nil {
			return SelfTestResult{}, ErrUnsupported
		}
		rep, err := h.opts.Memory.Verify(ctx)
		var res SelfTestResult
		if rep != nil {
			res.Value = uint32(min(max(rep.Records, 0), 0xFFFFFFFF))
		}
		if err != nil || rep == nil || !rep.OK() {
			res.Code, res.Detail = CodeMemoryFault, "memory verify failed"
			if err != nil {
				res.Detail = err.Error()
			}
			return res, nil
		}
		res.Passed, res.Detail = true, fmt.Sprintf("%d records verified", rep.Records)
		return res, nil
	case CmdSelfTestFiscal, CmdSelfTestUser:
		slot, name, absent := SlotFiscal, card.DFNameFiscal, CodeNoFiscalCard
		if test == CmdSelfTestUser {
			slot, name, absent = SlotUser, card.DFNameUser, CodeNoUserCard
		}
		rd, err := h.reader(test, slot)
		if err != nil {
			var de *DeviceError
			if errors.As(err, &de) && de.Code == CodeNoUserCard {
				return SelfTestResult{Code: CodeNoUserCard, Detail: "no user card reader"}, nil
			}
			return SelfTestResult{}, err
		}
		_, err = card.NewChannel(rd, nil).SelectName(ctx, name)
		var se *card.StatusError
		switch {
		case err == nil:
			return SelfTestResult{Passed: true, Value: 0x9000, Detail: "SELECT " + name + ": 9000"}, nil
		case errors.As(err, &se):
			code := CodeIllegalFiscalCard
			if slot == SlotUser {
				code = CodeIllegalUserCard
			}
			return SelfTestResult{Code: code, Value: uint32(se.SW), Detail: fmt.Sprintf("SELECT %s: %04X", name, uint16(se.SW))}, nil
		}
		return SelfTestResult{Code: absent, Detail: "card does not answer"}, nil
	case CmdSelfTestClock:
		now := fiscal.DateOf(h.dev.Now())
		newest := h.dev.Status().LastDaily
		last, err := h.dev.LastInvoice(ctx)
		switch {
		case err == nil:
			if last.Detail.Date.After(newest) {
				newest = last.Detail.Date
			}
		case !errors.Is(err, register.ErrNotFound):
			return SelfTestResult{}, devErr(test, err)
		}
		res := SelfTestResult{Passed: !now.Before(newest)}
		if !newest.IsZero() {
			res.Value = uint32(newest.Year*10000 + int(newest.Month)*100 + newest.Day)
		}
		res.Detail = fmt.Sprintf("clock %s, newest record %04d-%02d-%02d", h.dev.Now().In(chinaTime).Format(time.DateTime),
			newest.Year, int(newest.Month), newest.Day)
		if !res.Passed {
			res.Code = CodeClockBackwards
		}
		return res, nil
	}
	return SelfTestResult{}, ErrUnsupported
}
