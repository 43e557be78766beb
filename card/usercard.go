package card

import (
	"context"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

// PIN references of VERIFY (00 20 00 P2) on the user and check cards. The
// reference gives no value; this package uses 00 for the card's one PIN.
const (
	UserPINRef  byte = 0x00
	CheckPINRef byte = 0x00
)

// UserCard is a client of the user card (用户卡, application TID01), the
// taxpayer's card: registration signature, declaration collection, roll
// distribution, and its files. Writing files needs Verify first.
type UserCard struct {
	ch *Channel
}

// NewUserCard returns a client that sends on ch. It sends nothing.
func NewUserCard(ch *Channel) *UserCard { return &UserCard{ch: ch} }

// OpenUserCard wraps t in a Channel and selects TID01.
func OpenUserCard(ctx context.Context, t Transmitter, opts *ChannelOptions) (*UserCard, error) {
	u := NewUserCard(NewChannel(t, opts))
	if err := u.Select(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// Channel returns the channel the client sends on.
func (u *UserCard) Channel() *Channel { return u.ch }

// Select selects the user application (00 A4 04 00 05 "TID01").
func (u *UserCard) Select(ctx context.Context) error {
	_, err := u.ch.SelectName(ctx, DFNameUser)
	return err
}

// Verify presents the user PIN (00 20 00 00 08 PIN). A wrong PIN gives a
// *PINError with the tries left.
func (u *UserCard) Verify(ctx context.Context, pin PIN) error {
	return u.ch.Verify(ctx, UserPINRef, pin[:])
}

// PINStatus asks the user card for its PIN state without presenting a PIN
// (VERIFY with no data): verified in this session, or the tries left.
func (u *UserCard) PINStatus(ctx context.Context) (verified bool, retries int, err error) {
	return u.ch.VerifyStatus(ctx, UserPINRef)
}

// RegisterSign checks the fiscal card's GET_REGISTER_NB answer and returns
// MAC2 for TERMINAL_REGISTER: C0 E4 00 00 10 data, Le 04. 6A80 is
// ErrWrongFiscalCardNo (the fiscal card is not on this user card), 9302
// ErrMACInvalid.
func (u *UserCard) RegisterSign(ctx context.Context, nb RegisterNB) ([MACLen]byte, error) {
	data, _ := nb.MarshalBinary()
	d, err := prop(ctx, u.ch, INSRegisterSign, data, MACLen)
	if err != nil {
		return [MACLen]byte{}, err
	}
	return [MACLen]byte(d), nil
}

// DataCollect writes a declaration and the fiscal card's answer to the user
// card: C0 E6 00 00 DC data. 6901 is ErrAlreadyCollected, 9302
// ErrMACInvalid.
func (u *UserCard) DataCollect(ctx context.Context, dc DataCollect) error {
	data, err := dc.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = u.ch.Do(ctx, Command{CLA: CLAProprietary, INS: INSDataCollect, Data: data})
	return err
}

// DistributeInvoiceNB takes the next roll off the user card: C0 E9 00 00
// Le 16 → code ‖ start ‖ end ‖ MAC. The card keeps a copy in EF07 until
// the next distribution. 9401 is ErrNoInvoiceToDistribute.
func (u *UserCard) DistributeInvoiceNB(ctx context.Context) (fiscal.SignedRoll, error) {
	d, err := prop(ctx, u.ch, INSDistributeInvoiceNB, nil, fiscal.SignedRollLen)
	if err != nil {
		return fiscal.SignedRoll{}, err
	}
	var r fiscal.SignedRoll
	if err := r.UnmarshalBinary(d); err != nil {
		return fiscal.SignedRoll{}, responseErr("DISTRIBUTE_INVOICE_NB", err)
	}
	return r, nil
}

// readRecords reads records 1, 2, ... of a record file until the card
// answers 6A83 and decodes each with dec.
func readRecords[T any](ctx context.Context, ch *Channel, fid uint16, n int, dec func(*T, []byte) error) ([]T, error) {
	var out []T
	for rec := 1; rec <= 254; rec++ {
		d, err := ch.ReadRecord(ctx, SFI(fid), byte(rec), n)
		if errors.Is(err, ErrRecordNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var v T
		if err := dec(&v, d); err != nil {
			return nil, fmt.Errorf("record %d: %w", rec, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// writeRecord encodes v and either appends it (rec 0) or replaces record rec.
func writeRecord(ctx context.Context, ch *Channel, fid uint16, rec int, v interface{ MarshalBinary() ([]byte, error) }) error {
	data, err := marshalArg(v)
	if err != nil {
		return err
	}
	if rec == 0 {
		return ch.AppendRecord(ctx, SFI(fid), data)
	}
	if rec < 0 || rec > 254 {
		return argErr("UPDATE RECORD", "record", fmt.Sprintf("%d outside 1..254", rec))
	}
	return ch.UpdateRecord(ctx, SFI(fid), byte(rec), data)
}

// marshalArg encodes a value to be written, making any failure an
// *ArgumentError.
func marshalArg(v interface{ MarshalBinary() ([]byte, error) }) ([]byte, error) {
	data, err := v.MarshalBinary()
	if err != nil {
		var ae *ArgumentError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, &ArgumentError{Command: fmt.Sprintf("%T", v), Field: "value", Reason: "cannot encode", Err: err}
	}
	return data, nil
}

func writeEF(ctx context.Context, ch *Channel, fid uint16, v interface{ MarshalBinary() ([]byte, error) }) error {
	data, err := marshalArg(v)
	if err != nil {
		return err
	}
	return ch.UpdateBinarySFI(ctx, SFI(fid), 0, data)
}

func unmarshalFiscal[T any, P interface {
	*T
	UnmarshalBinary([]byte) error
}](what string) func(*T, []byte) error {
	return func(v *T, b []byte) error {
		if err := P(v).UnmarshalBinary(b); err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				return err
			}
			return &FormatError{What: what, Reason: "invalid record", Err: ErrMalformedRecord, Cause: err}
		}
		return nil
	}
}

// ReadControlRecords reads every EF01 record (one per fiscal card).
func (u *UserCard) ReadControlRecords(ctx context.Context) ([]ControlRecord, error) {
	return readRecords(ctx, u.ch, UserEFControl, ControlRecordLen, unmarshalFiscal[ControlRecord]("user EF01"))
}

// ControlRecordFor returns the EF01 record of fiscal card no, or an error
// wrapping ErrRecordNotFound.
func (u *UserCard) ControlRecordFor(ctx context.Context, no fiscal.CardNumber) (ControlRecord, error) {
	recs, err := u.ReadControlRecords(ctx)
	if err != nil {
		return ControlRecord{}, err
	}
	for _, r := range recs {
		if r.FiscalCard == no {
			return r, nil
		}
	}
	return ControlRecord{}, fmt.Errorf("card: user EF01 has no control record for fiscal card %s: %w", no, ErrRecordNotFound)
}

// WriteControlRecord appends (rec 0) or replaces record rec of EF01.
func (u *UserCard) WriteControlRecord(ctx context.Context, rec int, r ControlRecord) error {
	return writeRecord(ctx, u.ch, UserEFControl, rec, r)
}

// ReadInfo reads EF02, the taxpayer information.
func (u *UserCard) ReadInfo(ctx context.Context) (UserInfo, error) {
	var v UserInfo
	err := readEF(ctx, u.ch, UserEFInfo, UserInfoLen, &v)
	return v, err
}

// WriteInfo writes EF02.
func (u *UserCard) WriteInfo(ctx context.Context, v UserInfo) error {
	return writeEF(ctx, u.ch, UserEFInfo, v)
}

// ReadTaxItems reads the EF03 tax items.
func (u *UserCard) ReadTaxItems(ctx context.Context) ([]fiscal.TaxItem, error) {
	return readRecords(ctx, u.ch, UserEFTaxItems, fiscal.TaxItemLen, unmarshalFiscal[fiscal.TaxItem]("user EF03"))
}

// WriteTaxItem appends (rec 0) or replaces record rec of EF03.
func (u *UserCard) WriteTaxItem(ctx context.Context, rec int, v fiscal.TaxItem) error {
	return writeRecord(ctx, u.ch, UserEFTaxItems, rec, v)
}

// ReadDeclarations reads the EF04 declaration records.
func (u *UserCard) ReadDeclarations(ctx context.Context) ([]DeclarationRecord, error) {
	return readRecords(ctx, u.ch, UserEFDeclarations, DeclarationRecordLen, unmarshalFiscal[DeclarationRecord]("user EF04"))
}

// WriteDeclaration appends (rec 0) or replaces record rec of EF04. The
// register never needs it (DATA_COLLECT writes EF04); tax-office tools do.
func (u *UserCard) WriteDeclaration(ctx context.Context, rec int, v DeclarationRecord) error {
	return writeRecord(ctx, u.ch, UserEFDeclarations, rec, v)
}

// ReadPurchases reads the EF05 purchased-roll records.
func (u *UserCard) ReadPurchases(ctx context.Context) ([]PurchaseRecord, error) {
	return readRecords(ctx, u.ch, UserEFPurchases, PurchaseRecordLen, unmarshalFiscal[PurchaseRecord]("user EF05"))
}

// WritePurchase appends (rec 0) or replaces record rec of EF05.
func (u *UserCard) WritePurchase(ctx context.Context, rec int, v PurchaseRecord) error {
	return writeRecord(ctx, u.ch, UserEFPurchases, rec, v)
}

// ReadMachines reads the EF06 machine records.
func (u *UserCard) ReadMachines(ctx context.Context) ([]MachineRecord, error) {
	return readRecords(ctx, u.ch, UserEFMachines, MachineRecordLen, unmarshalFiscal[MachineRecord]("user EF06"))
}

// WriteMachine appends (rec 0) or replaces record rec of EF06.
func (u *UserCard) WriteMachine(ctx context.Context, rec int, v MachineRecord) error {
	return writeRecord(ctx, u.ch, UserEFMachines, rec, v)
}

// ReadPendingRoll reads EF07, the roll of the last distribution.
func (u *UserCard) ReadPendingRoll(ctx context.Context) (PendingRoll, error) {
	var v PendingRoll
	err := readEF(ctx, u.ch, UserEFPendingRoll, PendingRollLen, &v)
	return v, err
}

// WritePendingRoll writes EF07 (PendingRoll{} clears it).
func (u *UserCard) WritePendingRoll(ctx context.Context, v PendingRoll) error {
	return writeEF(ctx, u.ch, UserEFPendingRoll, v)
}

// CheckCard is a client of the check card (稽查卡, application CHECK01),
// the tax inspector's card.
type CheckCard struct {
	ch *Channel
}

// NewCheckCard returns a client that sends on ch. It sends nothing.
func NewCheckCard(ch *Channel) *CheckCard { return &CheckCard{ch: ch} }

// OpenCheckCard wraps t in a Channel and selects CHECK01.
func OpenCheckCard(ctx context.Context, t Transmitter, opts *ChannelOptions) (*CheckCard, error) {
	c := NewCheckCard(NewChannel(t, opts))
	if err := c.Select(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Channel returns the channel the client sends on.
func (c *CheckCard) Channel() *Channel { return c.ch }

// Select selects the check application (00 A4 04 00 07 "CHECK01").
func (c *CheckCard) Select(ctx context.Context) error {
	_, err := c.ch.SelectName(ctx, DFNameCheck)
	return err
}

// Verify presents the check-card PIN (00 20 00 00 08 PIN).
func (c *CheckCard) Verify(ctx context.Context, pin PIN) error {
	return c.ch.Verify(ctx, CheckPINRef, pin[:])
}

// PINStatus asks the check card for its PIN state (VERIFY with no data).
func (c *CheckCard) PINStatus(ctx context.Context) (verified bool, retries int, err error) {
	return c.ch.VerifyStatus(ctx, CheckPINRef)
}

// GetChallenge asks the check card for an 8-byte challenge (00 84 00 00 08).
func (c *CheckCard) GetChallenge(ctx context.Context) ([8]byte, error) {
	d, err := c.ch.GetChallenge(ctx, 8)
	if err != nil {
		return [8]byte{}, err
	}
	return [8]byte(d), nil
}

// ExternalAuthenticate presents the fiscal card's answer to the check
// card's last challenge (00 82 00 keyID 08 cryptogram). A wrong cryptogram
// counts down a try counter like a PIN: the *StatusError (SW 63Cx) wraps a
// *PINError with the tries left, and 6983 means authentication is blocked.
func (c *CheckCard) ExternalAuthenticate(ctx context.Context, keyID byte, cryptogram [8]byte) error {
	return c.ch.ExternalAuthenticate(ctx, keyID, cryptogram[:])
}

// AuthenticateFiscal runs the inspection handshake (reference §2.6): the
// check card's challenge goes to the fiscal card's INTERNAL AUTHENTICATE,
// whose answer goes to the check card's EXTERNAL AUTHENTICATE, both with
// the key id of check-card EF01. On success the check card accepts
// inspection records (EF03) for this power session.
func (c *CheckCard) AuthenticateFiscal(ctx context.Context, f *FiscalCard) error {
	info, err := c.ReadInfo(ctx)
	if err != nil {
		return err
	}
	chal, err := c.GetChallenge(ctx)
	if err != nil {
		return err
	}
	crypt, err := f.InternalAuthenticate(ctx, info.KeyID, chal)
	if err != nil {
		return err
	}
	return c.ExternalAuthenticate(ctx, info.KeyID, crypt)
}

// ReadInfo reads EF01 (taxpayer, check type, key id).
func (c *CheckCard) ReadInfo(ctx context.Context) (CheckInfo, error) {
	var v CheckInfo
	err := readEF(ctx, c.ch, CheckEFInfo, CheckInfoLen, &v)
	return v, err
}

// WriteInfo writes EF01.
func (c *CheckCard) WriteInfo(ctx context.Context, v CheckInfo) error {
	return writeEF(ctx, c.ch, CheckEFInfo, v)
}

// ReadAuth reads EF02 (认证码 and dates).
func (c *CheckCard) ReadAuth(ctx context.Context) (CheckAuth, error) {
	var v CheckAuth
	err := readEF(ctx, c.ch, CheckEFAuth, CheckAuthLen, &v)
	return v, err
}

// WriteAuth writes EF02.
func (c *CheckCard) WriteAuth(ctx context.Context, v CheckAuth) error {
	return writeEF(ctx, c.ch, CheckEFAuth, v)
}

// ReadRecords reads the EF03 inspection records.
func (c *CheckCard) ReadRecords(ctx context.Context) ([]InspectionRecord, error) {
	return readRecords(ctx, c.ch, CheckEFRecords, InspectionRecordLen, unmarshalFiscal[InspectionRecord]("check EF03"))
}

// AppendRecord appends an inspection record to EF03 (after
// AuthenticateFiscal in this power session).
func (c *CheckCard) AppendRecord(ctx context.Context, v InspectionRecord) error {
	return writeRecord(ctx, c.ch, CheckEFRecords, 0, v)
}
