package card

import (
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Sizes of the fiscal-card files (EF01 is fiscal.ControlDataLen).
const (
	AppInfoLen         = 103 // fiscal EF02
	DayAccumulationLen = 76  // fiscal EF03
	LastDeclarationLen = 75  // fiscal EF04
	LoadedRollLen      = 19  // fiscal EF05
	TaxpayerIDLen      = 20  // 纳税人识别号
)

// Fiscal-card file identifiers (application TSAM01).
const (
	FiscalEFControl         uint16 = 0xEF01 // fiscal.ControlData, 23 B
	FiscalEFAppInfo         uint16 = 0xEF02 // AppInfo, 103 B
	FiscalEFDayAccumulation uint16 = 0xEF03 // DayAccumulation, 76 B
	FiscalEFLastDeclaration uint16 = 0xEF04 // LastDeclaration, 75 B
	FiscalEFLoadedRoll      uint16 = 0xEF05 // LoadedRoll, 19 B
)

// Card type bytes at offset 0 of EF02 (fiscal, user) and check-card EF02.
const (
	CardTypeFiscal byte = 0x00
	CardTypeUser   byte = 0x01
	CardTypeCheck  byte = 0x02
)

// AppInfo is the fiscal card's application information, EF02 (103 bytes).
// Offsets 0..56 and 57, 97, 101 are the reference's ([YB]); the widths of
// the single bytes at 54..56 and 101..102 follow from them:
//
//	off len field
//	  0   1 card type, 00 (fiscal)
//	  1   1 registration flag: 01 not yet registered, 00 registered
//	  2   8 税控卡编号 fiscal card number, BCD
//	 10   8 机器编号 machine number, BCD
//	 18   8 纳税人编号 taxpayer number, BCD
//	 26  20 纳税人识别号 taxpayer identification number, GB18030 (ASCII), NUL-padded
//	 46   4 应用启用日期 application start date, BCD
//	 50   4 应用有效日期 application valid-until date, BCD
//	 54   1 application type
//	 55   1 application version
//	 56   1 FCI byte
//	 57  40 纳税人名称 taxpayer name, GB18030, NUL-padded
//	 97   4 主管分局代码 tax office code, raw
//	101   1 申报方式 declaration mode
//	102   1 PIN mode
type AppInfo struct {
	Registered    bool
	CardNumber    fiscal.CardNumber
	MachineNumber fiscal.MachineNumber
	TaxpayerNo    fiscal.CardNumber
	TaxpayerID    string
	Start, Valid  fiscal.Date
	AppType       byte
	AppVersion    byte
	FCI           byte
	TaxpayerName  string
	OfficeCode    [4]byte
	DeclareMode   byte
	PINMode       byte
}

// Registration flag values of fiscal EF02 offset 1.
const (
	flagRegistered   byte = 0x00
	flagUnregistered byte = 0x01
)

// AppendBinary appends the 103-byte EF02 encoding of a to b.
func (a AppInfo) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("fiscal EF02", b)
	w.u8(CardTypeFiscal)
	if a.Registered {
		w.u8(flagRegistered)
	} else {
		w.u8(flagUnregistered)
	}
	w.raw(a.CardNumber[:])
	w.raw(a.MachineNumber[:])
	w.raw(a.TaxpayerNo[:])
	w.text("TaxpayerID", a.TaxpayerID, TaxpayerIDLen)
	w.date("Start", a.Start)
	w.date("Valid", a.Valid)
	w.u8(a.AppType)
	w.u8(a.AppVersion)
	w.u8(a.FCI)
	w.text("TaxpayerName", a.TaxpayerName, fiscal.TaxpayerNameLen)
	w.raw(a.OfficeCode[:])
	w.u8(a.DeclareMode)
	w.u8(a.PINMode)
	return w.done(AppInfoLen)
}

// MarshalBinary returns the 103-byte EF02 encoding.
func (a AppInfo) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// UnmarshalBinary decodes fiscal EF02. On error a is unchanged.
func (a *AppInfo) UnmarshalBinary(b []byte) error {
	r, err := newRd("fiscal EF02", b, AppInfoLen)
	if err != nil {
		return err
	}
	var v AppInfo
	if t := r.u8(); t != CardTypeFiscal {
		r.failAt(0, fmt.Sprintf("card type %02X, want %02X (fiscal)", t, CardTypeFiscal), nil)
	}
	switch f := r.u8(); f {
	case flagRegistered:
		v.Registered = true
	case flagUnregistered:
	default:
		r.failAt(1, fmt.Sprintf("registration flag %02X, want 00 or 01", f), nil)
	}
	r.copy(v.CardNumber[:])
	r.copy(v.MachineNumber[:])
	r.copy(v.TaxpayerNo[:])
	v.TaxpayerID = r.text("TaxpayerID", TaxpayerIDLen)
	v.Start = r.date("Start")
	v.Valid = r.date("Valid")
	v.AppType = r.u8()
	v.AppVersion = r.u8()
	v.FCI = r.u8()
	v.TaxpayerName = r.text("TaxpayerName", fiscal.TaxpayerNameLen)
	r.copy(v.OfficeCode[:])
	v.DeclareMode = r.u8()
	v.PINMode = r.u8()
	if err := r.done(); err != nil {
		return err
	}
	*a = v
	return nil
}

// DayAccumulation is the fiscal card's current-day accumulation, EF03 (76
// bytes): the 64-byte daily record the card builds from the invoices it has
// coded today, then the chaining state of the last invoice:
//
//	off len field
//	  0  64 fiscal.DailyRecord (date, counts, indexes, amounts)
//	 64   4 previous invoice number, u32 (0 = none yet)
//	 68   8 previous 税控码
type DayAccumulation struct {
	fiscal.DailyRecord
	PrevInvoice    uint32
	PrevFiscalCode fiscal.FiscalCode
}

// AppendBinary appends the 76-byte EF03 encoding to b.
func (d DayAccumulation) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("fiscal EF03", b)
	w.rec("DailyRecord", fiscal.DailyRecordLen, d.DailyRecord.AppendBinary)
	w.u32("PrevInvoice", int64(d.PrevInvoice))
	w.raw(d.PrevFiscalCode[:])
	return w.done(DayAccumulationLen)
}

// MarshalBinary returns the 76-byte EF03 encoding.
func (d DayAccumulation) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// UnmarshalBinary decodes fiscal EF03. On error d is unchanged.
func (d *DayAccumulation) UnmarshalBinary(b []byte) error {
	r, err := newRd("fiscal EF03", b, DayAccumulationLen)
	if err != nil {
		return err
	}
	var v DayAccumulation
	r.rec("DailyRecord", fiscal.DailyRecordLen, v.DailyRecord.UnmarshalBinary)
	v.PrevInvoice = r.u32()
	r.copy(v.PrevFiscalCode[:])
	if err := r.done(); err != nil {
		return err
	}
	*d = v
	return nil
}

// LastDeclaration is the fiscal card's record of its last DECLARE_DUTY,
// EF04 (75 bytes):
//
//	off len field
//	  0  70 fiscal.Declaration
//	 70   1 status (as returned by DECLARE_DUTY)
//	 71   4 MAC1
type LastDeclaration struct {
	fiscal.Declaration
	Status byte
	MAC1   [4]byte
}

// AppendBinary appends the 75-byte EF04 encoding to b.
func (d LastDeclaration) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("fiscal EF04", b)
	w.rec("Declaration", fiscal.DeclarationLen, d.Declaration.AppendBinary)
	w.u8(d.Status)
	w.raw(d.MAC1[:])
	return w.done(LastDeclarationLen)
}

// MarshalBinary returns the 75-byte EF04 encoding.
func (d LastDeclaration) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// UnmarshalBinary decodes fiscal EF04. On error d is unchanged.
func (d *LastDeclaration) UnmarshalBinary(b []byte) error {
	r, err := newRd("fiscal EF04", b, LastDeclarationLen)
	if err != nil {
		return err
	}
	var v LastDeclaration
	r.rec("Declaration", fiscal.DeclarationLen, v.Declaration.UnmarshalBinary)
	v.Status = r.u8()
	r.copy(v.MAC1[:])
	if err := r.done(); err != nil {
		return err
	}
	*d = v
	return nil
}

// LoadedRoll is the fiscal card's loaded invoice roll, EF05 (19 bytes):
//
//	off len field
//	  0   1 flag: 00 no roll loaded, 01 a roll is loaded
//	  1  18 fiscal.Roll (code, first and last number); all zero when no roll
//
// With no roll loaded the roll bytes are not interpreted.
type LoadedRoll struct {
	Loaded bool
	Roll   fiscal.Roll
}

// AppendBinary appends the 19-byte EF05 encoding to b.
func (l LoadedRoll) AppendBinary(b []byte) ([]byte, error) {
	w := newWr("fiscal EF05", b)
	if !l.Loaded {
		w.u8(0x00)
		w.zero(fiscal.RollLen)
		return w.done(LoadedRollLen)
	}
	w.u8(0x01)
	w.rec("Roll", fiscal.RollLen, l.Roll.AppendBinary)
	return w.done(LoadedRollLen)
}

// MarshalBinary returns the 19-byte EF05 encoding.
func (l LoadedRoll) MarshalBinary() ([]byte, error) { return l.AppendBinary(nil) }

// UnmarshalBinary decodes fiscal EF05. On error l is unchanged.
func (l *LoadedRoll) UnmarshalBinary(b []byte) error {
	r, err := newRd("fiscal EF05", b, LoadedRollLen)
	if err != nil {
		return err
	}
	var v LoadedRoll
	switch f := r.u8(); f {
	case 0x00:
		r.next(fiscal.RollLen)
	case 0x01:
		v.Loaded = true
		r.rec("Roll", fiscal.RollLen, v.Roll.UnmarshalBinary)
	default:
		r.failAt(0, fmt.Sprintf("flag %02X, want 00 or 01", f), nil)
	}
	if err := r.done(); err != nil {
		return err
	}
	*l = v
	return nil
}
