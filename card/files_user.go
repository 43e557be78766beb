package card

import (
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Sizes of the user-card files and records.
const (
	ControlRecordLen      = 37  // user EF01 record
	ControlCipherLen      = 24  // encrypted control data in EF01 / UPDATE_CONTROLS
	UpdateControlsDataLen = 29  // UPDATE_CONTROLS command data
	UserInfoLen           = 85  // user EF02
	DataCollectLen        = 220 // DATA_COLLECT command data (XOR included)
	DeclarationRecordLen  = 220 // user EF04 record
	PurchaseRecordLen     = 20  // user EF05 record
	MachineRecordLen      = 18  // user EF06 record
	PendingRollLen        = 22  // user EF07
	RegisterNBLen         = 16  // GET_REGISTER_NB response / REGISTER_SIGN data
)

// User-card file identifiers (application TID01). Record files are read
// with READ RECORD by SFI (the low byte: EF03 is SFI 3).
const (
	UserEFControl      uint16 = 0xEF01 // records of ControlRecord, 37 B
	UserEFInfo         uint16 = 0xEF02 // UserInfo, 85 B (binary)
	UserEFTaxItems     uint16 = 0xEF03 // records of fiscal.TaxItem, 47 B, up to 6
	UserEFDeclarations uint16 = 0xEF04 // records of DeclarationRecord, 220 B, up to 10
	UserEFPurchases    uint16 = 0xEF05 // records of PurchaseRecord, 20 B, up to 10
	UserEFMachines     uint16 = 0xEF06 // records of MachineRecord, 18 B
	UserEFPendingRoll  uint16 = 0xEF07 // PendingRoll, 22 B (binary)
)

// ControlRecord is one record of user-card EF01: the control data the tax
// office prepared for one fiscal card (37 bytes; the reference's [YB] size,
// which matches UPDATE_CONTROLS' 29-byte data; [TT]'s 32-byte ciphertext
// is not supported):
//
//	off len field
//	  0   8 fiscal card number, BCD
//	  8   1 key id
//	  9  24 encrypted fiscal.ControlData (opaque to the host)
//	 33   4 MAC2
type ControlRecord struct {
	FiscalCard fiscal.CardNumber
	KeyID      byte
	Cipher     [ControlCipherLen]byte
	MAC2       [4]byte
}

// AppendBinary appends the 37-byte encoding to b.
func (c ControlRecord) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("user EF01", b)
	w.raw(c.FiscalCard[:])
	w.u8(c.KeyID)
	w.raw(c.Cipher[:])
	w.raw(c.MAC2[:])
	return w.done(ControlRecordLen)
}

// MarshalBinary returns the 37-byte encoding.
func (c ControlRecord) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// UnmarshalBinary decodes a user EF01 record. On error c is unchanged.
func (c *ControlRecord) UnmarshalBinary(b []byte) error {
	r, err := newRd("user EF01", b, ControlRecordLen)
	if err != nil {
		return err
	}
	var v ControlRecord
	r.copy(v.FiscalCard[:])
	v.KeyID = r.u8()
	r.copy(v.Cipher[:])
	r.copy(v.MAC2[:])
	if err := r.done(); err != nil {
		return err
	}
	*c = v
	return nil
}

// UpdateControlsData returns the 29-byte UPDATE_CONTROLS command data the
// record carries: key id ‖ ciphertext[24] ‖ MAC2[4].
func (c ControlRecord) UpdateControlsData() []byte {
	b := make([]byte, 0, UpdateControlsDataLen)
	b = append(b, c.KeyID)
	b = append(b, c.Cipher[:]...)
	return append(b, c.MAC2[:]...)
}

// UserInfo is the user card's taxpayer information, EF02 (85 bytes). The
// reference fixes offsets 0, 1, 2 and the name at 21; the rest is this
// package's layout:
//
//	off len field
//	  0   1 card type, 01 (user)
//	  1   1 number of machines registered to the taxpayer
//	  2   8 纳税人编号 taxpayer number, BCD
//	 10   4 application start date, BCD
//	 14   4 application valid-until date, BCD
//	 18   1 application type
//	 19   1 application version
//	 20   1 申报方式 declaration mode
//	 21  40 纳税人名称 taxpayer name, GB18030, NUL-padded
//	 61  20 纳税人识别号 taxpayer identification number, NUL-padded
//	 81   4 主管分局代码 tax office code, raw
type UserInfo struct {
	Machines     int
	TaxpayerNo   fiscal.CardNumber
	Start, Valid fiscal.Date
	AppType      byte
	AppVersion   byte
	DeclareMode  byte
	TaxpayerName string
	TaxpayerID   string
	OfficeCode   [4]byte
}

// AppendBinary appends the 85-byte EF02 encoding to b.
func (u UserInfo) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("user EF02", b)
	w.u8(CardTypeUser)
	if u.Machines < 0 || u.Machines > 0xFF {
		w.fail("Machines", fmt.Sprintf("%d outside 0..255", u.Machines), fiscal.ErrCountRange)
	}
	w.u8(byte(u.Machines))
	w.raw(u.TaxpayerNo[:])
	w.date("Start", u.Start)
	w.date("Valid", u.Valid)
	w.u8(u.AppType)
	w.u8(u.AppVersion)
	w.u8(u.DeclareMode)
	w.text("TaxpayerName", u.TaxpayerName, fiscal.TaxpayerNameLen)
	w.text("TaxpayerID", u.TaxpayerID, TaxpayerIDLen)
	w.raw(u.OfficeCode[:])
	return w.done(UserInfoLen)
}

// MarshalBinary returns the 85-byte EF02 encoding.
func (u UserInfo) MarshalBinary() ([]byte, error) { return u.AppendBinary(nil) }

// UnmarshalBinary decodes user EF02. On error u is unchanged.
func (u *UserInfo) UnmarshalBinary(b []byte) error {
	r, err := newRd("user EF02", b, UserInfoLen)
	if err != nil {
		return err
	}
	var v UserInfo
	if t := r.u8(); t != CardTypeUser {
		r.failAt(0, fmt.Sprintf("card type %02X, want %02X (user)", t, CardTypeUser), nil)
	}
	v.Machines = int(r.u8())
	r.copy(v.TaxpayerNo[:])
	v.Start = r.date("Start")
	v.Valid = r.date("Valid")
	v.AppType = r.u8()
	v.AppVersion = r.u8()
	v.DeclareMode = r.u8()
	v.TaxpayerName = r.text("TaxpayerName", fiscal.TaxpayerNameLen)
	v.TaxpayerID = r.text("TaxpayerID", TaxpayerIDLen)
	r.copy(v.OfficeCode[:])
	if err := r.done(); err != nil {
		return err
	}
	*u = v
	return nil
}

// DataCollect is the body of DATA_COLLECT (C0 E6, 220 bytes) and of a user
// EF04 record: what the machine declared and what the fiscal card answered.
//
//	off len field
//	  0   8 fiscal card number, BCD
//	  8  70 fiscal.Declaration
//	 78   4 card's total of valid invoices, u32 fen  ┐
//	 82   4 card's total of returns, u32 fen         │ the DECLARE_DUTY
//	 86   1 status                                   │ response without
//	 87   4 MAC1                                     │ its XOR byte
//	 91 128 signature                                ┘
//	219   1 XOR of bytes 0..218 (command data only)
type DataCollect struct {
	FiscalCard  fiscal.CardNumber
	Declaration fiscal.Declaration
	Response    fiscal.DeclareDutyResponse
}

func (d DataCollect) appendBody(w *wr) {
	w.raw(d.FiscalCard[:])
	w.rec("Declaration", fiscal.DeclarationLen, d.Declaration.AppendBinary)
	// The DECLARE_DUTY response without its trailing XOR byte.
	resp, err := d.Response.MarshalBinary()
	if err != nil {
		w.fail("Response", "invalid DECLARE_DUTY response", err)
		resp = make([]byte, fiscal.DeclareDutyResponseLen)
	}
	w.raw(resp[:fiscal.DeclareDutyResponseLen-1])
}

func (d *DataCollect) readBody(r *rd) {
	r.copy(d.FiscalCard[:])
	r.rec("Declaration", fiscal.DeclarationLen, d.Declaration.UnmarshalBinary)
	body := r.next(fiscal.DeclareDutyResponseLen - 1)
	resp := fiscal.AppendXOR(append(make([]byte, 0, fiscal.DeclareDutyResponseLen), body...))
	if err := d.Response.UnmarshalBinary(resp); err != nil {
		r.failAt(78, "Response", err)
	}
}

// AppendBinary appends the 220-byte DATA_COLLECT command data (XOR
// included) to b.
func (d DataCollect) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("DATA_COLLECT", b)
	d.appendBody(w)
	if w.err == nil {
		w.xor(0)
	} else {
		w.u8(0)
	}
	return w.done(DataCollectLen)
}

// MarshalBinary returns the 220-byte DATA_COLLECT command data.
func (d DataCollect) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// UnmarshalBinary decodes DATA_COLLECT command data, checking the XOR byte.
// On error d is unchanged.
func (d *DataCollect) UnmarshalBinary(b []byte) error {
	r, err := newRd("DATA_COLLECT", b, DataCollectLen)
	if err != nil {
		return err
	}
	if _, err := fiscal.CheckXOR(b); err != nil {
		return &FormatError{What: "DATA_COLLECT", Offset: DataCollectLen - 1, Reason: "XOR trailer", Err: ErrChecksum, Cause: err}
	}
	var v DataCollect
	v.readBody(r)
	r.next(1)
	if err := r.done(); err != nil {
		return err
	}
	*d = v
	return nil
}

// DeclarationRecord is one record of user-card EF04 (220 bytes): a flag
// and the DATA_COLLECT body without its XOR byte.
//
//	off len field
//	  0   1 flag: 01 declared, waiting for the tax office; 00 processed
//	  1 219 DataCollect bytes 0..218
type DeclarationRecord struct {
	Pending bool
	DataCollect
}

// AppendBinary appends the 220-byte EF04 record to b.
func (d DeclarationRecord) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("user EF04", b)
	if d.Pending {
		w.u8(0x01)
	} else {
		w.u8(0x00)
	}
	d.appendBody(w)
	return w.done(DeclarationRecordLen)
}

// MarshalBinary returns the 220-byte EF04 record.
func (d DeclarationRecord) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// UnmarshalBinary decodes a user EF04 record. On error d is unchanged.
func (d *DeclarationRecord) UnmarshalBinary(b []byte) error {
	r, err := newRd("user EF04", b, DeclarationRecordLen)
	if err != nil {
		return err
	}
	var v DeclarationRecord
	switch f := r.u8(); f {
	case 0x00:
	case 0x01:
		v.Pending = true
	default:
		r.failAt(0, fmt.Sprintf("flag %02X, want 00 or 01", f), nil)
	}
	v.DataCollect.readBody(r)
	if err := r.done(); err != nil {
		return err
	}
	*d = v
	return nil
}

// PurchaseRecord is one record of user-card EF05: invoices bought at the
// tax office (领购), 20 bytes:
//
//	off len field
//	  0  18 fiscal.Roll: invoice code, first and last number of the batch
//	 18   2 number of rolls in the batch, u16
type PurchaseRecord struct {
	fiscal.Roll
	Rolls int
}

// AppendBinary appends the 20-byte EF05 record to b.
func (p PurchaseRecord) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("user EF05", b)
	w.rec("Roll", fiscal.RollLen, p.Roll.AppendBinary)
	w.u16("Rolls", p.Rolls)
	return w.done(PurchaseRecordLen)
}

// MarshalBinary returns the 20-byte EF05 record.
func (p PurchaseRecord) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// UnmarshalBinary decodes a user EF05 record. On error p is unchanged.
func (p *PurchaseRecord) UnmarshalBinary(b []byte) error {
	r, err := newRd("user EF05", b, PurchaseRecordLen)
	if err != nil {
		return err
	}
	var v PurchaseRecord
	r.rec("Roll", fiscal.RollLen, v.Roll.UnmarshalBinary)
	v.Rolls = r.u16()
	if err := r.done(); err != nil {
		return err
	}
	*p = v
	return nil
}

// MachineRecord is one record of user-card EF06 (18 bytes): a machine the
// taxpayer registered and its fiscal card.
//
//	off len field
//	  0   8 machine number, BCD
//	  8   8 fiscal card number, BCD
//	 16   2 file id (SFI) of the machine's daily-data file on the user card, u16
type MachineRecord struct {
	Machine    fiscal.MachineNumber
	FiscalCard fiscal.CardNumber
	DailyFile  uint16
}

// AppendBinary appends the 18-byte EF06 record to b.
func (m MachineRecord) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("user EF06", b)
	w.raw(m.Machine[:])
	w.raw(m.FiscalCard[:])
	w.u16("DailyFile", int(m.DailyFile))
	return w.done(MachineRecordLen)
}

// MarshalBinary returns the 18-byte EF06 record.
func (m MachineRecord) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes a user EF06 record. On error m is unchanged.
func (m *MachineRecord) UnmarshalBinary(b []byte) error {
	r, err := newRd("user EF06", b, MachineRecordLen)
	if err != nil {
		return err
	}
	var v MachineRecord
	r.copy(v.Machine[:])
	r.copy(v.FiscalCard[:])
	v.DailyFile = uint16(r.u16())
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// PendingRoll is user-card EF07 (22 bytes): the roll handed out by the last
// DISTRIBUTE_INVOICE_NB, kept until the machine has loaded it so that an
// interrupted distribution can be completed. All zero bytes mean "nothing
// pending"; otherwise the bytes are a fiscal.SignedRoll (roll ‖ MAC).
type PendingRoll struct {
	Pending bool
	Roll    fiscal.SignedRoll
}

// AppendBinary appends the 22-byte EF07 encoding to b.
func (p PendingRoll) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("user EF07", b)
	if !p.Pending {
		w.zero(PendingRollLen)
		return w.done(PendingRollLen)
	}
	w.rec("Roll", fiscal.SignedRollLen, p.Roll.AppendBinary)
	return w.done(PendingRollLen)
}

// MarshalBinary returns the 22-byte EF07 encoding.
func (p PendingRoll) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// UnmarshalBinary decodes user EF07. On error p is unchanged.
func (p *PendingRoll) UnmarshalBinary(b []byte) error {
	r, err := newRd("user EF07", b, PendingRollLen)
	if err != nil {
		return err
	}
	var v PendingRoll
	if !allZero(b) {
		v.Pending = true
		r.rec("Roll", fiscal.SignedRollLen, v.Roll.UnmarshalBinary)
	}
	if err := r.done(); err != nil {
		return err
	}
	*p = v
	return nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// RegisterNB is the response of GET_REGISTER_NB and the command data of
// REGISTER_SIGN (16 bytes): random[4] ‖ fiscal card number[8] ‖ MAC1[4].
type RegisterNB struct {
	Random     [4]byte
	FiscalCard fiscal.CardNumber
	MAC1       [4]byte
}

// AppendBinary appends the 16-byte encoding to b.
func (n RegisterNB) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, n.Random[:]...)
	b = append(b, n.FiscalCard[:]...)
	return append(b, n.MAC1[:]...), nil
}

// MarshalBinary returns the 16-byte encoding.
func (n RegisterNB) MarshalBinary() ([]byte, error) { return n.AppendBinary(nil) }

// UnmarshalBinary decodes 16 bytes. On error n is unchanged.
func (n *RegisterNB) UnmarshalBinary(b []byte) error {
	r, err := newRd("GET_REGISTER_NB", b, RegisterNBLen)
	if err != nil {
		return err
	}
	var v RegisterNB
	r.copy(v.Random[:])
	r.copy(v.FiscalCard[:])
	r.copy(v.MAC1[:])
	*n = v
	return r.done()
}
