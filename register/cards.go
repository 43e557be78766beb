package register

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// This file is the register's own thin layer over card.Channel: the
// fiscal- and user-card commands the engine sends, with the layouts of
// reference §2.2, §2.3 and §2.5. It exists because the typed card clients
// of package card were not available when the engine was written; every
// command is one Channel.Do, so a command costs exactly one exchange under
// T=1 and two (command + GET RESPONSE) under T=0 when it returns data.

// fiscalCardApp is the fiscal card (税控卡) application.
type fiscalCardApp struct{ ch *card.Channel }

// userCardApp is the user card (用户卡) application.
type userCardApp struct{ ch *card.Channel }

func cmdP(ins byte, data []byte, ne int) card.Command {
	return card.Command{CLA: card.CLAProprietary, INS: ins, Data: data, Ne: ne}
}

// fiscalEF02 is the fiscal card's application file (reference §2.5).
type fiscalEF02 struct {
	CardType     byte
	Unregistered bool // byte 1 = 0x01: not yet registered
	CardNo       fiscal.CardNumber
	Machine      fiscal.MachineNumber
	TaxpayerNo   fiscal.CardNumber
	TaxpayerID   string
	AppStart     fiscal.Date
	AppValid     fiscal.Date
	TaxpayerName string
	OfficeCode   [4]byte
	DeclareMode  byte
}

const fiscalEF02Len = 103

func parseFiscalEF02(b []byte) (fiscalEF02, error) {
	var v fiscalEF02
	if len(b) < fiscalEF02Len {
		return v, fmt.Errorf("fiscal EF02: %d bytes, want %d", len(b), fiscalEF02Len)
	}
	v.CardType = b[0]
	v.Unregistered = b[1] == 0x01
	copy(v.CardNo[:], b[2:10])
	copy(v.Machine[:], b[10:18])
	copy(v.TaxpayerNo[:], b[18:26])
	id, err := fiscal.DecodeText(b[26:46])
	if err != nil {
		return v, fmt.Errorf("fiscal EF02 taxpayer id: %w", err)
	}
	v.TaxpayerID = id
	if v.AppStart, err = fiscal.DecodeDate(b[46:50]); err != nil {
		return v, fmt.Errorf("fiscal EF02 start date: %w", err)
	}
	if v.AppValid, err = fiscal.DecodeDate(b[50:54]); err != nil {
		return v, fmt.Errorf("fiscal EF02 valid date: %w", err)
	}
	if v.TaxpayerName, err = fiscal.DecodeText(b[57:97]); err != nil {
		return v, fmt.Errorf("fiscal EF02 taxpayer name: %w", err)
	}
	copy(v.OfficeCode[:], b[97:101])
	v.DeclareMode = b[101]
	return v, nil
}

// fiscalEF03 is the fiscal card's current-day accumulation (76 bytes):
// daily record (64) ‖ previous invoice number u32 ‖ previous 税控码[8].
type fiscalEF03 struct {
	Day        fiscal.DailyRecord
	PrevNumber uint32
	PrevCode   fiscal.FiscalCode
}

const fiscalEF03Len = 76

func parseFiscalEF03(b []byte) (fiscalEF03, error) {
	var v fiscalEF03
	if len(b) < fiscalEF03Len {
		return v, fmt.Errorf("fiscal EF03: %d bytes, want %d", len(b), fiscalEF03Len)
	}
	// The day part may be all zero before the first invoice; decode what
	// is decodable and keep the chain fields, which recovery needs.
	_ = v.Day.UnmarshalBinary(b[:64])
	v.PrevNumber = binary.BigEndian.Uint32(b[64:68])
	copy(v.PrevCode[:], b[68:76])
	return v, nil
}

// fiscalEF05 is the loaded roll (19 bytes): flag ‖ code[10] ‖ start ‖ end.
type fiscalEF05 struct {
	Loaded bool
	Roll   fiscal.Roll
}

const fiscalEF05Len = 19

func parseFiscalEF05(b []byte) (fiscalEF05, error) {
	var v fiscalEF05
	if len(b) < fiscalEF05Len {
		return v, fmt.Errorf("fiscal EF05: %d bytes, want %d", len(b), fiscalEF05Len)
	}
	copy(v.Roll.Code[:], b[1:11])
	v.Roll.Start = binary.BigEndian.Uint32(b[11:15])
	v.Roll.End = binary.BigEndian.Uint32(b[15:19])
	v.Loaded = b[0] != 0 && v.Roll.Validate() == nil
	return v, nil
}

func (f fiscalCardApp) selectApp(ctx context.Context) error {
	_, err := f.ch.SelectName(ctx, card.DFNameFiscal)
	return err
}

func (f fiscalCardApp) read(ctx context.Context, ef byte, n int) ([]byte, error) {
	return f.ch.ReadBinarySFI(ctx, ef, 0, n)
}

func (f fiscalCardApp) ef01(ctx context.Context) (fiscal.ControlData, error) {
	var c fiscal.ControlData
	b, err := f.read(ctx, 1, fiscal.ControlDataLen)
	if err != nil {
		return c, err
	}
	return c, c.UnmarshalBinary(b)
}

func (f fiscalCardApp) ef02(ctx context.Context) (fiscalEF02, error) {
	b, err := f.read(ctx, 2, fiscalEF02Len)
	if err != nil {
		return fiscalEF02{}, err
	}
	return parseFiscalEF02(b)
}

func (f fiscalCardApp) ef03(ctx context.Context) (fiscalEF03, error) {
	b, err := f.read(ctx, 3, fiscalEF03Len)
	if err != nil {
		return fiscalEF03{}, err
	}
	return parseFiscalEF03(b)
}

func (f fiscalCardApp) ef05(ctx context.Context) (fiscalEF05, error) {
	b, err := f.read(ctx, 5, fiscalEF05Len)
	if err != nil {
		return fiscalEF05{}, err
	}
	return parseFiscalEF05(b)
}

// getRegisterNB: C0 F0 00 00 Le=10 → random[4] ‖ card no[8] ‖ MAC1[4].
func (f fiscalCardApp) getRegisterNB(ctx context.Context) ([]byte, error) {
	d, err := f.ch.Do(ctx, cmdP(card.INSGetRegisterNB, nil, 16))
	if err != nil {
		return nil, err
	}
	if len(d) != 16 {
		return nil, fmt.Errorf("GET_REGISTER_NB: %d bytes, want 16", len(d))
	}
	return d, nil
}

// terminalRegister: C0 F1 00 00 04 MAC2 Le=08 → first fiscal PIN.
func (f fiscalCardApp) terminalRegister(ctx context.Context, mac2 []byte) ([8]byte, error) {
	var pin [8]byte
	d, err := f.ch.Do(ctx, cmdP(card.INSTerminalRegister, mac2, 8))
	if err != nil {
		return pin, err
	}
	if len(d) != 8 {
		return pin, fmt.Errorf("TERMINAL_REGISTER: %d bytes, want 8", len(d))
	}
	copy(pin[:], d)
	return pin, nil
}

// verifyPIN: C0 F9 00 00 08 PIN Le=08 → the next PIN.
func (f fiscalCardApp) verifyPIN(ctx context.Context, pin [8]byte) ([8]byte, error) {
	var next [8]byte
	d, err := f.ch.Do(ctx, cmdP(card.INSVerifyFiscalPIN, pin[:], 8))
	if err != nil {
		return next, err
	}
	if len(d) != 8 {
		return next, fmt.Errorf("VERIFY_FISCAL_PIN: %d bytes, want 8", len(d))
	}
	copy(next[:], d)
	return next, nil
}

// issueInvoice: C0 F2 00 00 2C block Le=08 → 税控码.
func (f fiscalCardApp) issueInvoice(ctx context.Context, block []byte) (fiscal.FiscalCode, error) {
	var code fiscal.FiscalCode
	d, err := f.ch.Do(ctx, cmdP(card.INSIssueInvoice, block, 8))
	if err != nil {
		return code, err
	}
	if len(d) != 8 {
		return code, fmt.Errorf("ISSUE_INVOICE: %d bytes, want 8", len(d))
	}
	copy(code[:], d)
	return code, nil
}

// dailyCollectSign: C0 FB 00 00 41 record‖XOR Le=81 → signature[128] ‖ XOR.
func (f fiscalCardApp) dailyCollectSign(ctx context.Context, rec fiscal.DailyRecord) ([fiscal.SignatureLen]byte, error) {
	var sig [fiscal.SignatureLen]byte
	b, err := rec.MarshalBinary()
	if err != nil {
		return sig, err
	}
	d, err := f.ch.Do(ctx, cmdP(card.INSDailyCollectSign, fiscal.AppendXOR(b), fiscal.SignatureLen+1))
	if err != nil {
		return sig, err
	}
	if len(d) != fiscal.SignatureLen+1 {
		return sig, fmt.Errorf("DAILY_COLLECT_SIGN: %d bytes, want %d", len(d), fiscal.SignatureLen+1)
	}
	body, err := fiscal.CheckXOR(d)
	if err != nil {
		return sig, fmt.Errorf("DAILY_COLLECT_SIGN response: %w", err)
	}
	copy(sig[:], body)
	return sig, nil
}

// inputInvoiceNB: C0 F7 00 00 16 code ‖ start ‖ end ‖ MAC.
func (f fiscalCardApp) inputInvoiceNB(ctx context.Context, r fiscal.SignedRoll) error {
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = f.ch.Do(ctx, cmdP(card.INSInputInvoiceNB, b, 0))
	return err
}

// updateControls: C0 F6 00 00 1D key id ‖ ciphertext[24] ‖ MAC2[4].
func (f fiscalCardApp) updateControls(ctx context.Context, data []byte) error {
	_, err := f.ch.Do(ctx, cmdP(card.INSUpdateControls, data, 0))
	return err
}

// declareDuty: C0 F4 00 00 47 declaration ‖ XOR Le=8E → the 142-byte
// response (XOR included, checked by the caller's decoder).
func (f fiscalCardApp) declareDuty(ctx context.Context, decl []byte) ([]byte, error) {
	d, err := f.ch.Do(ctx, cmdP(card.INSDeclareDuty, fiscal.AppendXOR(append([]byte(nil), decl...)), fiscal.DeclareDutyResponseLen))
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ef04 reads the fiscal card's last declaration: declaration[70] ‖
// status ‖ MAC1[4].
func (f fiscalCardApp) ef04(ctx context.Context) (fiscal.Declaration, byte, [4]byte, error) {
	var decl fiscal.Declaration
	var mac [4]byte
	b, err := f.read(ctx, 4, fiscal.DeclarationLen+5)
	if err != nil {
		return decl, 0, mac, err
	}
	if len(b) != fiscal.DeclarationLen+5 {
		return decl, 0, mac, fmt.Errorf("fiscal EF04: %d bytes, want %d", len(b), fiscal.DeclarationLen+5)
	}
	if err := decl.UnmarshalBinary(b[:fiscal.DeclarationLen]); err != nil {
		return decl, 0, mac, err
	}
	copy(mac[:], b[fiscal.DeclarationLen+1:])
	return decl, b[fiscal.DeclarationLen], mac, nil
}

// dataCollect: C0 E6 00 00 DC data (XOR included).
func (u userCardApp) dataCollect(ctx context.Context, data []byte) error {
	_, err := u.ch.Do(ctx, cmdP(card.INSDataCollect, data, 0))
	return err
}

func (u userCardApp) selectApp(ctx context.Context) error {
	_, err := u.ch.SelectName(ctx, card.DFNameUser)
	return err
}

func (u userCardApp) verify(ctx context.Context, pin []byte) error {
	return u.ch.Verify(ctx, 0x00, pin)
}

// registerSign: C0 E4 00 00 10 random ‖ card no ‖ MAC1 Le=04 → MAC2.
func (u userCardApp) registerSign(ctx context.Context, reg []byte) ([]byte, error) {
	d, err := u.ch.Do(ctx, cmdP(card.INSRegisterSign, reg, 4))
	if err != nil {
		return nil, err
	}
	if len(d) != 4 {
		return nil, fmt.Errorf("REGISTER_SIGN: %d bytes, want 4", len(d))
	}
	return d, nil
}

// distribute: C0 E9 00 00 Le=16 → code ‖ start ‖ end ‖ MAC.
func (u userCardApp) distribute(ctx context.Context) (fiscal.SignedRoll, error) {
	var r fiscal.SignedRoll
	d, err := u.ch.Do(ctx, cmdP(card.INSDistributeInvoiceNB, nil, fiscal.SignedRollLen))
	if err != nil {
		return r, err
	}
	return r, r.UnmarshalBinary(d)
}

// pending reads user EF07, the last distribution (roll ‖ MAC); all zero
// bytes mean none.
func (u userCardApp) pending(ctx context.Context) (fiscal.SignedRoll, bool, error) {
	var r fiscal.SignedRoll
	d, err := u.ch.ReadBinarySFI(ctx, 7, 0, fiscal.SignedRollLen)
	if err != nil {
		return r, false, err
	}
	zero := true
	for _, b := range d {
		if b != 0 {
			zero = false
		}
	}
	if zero {
		return r, false, nil
	}
	return r, true, r.UnmarshalBinary(d)
}

// records reads the records 1.. of EF sfi until the card reports 6A83.
func (u userCardApp) records(ctx context.Context, sfi byte, recLen, max int) ([][]byte, error) {
	var out [][]byte
	for i := 1; i <= max; i++ {
		d, err := u.ch.ReadRecord(ctx, sfi, byte(i), recLen)
		if err != nil {
			if isRecordNotFound(err) {
				break
			}
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// taxItems reads user EF03 (up to six 47-byte tax items).
func (u userCardApp) taxItems(ctx context.Context) ([]fiscal.TaxItem, error) {
	recs, err := u.records(ctx, 3, fiscal.TaxItemLen, fiscal.MaxTaxItems)
	if err != nil {
		return nil, err
	}
	var items []fiscal.TaxItem
	for _, r := range recs {
		var it fiscal.TaxItem
		if err := it.UnmarshalBinary(r); err != nil {
			return nil, err
		}
		if it.Index != 0 {
			items = append(items, it)
		}
	}
	return items, nil
}

// controlRecord returns the UPDATE_CONTROLS data (key id ‖ ciphertext ‖
// MAC2) of the user EF01 record for fiscal card no, or false.
func (u userCardApp) controlRecord(ctx context.Context, no fiscal.CardNumber) ([]byte, bool, error) {
	recs, err := u.records(ctx, 1, 37, 8)
	if err != nil {
		return nil, false, err
	}
	for _, r := range recs {
		if len(r) == 37 && fiscal.CardNumber(r[:8]) == no {
			return r[8:37], true, nil
		}
	}
	return nil, false, nil
}

// machinePair is one user EF06 record: machine no ‖ fiscal-card no ‖ SFI[2].
type machinePair struct {
	Machine fiscal.MachineNumber
	CardNo  fiscal.CardNumber
}

func (u userCardApp) machines(ctx context.Context) ([]machinePair, error) {
	recs, err := u.records(ctx, 6, 18, 8)
	if err != nil {
		return nil, err
	}
	out := make([]machinePair, 0, len(recs))
	for _, r := range recs {
		if len(r) < 16 {
			return nil, fmt.Errorf("user EF06 record: %d bytes, want 18", len(r))
		}
		var p machinePair
		copy(p.Machine[:], r[:8])
		copy(p.CardNo[:], r[8:16])
		out = append(out, p)
	}
	return out, nil
}

func isRecordNotFound(err error) bool {
	var se *card.StatusError
	return errors.As(err, &se) && se.SW == card.SWRecordNotFound
}
