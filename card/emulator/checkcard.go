package emulator

import (
	"crypto/subtle"
	"errors"

	"github.com/fiscalkit/gb18240/card"
)

// Byte offsets in the check card's files (gb18240.md §2.5; doc.go).
const (
	cEF01TaxpayerNo = 0
	cEF01Type       = 8
	cEF01KeyID      = 9
)

// externalAuth: EXTERNAL AUTHENTICATE 00 82 00 key id 08 cryptogram[8] on
// the check card, after its own GET CHALLENGE. The key id must be the one
// in EF01; the cryptogram is the fiscal card's INTERNAL AUTHENTICATE of the
// challenge. Failures count down a try counter like a PIN (63Cx, 6983).
func (c *Card) externalAuth(cmd card.Command) ([]byte, card.SW) {
	if cmd.P1 != 0 {
		return nil, card.SWWrongP1P2
	}
	if len(cmd.Data) != ChallengeLen {
		return nil, card.SWWrongLength
	}
	if c.st.AuthTries == 0 {
		return nil, card.SWAuthBlocked
	}
	ef01 := c.ef(1)
	if cmd.P2 != ef01[cEF01KeyID] {
		return nil, card.SWRefDataNotFound
	}
	chal := c.ses.challenge
	if chal == nil {
		return nil, card.SWConditionsNotSatisfied
	}
	c.ses.challenge = nil
	want, err := c.opts.Profile.AuthCryptogram(ef01[cEF01TaxpayerNo:cEF01TaxpayerNo+CardNoLen], cmd.P2, chal)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, card.SWRefDataNotFound
		}
		return nil, card.SWEEPROMError
	}
	if subtle.ConstantTimeCompare(want, cmd.Data) != 1 {
		c.ses.extAuthOK = false
		c.st.AuthTries--
		if c.st.AuthTries <= 0 {
			c.st.AuthTries = 0
			return nil, card.SWAuthBlocked
		}
		return nil, card.SWRetriesLeft(c.st.AuthTries)
	}
	c.st.AuthTries = c.st.PINMax
	c.ses.extAuthOK = true
	return nil, card.SWOK
}
