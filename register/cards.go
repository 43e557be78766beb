package register

import (
	"context"
	"errors"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// The register talks to its cards only through the typed clients of
// package card (card.FiscalCard, card.UserCard, card.CheckCard) and their
// file codecs. The fiscal application is selected once per card session
// (Device.ensureSelected), so an invoice costs VERIFY_FISCAL_PIN and
// ISSUE_INVOICE only: four exchanges under T=0, two under T=1.

// newFiscalCard returns the fiscal-card client of a reader.
func (d *Device) newFiscalCard(t card.Transmitter) *card.FiscalCard {
	return card.NewFiscalCard(card.NewChannel(t, &card.ChannelOptions{Observer: d.obs}))
}

// newUserCard returns the user-card client of a reader.
func (d *Device) newUserCard(t card.Transmitter) *card.UserCard {
	return card.NewUserCard(card.NewChannel(t, &card.ChannelOptions{Observer: d.obs}))
}

// userPIN converts a configured user or check card PIN. Nil means none.
func userPIN(op string, pin []byte) (card.PIN, bool, error) {
	if pin == nil {
		return card.PIN{}, false, nil
	}
	if len(pin) != card.PINLen {
		return card.PIN{}, false, newErr(op, ErrBadRequest, nil, "card PIN has %d bytes, want %d", len(pin), card.PINLen)
	}
	return card.PIN(pin), true, nil
}

// taxItems reads user EF03 and keeps the items in use (index ≠ 0).
func taxItems(ctx context.Context, uc *card.UserCard) ([]fiscal.TaxItem, error) {
	all, err := uc.ReadTaxItems(ctx)
	if err != nil {
		return nil, err
	}
	items := all[:0]
	for _, it := range all {
		if it.Index != 0 {
			items = append(items, it)
		}
	}
	return items, nil
}

// controlRecord returns the user EF01 record for fiscal card no, or false.
func controlRecord(ctx context.Context, uc *card.UserCard, no fiscal.CardNumber) (card.ControlRecord, bool, error) {
	rec, err := uc.ControlRecordFor(ctx, no)
	if errors.Is(err, card.ErrRecordNotFound) {
		return rec, false, nil
	}
	return rec, err == nil, err
}

// isCardFormat reports a card answer or file that does not decode.
func isCardFormat(err error) bool {
	var fe *card.FormatError
	return errors.As(err, &fe)
}
