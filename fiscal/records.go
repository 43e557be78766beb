package fiscal

import "fmt"

// Encoded sizes of the GB 18240.2 records in this file.
const (
	DailyRecordLen         = 64
	DeclarationLen         = 70
	InvoiceDetailLen       = 27
	ControlDataLen         = 23
	RollLen                = 18
	SignedRollLen          = 22
	TaxItemLen             = 47
	IssueInvoiceBlockLen   = 44
	DeclareDutyResponseLen = 142
	SignatureLen           = 128
)

// DailyRecord is one day's accumulation (日交易数据), the 64-byte record the
// fiscal card signs with DAILY_COLLECT_SIGN and the register keeps in fiscal
// memory ([YB] and [TT] agree):
//
//	off len field
//	  0   4 date, BCD CCYYMMDD
//	  4   2 normal invoice count, u16
//	  6   2 return invoice count, u16
//	  8   2 void invoice count, u16
//	 10   6 tax indexes, 1 byte each (0 = unused slot)
//	 16  24 normal amounts, 6 × u32 fen, slot i belongs to index i
//	 40  24 return amounts, 6 × u32 fen
type DailyRecord struct {
	Date                                Date
	NormalCount, ReturnCount, VoidCount int
	Indexes                             TaxIndexes
	Normal, Return                      TaxAmounts
}

// AppendBinary appends the 64-byte encoding of r to b.
func (r DailyRecord) AppendBinary(b []byte) ([]byte, error) {
	e := &enc{rec: "DailyRecord", b: b}
	e.date("Date", r.Date)
	e.u16("NormalCount", r.NormalCount)
	e.u16("ReturnCount", r.ReturnCount)
	e.u16("VoidCount", r.VoidCount)
	e.totals(r.Indexes, r.Normal, r.Return)
	return e.finish(len(b), DailyRecordLen)
}

// MarshalBinary returns the 64-byte encoding of r.
func (r DailyRecord) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes a 64-byte daily record. On error r is unchanged.
func (r *DailyRecord) UnmarshalBinary(b []byte) error {
	return decodeInto(r, "DailyRecord", b, DailyRecordLen, func(d *dec) DailyRecord {
		return DailyRecord{
			Date:        d.date("Date"),
			NormalCount: d.u16(),
			ReturnCount: d.u16(),
			VoidCount:   d.u16(),
			Indexes:     d.indexes(),
			Normal:      d.amounts(),
			Return:      d.amounts(),
		}
	})
}

// Declaration is the 70-byte declaration data (申报数据) sent with DECLARE_DUTY
// and stored in fiscal memory and on the user card ([YB] and [TT] agree):
//
//	off len field
//	  0   4 period start date, BCD
//	  4   4 period end date, BCD
//	  8   4 normal invoice count, u32
//	 12   2 return invoice count, u16
//	 14   2 void invoice count, u16
//	 16   6 tax indexes
//	 22  24 normal amounts, 6 × u32 fen
//	 46  24 return amounts, 6 × u32 fen
type Declaration struct {
	Start, End             Date
	NormalCount            int64
	ReturnCount, VoidCount int
	Indexes                TaxIndexes
	Normal, Return         TaxAmounts
}

// AppendBinary appends the 70-byte encoding of r to b.
func (r Declaration) AppendBinary(b []byte) ([]byte, error) {
	e := &enc{rec: "Declaration", b: b}
	e.date("Start", r.Start)
	e.date("End", r.End)
	e.u32("NormalCount", r.NormalCount)
	e.u16("ReturnCount", r.ReturnCount)
	e.u16("VoidCount", r.VoidCount)
	e.totals(r.Indexes, r.Normal, r.Return)
	return e.finish(len(b), DeclarationLen)
}

// MarshalBinary returns the 70-byte encoding of r.
func (r Declaration) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes a 70-byte declaration. On error r is unchanged.
func (r *Declaration) UnmarshalBinary(b []byte) error {
	return decodeInto(r, "Declaration", b, DeclarationLen, func(d *dec) Declaration {
		return Declaration{
			Start:       d.date("Start"),
			End:         d.date("End"),
			NormalCount: int64(d.u32()),
			ReturnCount: d.u16(),
			VoidCount:   d.u16(),
			Indexes:     d.indexes(),
			Normal:      d.amounts(),
			Return:      d.amounts(),
		}
	})
}

// InvoiceDetail is the 27-byte invoice detail entry (发票明细) exported to check
// cards and kept per invoice in fiscal memory. [YB] and [TT] agree on the fields
// but order date, number and type differently; this project uses:
//
//	off len field
//	  0   4 date, BCD
//	  4   1 invoice type (01 normal, 02 return, 03 void)
//	  5   4 invoice number, u32
//	  9   4 total, u32 fen
//	 13   8 税控码 (fiscal code)
//	 21   4 original invoice number, u32 (returns; 0 otherwise)
//	 25   2 reserved, 00 00
type InvoiceDetail struct {
	Date       Date
	Type       InvoiceType
	Number     uint32
	Total      Amount
	FiscalCode FiscalCode
	Original   uint32
}

// AppendBinary appends the 27-byte encoding of r to b.
func (r InvoiceDetail) AppendBinary(b []byte) ([]byte, error) {
	e := &enc{rec: "InvoiceDetail", b: b}
	e.date("Date", r.Date)
	if !r.Type.Valid() {
		e.fail("Type", fmt.Errorf("%w: 0x%02X", ErrInvoiceType, uint8(r.Type)))
	}
	e.u8(byte(r.Type))
	e.u32("Number", int64(r.Number))
	e.amount("Total", r.Total)
	e.raw(r.FiscalCode[:])
	e.u32("Original", int64(r.Original))
	e.raw([]byte{0, 0})
	return e.finish(len(b), InvoiceDetailLen)
}

// MarshalBinary returns the 27-byte encoding of r.
func (r InvoiceDetail) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes a 27-byte invoice detail. The reserved bytes are
// ignored. On error r is unchanged.
func (r *InvoiceDetail) UnmarshalBinary(b []byte) error {
	return decodeInto(r, "InvoiceDetail", b, InvoiceDetailLen, func(d *dec) (v InvoiceDetail) {
		v.Date = d.date("Date")
		v.Type = d.invoiceType("Type")
		v.Number = d.u32()
		v.Total = d.amount()
		copy(v.FiscalCode[:], d.next(8))
		v.Original = d.u32()
		d.next(2) // reserved
		return v
	})
}

// ControlData is the fiscal card's control file EF01 (23 bytes), written only
// through UPDATE_CONTROLS:
//
//	off len field
//	  0   4 开票截止日期 issuing deadline, BCD
//	  4   4 单张开票限额 single-invoice limit, u32 fen
//	  8   4 开票累计限额 cumulative normal limit for the period, u32 fen
//	 12   4 退票累计限额 cumulative return limit for the period, u32 fen
//	 16   6 tax indexes the machine may use
//	 22   1 明细申报方式 detail declaration mode
type ControlData struct {
	Deadline    Date
	SingleLimit Amount
	TotalLimit  Amount
	ReturnLimit Amount
	Indexes     TaxIndexes
	DetailMode  byte
}

// AppendBinary appends the 23-byte encoding of r to b.
func (r ControlData) AppendBinary(b []byte) ([]byte, error) {
	e := &enc{rec: "ControlData", b: b}
	e.date("Deadline", r.Deadline)
	e.amount("SingleLimit", r.SingleLimit)
	e.amount("TotalLimit", r.TotalLimit)
	e.amount("ReturnLimit", r.ReturnLimit)
	e.indexes(r.Indexes)
	e.u8(r.DetailMode)
	return e.finish(len(b), ControlDataLen)
}

// MarshalBinary returns the 23-byte encoding of r.
func (r ControlData) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes the 23-byte control file. On error r is unchanged.
func (r *ControlData) UnmarshalBinary(b []byte) error {
	return decodeInto(r, "ControlData", b, ControlDataLen, func(d *dec) ControlData {
		return ControlData{
			Deadline:    d.date("Deadline"),
			SingleLimit: d.amount(),
			TotalLimit:  d.amount(),
			ReturnLimit: d.amount(),
			Indexes:     d.indexes(),
			DetailMode:  d.u8(),
		}
	})
}

// Roll is an invoice roll (发票卷): its invoice code and the range of invoice
// numbers printed on it, both ends included (18 bytes):
//
//	off len field
//	  0  10 invoice code, 10 ASCII digits
//	 10   4 first invoice number, u32
//	 14   4 last invoice number, u32
type Roll struct {
	Code       InvoiceCode
	Start, End uint32
}

// Count returns the number of invoices in the roll (0 for an invalid range).
func (r Roll) Count() int {
	if r.Start == 0 || r.End < r.Start {
		return 0
	}
	return int(r.End-r.Start) + 1
}

// Contains reports whether invoice number n belongs to the roll.
func (r Roll) Contains(n uint32) bool { return r.Start != 0 && n >= r.Start && n <= r.End }

// Validate checks the code digits and that Start..End is a range.
func (r Roll) Validate() error {
	if !r.Code.Valid() {
		return fieldErr("Roll", "Code", fmt.Errorf("%w: % X", ErrDigits, r.Code[:]))
	}
	if r.Start == 0 || r.End < r.Start {
		return fieldErr("Roll", "End", fmt.Errorf("%w: %d..%d", ErrRoll, r.Start, r.End))
	}
	return nil
}

// AppendBinary appends the 18-byte encoding of r to b after validating it.
func (r Roll) AppendBinary(b []byte) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return b, err
	}
	e := &enc{rec: "Roll", b: b}
	e.raw(r.Code[:])
	e.u32("Start", int64(r.Start))
	e.u32("End", int64(r.End))
	return e.finish(len(b), RollLen)
}

// MarshalBinary returns the 18-byte encoding of r.
func (r Roll) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes and validates an 18-byte roll. On error r is
// unchanged.
func (r *Roll) UnmarshalBinary(b []byte) error {
	var v Roll
	err := decodeInto(&v, "Roll", b, RollLen, func(d *dec) (v Roll) {
		copy(v.Code[:], d.next(InvoiceCodeLen))
		v.Start = d.u32()
		v.End = d.u32()
		return v
	})
	if err == nil {
		err = v.Validate()
	}
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// SignedRoll is a roll with the 4-byte MAC the tax system computes over it: the
// 22-byte block of INPUT_INVOICE_NB (command data), DISTRIBUTE_INVOICE_NB
// (response) and user-card EF07 (roll ‖ MAC).
type SignedRoll struct {
	Roll
	MAC [4]byte
}

// AppendBinary appends the 22-byte encoding of r to b.
func (r SignedRoll) AppendBinary(b []byte) ([]byte, error) {
	out, err := r.Roll.AppendBinary(b)
	if err != nil {
		return out, err
	}
	return append(out, r.MAC[:]...), nil
}

// MarshalBinary returns the 22-byte encoding of r.
func (r SignedRoll) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes a 22-byte signed roll. On error r is unchanged.
func (r *SignedRoll) UnmarshalBinary(b []byte) error {
	if len(b) != SignedRollLen {
		return &LengthError{Record: "SignedRoll", Want: SignedRollLen, Got: len(b)}
	}
	var v SignedRoll
	if err := v.Roll.UnmarshalBinary(b[:RollLen]); err != nil {
		return err
	}
	copy(v.MAC[:], b[RollLen:])
	*r = v
	return nil
}

// TaxItem is one 47-byte tax item record (税种税目) of the user card's EF03:
//
//	off len field
//	  0   1 tax index
//	  1   4 税目代码 item code, 4 raw bytes
//	  5   2 税率 rate, u16 in hundredths of a percent (300 = 3.00 %)
//	  7  20 Chinese name, GB18030, NUL-padded
//	 27  20 English name, GB18030 (ASCII), NUL-padded
//
// The unit of the rate is the project's decision; no source gives it.
type TaxItem struct {
	Index  TaxIndex
	Code   [4]byte
	Rate   int // hundredths of a percent
	NameCN string
	NameEN string
}

// AppendBinary appends the 47-byte encoding of r to b.
func (r TaxItem) AppendBinary(b []byte) ([]byte, error) {
	e := &enc{rec: "TaxItem", b: b}
	e.u8(byte(r.Index))
	e.raw(r.Code[:])
	e.u16("Rate", r.Rate)
	e.text("NameCN", r.NameCN, ItemNameLen)
	e.text("NameEN", r.NameEN, ItemNameLen)
	return e.finish(len(b), TaxItemLen)
}

// MarshalBinary returns the 47-byte encoding of r.
func (r TaxItem) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes a 47-byte tax item. On error r is unchanged.
func (r *TaxItem) UnmarshalBinary(b []byte) error {
	return decodeInto(r, "TaxItem", b, TaxItemLen, func(d *dec) (v TaxItem) {
		v.Index = TaxIndex(d.u8())
		copy(v.Code[:], d.next(4))
		v.Rate = d.u16()
		v.NameCN = d.text("NameCN", ItemNameLen)
		v.NameEN = d.text("NameEN", ItemNameLen)
		return v
	})
}

// IssueInvoiceBlock is the 44-byte command data of ISSUE_INVOICE (C0 F2):
//
//	off len field
//	  0   4 date, BCD
//	  4   1 invoice type
//	  5   4 invoice number, u32
//	  9  30 6 × (tax index[1] ‖ amount u32 fen)
//	 39   4 total, u32 fen
//	 43   1 XOR of bytes 0..42
//
// For voids every amount is 0.
type IssueInvoiceBlock struct {
	Date    Date
	Type    InvoiceType
	Number  uint32
	Indexes TaxIndexes
	Amounts TaxAmounts
	Total   Amount
}

// Validate checks the rules a card enforces on the block's content: a valid
// type, a date, a non-zero number, a total equal to the sum of the items, and
// zero amounts on a void. Each failure wraps a package sentinel.
func (r IssueInvoiceBlock) Validate() error {
	switch {
	case !r.Type.Valid():
		return fieldErr("IssueInvoiceBlock", "Type", fmt.Errorf("%w: 0x%02X", ErrInvoiceType, uint8(r.Type)))
	case !r.Date.Valid():
		return fieldErr("IssueInvoiceBlock", "Date", ErrDate)
	case r.Number == 0:
		return fieldErr("IssueInvoiceBlock", "Number", fmt.Errorf("%w: invoice number 0", ErrCountRange))
	case r.Amounts.Sum() != r.Total:
		return fieldErr("IssueInvoiceBlock", "Total", fmt.Errorf("%w: total %s is not the sum of items %s", ErrAmountRange, r.Total, r.Amounts.Sum()))
	case r.Type == InvoiceVoid && r.Total != 0:
		return fieldErr("IssueInvoiceBlock", "Total", fmt.Errorf("%w: a void carries no amount", ErrAmountRange))
	}
	for i, a := range r.Amounts {
		if a != 0 && r.Indexes[i] == 0 {
			return fieldErr("IssueInvoiceBlock", fmt.Sprintf("Amounts[%d]", i), fmt.Errorf("%w: amount in an unused slot", ErrAmountRange))
		}
	}
	return nil
}

// AppendBinary appends the 44-byte block (XOR included) to b. It encodes the
// fields as given; call Validate for the content rules.
func (r IssueInvoiceBlock) AppendBinary(b []byte) ([]byte, error) {
	e := &enc{rec: "IssueInvoiceBlock", b: b}
	e.date("Date", r.Date)
	if !r.Type.Valid() {
		e.fail("Type", fmt.Errorf("%w: 0x%02X", ErrInvoiceType, uint8(r.Type)))
	}
	e.u8(byte(r.Type))
	e.u32("Number", int64(r.Number))
	for i := range r.Indexes {
		e.u8(byte(r.Indexes[i]))
		e.amountAt("Amounts", i, r.Amounts[i])
	}
	e.amount("Total", r.Total)
	if e.err == nil {
		e.u8(XOR(e.b[len(b):]))
	}
	return e.finish(len(b), IssueInvoiceBlockLen)
}

// MarshalBinary returns the 44-byte block.
func (r IssueInvoiceBlock) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes a 44-byte block, checking its XOR byte. On error r
// is unchanged.
func (r *IssueInvoiceBlock) UnmarshalBinary(b []byte) error {
	if len(b) != IssueInvoiceBlockLen {
		return &LengthError{Record: "IssueInvoiceBlock", Want: IssueInvoiceBlockLen, Got: len(b)}
	}
	body, err := CheckXOR(b)
	if err != nil {
		return fieldErr("IssueInvoiceBlock", "XOR", err)
	}
	return decodeInto(r, "IssueInvoiceBlock", body, IssueInvoiceBlockLen-1, func(d *dec) (v IssueInvoiceBlock) {
		v.Date = d.date("Date")
		v.Type = d.invoiceType("Type")
		v.Number = d.u32()
		for i := range v.Indexes {
			v.Indexes[i] = TaxIndex(d.u8())
			v.Amounts[i] = d.amount()
		}
		v.Total = d.amount()
		return v
	})
}

// DeclareDutyResponse is the 142-byte response of DECLARE_DUTY (C0 F4):
//
//	off len field
//	  0   4 card's total of valid (normal) invoices for the period, u32 fen
//	  4   4 card's total of returns for the period, u32 fen
//	  8   1 status
//	  9   4 MAC1
//	 13 128 electronic signature (电子签名)
//	141   1 XOR of bytes 0..140
type DeclareDutyResponse struct {
	TotalValid  Amount
	TotalReturn Amount
	Status      byte
	MAC1        [4]byte
	Signature   [SignatureLen]byte
}

// AppendBinary appends the 142-byte response (XOR included) to b.
func (r DeclareDutyResponse) AppendBinary(b []byte) ([]byte, error) {
	e := &enc{rec: "DeclareDutyResponse", b: b}
	e.amount("TotalValid", r.TotalValid)
	e.amount("TotalReturn", r.TotalReturn)
	e.u8(r.Status)
	e.raw(r.MAC1[:])
	e.raw(r.Signature[:])
	if e.err == nil {
		e.u8(XOR(e.b[len(b):]))
	}
	return e.finish(len(b), DeclareDutyResponseLen)
}

// MarshalBinary returns the 142-byte response.
func (r DeclareDutyResponse) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// UnmarshalBinary decodes a 142-byte response, checking its XOR byte. On error
// r is unchanged.
func (r *DeclareDutyResponse) UnmarshalBinary(b []byte) error {
	if len(b) != DeclareDutyResponseLen {
		return &LengthError{Record: "DeclareDutyResponse", Want: DeclareDutyResponseLen, Got: len(b)}
	}
	body, err := CheckXOR(b)
	if err != nil {
		return fieldErr("DeclareDutyResponse", "XOR", err)
	}
	return decodeInto(r, "DeclareDutyResponse", body, DeclareDutyResponseLen-1, func(d *dec) (v DeclareDutyResponse) {
		v.TotalValid = d.amount()
		v.TotalReturn = d.amount()
		v.Status = d.u8()
		copy(v.MAC1[:], d.next(4))
		copy(v.Signature[:], d.next(SignatureLen))
		return v
	})
}
