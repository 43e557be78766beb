package memory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Kind is the kind of a stored record. The numeric values are part of the
// on-disk format.
type Kind uint8

// Record kinds. Each has its own mutability rule, enforced by the API.
const (
	KindMachine     Kind = 1  // machine identity: written once (factory)
	KindApplication Kind = 2  // application / initialisation: first one, then only a change of owner
	KindInvoice     Kind = 3  // invoice detail: append-only
	KindDaily       Kind = 4  // daily record + signature: append-only, dates increasing
	KindDeclaration Kind = 5  // declaration + DECLARE_DUTY response: append-only
	KindRollLoad    Kind = 6  // roll loaded into the fiscal card: append-only
	KindRollUsage   Kind = 7  // used-roll summary: append-only
	KindPIN         Kind = 8  // rolling fiscal PIN: the newest replaces the older ones
	KindIntent      Kind = 9  // an operation intent opened
	KindIntentDone  Kind = 10 // an operation intent marked done
	KindSecurity    Kind = 11 // security log event: append-only
	// KindRollDistributed: a roll handed out by the user card and waiting
	// to be loaded: append-only, no overlapping ranges of one code.
	KindRollDistributed Kind = 12
	// KindRollTaken: a waiting roll taken off the waiting list (loaded, or
	// dropped at a change of owner): append-only, only for a waiting roll.
	KindRollTaken Kind = 13
	// KindControlUpdate: a control update (税控更新) applied by the fiscal
	// card, with the new control data: append-only, after initialisation.
	KindControlUpdate Kind = 14
	// KindRequest: the host's request id of a stored invoice (a
	// RequestRecord), written in the invoice's batch: at most one per
	// invoice, after it; one id names the invoices of one request only.
	KindRequest Kind = 15

	kindLast = KindRequest
)

var kindNames = [...]string{
	KindMachine:     "machine",
	KindApplication: "init",
	KindInvoice:     "invoice",
	KindDaily:       "daily",
	KindDeclaration: "declaration",
	KindRollLoad:    "roll",
	KindRollUsage:   "roll_usage",
	KindPIN:         "pin",
	KindIntent:      "intent",
	KindIntentDone:  "intent_done",
	KindSecurity:    "security",

	KindRollDistributed: "roll_distributed",
	KindRollTaken:       "roll_taken",
	KindControlUpdate:   "control_update",
	KindRequest:         "request",
}

func (k Kind) valid() bool { return k >= KindMachine && k <= kindLast }

// String returns the kind's name as used in the JSON Lines export.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Text field widths (GB18030 bytes) of the records of this package.
const (
	VersionLen  = 16   // machine hardware / software version
	TaxIDLen    = 20   // 纳税人识别号
	DrawerLen   = 20   // 开票人
	MaxIntentOp = 32   // bytes of Intent.Op
	MaxIntent   = 4096 // bytes of Intent.Payload
	MaxSecText  = 512  // bytes of SecurityEvent.Text
)

// Machine is the machine identity burnt in at the factory. It is written
// once and can never be changed.
type Machine struct {
	Number          fiscal.MachineNumber // 机器编号, 16 BCD digits
	Produced        fiscal.Date          // production date
	HardwareVersion string               // at most VersionLen bytes of GB18030
	SoftwareVersion string               // at most VersionLen bytes of GB18030
}

// Application is the application / initialisation record (税控初始化). The
// first one is written at initialisation; later ones only by a change of
// owner (停机过户), and every earlier one stays in the history.
type Application struct {
	TaxpayerNumber [8]byte           // 纳税人编号
	TaxpayerName   string            // 纳税人名称, at most 40 bytes of GB18030
	TaxID          string            // 纳税人识别号, at most 20 bytes
	FiscalCard     fiscal.CardNumber // 税控卡编号
	UserCard       fiscal.CardNumber // 用户卡编号
	InitDate       fiscal.Date       // date of initialisation
	AppStart       fiscal.Date       // 应用启用日期
	AppValid       fiscal.Date       // 应用有效日期
	TaxItems       []fiscal.TaxItem  // at most 6
	Control        fiscal.ControlData
}

// Clock is a time of day in the register's zone.
type Clock struct {
	Hour, Minute, Second uint8
}

// ClockOf returns the time of day of t in China Standard Time.
func ClockOf(t time.Time) Clock {
	h, m, s := t.In(fiscal.Zone()).Clock()
	return Clock{uint8(h), uint8(m), uint8(s)}
}

func (c Clock) valid() bool { return c.Hour < 24 && c.Minute < 60 && c.Second < 60 }

// String returns "hh:mm:ss".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d:%02d", c.Hour, c.Minute, c.Second) }

// Line is one goods line of an invoice.
type Line struct {
	Name      string          // at most fiscal.ItemNameLen bytes of GB18030
	Quantity  uint32          // in thousandths of a unit (1500 = 1.5)
	UnitPrice fiscal.Amount   // fen
	Amount    fiscal.Amount   // fen
	TaxIndex  fiscal.TaxIndex // one of the invoice's Indexes
}

// Invoice is one issued invoice: the 27-byte GB detail plus what a stub
// reprint and the reports need.
type Invoice struct {
	Detail  fiscal.InvoiceDetail // date, type, number, total, 税控码, original number
	Code    fiscal.InvoiceCode   // 发票代码 of the roll
	Time    Clock                // time of day of issue
	Indexes fiscal.TaxIndexes    // tax items used, by slot
	Amounts fiscal.TaxAmounts    // amount per slot; sums to Detail.Total
	Lines   []Line               // at most fiscal.MaxInvoiceLines
	Payer   string               // 付款单位, at most 40 bytes of GB18030
	Drawer  string               // 开票人, at most DrawerLen bytes of GB18030
	// OriginalCode is, on a return invoice whose original (Detail.Original)
	// belongs to a roll of another 发票代码, that code: the GB detail names
	// only the original's number. Zero means the return's own Code (and
	// is all that returns stored before it was kept have); OriginalKey
	// resolves it. Other invoices leave it zero.
	OriginalCode fiscal.InvoiceCode
	// RequestID is the host's request id the invoice was issued for (0:
	// none). It is not part of the invoice's payload: Batch.AddInvoice
	// stores a non-zero one as a KindRequest record right after the
	// invoice, and the methods that read invoices back fill it in.
	RequestID uint64
}

// RequestRecord ties a host's request id to a stored invoice: the payload
// of a KindRequest record.
type RequestRecord struct {
	Code   fiscal.InvoiceCode // 发票代码 of the invoice
	Number uint32             // invoice number
	ID     uint64             // request id, non-zero
}

func (r RequestRecord) validate() error {
	switch {
	case r.ID == 0:
		return invalid("request id 0")
	case r.Number == 0:
		return invalid("invoice number 0")
	case !r.Code.Valid():
		return invalid("invoice code %q", string(r.Code[:])) // a copy: r.Code[:] would move r to the heap on every call
	}
	return nil
}

// RequestRecord: code[10] number u32 id u64.
func (r RequestRecord) appendPayload(b []byte) ([]byte, error) {
	b = append(b, r.Code[:]...)
	b = binary.BigEndian.AppendUint32(b, r.Number)
	return binary.BigEndian.AppendUint64(b, r.ID), nil
}

func decodeRequest(p []byte) (RequestRecord, error) {
	d := &pdec{b: p}
	var r RequestRecord
	copy(r.Code[:], d.next(fiscal.InvoiceCodeLen))
	r.Number = d.u32()
	r.ID = d.u64()
	return r, d.done()
}

// OriginalKey returns the invoice code and number of the original invoice a
// return invoice refunds: OriginalCode (Code when that is zero) and
// Detail.Original.
func (v Invoice) OriginalKey() (fiscal.InvoiceCode, uint32) {
	if v.OriginalCode == (fiscal.InvoiceCode{}) {
		return v.Code, v.Detail.Original
	}
	return v.OriginalCode, v.Detail.Original
}

// Daily is one daily record with the fiscal card's 128-byte signature.
type Daily struct {
	Record    fiscal.DailyRecord
	Signature [fiscal.SignatureLen]byte
}

// Declaration is one declaration: the 70-byte data sent with DECLARE_DUTY,
// the card's 142-byte response (totals, status, MAC1, signature) and the
// date it was made.
type Declaration struct {
	Date     fiscal.Date
	Data     fiscal.Declaration
	Response fiscal.DeclareDutyResponse
}

// RollLoad records an invoice roll loaded into the fiscal card.
type RollLoad struct {
	Roll   fiscal.Roll
	Loaded time.Time // stored to the second
}

// RollUsage is the summary of a used roll (单卷发票使用汇总).
type RollUsage struct {
	Roll                                fiscal.Roll
	NormalCount, ReturnCount, VoidCount int
	Normal, Return                      fiscal.Amount // totals in fen
	First, Last                         fiscal.Date   // first and last issue date
}

// Add counts v into the summary if it is an invoice of u.Roll (same
// invoice code, number within Start..End) and reports whether it was. It is
// how the register builds the summary of a roll from the stored invoices.
func (u *RollUsage) Add(v Invoice) bool {
	if v.Code != u.Roll.Code || !u.Roll.Contains(v.Detail.Number) {
		return false
	}
	switch v.Detail.Type {
	case fiscal.InvoiceNormal:
		u.NormalCount++
		u.Normal += v.Detail.Total
	case fiscal.InvoiceReturn:
		u.ReturnCount++
		u.Return += v.Detail.Total
	case fiscal.InvoiceVoid:
		u.VoidCount++
	}
	if u.First.IsZero() || v.Detail.Date.Before(u.First) {
		u.First = v.Detail.Date
	}
	if v.Detail.Date.After(u.Last) {
		u.Last = v.Detail.Date
	}
	return true
}

// RollDistribution records a roll the user card handed out
// (DISTRIBUTE_INVOICE_NB) that waits to be loaded into the fiscal card. It
// stays waiting until a RollTaken record names it.
type RollDistribution struct {
	Roll fiscal.SignedRoll // roll and the user card's MAC, as INPUT_INVOICE_NB needs them
	Time time.Time         // stored to the second
}

// RollTakenReason says why a roll left the waiting list. Values are stored.
type RollTakenReason uint8

// Reasons of RollTaken.
const (
	RollLoaded  RollTakenReason = 1 // loaded into the fiscal card
	RollDropped RollTakenReason = 2 // dropped (change of owner: the roll was the old taxpayer's)
)

func (r RollTakenReason) valid() bool { return r == RollLoaded || r == RollDropped }

// String returns the reason's name as used in the export.
func (r RollTakenReason) String() string {
	switch r {
	case RollLoaded:
		return "loaded"
	case RollDropped:
		return "dropped"
	}
	return fmt.Sprintf("RollTakenReason(%d)", uint8(r))
}

// RollTaken records that a waiting roll left the waiting list.
type RollTaken struct {
	Roll   fiscal.Roll
	Time   time.Time // stored to the second
	Reason RollTakenReason
}

// ControlUpdate records a control update (税控更新) the fiscal card applied:
// the control data in force from then on.
type ControlUpdate struct {
	Time    time.Time // stored to the second
	Control fiscal.ControlData
}

// PIN is the rolling fiscal PIN returned by the fiscal card.
type PIN [8]byte

// Intent is an operation intent, written before the first card command of a
// multi-step operation and marked done when the operation is complete. The
// ones still open at start-up are the operations to recover.
type Intent struct {
	ID      uint64 // chosen by the caller, unique among open intents
	Op      string // operation name, e.g. "issue", at most MaxIntentOp bytes
	Payload []byte // what recovery needs, at most MaxIntent bytes
}

// SecurityType is the type of a security log event. Values are stored.
type SecurityType uint8

// Security event types.
const (
	SecPowerLoss   SecurityType = 1 // power lost (or torn tail found) during operation
	SecClockChange SecurityType = 2 // clock set
	SecInspection  SecurityType = 3 // inspection (稽查) by a check card
	SecTamper      SecurityType = 4 // tampering detected
	SecRepair      SecurityType = 5 // repair done
	SecPINError    SecurityType = 6 // fiscal PIN rejected by the card
	SecOther       SecurityType = 7 // anything else; see Text
)

var secNames = [...]string{
	SecPowerLoss:   "power_loss",
	SecClockChange: "clock_change",
	SecInspection:  "inspection",
	SecTamper:      "tamper",
	SecRepair:      "repair",
	SecPINError:    "pin_error",
	SecOther:       "other",
}

func (t SecurityType) valid() bool { return t >= SecPowerLoss && t <= SecOther }

// String returns the event type's name as used in the export.
func (t SecurityType) String() string {
	if t.valid() {
		return secNames[t]
	}
	return fmt.Sprintf("SecurityType(%d)", uint8(t))
}

// SecurityEvent is one entry of the security log.
type SecurityEvent struct {
	Time time.Time // stored to the second
	Type SecurityType
	Text string // UTF-8, at most MaxSecText bytes
}

// ---- payload codecs -------------------------------------------------------

// penc builds a payload; the first error is kept and later appends are
// no-ops for the caller's purposes.
type penc struct {
	b   []byte
	err error
}

func (e *penc) fail(field string, err error) {
	if e.err == nil {
		e.err = fmt.Errorf("%w: %s: %w", ErrInvalid, field, err)
	}
}

func (e *penc) u8(v byte)        { e.b = append(e.b, v) }
func (e *penc) raw(p []byte)     { e.b = append(e.b, p...) }
func (e *penc) u32(v uint32)     { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *penc) u64(v uint64)     { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *penc) i64(v int64)      { e.u64(uint64(v)) }
func (e *penc) u16(v uint16)     { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *penc) time(t time.Time) { e.i64(t.Unix()) }

func (e *penc) date(field string, d fiscal.Date) {
	b, err := d.AppendBCD(e.b)
	if err != nil {
		e.fail(field, err)
		b = append(e.b, 0, 0, 0, 0)
	}
	e.b = b
}

// amountAt appends element i of an amount list; the field name is only
// formatted on failure.
func (e *penc) amountAt(field string, i int, a fiscal.Amount) {
	u, err := a.Uint32()
	if err != nil {
		e.fail(fmt.Sprintf("%s[%d]", field, i), err)
	}
	e.u32(u)
}

func (e *penc) count(field string, n int) {
	if n < 0 || int64(n) > 0xFFFFFFFF {
		e.fail(field, fmt.Errorf("count %d out of range", n))
		n = 0
	}
	e.u32(uint32(n))
}

func (e *penc) text(field, s string, width int) {
	b, err := fiscal.EncodeText(s, width, fiscal.TextOptions{})
	if err != nil {
		e.fail(field, err)
		b = make([]byte, width)
	}
	e.raw(b)
}

type binaryAppender interface {
	AppendBinary([]byte) ([]byte, error)
}

func (e *penc) rec(field string, r binaryAppender, want int) {
	start := len(e.b)
	b, err := r.AppendBinary(e.b)
	if err != nil || len(b)-start != want {
		if err == nil {
			err = fmt.Errorf("encoded %d bytes, want %d", len(b)-start, want)
		}
		e.fail(field, err)
		b = append(e.b[:start], make([]byte, want)...)
	}
	e.b = b
}

// pdec reads a payload; it never panics: reads past the end record an
// error and return zeros.
type pdec struct {
	b   []byte
	err error
}

func (d *pdec) fail(field string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w", field, err)
	}
}

func (d *pdec) next(n int) []byte {
	if d.err != nil || n > len(d.b) {
		if d.err == nil {
			d.err = fmt.Errorf("payload too short: %d bytes needed, %d left", n, len(d.b))
		}
		return make([]byte, max(n, 0))
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *pdec) u8() byte        { return d.next(1)[0] }
func (d *pdec) u16() uint16     { return binary.BigEndian.Uint16(d.next(2)) }
func (d *pdec) u32() uint32     { return binary.BigEndian.Uint32(d.next(4)) }
func (d *pdec) u64() uint64     { return binary.BigEndian.Uint64(d.next(8)) }
func (d *pdec) time() time.Time { return time.Unix(int64(d.u64()), 0).In(fiscal.Zone()) }

func (d *pdec) date(field string) fiscal.Date {
	v, err := fiscal.DecodeDate(d.next(fiscal.DateLen))
	if err != nil {
		d.fail(field, err)
	}
	return v
}

func (d *pdec) text(field string, width int) string {
	s, err := fiscal.DecodeText(d.next(width))
	if err != nil {
		d.fail(field, err)
	}
	return s
}

type binaryUnmarshaler interface{ UnmarshalBinary([]byte) error }

func (d *pdec) rec(field string, r binaryUnmarshaler, n int) {
	if err := r.UnmarshalBinary(d.next(n)); err != nil {
		d.fail(field, err)
	}
}

func (d *pdec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return d.err
}

// Machine: number[8] produced[4] hw[16] sw[16].
func (m Machine) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.raw(m.Number[:])
	e.date("Produced", m.Produced)
	e.text("HardwareVersion", m.HardwareVersion, VersionLen)
	e.text("SoftwareVersion", m.SoftwareVersion, VersionLen)
	return e.b, e.err
}

func decodeMachine(p []byte) (Machine, error) {
	d := &pdec{b: p}
	var m Machine
	copy(m.Number[:], d.next(8))
	m.Produced = d.date("Produced")
	m.HardwareVersion = d.text("HardwareVersion", VersionLen)
	m.SoftwareVersion = d.text("SoftwareVersion", VersionLen)
	return m, d.done()
}

// Application: taxpayer no[8] name[40] tax id[20] fiscal card[8] user card[8]
// init[4] start[4] valid[4] control[23] n[1] n×tax item[47].
func (a Application) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.raw(a.TaxpayerNumber[:])
	e.text("TaxpayerName", a.TaxpayerName, fiscal.TaxpayerNameLen)
	e.text("TaxID", a.TaxID, TaxIDLen)
	e.raw(a.FiscalCard[:])
	e.raw(a.UserCard[:])
	e.date("InitDate", a.InitDate)
	e.date("AppStart", a.AppStart)
	e.date("AppValid", a.AppValid)
	e.rec("Control", a.Control, fiscal.ControlDataLen)
	if len(a.TaxItems) > fiscal.MaxTaxItems {
		e.fail("TaxItems", fmt.Errorf("%d tax items, at most %d", len(a.TaxItems), fiscal.MaxTaxItems))
	}
	e.u8(byte(min(len(a.TaxItems), fiscal.MaxTaxItems)))
	for i, t := range a.TaxItems[:min(len(a.TaxItems), fiscal.MaxTaxItems)] {
		e.rec(fmt.Sprintf("TaxItems[%d]", i), t, fiscal.TaxItemLen)
	}
	return e.b, e.err
}

func decodeApplication(p []byte) (Application, error) {
	d := &pdec{b: p}
	var a Application
	copy(a.TaxpayerNumber[:], d.next(8))
	a.TaxpayerName = d.text("TaxpayerName", fiscal.TaxpayerNameLen)
	a.TaxID = d.text("TaxID", TaxIDLen)
	copy(a.FiscalCard[:], d.next(8))
	copy(a.UserCard[:], d.next(8))
	a.InitDate = d.date("InitDate")
	a.AppStart = d.date("AppStart")
	a.AppValid = d.date("AppValid")
	d.rec("Control", &a.Control, fiscal.ControlDataLen)
	n := int(d.u8())
	if n > fiscal.MaxTaxItems {
		d.fail("TaxItems", fmt.Errorf("%d tax items", n))
		n = 0
	}
	for i := 0; i < n; i++ {
		var t fiscal.TaxItem
		d.rec("TaxItems", &t, fiscal.TaxItemLen)
		a.TaxItems = append(a.TaxItems, t)
	}
	return a, d.done()
}

// Invoice: detail[27] code[10] time hh mm ss[3] indexes[6] amounts 6×u32
// payer[40] drawer[20] n[1] n×line(name[20] qty u32 price u32 amount u32 index[1])
// [original_code[10], on a return invoice with OriginalCode only].
func (v Invoice) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.rec("Detail", v.Detail, fiscal.InvoiceDetailLen)
	e.raw(v.Code[:])
	e.u8(v.Time.Hour)
	e.u8(v.Time.Minute)
	e.u8(v.Time.Second)
	for _, x := range v.Indexes {
		e.u8(byte(x))
	}
	for i, a := range v.Amounts {
		e.amountAt("Amounts", i, a)
	}
	e.text("Payer", v.Payer, fiscal.TaxpayerNameLen)
	e.text("Drawer", v.Drawer, DrawerLen)
	if len(v.Lines) > fiscal.MaxInvoiceLines {
		e.fail("Lines", fmt.Errorf("%d lines, at most %d", len(v.Lines), fiscal.MaxInvoiceLines))
	}
	n := min(len(v.Lines), fiscal.MaxInvoiceLines)
	e.u8(byte(n))
	for i, l := range v.Lines[:n] {
		e.text("Lines.Name", l.Name, fiscal.ItemNameLen)
		e.u32(l.Quantity)
		e.amountAt("Lines.UnitPrice", i, l.UnitPrice)
		e.amountAt("Lines.Amount", i, l.Amount)
		e.u8(byte(l.TaxIndex))
	}
	if v.OriginalCode != (fiscal.InvoiceCode{}) {
		e.raw(v.OriginalCode[:])
	}
	return e.b, e.err
}

func decodeInvoice(p []byte) (Invoice, error) {
	d := &pdec{b: p}
	var v Invoice
	// A direct call: through the binaryUnmarshaler interface of d.rec the
	// whole Invoice would escape to the heap on every decode.
	if err := v.Detail.UnmarshalBinary(d.next(fiscal.InvoiceDetailLen)); err != nil {
		d.fail("Detail", err)
	}
	copy(v.Code[:], d.next(fiscal.InvoiceCodeLen))
	v.Time = Clock{d.u8(), d.u8(), d.u8()}
	for i := range v.Indexes {
		v.Indexes[i] = fiscal.TaxIndex(d.u8())
	}
	for i := range v.Amounts {
		v.Amounts[i] = fiscal.Amount(d.u32())
	}
	v.Payer = d.text("Payer", fiscal.TaxpayerNameLen)
	v.Drawer = d.text("Drawer", DrawerLen)
	n := int(d.u8())
	if n > fiscal.MaxInvoiceLines {
		d.fail("Lines", fmt.Errorf("%d lines", n))
		n = 0
	}
	for i := 0; i < n; i++ {
		var l Line
		l.Name = d.text("Lines.Name", fiscal.ItemNameLen)
		l.Quantity = d.u32()
		l.UnitPrice = fiscal.Amount(d.u32())
		l.Amount = fiscal.Amount(d.u32())
		l.TaxIndex = fiscal.TaxIndex(d.u8())
		v.Lines = append(v.Lines, l)
	}
	if v.Detail.Type == fiscal.InvoiceReturn && len(d.b) == fiscal.InvoiceCodeLen {
		copy(v.OriginalCode[:], d.next(fiscal.InvoiceCodeLen))
		if !v.OriginalCode.Valid() {
			d.fail("OriginalCode", fmt.Errorf("% X is not 10 digits", string(v.OriginalCode[:])))
		}
	}
	return v, d.done()
}

// AppendBinary appends the invoice as fiscal memory stores it (the invoice
// payload of the package documentation) to b, after the content checks
// AddInvoice makes; a failure matches ErrInvalid (and the text error of
// package fiscal for a text field that does not fit or encode).
func (v Invoice) AppendBinary(b []byte) ([]byte, error) {
	if err := v.validate(); err != nil {
		return b, err
	}
	out, err := v.appendPayload(b)
	if err != nil {
		return b, err
	}
	return out, nil
}

// MarshalBinary returns the invoice as fiscal memory stores it; see
// AppendBinary.
func (v Invoice) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// UnmarshalBinary decodes an invoice payload and checks its content rules.
// On error v is unchanged; the error matches ErrInvalid.
func (v *Invoice) UnmarshalBinary(b []byte) error {
	x, err := decodeInvoice(b)
	if err == nil {
		err = x.validate()
	}
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			err = fmt.Errorf("%w: invoice: %w", ErrInvalid, err)
		}
		return err
	}
	*v = x
	return nil
}

// Daily: record[64] signature[128].
func (r Daily) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.rec("Record", r.Record, fiscal.DailyRecordLen)
	e.raw(r.Signature[:])
	return e.b, e.err
}

func decodeDaily(p []byte) (Daily, error) {
	d := &pdec{b: p}
	var r Daily
	d.rec("Record", &r.Record, fiscal.DailyRecordLen)
	copy(r.Signature[:], d.next(fiscal.SignatureLen))
	return r, d.done()
}

// Declaration: date[4] data[70] response[142].
func (r Declaration) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.date("Date", r.Date)
	e.rec("Data", r.Data, fiscal.DeclarationLen)
	e.rec("Response", r.Response, fiscal.DeclareDutyResponseLen)
	return e.b, e.err
}

func decodeDeclaration(p []byte) (Declaration, error) {
	d := &pdec{b: p}
	var r Declaration
	r.Date = d.date("Date")
	d.rec("Data", &r.Data, fiscal.DeclarationLen)
	d.rec("Response", &r.Response, fiscal.DeclareDutyResponseLen)
	return r, d.done()
}

// RollLoad: roll[18] loaded unix seconds i64.
func (r RollLoad) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.rec("Roll", r.Roll, fiscal.RollLen)
	e.time(r.Loaded)
	return e.b, e.err
}

func decodeRollLoad(p []byte) (RollLoad, error) {
	d := &pdec{b: p}
	var r RollLoad
	d.rec("Roll", &r.Roll, fiscal.RollLen)
	r.Loaded = d.time()
	return r, d.done()
}

// RollUsage: roll[18] counts 3×u32 normal u64 return u64 first[4] last[4].
func (r RollUsage) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.rec("Roll", r.Roll, fiscal.RollLen)
	e.count("NormalCount", r.NormalCount)
	e.count("ReturnCount", r.ReturnCount)
	e.count("VoidCount", r.VoidCount)
	if r.Normal < 0 || r.Return < 0 {
		e.fail("Normal/Return", fmt.Errorf("negative total"))
	}
	e.i64(int64(r.Normal))
	e.i64(int64(r.Return))
	e.date("First", r.First)
	e.date("Last", r.Last)
	return e.b, e.err
}

func decodeRollUsage(p []byte) (RollUsage, error) {
	d := &pdec{b: p}
	var r RollUsage
	d.rec("Roll", &r.Roll, fiscal.RollLen)
	r.NormalCount = int(d.u32())
	r.ReturnCount = int(d.u32())
	r.VoidCount = int(d.u32())
	r.Normal = fiscal.Amount(d.u64())
	r.Return = fiscal.Amount(d.u64())
	if r.Normal < 0 || r.Return < 0 {
		d.fail("Normal/Return", fmt.Errorf("negative total"))
	}
	r.First = d.date("First")
	r.Last = d.date("Last")
	return r, d.done()
}

// RollDistribution: signed roll[22] time i64.
func (r RollDistribution) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.rec("Roll", r.Roll, fiscal.SignedRollLen)
	e.time(r.Time)
	return e.b, e.err
}

func decodeRollDistribution(p []byte) (RollDistribution, error) {
	d := &pdec{b: p}
	var r RollDistribution
	d.rec("Roll", &r.Roll, fiscal.SignedRollLen)
	r.Time = d.time()
	return r, d.done()
}

// RollTaken: roll[18] time i64 reason u8.
func (r RollTaken) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.rec("Roll", r.Roll, fiscal.RollLen)
	e.time(r.Time)
	if !r.Reason.valid() {
		e.fail("Reason", fmt.Errorf("unknown reason %d", r.Reason))
	}
	e.u8(byte(r.Reason))
	return e.b, e.err
}

func decodeRollTaken(p []byte) (RollTaken, error) {
	d := &pdec{b: p}
	var r RollTaken
	d.rec("Roll", &r.Roll, fiscal.RollLen)
	r.Time = d.time()
	r.Reason = RollTakenReason(d.u8())
	if !r.Reason.valid() {
		d.fail("Reason", fmt.Errorf("unknown reason %d", r.Reason))
	}
	return r, d.done()
}

// ControlUpdate: time i64 control[23].
func (c ControlUpdate) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	e.time(c.Time)
	e.rec("Control", c.Control, fiscal.ControlDataLen)
	return e.b, e.err
}

func decodeControlUpdate(p []byte) (ControlUpdate, error) {
	d := &pdec{b: p}
	var c ControlUpdate
	c.Time = d.time()
	d.rec("Control", &c.Control, fiscal.ControlDataLen)
	return c, d.done()
}

// PIN: 8 bytes.
func (p PIN) appendPayload(b []byte) ([]byte, error) { return append(b, p[:]...), nil }

func decodePIN(p []byte) (PIN, error) {
	d := &pdec{b: p}
	var v PIN
	copy(v[:], d.next(8))
	return v, d.done()
}

// Intent: id u64, op length u8, op, payload length u16, payload.
func (in Intent) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	if len(in.Op) == 0 || len(in.Op) > MaxIntentOp || !utf8.ValidString(in.Op) {
		e.fail("Op", fmt.Errorf("operation name must be 1..%d bytes of UTF-8", MaxIntentOp))
	}
	if len(in.Payload) > MaxIntent {
		e.fail("Payload", fmt.Errorf("%d bytes, at most %d", len(in.Payload), MaxIntent))
	}
	e.u64(in.ID)
	op := in.Op[:min(len(in.Op), MaxIntentOp)]
	e.u8(byte(len(op)))
	e.raw([]byte(op))
	pl := in.Payload[:min(len(in.Payload), MaxIntent)]
	e.u16(uint16(len(pl)))
	e.raw(pl)
	return e.b, e.err
}

func decodeIntent(p []byte) (Intent, error) {
	d := &pdec{b: p}
	var in Intent
	in.ID = d.u64()
	n := int(d.u8())
	in.Op = string(d.next(n))
	if n == 0 || n > MaxIntentOp || !utf8.ValidString(in.Op) {
		d.fail("Op", fmt.Errorf("bad operation name"))
	}
	m := int(d.u16())
	if m > MaxIntent {
		d.fail("Payload", fmt.Errorf("%d bytes", m))
		m = 0
	}
	in.Payload = append([]byte(nil), d.next(m)...)
	return in, d.done()
}

// IntentDone: id u64.
func appendIntentDone(b []byte, id uint64) []byte { return binary.BigEndian.AppendUint64(b, id) }

func decodeIntentDone(p []byte) (uint64, error) {
	d := &pdec{b: p}
	id := d.u64()
	return id, d.done()
}

// SecurityEvent: time unix seconds i64, type u8, text length u16, UTF-8 text.
func (s SecurityEvent) appendPayload(b []byte) ([]byte, error) {
	e := &penc{b: b}
	if !s.Type.valid() {
		e.fail("Type", fmt.Errorf("unknown security event type %d", s.Type))
	}
	if len(s.Text) > MaxSecText || !utf8.ValidString(s.Text) {
		e.fail("Text", fmt.Errorf("text must be at most %d bytes of UTF-8", MaxSecText))
	}
	e.time(s.Time)
	e.u8(byte(s.Type))
	t := s.Text[:min(len(s.Text), MaxSecText)]
	e.u16(uint16(len(t)))
	e.raw([]byte(t))
	return e.b, e.err
}

func decodeSecurity(p []byte) (SecurityEvent, error) {
	d := &pdec{b: p}
	var s SecurityEvent
	s.Time = d.time()
	s.Type = SecurityType(d.u8())
	if !s.Type.valid() {
		d.fail("Type", fmt.Errorf("unknown security event type %d", s.Type))
	}
	n := int(d.u16())
	if n > MaxSecText {
		d.fail("Text", fmt.Errorf("%d bytes", n))
		n = 0
	}
	s.Text = string(d.next(n))
	if !utf8.ValidString(s.Text) {
		d.fail("Text", fmt.Errorf("not UTF-8"))
	}
	return s, d.done()
}

// Fixed part of an invoice payload, and the size of one line.
const (
	invoiceFixedLen = fiscal.InvoiceDetailLen + fiscal.InvoiceCodeLen + 3 + fiscal.MaxTaxItems*5 + fiscal.TaxpayerNameLen + DrawerLen + 1
	invoiceLineLen  = fiscal.ItemNameLen + 13
)

// minLinedInvoiceFrame is the on-disk size of an invoice frame with one line.
// It is frameLen(invoiceFixedLen + invoiceLineLen), as a constant.
const minLinedInvoiceFrame = (frameHeaderLen + invoiceFixedLen + invoiceLineLen + frameCRCLen + frameAlign - 1) &^ (frameAlign - 1)

// digits reports whether b is all ASCII digits.
func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// invoicePeek is what peekInvoice reads of an invoice payload.
type invoicePeek struct {
	Detail fiscal.InvoiceDetail // Date, Type, Number and Total set
	Code   fiscal.InvoiceCode
	Time   Clock
}

// peekInvoice reads only what the index and the order rules need from an
// invoice payload (date, type, number, total, code) and checks the payload's
// shape, the time of day and the content rules of Invoice.validate that need
// no text (see peekInvoiceRules), without decoding the text fields. Open uses it; Options.DeepVerify decodes everything instead.
// It returns only the fields it reads, in a value much smaller than an
// Invoice, as Open calls it for every stored invoice.
func peekInvoice(p []byte) (invoicePeek, error) {
	var v invoicePeek
	err := peekInvoiceInto(&v, p)
	return v, err
}

// peekInvoiceInto is peekInvoice reading into *v, which must be zero.
func peekInvoiceInto(v *invoicePeek, p []byte) error {
	if len(p) < invoiceFixedLen {
		return fmt.Errorf("invoice payload of %d bytes, shorter than %d", len(p), invoiceFixedLen)
	}
	n := int(p[invoiceFixedLen-1])
	size := invoiceFixedLen + n*invoiceLineLen
	if n > fiscal.MaxInvoiceLines || (len(p) != size && (len(p) != size+fiscal.InvoiceCodeLen || fiscal.InvoiceType(p[4]) != fiscal.InvoiceReturn)) {
		return fmt.Errorf("invoice payload of %d bytes with %d lines", len(p), n)
	}
	// The date as fiscal.DecodeDate reads it (four BCD bytes), inlined.
	var dv [4]int
	for i, x := range p[0:4] {
		hi, lo := x>>4, x&0x0F
		if hi > 9 || lo > 9 {
			return fmt.Errorf("invoice date: % X", p[0:4])
		}
		dv[i] = int(hi)*10 + int(lo)
	}
	d := fiscal.Date{Year: dv[0]*100 + dv[1], Month: time.Month(dv[2]), Day: dv[3]}
	if !d.Valid() {
		return fmt.Errorf("invoice date: % X", p[0:4])
	}
	v.Detail.Date = d
	v.Detail.Type = fiscal.InvoiceType(p[4])
	v.Detail.Number = binary.BigEndian.Uint32(p[5:9])
	v.Detail.Total = fiscal.Amount(binary.BigEndian.Uint32(p[9:13]))
	copy(v.Code[:], p[fiscal.InvoiceDetailLen:])
	o := fiscal.InvoiceDetailLen + fiscal.InvoiceCodeLen
	v.Time = Clock{p[o], p[o+1], p[o+2]}
	o += 3
	idx := (*[fiscal.MaxTaxItems]byte)(p[o:])
	o += fiscal.MaxTaxItems
	var amounts fiscal.TaxAmounts
	var sum fiscal.Amount
	for i := range amounts {
		amounts[i] = fiscal.Amount(binary.BigEndian.Uint32(p[o+4*i:]))
		sum += amounts[i]
	}
	switch {
	case !v.Detail.Type.Valid():
		return fmt.Errorf("invoice type 0x%02X", p[4])
	case v.Detail.Number == 0:
		return fmt.Errorf("invoice number 0")
	case !digits(p[fiscal.InvoiceDetailLen : fiscal.InvoiceDetailLen+fiscal.InvoiceCodeLen]): // v.Code.Valid(), without a copy
		return fmt.Errorf("invoice code %q", string(p[fiscal.InvoiceDetailLen:fiscal.InvoiceDetailLen+fiscal.InvoiceCodeLen]))
	case !v.Time.valid():
		return fmt.Errorf("time of day %02X %02X %02X", v.Time.Hour, v.Time.Minute, v.Time.Second)
	}
	if err := peekInvoiceRules(p, idx, &amounts, sum, n, &v.Detail); err != nil {
		return err
	}
	return nil
}

// peekInvoiceRules makes for peekInvoiceInto the checks of Invoice.validate
// that need no text decoded: the tax slots (no amount in an unused slot, no
// tax index twice), the total against the slot amounts, a void without an
// amount, a return naming its original (and its original code, if stored,
// being digits), and the lines' tax indexes and amounts against the slots.
// p is a payload whose shape peekInvoiceInto has checked, with n lines; idx
// and amounts are its tax slots, sum their total; d has Type and Total set.
// It runs for every stored invoice on Open, hence the bitmap of the tax
// indexes seen and the fixed-size views that spare bounds checks.
func peekInvoiceRules(p []byte, idx *[fiscal.MaxTaxItems]byte, amounts *fiscal.TaxAmounts, sum fiscal.Amount, n int, d *fiscal.InvoiceDetail) error {
	var seen [4]uint64 // tax indexes met so far, one bit each
	for i, x := range idx {
		if x == 0 {
			if amounts[i] != 0 {
				return fmt.Errorf("amount %s in unused tax slot %d", amounts[i], i)
			}
			continue
		}
		w, bit := x>>6, uint64(1)<<(x&63)
		if seen[w]&bit != 0 {
			return fmt.Errorf("tax index %d used twice", x)
		}
		seen[w] |= bit
	}
	if sum != d.Total {
		return fmt.Errorf("total %s is not the sum %s of the tax amounts", d.Total, sum)
	}
	switch d.Type {
	case fiscal.InvoiceVoid:
		if d.Total != 0 {
			return fmt.Errorf("a void invoice carries no amount")
		}
	case fiscal.InvoiceReturn:
		if binary.BigEndian.Uint32(p[21:25]) == 0 { // InvoiceDetail.Original
			return fmt.Errorf("a return invoice names its original invoice")
		}
	}
	end := invoiceFixedLen + n*invoiceLineLen
	if len(p) > end && !digits(p[end:]) { // the original code, stored only for returns
		return fmt.Errorf("original invoice code %q", string(p[end:]))
	}
	if n == 0 || d.Type == fiscal.InvoiceVoid {
		return nil
	}
	var sums fiscal.TaxAmounts
	for i := 0; i < n; i++ {
		l := (*[invoiceLineLen - fiscal.ItemNameLen]byte)(p[invoiceFixedLen+i*invoiceLineLen+fiscal.ItemNameLen:])
		amount := fiscal.Amount(binary.BigEndian.Uint32(l[8:12]))
		tax := l[12]
		slot := -1
		if seen[tax>>6]&(uint64(1)<<(tax&63)) != 0 { // tax is not 0, and is one of idx
			for j, x := range idx {
				if x == tax {
					slot = j
					break
				}
			}
		}
		if slot < 0 {
			return fmt.Errorf("line %d: tax index %d not among the invoice's", i, tax)
		}
		sums[slot] += amount
	}
	for j := range sums { // not sums != *amounts: that is a call to memequal
		if sums[j] != amounts[j] {
			return fmt.Errorf("line amounts %v do not add up to the tax amounts %v", sums, *amounts)
		}
	}
	return nil
}
