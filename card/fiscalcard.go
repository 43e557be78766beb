package card

import (
	"context"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

// PIN is an 8-byte PIN: the rolling fiscal PIN of the fiscal card, or the
// user / check card PIN.
type PIN [PINLen]byte

// Response lengths of the proprietary commands (reference §2.2, §2.3).
const (
	DailySignResponseLen = fiscal.SignatureLen + 1 // DAILY_COLLECT_SIGN: signature ‖ XOR
	MACLen               = 4
)

// FiscalCard is a client of the fiscal card (税控卡, application TSAM01).
//
// Select (or OpenFiscalCard) selects the application once; every later
// call assumes it is still selected, so issuing an invoice costs exactly
// VERIFY_FISCAL_PIN and ISSUE_INVOICE (four exchanges under T=0). Inputs
// are validated before anything is sent; a bad field is an
// *ArgumentError and no command reaches the card.
type FiscalCard struct {
	ch *Channel
}

// NewFiscalCard returns a client that sends on ch. It sends nothing.
func NewFiscalCard(ch *Channel) *FiscalCard { return &FiscalCard{ch: ch} }

// OpenFiscalCard wraps t in a Channel and selects TSAM01.
func OpenFiscalCard(ctx context.Context, t Transmitter, opts *ChannelOptions) (*FiscalCard, error) {
	f := NewFiscalCard(NewChannel(t, opts))
	if err := f.Select(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// Channel returns the channel the client sends on.
func (f *FiscalCard) Channel() *Channel { return f.ch }

// Select selects the fiscal application (00 A4 04 00 06 "TSAM01").
func (f *FiscalCard) Select(ctx context.Context) error {
	_, err := f.ch.SelectName(ctx, DFNameFiscal)
	return err
}

// prop sends a proprietary command and checks the response length.
func prop(ctx context.Context, ch *Channel, ins byte, data []byte, ne int) ([]byte, error) {
	d, err := ch.Do(ctx, Command{CLA: CLAProprietary, INS: ins, Data: data, Ne: ne})
	if err != nil {
		return nil, err
	}
	if len(d) != ne {
		return nil, &FormatError{What: InsName(CLAProprietary, ins) + " response", Reason: fmt.Sprintf("%d bytes, want %d", len(d), ne), Err: ErrMalformedRecord}
	}
	return d, nil
}

// GetRegisterNB starts registration: C0 F0 00 00 10 → random[4] ‖ fiscal
// card number[8] ‖ MAC1[4], to be passed to UserCard.RegisterSign.
// 6901 (ErrAlreadyRegistered) means the card is bound to a machine.
func (f *FiscalCard) GetRegisterNB(ctx context.Context) (RegisterNB, error) {
	d, err := prop(ctx, f.ch, INSGetRegisterNB, nil, RegisterNBLen)
	if err != nil {
		return RegisterNB{}, err
	}
	var r RegisterNB
	err = r.UnmarshalBinary(d)
	return r, err
}

// TerminalRegister completes registration with the user card's MAC2:
// C0 F1 00 00 04 MAC2 → the first fiscal PIN (8 bytes). The caller must
// store the PIN durably before doing anything else.
func (f *FiscalCard) TerminalRegister(ctx context.Context, mac2 [MACLen]byte) (PIN, error) {
	d, err := prop(ctx, f.ch, INSTerminalRegister, mac2[:], PINLen)
	if err != nil {
		return PIN{}, err
	}
	return PIN(d), nil
}

// VerifyPIN presents the current fiscal PIN: C0 F9 00 00 08 PIN, Le 08.
// The card answers with the next PIN, which replaces the old one at once:
// the caller must persist it before anything else. A wrong PIN gives a
// *PINError (errors.As) with the tries left; a blocked card ErrPINBlocked.
func (f *FiscalCard) VerifyPIN(ctx context.Context, pin PIN) (PIN, error) {
	d, err := prop(ctx, f.ch, INSVerifyFiscalPIN, pin[:], PINLen)
	if err != nil {
		return PIN{}, err
	}
	return PIN(d), nil
}

// IssueInvoice has the card code one invoice: C0 F2 00 00 2C block Le 08 →
// the 8-byte 税控码. The block is validated first (fiscal
// IssueInvoiceBlock.Validate). 9401 is ErrAmountOverLimit, 6901
// ErrNotRegistered, 6982 ErrSecurityStatus (no VerifyPIN in this session).
func (f *FiscalCard) IssueInvoice(ctx context.Context, b fiscal.IssueInvoiceBlock) (fiscal.FiscalCode, error) {
	if err := b.Validate(); err != nil {
		return fiscal.FiscalCode{}, &ArgumentError{Command: "ISSUE_INVOICE", Field: "block", Reason: "invalid invoice", Err: err}
	}
	data, err := b.MarshalBinary()
	if err != nil {
		return fiscal.FiscalCode{}, &ArgumentError{Command: "ISSUE_INVOICE", Field: "block", Reason: "cannot encode", Err: err}
	}
	d, err := prop(ctx, f.ch, INSIssueInvoice, data, 8)
	if err != nil {
		return fiscal.FiscalCode{}, err
	}
	return fiscal.FiscalCode(d), nil
}

// DeclareDuty declares a period: C0 F4 00 00 47 declaration ‖ XOR, Le 8E →
// card totals, status, MAC1, signature ‖ XOR. The response XOR is checked
// (ErrChecksum).
func (f *FiscalCard) DeclareDuty(ctx context.Context, d fiscal.Declaration) (fiscal.DeclareDutyResponse, error) {
	data, err := d.MarshalBinary()
	if err != nil {
		return fiscal.DeclareDutyResponse{}, &ArgumentError{Command: "DECLARE_DUTY", Field: "declaration", Reason: "cannot encode", Err: err}
	}
	if !d.Start.Valid() || !d.End.Valid() {
		return fiscal.DeclareDutyResponse{}, argErr("DECLARE_DUTY", "Start", "period dates must be set")
	}
	if d.End.Before(d.Start) {
		return fiscal.DeclareDutyResponse{}, argErr("DECLARE_DUTY", "End", fmt.Sprintf("period end %s before start %s", d.End, d.Start))
	}
	resp, err := prop(ctx, f.ch, INSDeclareDuty, fiscal.AppendXOR(data), fiscal.DeclareDutyResponseLen)
	if err != nil {
		return fiscal.DeclareDutyResponse{}, err
	}
	var r fiscal.DeclareDutyResponse
	if err := r.UnmarshalBinary(resp); err != nil {
		return fiscal.DeclareDutyResponse{}, responseErr("DECLARE_DUTY", err)
	}
	return r, nil
}

// responseErr wraps a fiscal decoding error of a card response.
func responseErr(cmd string, err error) error {
	sentinel := ErrMalformedRecord
	if errors.Is(err, fiscal.ErrChecksum) {
		sentinel = ErrChecksum
	}
	return &FormatError{What: cmd + " response", Reason: "invalid", Err: sentinel, Cause: err}
}

// UpdateControls loads new control data from a user-card EF01 record:
// C0 F6 00 00 1D key id ‖ ciphertext[24] ‖ MAC2[4]. 9302 is ErrMACInvalid;
// 6985 is ErrStaleControls: the record is older than the one the card
// applied last (the encrypted record carries an update counter, see the
// emulator's doc). Sending the record in force again is accepted.
// The record must belong to this fiscal card; the caller checks that with
// the number from ReadAppInfo (the card would refuse with 9302 anyway).
func (f *FiscalCard) UpdateControls(ctx context.Context, rec ControlRecord) error {
	_, err := f.ch.Do(ctx, Command{CLA: CLAProprietary, INS: INSUpdateControls, Data: rec.UpdateControlsData()})
	return err
}

// InputInvoiceNB loads a distributed roll: C0 F7 00 00 16 roll ‖ MAC. 6985
// is ErrInvoiceStorageFull (a roll is still loaded).
func (f *FiscalCard) InputInvoiceNB(ctx context.Context, r fiscal.SignedRoll) error {
	data, err := r.MarshalBinary()
	if err != nil {
		return &ArgumentError{Command: "INPUT_INVOICE_NB", Field: "roll", Reason: "invalid roll", Err: err}
	}
	_, err = f.ch.Do(ctx, Command{CLA: CLAProprietary, INS: INSInputInvoiceNB, Data: data})
	return err
}

// DailyCollectSign has the card sign a daily record: C0 FB 00 00 41 record
// ‖ XOR, Le 81 → signature[128] ‖ XOR. The response XOR is checked. The
// card signs only its own totals of that day: a record that differs from
// what it accumulated is refused with 6A80 (ErrIncorrectData).
func (f *FiscalCard) DailyCollectSign(ctx context.Context, r fiscal.DailyRecord) ([fiscal.SignatureLen]byte, error) {
	var sig [fiscal.SignatureLen]byte
	data, err := r.MarshalBinary()
	if err != nil {
		return sig, &ArgumentError{Command: "DAILY_COLLECT_SIGN", Field: "record", Reason: "cannot encode", Err: err}
	}
	if !r.Date.Valid() {
		return sig, argErr("DAILY_COLLECT_SIGN", "Date", "the record's date must be set")
	}
	resp, err := prop(ctx, f.ch, INSDailyCollectSign, fiscal.AppendXOR(data), DailySignResponseLen)
	if err != nil {
		return sig, err
	}
	body, err := fiscal.CheckXOR(resp)
	if err != nil {
		return sig, responseErr("DAILY_COLLECT_SIGN", err)
	}
	copy(sig[:], body)
	return sig, nil
}

// UnblockPIN is the tax office's PIN unblock (税控卡解锁, reference §2.2):
// 84 24 01 01 0C new PIN[8] ‖ MAC[4], Le 08. The MAC comes from the tax
// office's system (the emulator's CardSet.UnblockMAC for the TEST
// profile); the card checks it over its number and the new PIN, installs
// the new PIN, restores the try counter and lifts the PIN block. It
// answers with the PIN now in force, which the caller must store before
// anything else (the emulator returns newPIN). 9302 is ErrMACInvalid, 6901
// ErrNotRegistered, 6A81 ErrFuncNotSupported (a card without the command's
// key).
func (f *FiscalCard) UnblockPIN(ctx context.Context, newPIN PIN, mac [MACLen]byte) (PIN, error) {
	data := make([]byte, 0, PINLen+MACLen)
	data = append(append(data, newPIN[:]...), mac[:]...)
	d, err := f.ch.Do(ctx, Command{CLA: CLAUnblock, INS: INSUnblockPIN, P1: P1UnblockPIN, P2: P2UnblockPIN, Data: data, Ne: PINLen})
	if err != nil {
		return PIN{}, err
	}
	if len(d) != PINLen {
		return PIN{}, &FormatError{What: "PIN_UNBLOCK response", Reason: fmt.Sprintf("%d bytes, want %d", len(d), PINLen), Err: ErrMalformedRecord}
	}
	return PIN(d), nil
}

// InternalAuthenticate has the fiscal card encrypt a check card's 8-byte
// challenge with key keyID (00 88 00 keyID 08 challenge, Le 08).
func (f *FiscalCard) InternalAuthenticate(ctx context.Context, keyID byte, challenge [8]byte) ([8]byte, error) {
	d, err := f.ch.InternalAuthenticate(ctx, keyID, challenge[:])
	if err != nil {
		return [8]byte{}, err
	}
	return [8]byte(d), nil
}

// readEF reads a whole binary file by SFI (one READ BINARY) and decodes it.
func readEF(ctx context.Context, ch *Channel, fid uint16, n int, u interface{ UnmarshalBinary([]byte) error }) error {
	d, err := ch.ReadBinarySFI(ctx, SFI(fid), 0, n)
	if err != nil {
		return err
	}
	return u.UnmarshalBinary(d)
}

// ReadControls reads EF01, the control data (deadline, limits, indexes).
func (f *FiscalCard) ReadControls(ctx context.Context) (fiscal.ControlData, error) {
	var v fiscal.ControlData
	d, err := f.ch.ReadBinarySFI(ctx, SFI(FiscalEFControl), 0, fiscal.ControlDataLen)
	if err != nil {
		return v, err
	}
	if err := v.UnmarshalBinary(d); err != nil {
		return v, &FormatError{What: "fiscal EF01", Reason: "invalid control data", Err: ErrMalformedRecord, Cause: err}
	}
	return v, nil
}

// ReadAppInfo reads EF02, the application information.
func (f *FiscalCard) ReadAppInfo(ctx context.Context) (AppInfo, error) {
	var v AppInfo
	err := readEF(ctx, f.ch, FiscalEFAppInfo, AppInfoLen, &v)
	return v, err
}

// ReadDayAccumulation reads EF03, today's accumulation and the last
// invoice's number and 税控码 (the basis of crash recovery).
func (f *FiscalCard) ReadDayAccumulation(ctx context.Context) (DayAccumulation, error) {
	var v DayAccumulation
	err := readEF(ctx, f.ch, FiscalEFDayAccumulation, DayAccumulationLen, &v)
	return v, err
}

// ReadLastDeclaration reads EF04, the last declaration.
func (f *FiscalCard) ReadLastDeclaration(ctx context.Context) (LastDeclaration, error) {
	var v LastDeclaration
	err := readEF(ctx, f.ch, FiscalEFLastDeclaration, LastDeclarationLen, &v)
	return v, err
}

// ReadLoadedRoll reads EF05, the loaded invoice roll.
func (f *FiscalCard) ReadLoadedRoll(ctx context.Context) (LoadedRoll, error) {
	var v LoadedRoll
	err := readEF(ctx, f.ch, FiscalEFLoadedRoll, LoadedRollLen, &v)
	return v, err
}
