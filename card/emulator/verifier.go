package emulator

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Errors of Verifier.
var (
	// ErrBadFiscalCode means a 税控码 is not the one the card would compute.
	ErrBadFiscalCode = errors.New("emulator: fiscal code does not verify")
	// ErrBadMAC means a MAC (roll MAC, declaration MAC1, ...) does not verify.
	ErrBadMAC = errors.New("emulator: MAC does not verify")
	// ErrBadLength means a block given to the Verifier has the wrong size
	// or XOR trailer.
	ErrBadLength = errors.New("emulator: block of wrong length or XOR")
)

// Verifier checks values a card produced, given its crypto profile: what
// the register, the tax office or a test does with a 税控码, a signature
// or a MAC it received.
type Verifier struct {
	Profile Profile
}

// FiscalCode checks the 税控码 of an ISSUE_INVOICE block (44 bytes, XOR
// included) issued by fiscal card cardNo after the invoice whose code was
// previous (zero for the card's first invoice).
func (v Verifier) FiscalCode(cardNo fiscal.CardNumber, previous fiscal.FiscalCode, block []byte, code fiscal.FiscalCode) error {
	if len(block) != InvoiceBlockLen || !xorOK(block) {
		return fmt.Errorf("%w: invoice block of %d bytes", ErrBadLength, len(block))
	}
	want, err := v.Profile.FiscalCode(cardNo[:], previous[:], block)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(want, code[:]) != 1 {
		return ErrBadFiscalCode
	}
	return nil
}

// DailySignature checks the 128-byte signature of a 64-byte daily record.
func (v Verifier) DailySignature(cardNo fiscal.CardNumber, daily, signature []byte) error {
	if len(daily) != DailyRecordLen || len(signature) != SignatureLen {
		return fmt.Errorf("%w: daily record %d, signature %d bytes", ErrBadLength, len(daily), len(signature))
	}
	return v.Profile.VerifySignature(cardNo[:], daily, signature)
}

// Declaration checks a DECLARE_DUTY response (142 bytes, XOR included)
// for the 70-byte declaration it answered: the XOR, MAC1 and signature.
func (v Verifier) Declaration(cardNo fiscal.CardNumber, declaration, response []byte) error {
	if len(declaration) != DeclarationLen || len(response) != DeclareResponseLen || !xorOK(response) {
		return fmt.Errorf("%w: declaration %d, response %d bytes", ErrBadLength, len(declaration), len(response))
	}
	body := cat(declaration, response[:9])
	mac, err := v.Profile.DeclarationMAC(cardNo[:], body)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(mac, response[9:13]) != 1 {
		return fmt.Errorf("%w: declaration MAC1", ErrBadMAC)
	}
	return v.Profile.VerifySignature(cardNo[:], cat(body, mac), response[13:13+SignatureLen])
}

// Roll checks the MAC of a signed roll (code ‖ start ‖ end ‖ MAC, 22 bytes)
// handed out for taxpayer taxpayerNo.
func (v Verifier) Roll(taxpayerNo fiscal.CardNumber, signedRoll []byte) error {
	if len(signedRoll) != RollLen+MACLen {
		return fmt.Errorf("%w: signed roll of %d bytes", ErrBadLength, len(signedRoll))
	}
	mac, err := v.Profile.RollMAC(taxpayerNo[:], signedRoll[:RollLen])
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(mac, signedRoll[RollLen:]) != 1 {
		return fmt.Errorf("%w: roll MAC", ErrBadMAC)
	}
	return nil
}
