package emulator

import (
	"context"
	"fmt"

	"github.com/fiscalkit/gb18240/card"
)

// SWError is returned by CardSet.Initialise when a card answers a status
// word other than 9000; SW is the raw status word.
type SWError struct {
	Step string
	SW   card.SW
}

func (e *SWError) Error() string { return fmt.Sprintf("emulator: %s: card answered %v", e.Step, e.SW) }

// exchange sends one command through t and follows 61xx with GET RESPONSE,
// so it works with both T=0 and T=1 style cards.
func exchange(ctx context.Context, t card.Transmitter, step string, cmd card.Command) ([]byte, error) {
	raw, err := cmd.Bytes()
	if err != nil {
		return nil, err
	}
	var data []byte
	for {
		resp, err := t.Transmit(ctx, raw)
		if err != nil {
			return nil, err
		}
		r, err := card.ParseResponse(resp)
		if err != nil {
			return nil, err
		}
		data = append(data, r.Data...)
		if n, ok := r.SW.BytesAvailable(); ok {
			raw = []byte{0x00, card.INSGetResponse, 0x00, 0x00, byte(n)}
			continue
		}
		if r.SW != card.SWOK {
			return nil, &SWError{Step: step, SW: r.SW}
		}
		return data, nil
	}
}

// Initialise runs the register's initialisation flow on the set through
// plain APDUs, the way a register would: select the applications,
// registration (GET_REGISTER_NB → REGISTER_SIGN → TERMINAL_REGISTER),
// VERIFY_FISCAL_PIN, UPDATE_CONTROLS from the user card's EF01 record,
// DISTRIBUTE_INVOICE_NB and INPUT_INVOICE_NB of the first roll. It returns
// the current fiscal PIN; the fiscal card is left verified in this power
// session with TSAM01 selected, ready for ISSUE_INVOICE.
func (cs *CardSet) Initialise(ctx context.Context) (pin []byte, err error) {
	f, u := cs.Fiscal, cs.User
	sel := func(c *Card, name string) error {
		_, err := exchange(ctx, c, "SELECT "+name, card.Command{CLA: card.CLAISO, INS: card.INSSelect, P1: 0x04, Data: []byte(name)})
		return err
	}
	if err := sel(f, card.DFNameFiscal); err != nil {
		return nil, err
	}
	if err := sel(u, card.DFNameUser); err != nil {
		return nil, err
	}
	reg, err := exchange(ctx, f, "GET_REGISTER_NB", card.Command{CLA: card.CLAProprietary, INS: card.INSGetRegisterNB, Ne: GetRegisterNBLen})
	if err != nil {
		return nil, err
	}
	mac2, err := exchange(ctx, u, "REGISTER_SIGN", card.Command{CLA: card.CLAProprietary, INS: card.INSRegisterSign, Data: reg, Ne: MACLen})
	if err != nil {
		return nil, err
	}
	pin, err = exchange(ctx, f, "TERMINAL_REGISTER", card.Command{CLA: card.CLAProprietary, INS: card.INSTerminalRegister, Data: mac2, Ne: PINLen})
	if err != nil {
		return nil, err
	}
	if pin, err = exchange(ctx, f, "VERIFY_FISCAL_PIN", card.Command{CLA: card.CLAProprietary, INS: card.INSVerifyFiscalPIN, Data: pin, Ne: PINLen}); err != nil {
		return nil, err
	}
	rec, err := exchange(ctx, u, "READ RECORD EF01", card.Command{CLA: card.CLAISO, INS: card.INSReadRecord, P1: 1, P2: 1<<3 | 4, Ne: UserEF01RecLen})
	if err != nil {
		return pin, err
	}
	if _, err := exchange(ctx, f, "UPDATE_CONTROLS", card.Command{CLA: card.CLAProprietary, INS: card.INSUpdateControls, Data: rec[CardNoLen:]}); err != nil {
		return pin, err
	}
	roll, err := exchange(ctx, u, "DISTRIBUTE_INVOICE_NB", card.Command{CLA: card.CLAProprietary, INS: card.INSDistributeInvoiceNB, Ne: RollLen + MACLen})
	if err != nil {
		return pin, err
	}
	if _, err := exchange(ctx, f, "INPUT_INVOICE_NB", card.Command{CLA: card.CLAProprietary, INS: card.INSInputInvoiceNB, Data: roll}); err != nil {
		return pin, err
	}
	return pin, nil
}
