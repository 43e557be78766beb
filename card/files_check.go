package card

import (
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Sizes of the check-card files and records.
const (
	CheckInfoLen        = 10  // check EF01
	CheckAuthLen        = 17  // check EF02
	InspectionRecordLen = 233 // check EF03 record
	InspectionBodyLen   = 212 // body of an EF03 record
	// MaxInspectionDetails is the number of 27-byte invoice details one
	// EF03 record holds.
	MaxInspectionDetails = 7
	// MaxInspectionDeclarations is the number of declarations one EF03
	// record holds.
	MaxInspectionDeclarations = 2
)

// Check-card file identifiers (application CHECK01).
const (
	CheckEFInfo    uint16 = 0xEF01 // CheckInfo, 10 B
	CheckEFAuth    uint16 = 0xEF02 // CheckAuth, 17 B
	CheckEFRecords uint16 = 0xEF03 // records of InspectionRecord, 233 B
)

// CheckType is what a check card asks the machine for (reference §2.1;
// [YB] INSPECT_*, [TT] CheckModeType).
type CheckType byte

// The four check types.
const (
	CheckInvoiceDetails CheckType = 0 // 发票明细
	CheckDailyData      CheckType = 1 // 日交易数据
	CheckDeclarations   CheckType = 2 // 申报数据
	CheckSetClock       CheckType = 3 // 修改时钟
)

// Valid reports whether t is one of the four types.
func (t CheckType) Valid() bool { return t <= CheckSetClock }

// CheckInfo is check-card EF01 (10 bytes):
//
//	off len field
//	  0   8 taxpayer number the card may inspect, BCD
//	  8   1 check type (0..3)
//	  9   1 level; also the key id the check card uses in EXTERNAL
//	        AUTHENTICATE when it authenticates the fiscal card
type CheckInfo struct {
	TaxpayerNo fiscal.CardNumber
	Type       CheckType
	KeyID      byte
}

// AppendBinary appends the 10-byte EF01 encoding to b.
func (c CheckInfo) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("check EF01", b)
	w.raw(c.TaxpayerNo[:])
	if !c.Type.Valid() {
		w.fail("Type", fmt.Sprintf("check type %d outside 0..3", c.Type), nil)
	}
	w.u8(byte(c.Type))
	w.u8(c.KeyID)
	return w.done(CheckInfoLen)
}

// MarshalBinary returns the 10-byte EF01 encoding.
func (c CheckInfo) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// UnmarshalBinary decodes check EF01. On error c is unchanged.
func (c *CheckInfo) UnmarshalBinary(b []byte) error {
	r, err := newRd("check EF01", b, CheckInfoLen)
	if err != nil {
		return err
	}
	var v CheckInfo
	r.copy(v.TaxpayerNo[:])
	v.Type = CheckType(r.u8())
	if !v.Type.Valid() {
		r.failAt(8, fmt.Sprintf("check type %d outside 0..3", v.Type), nil)
	}
	v.KeyID = r.u8()
	if err := r.done(); err != nil {
		return err
	}
	*c = v
	return nil
}

// CheckAuth is check-card EF02 (17 bytes). Offsets 0, 1 and 13 are the
// reference's; the issue date at 9 is this package's:
//
//	off len field
//	  0   1 card type, 02 (check)
//	  1   8 认证码 authentication code
//	  9   4 issue date, BCD
//	 13   4 valid-until date, BCD
type CheckAuth struct {
	AuthCode [8]byte
	Issued   fiscal.Date
	Valid    fiscal.Date
}

// AppendBinary appends the 17-byte EF02 encoding to b.
func (c CheckAuth) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("check EF02", b)
	w.u8(CardTypeCheck)
	w.raw(c.AuthCode[:])
	w.date("Issued", c.Issued)
	w.date("Valid", c.Valid)
	return w.done(CheckAuthLen)
}

// MarshalBinary returns the 17-byte EF02 encoding.
func (c CheckAuth) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// UnmarshalBinary decodes check EF02. On error c is unchanged.
func (c *CheckAuth) UnmarshalBinary(b []byte) error {
	r, err := newRd("check EF02", b, CheckAuthLen)
	if err != nil {
		return err
	}
	var v CheckAuth
	if t := r.u8(); t != CardTypeCheck {
		r.failAt(0, fmt.Sprintf("card type %02X, want %02X (check)", t, CardTypeCheck), nil)
	}
	r.copy(v.AuthCode[:])
	v.Issued = r.date("Issued")
	v.Valid = r.date("Valid")
	if err := r.done(); err != nil {
		return err
	}
	*c = v
	return nil
}

// InspectionRecord is one record of check-card EF03 (233 bytes), written
// by a machine during an inspection:
//
//	off len field
//	  0   4 date of the export, BCD
//	  4   8 taxpayer number, BCD
//	 12   8 machine number, BCD
//	 20   1 check type (0..3), says how the body reads
//	 21 212 body, zero-padded:
//	        type 0: count[1] ‖ count × 27-byte fiscal.InvoiceDetail (count ≤ 7)
//	        type 1: 64-byte fiscal.DailyRecord ‖ 128-byte signature
//	        type 2: count[1] ‖ count × 70-byte fiscal.Declaration (count ≤ 2)
//	        type 3: unused (zero)
//
// The body layouts (count byte, order) are this package's decision.
type InspectionRecord struct {
	Date       fiscal.Date
	TaxpayerNo fiscal.CardNumber
	Machine    fiscal.MachineNumber
	Type       CheckType
	// Details holds the invoice details of a type-0 record.
	Details []fiscal.InvoiceDetail
	// Daily and Signature hold a type-1 record.
	Daily     fiscal.DailyRecord
	Signature [fiscal.SignatureLen]byte
	// Declarations holds the declarations of a type-2 record.
	Declarations []fiscal.Declaration
}

// AppendBinary appends the 233-byte EF03 record to b.
func (x InspectionRecord) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("check EF03", b)
	w.date("Date", x.Date)
	w.raw(x.TaxpayerNo[:])
	w.raw(x.Machine[:])
	if !x.Type.Valid() {
		w.fail("Type", fmt.Sprintf("check type %d outside 0..3", x.Type), nil)
	}
	w.u8(byte(x.Type))
	bodyStart := len(w.b)
	switch x.Type {
	case CheckInvoiceDetails:
		if len(x.Details) > MaxInspectionDetails {
			w.fail("Details", fmt.Sprintf("%d details, at most %d per record", len(x.Details), MaxInspectionDetails), nil)
			break
		}
		w.u8(byte(len(x.Details)))
		for i := range x.Details {
			w.rec(fmt.Sprintf("Details[%d]", i), fiscal.InvoiceDetailLen, x.Details[i].AppendBinary)
		}
	case CheckDailyData:
		w.rec("Daily", fiscal.DailyRecordLen, x.Daily.AppendBinary)
		w.raw(x.Signature[:])
	case CheckDeclarations:
		if len(x.Declarations) > MaxInspectionDeclarations {
			w.fail("Declarations", fmt.Sprintf("%d declarations, at most %d per record", len(x.Declarations), MaxInspectionDeclarations), nil)
			break
		}
		w.u8(byte(len(x.Declarations)))
		for i := range x.Declarations {
			w.rec(fmt.Sprintf("Declarations[%d]", i), fiscal.DeclarationLen, x.Declarations[i].AppendBinary)
		}
	}
	if pad := InspectionBodyLen - (len(w.b) - bodyStart); pad >= 0 {
		w.zero(pad)
	}
	return w.done(InspectionRecordLen)
}

// MarshalBinary returns the 233-byte EF03 record.
func (x InspectionRecord) MarshalBinary() ([]byte, error) { return x.AppendBinary(nil) }

// UnmarshalBinary decodes a check EF03 record. On error x is unchanged.
func (x *InspectionRecord) UnmarshalBinary(b []byte) error {
	r, err := newRd("check EF03", b, InspectionRecordLen)
	if err != nil {
		return err
	}
	var v InspectionRecord
	v.Date = r.date("Date")
	r.copy(v.TaxpayerNo[:])
	r.copy(v.Machine[:])
	v.Type = CheckType(r.u8())
	bodyOff := r.off
	switch v.Type {
	case CheckInvoiceDetails:
		n := int(r.u8())
		if n > MaxInspectionDetails {
			r.failAt(bodyOff, fmt.Sprintf("%d invoice details, at most %d", n, MaxInspectionDetails), nil)
			break
		}
		v.Details = make([]fiscal.InvoiceDetail, n)
		for i := range v.Details {
			r.rec(fmt.Sprintf("Details[%d]", i), fiscal.InvoiceDetailLen, v.Details[i].UnmarshalBinary)
		}
	case CheckDailyData:
		r.rec("Daily", fiscal.DailyRecordLen, v.Daily.UnmarshalBinary)
		r.copy(v.Signature[:])
	case CheckDeclarations:
		n := int(r.u8())
		if n > MaxInspectionDeclarations {
			r.failAt(bodyOff, fmt.Sprintf("%d declarations, at most %d", n, MaxInspectionDeclarations), nil)
			break
		}
		v.Declarations = make([]fiscal.Declaration, n)
		for i := range v.Declarations {
			r.rec(fmt.Sprintf("Declarations[%d]", i), fiscal.DeclarationLen, v.Declarations[i].UnmarshalBinary)
		}
	case CheckSetClock:
	default:
		r.failAt(20, fmt.Sprintf("check type %d outside 0..3", v.Type), nil)
	}
	if err := r.done(); err != nil {
		return err
	}
	*x = v
	return nil
}
