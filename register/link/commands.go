package link

import (
	"fmt"
	"time"
)

// Command is a command code of the host link (reference §5.2).
type Command uint8

// Command codes implemented by Client and Server (reference §5.2, [TT]).
const (
	CmdConnect              Command = 0x00 // 联机
	CmdInitialise           Command = 0x30 // 税控器初始化
	CmdDistributeRoll       Command = 0x31 // 分发发票号
	CmdCurrentInvoice       Command = 0x33 // 当前发票号上传
	CmdIssueNormal          Command = 0x34 // 开正常发票
	CmdIssueReturn          Command = 0x35 // 退票
	CmdVoid                 Command = 0x36 // 废票
	CmdMachineInfo          Command = 0x37 // 机器出厂数据上传
	CmdUserInfo             Command = 0x38 // 用户信息上传
	CmdTaxItems             Command = 0x39 // 税种税目信息上传
	CmdDateTime             Command = 0x3A // 日期时间上传
	CmdSetDateTime          Command = 0x3B // 设置时间
	CmdRollUsage            Command = 0x3C // 单卷发票使用汇总上传
	CmdDeclare              Command = 0x3D // 申报数据写卡
	CmdDeclarations         Command = 0x3E // 申报数据上传
	CmdInvoices             Command = 0x3F // 发票数据上传 (by number range)
	CmdStatus               Command = 0x41 // 税控器状态上传
	CmdInvoiceDetails       Command = 0x42 // 发票打印数据 by number range
	CmdInvoiceDetailsByTime Command = 0x43 // 发票打印数据 by time range
	CmdDailyData            Command = 0x44 // 日交易数据 by time range
	CmdLoadRoll             Command = 0x50 // 录入发票号

	// Service commands (service.go).
	CmdInspect        Command = 0x45 // 核查数据写卡 (inspection to the check card)
	CmdCardPowerOn    Command = 0x59 // IC card power on
	CmdCardPowerOff   Command = 0x5A // IC card power off
	CmdCardAPDU       Command = 0x5B // raw APDU to an IC card (read-only ISO commands only)
	CmdSelfTestMemory Command = 0x5C // self-test: fiscal memory (project assignment within 5C-61)
	CmdSelfTestFiscal Command = 0x5D // self-test: fiscal card answers
	CmdSelfTestUser   Command = 0x5E // self-test: user card answers
	CmdSelfTestClock  Command = 0x5F // self-test: clock not before the last fiscal record
)

var commandNames = map[Command]string{
	CmdConnect: "connect", CmdInitialise: "initialise", CmdDistributeRoll: "distribute roll",
	CmdCurrentInvoice: "current invoice number", CmdIssueNormal: "issue normal", CmdIssueReturn: "issue return",
	CmdVoid: "void", CmdMachineInfo: "machine data", CmdUserInfo: "user information", CmdTaxItems: "tax items",
	CmdDateTime: "date/time", CmdSetDateTime: "set date/time", CmdRollUsage: "roll usage summary",
	CmdDeclare: "declaration to card", CmdDeclarations: "declaration upload", CmdInvoices: "invoice upload",
	CmdStatus: "status", CmdInvoiceDetails: "invoice print data by number",
	CmdInvoiceDetailsByTime: "invoice print data by time", CmdDailyData: "daily data", CmdLoadRoll: "load roll",
	CmdInspect: "inspection to check card", CmdCardPowerOn: "card power on", CmdCardPowerOff: "card power off",
	CmdCardAPDU: "card APDU", CmdSelfTestMemory: "self-test memory", CmdSelfTestFiscal: "self-test fiscal card",
	CmdSelfTestUser: "self-test user card", CmdSelfTestClock: "self-test clock",
	CmdInvoicesByRequest: "invoice upload by request id",
}

func (c Command) String() string {
	if s, ok := commandNames[c]; ok {
		return fmt.Sprintf("%s (%02X)", s, uint8(c))
	}
	return fmt.Sprintf("command %02X", uint8(c))
}

// Known reports whether c is a command this package implements.
func (c Command) Known() bool { _, ok := commandNames[c]; return ok }

// Issuing reports whether c issues invoices. Requests of issuing commands
// start with an 8-byte client request id, their OK reply carries it inside
// each invoice record, and their ER reply is code ‖ request id.
func (c Command) Issuing() bool {
	return c == CmdIssueNormal || c == CmdIssueReturn || c == CmdVoid
}

// SelfTest reports whether c is one of the self-test commands.
func (c Command) SelfTest() bool { return c >= CmdSelfTestMemory && c <= CmdSelfTestClock }

// ReadOnly reports whether c only reads; the client re-sends read-only
// commands after a timeout or a broken reply, and never re-sends the others
// blindly.
func (c Command) ReadOnly() bool {
	switch c {
	case CmdConnect, CmdCurrentInvoice, CmdMachineInfo, CmdUserInfo, CmdTaxItems, CmdDateTime,
		CmdRollUsage, CmdDeclarations, CmdInvoices, CmdStatus, CmdInvoiceDetails,
		CmdInvoiceDetailsByTime, CmdDailyData, CmdSelfTestMemory, CmdSelfTestFiscal, CmdSelfTestUser,
		CmdSelfTestClock:
		return true
	}
	return false
}

// Limits of the command data.
const (
	MaxItems      = 10 // items per invoice [agree YB, TT]
	MaxTaxItems   = 6  // tax items (税种税目) per taxpayer
	NameLen       = 20 // item and tax-item names, GB18030, NUL-padded
	PayerLen      = 40 // payer name, GB18030, NUL-padded
	TaxpayerIDLen = 20 // taxpayer identification number, ASCII, NUL-padded
	VersionLen    = 8  // hardware and software version strings, ASCII
	SignatureLen  = 128
)

// ConnectInfo is the reply to CmdConnect: machine no[8] ‖ protocol version ‖
// largest packet data the register accepts.
type ConnectInfo struct {
	MachineNo       [8]byte
	ProtocolVersion uint8
	MaxPacketData   uint8
}

// StatusFlags are the bits of StatusInfo.Flags.
type StatusFlags uint8

// Status flag bits.
const (
	FlagInitialised    StatusFlags = 1 << 0
	FlagLocked         StatusFlags = 1 << 1
	FlagDeclarePending StatusFlags = 1 << 2
	FlagFiscalCard     StatusFlags = 1 << 3 // fiscal card present and ready
	FlagUserCard       StatusFlags = 1 << 4 // user card present
	FlagMemoryWarning  StatusFlags = 1 << 5 // fiscal memory almost full
)

// StatusInfo is the reply to CmdStatus: flags ‖ now (BCD CCYYMMDDhhmmss) ‖
// next invoice no u32 ‖ remaining u32 ‖ rolls waiting u8 ‖ issuing
// deadline (BCD CCYYMMDD). 21 bytes.
type StatusInfo struct {
	Flags         StatusFlags
	Time          time.Time
	NextInvoice   uint32
	Remaining     uint32
	RollsWaiting  uint8
	IssueDeadline time.Time
}

// MachineInfo is the reply to CmdMachineInfo: machine no[8] ‖ production
// date[4] ‖ hardware version[8] ‖ software version[8]. 28 bytes.
type MachineInfo struct {
	MachineNo       [8]byte
	ProductionDate  time.Time
	HardwareVersion string
	SoftwareVersion string
}

// UserInfo is the reply to CmdUserInfo: fiscal card no[8] ‖ taxpayer id[20]
// ‖ taxpayer name[40] ‖ init date[4] ‖ issuing deadline[4] ‖ single,
// cumulative and return limits u32 (fen). 88 bytes.
type UserInfo struct {
	FiscalCardNo    [8]byte
	TaxpayerID      string
	TaxpayerName    []byte // GB18030
	InitDate        time.Time
	IssueDeadline   time.Time
	SingleLimit     uint32
	CumulativeLimit uint32
	ReturnLimit     uint32
}

// TaxItem is one tax item (税种税目): index ‖ rate u16 (units of 0.01 %) ‖
// name[20]. The reply to CmdTaxItems is count u8 ‖ count × 23 bytes.
type TaxItem struct {
	Index uint8
	Rate  uint16
	Name  []byte // GB18030
}

// Roll is an invoice roll: code[10] (the 发票代码 as 10 ASCII digits, as
// package fiscal stores it) ‖ first number u32 ‖ last number u32. 18 bytes;
// the reply to CmdDistributeRoll and CmdLoadRoll.
type Roll struct {
	Code  [10]byte
	Start uint32
	End   uint32
}

// CurrentInvoice is the reply to CmdCurrentInvoice: next number u32 (0: no
// roll loaded) ‖ remaining in the roll u32 ‖ last issued number u32 (0:
// none yet). 12 bytes.
type CurrentInvoice struct {
	Next       uint32
	Remaining  uint32
	LastIssued uint32
}

// Item is one invoice line: name[20] ‖ quantity u32 (thousandths) ‖ tax
// index u8 ‖ unit price u32 (fen). 29 bytes.
type Item struct {
	Name      []byte // GB18030
	Quantity  uint32 // in thousandths: 1500 is 1.5
	TaxIndex  uint8
	UnitPrice uint32 // fen
}

// Amount returns the line amount in fen, rounded half up, and whether it
// fits a u32.
func (it Item) Amount() (uint32, bool) {
	v := (uint64(it.Quantity)*uint64(it.UnitPrice) + 500) / 1000
	return uint32(v), v <= 0xFFFFFFFF
}

// IssueRequest is the data of CmdIssueNormal: request id u64 ‖ branch
// (分户编号) u16 ‖ payer[40] ‖ item count u8 ‖ count × Item. A 10-line
// invoice is 341 bytes, two packets.
//
// RequestID is this project's addition to the reference layout: a non-zero
// id chosen by the client, the same for every re-send of one invoice, so
// that a register answers a repeated request from memory instead of
// issuing twice. Client fills it in when it is zero.
type IssueRequest struct {
	RequestID uint64
	Branch    uint16
	Payer     []byte // GB18030
	Items     []Item
}

// ReturnRequest is the data of CmdIssueReturn: request id u64 ‖ original
// invoice number u32. The register issues the next invoice as a return
// (type 02) with the original's amounts.
type ReturnRequest struct {
	RequestID  uint64
	OriginalNo uint32
}

// VoidRequest is the data of CmdVoid: request id u64 ‖ count u16. The
// register voids the next Count blank invoices of the current roll (1: the
// current invoice).
type VoidRequest struct {
	RequestID uint64
	Count     uint16
}

// InvoiceType is the GB 18240.2 invoice type.
type InvoiceType uint8

// Invoice types [agree YB, TT].
const (
	TypeNormal InvoiceType = 0x01 // 正常发票
	TypeReturn InvoiceType = 0x02 // 退票
	TypeVoid   InvoiceType = 0x03 // 废票
)

func (t InvoiceType) String() string {
	switch t {
	case TypeNormal:
		return "normal"
	case TypeReturn:
		return "return"
	case TypeVoid:
		return "void"
	}
	return fmt.Sprintf("InvoiceType(%02X)", uint8(t))
}

// Invoice is an issued invoice: number u32 ‖ type u8 ‖ time (BCD
// CCYYMMDDhhmmss) ‖ total u32 (fen) ‖ fiscal code (税控码)[8] ‖ original
// number u32 (returns; else 0) ‖ request id u64. 36 bytes. It is the reply
// to CmdIssueNormal and CmdIssueReturn and the record of CmdInvoices.
type Invoice struct {
	No         uint32
	Type       InvoiceType
	Time       time.Time
	Total      uint32
	FiscalCode [8]byte
	OriginalNo uint32
	RequestID  uint64
}

// FiscalCodeString prints the 税控码 as the 20 decimal digits of two
// big-endian u32 values, each zero-padded to 10 digits.
func (inv Invoice) FiscalCodeString() string {
	c := inv.FiscalCode
	hi := uint32(c[0])<<24 | uint32(c[1])<<16 | uint32(c[2])<<8 | uint32(c[3])
	lo := uint32(c[4])<<24 | uint32(c[5])<<16 | uint32(c[6])<<8 | uint32(c[7])
	return fmt.Sprintf("%010d%010d", hi, lo)
}

// InvoiceDetail is the print data of an invoice: Invoice ‖ branch u16 ‖
// payer[40] ‖ count u8 ‖ count × Item. The record of CmdInvoiceDetails and
// CmdInvoiceDetailsByTime.
type InvoiceDetail struct {
	Invoice
	Branch uint16
	Payer  []byte
	Items  []Item
}

// NumberRange selects invoices From..To inclusive: from u32 ‖ to u32.
type NumberRange struct{ From, To uint32 }

// TimeRange selects records by time, From..To inclusive, skipping the
// first Skip matches: from (BCD CCYYMMDDhhmmss) ‖ to ‖ skip u32.
type TimeRange struct {
	From, To time.Time
	Skip     uint32
}

// DateRange selects records by day, From..To inclusive, skipping the first
// Skip matches: from (BCD CCYYMMDD) ‖ to ‖ skip u32.
type DateRange struct {
	From, To time.Time
	Skip     uint32
}

// DailyData is one daily record (日交易数据, the 64 bytes of reference
// §2.5: date ‖ normal, return, void counts u16 ‖ tax index[6] ‖ 6 normal
// amounts u32 ‖ 6 return amounts u32) followed by its 128-byte signature.
type DailyData struct {
	Date        time.Time
	NormalCount uint16
	ReturnCount uint16
	VoidCount   uint16
	TaxIndex    [6]uint8
	Normal      [6]uint32
	Return      [6]uint32
	Signature   [SignatureLen]byte
}

// DeclareMode selects the kind of declaration (reference §4).
type DeclareMode uint8

// Declaration modes.
const (
	DeclareNormal DeclareMode = 0 // 正常申报: up to an end date no later than yesterday
	DeclareStop   DeclareMode = 1 // 停机申报: includes today
	DeclareMonth  DeclareMode = 2 // 自然月申报: up to the end of last month
	DeclareRedo   DeclareMode = 3 // 重新申报: write the last declaration again
)

// DeclareRequest is the data of CmdDeclare: mode u8 ‖ end date (BCD, zero
// for the mode's default).
type DeclareRequest struct {
	Mode    DeclareMode
	EndDate time.Time
}

// Declaration is a declaration record (the 70 bytes of reference §2.5:
// start ‖ end ‖ normal count u32 ‖ return count u16 ‖ void count u16 ‖ tax
// index[6] ‖ 6 normal amounts ‖ 6 return amounts) followed by MAC1[4] and
// the 128-byte signature. 202 bytes.
type Declaration struct {
	Start, End  time.Time
	NormalCount uint32
	ReturnCount uint16
	VoidCount   uint16
	TaxIndex    [6]uint8
	Normal      [6]uint32
	Return      [6]uint32
	MAC         [4]byte
	Signature   [SignatureLen]byte
}

// RollUsageQuery is the data of CmdRollUsage: skip u32 (rolls to skip,
// oldest first).
type RollUsageQuery struct{ Skip uint32 }

// RollUsage is the usage summary of one roll: code[10] ‖ start u32 ‖ end
// u32 ‖ normal, return, void counts u16 ‖ normal and return totals u32 ‖
// first and last issuing dates (BCD CCYYMMDD). 40 bytes.
type RollUsage struct {
	Code        [10]byte
	Start, End  uint32
	NormalCount uint16
	ReturnCount uint16
	VoidCount   uint16
	NormalTotal uint32
	ReturnTotal uint32
	First, Last time.Time
}

// Record sizes on the wire.
const (
	invoiceSize     = 36
	dailySize       = 64 + SignatureLen
	declarationSize = 70 + 4 + SignatureLen
	rollUsageSize   = 40
	itemSize        = 29
	maxDetailSize   = invoiceSize + 2 + PayerLen + 1 + MaxItems*itemSize
)

// ---- encoders and decoders ----

func (x ConnectInfo) encode(w *writer) {
	w.raw(x.MachineNo[:])
	w.u8(x.ProtocolVersion)
	w.u8(x.MaxPacketData)
}
func (x *ConnectInfo) decode(r *reader) {
	r.copyTo(x.MachineNo[:], "machine no")
	x.ProtocolVersion = r.u8("protocol version")
	x.MaxPacketData = r.u8("max packet data")
}

func (x StatusInfo) encode(w *writer) {
	w.u8(uint8(x.Flags))
	w.dateTime(x.Time, "time")
	w.u32(x.NextInvoice)
	w.u32(x.Remaining)
	w.u8(x.RollsWaiting)
	w.date(x.IssueDeadline, "issue deadline")
}
func (x *StatusInfo) decode(r *reader) {
	x.Flags = StatusFlags(r.u8("flags"))
	x.Time = r.dateTime("time")
	x.NextInvoice = r.u32("next invoice")
	x.Remaining = r.u32("remaining")
	x.RollsWaiting = r.u8("rolls waiting")
	x.IssueDeadline = r.date("issue deadline")
}

func (x MachineInfo) encode(w *writer) {
	w.raw(x.MachineNo[:])
	w.date(x.ProductionDate, "production date")
	w.text([]byte(x.HardwareVersion), VersionLen, "hardware version")
	w.text([]byte(x.SoftwareVersion), VersionLen, "software version")
}
func (x *MachineInfo) decode(r *reader) {
	r.copyTo(x.MachineNo[:], "machine no")
	x.ProductionDate = r.date("production date")
	x.HardwareVersion = string(r.text(VersionLen, "hardware version"))
	x.SoftwareVersion = string(r.text(VersionLen, "software version"))
}

func (x UserInfo) encode(w *writer) {
	w.raw(x.FiscalCardNo[:])
	w.text([]byte(x.TaxpayerID), TaxpayerIDLen, "taxpayer id")
	w.text(x.TaxpayerName, PayerLen, "taxpayer name")
	w.date(x.InitDate, "init date")
	w.date(x.IssueDeadline, "issue deadline")
	w.u32(x.SingleLimit)
	w.u32(x.CumulativeLimit)
	w.u32(x.ReturnLimit)
}
func (x *UserInfo) decode(r *reader) {
	r.copyTo(x.FiscalCardNo[:], "fiscal card no")
	x.TaxpayerID = string(r.text(TaxpayerIDLen, "taxpayer id"))
	x.TaxpayerName = r.text(PayerLen, "taxpayer name")
	x.InitDate = r.date("init date")
	x.IssueDeadline = r.date("issue deadline")
	x.SingleLimit = r.u32("single limit")
	x.CumulativeLimit = r.u32("cumulative limit")
	x.ReturnLimit = r.u32("return limit")
}

func encodeTaxItems(w *writer, items []TaxItem) {
	if len(items) > MaxTaxItems {
		w.fail("tax items", fmt.Sprintf("%d items, at most %d", len(items), MaxTaxItems))
		items = items[:MaxTaxItems]
	}
	w.u8(uint8(len(items)))
	for _, it := range items {
		w.u8(it.Index)
		w.u16(it.Rate)
		w.text(it.Name, NameLen, "tax item name")
	}
}
func decodeTaxItems(r *reader) []TaxItem {
	n := int(r.u8("tax item count"))
	if n > MaxTaxItems {
		r.fail("tax item count", fmt.Sprintf("%d, at most %d", n, MaxTaxItems))
		return nil
	}
	items := make([]TaxItem, 0, n)
	for range n {
		var it TaxItem
		it.Index = r.u8("tax index")
		it.Rate = r.u16("tax rate")
		it.Name = r.text(NameLen, "tax item name")
		items = append(items, it)
	}
	return items
}

func (x Roll) encode(w *writer) { w.raw(x.Code[:]); w.u32(x.Start); w.u32(x.End) }
func (x *Roll) decode(r *reader) {
	r.copyTo(x.Code[:], "roll code")
	x.Start = r.u32("roll start")
	x.End = r.u32("roll end")
}

func (x CurrentInvoice) encode(w *writer) { w.u32(x.Next); w.u32(x.Remaining); w.u32(x.LastIssued) }
func (x *CurrentInvoice) decode(r *reader) {
	x.Next = r.u32("next")
	x.Remaining = r.u32("remaining")
	x.LastIssued = r.u32("last issued")
}

func encodeItems(w *writer, items []Item) {
	if len(items) > MaxItems {
		w.fail("items", fmt.Sprintf("%d items, at most %d", len(items), MaxItems))
		items = items[:MaxItems]
	}
	w.u8(uint8(len(items)))
	for _, it := range items {
		w.text(it.Name, NameLen, "item name")
		w.u32(it.Quantity)
		w.u8(it.TaxIndex)
		w.u32(it.UnitPrice)
	}
}
func decodeItems(r *reader) []Item {
	n := int(r.u8("item count"))
	if n > MaxItems {
		r.fail("item count", fmt.Sprintf("%d, at most %d", n, MaxItems))
		return nil
	}
	items := make([]Item, 0, n)
	for range n {
		var it Item
		it.Name = r.text(NameLen, "item name")
		it.Quantity = r.u32("quantity")
		it.TaxIndex = r.u8("tax index")
		it.UnitPrice = r.u32("unit price")
		items = append(items, it)
	}
	return items
}

func (x IssueRequest) encode(w *writer) {
	w.u64(x.RequestID)
	w.u16(x.Branch)
	w.text(x.Payer, PayerLen, "payer")
	if len(x.Items) == 0 {
		w.fail("items", "an invoice needs at least one item")
	}
	encodeItems(w, x.Items)
}
func (x *IssueRequest) decode(r *reader) {
	x.RequestID = r.u64("request id")
	x.Branch = r.u16("branch")
	x.Payer = r.text(PayerLen, "payer")
	x.Items = decodeItems(r)
	if r.err == nil && len(x.Items) == 0 {
		r.fail("items", "an invoice needs at least one item")
	}
}

func (x ReturnRequest) encode(w *writer) { w.u64(x.RequestID); w.u32(x.OriginalNo) }
func (x *ReturnRequest) decode(r *reader) {
	x.RequestID = r.u64("request id")
	x.OriginalNo = r.u32("original no")
}

func (x VoidRequest) encode(w *writer) {
	if x.Count == 0 {
		w.fail("count", "must be at least 1")
	}
	w.u64(x.RequestID)
	w.u16(x.Count)
}
func (x *VoidRequest) decode(r *reader) {
	x.RequestID = r.u64("request id")
	x.Count = r.u16("count")
	if r.err == nil && x.Count == 0 {
		r.fail("count", "must be at least 1")
	}
}

func (x Invoice) encode(w *writer) {
	w.u32(x.No)
	w.u8(uint8(x.Type))
	w.dateTime(x.Time, "invoice time")
	w.u32(x.Total)
	w.raw(x.FiscalCode[:])
	w.u32(x.OriginalNo)
	w.u64(x.RequestID)
}
func (x *Invoice) decode(r *reader) {
	x.No = r.u32("invoice no")
	x.Type = InvoiceType(r.u8("invoice type"))
	if r.err == nil && (x.Type < TypeNormal || x.Type > TypeVoid) {
		r.fail("invoice type", fmt.Sprintf("%02X is not 01, 02 or 03", uint8(x.Type)))
	}
	x.Time = r.dateTime("invoice time")
	x.Total = r.u32("total")
	r.copyTo(x.FiscalCode[:], "fiscal code")
	x.OriginalNo = r.u32("original no")
	x.RequestID = r.u64("request id")
}

func (x InvoiceDetail) encode(w *writer) {
	x.Invoice.encode(w)
	w.u16(x.Branch)
	w.text(x.Payer, PayerLen, "payer")
	encodeItems(w, x.Items)
}
func (x *InvoiceDetail) decode(r *reader) {
	x.Invoice.decode(r)
	x.Branch = r.u16("branch")
	x.Payer = r.text(PayerLen, "payer")
	x.Items = decodeItems(r)
}

func (x NumberRange) encode(w *writer) { w.u32(x.From); w.u32(x.To) }
func (x *NumberRange) decode(r *reader) {
	x.From = r.u32("from")
	x.To = r.u32("to")
}

func (x TimeRange) encode(w *writer) {
	w.dateTime(x.From, "from")
	w.dateTime(x.To, "to")
	w.u32(x.Skip)
}
func (x *TimeRange) decode(r *reader) {
	x.From = r.dateTime("from")
	x.To = r.dateTime("to")
	x.Skip = r.u32("skip")
}

func (x DateRange) encode(w *writer) {
	w.date(x.From, "from")
	w.date(x.To, "to")
	w.u32(x.Skip)
}
func (x *DateRange) decode(r *reader) {
	x.From = r.date("from")
	x.To = r.date("to")
	x.Skip = r.u32("skip")
}

// taxTotals writes the six tax indexes and the six normal and six return
// amounts that daily data and declarations share (the tail of the GB 18240.2
// daily and declaration records).
func (w *writer) taxTotals(idx *[6]uint8, normal, ret *[6]uint32) {
	w.raw(idx[:])
	for _, v := range normal {
		w.u32(v)
	}
	for _, v := range ret {
		w.u32(v)
	}
}

// taxTotals reads what writer.taxTotals writes.
func (r *reader) taxTotals(idx *[6]uint8, normal, ret *[6]uint32) {
	r.copyTo(idx[:], "tax index")
	for i := range normal {
		normal[i] = r.u32("normal amount")
	}
	for i := range ret {
		ret[i] = r.u32("return amount")
	}
}

func (x DailyData) encode(w *writer) {
	w.date(x.Date, "date")
	w.u16(x.NormalCount)
	w.u16(x.ReturnCount)
	w.u16(x.VoidCount)
	w.taxTotals(&x.TaxIndex, &x.Normal, &x.Return)
	w.raw(x.Signature[:])
}
func (x *DailyData) decode(r *reader) {
	x.Date = r.date("date")
	x.NormalCount = r.u16("normal count")
	x.ReturnCount = r.u16("return count")
	x.VoidCount = r.u16("void count")
	r.taxTotals(&x.TaxIndex, &x.Normal, &x.Return)
	r.copyTo(x.Signature[:], "signature")
}

func (x DeclareRequest) encode(w *writer) { w.u8(uint8(x.Mode)); w.date(x.EndDate, "end date") }
func (x *DeclareRequest) decode(r *reader) {
	x.Mode = DeclareMode(r.u8("mode"))
	if r.err == nil && x.Mode > DeclareRedo {
		r.fail("mode", fmt.Sprintf("%d is not a declaration mode", x.Mode))
	}
	x.EndDate = r.date("end date")
}

func (x Declaration) encode(w *writer) {
	w.date(x.Start, "start")
	w.date(x.End, "end")
	w.u32(x.NormalCount)
	w.u16(x.ReturnCount)
	w.u16(x.VoidCount)
	w.taxTotals(&x.TaxIndex, &x.Normal, &x.Return)
	w.raw(x.MAC[:])
	w.raw(x.Signature[:])
}
func (x *Declaration) decode(r *reader) {
	x.Start = r.date("start")
	x.End = r.date("end")
	x.NormalCount = r.u32("normal count")
	x.ReturnCount = r.u16("return count")
	x.VoidCount = r.u16("void count")
	r.taxTotals(&x.TaxIndex, &x.Normal, &x.Return)
	r.copyTo(x.MAC[:], "MAC")
	r.copyTo(x.Signature[:], "signature")
}

func (x RollUsageQuery) encode(w *writer)  { w.u32(x.Skip) }
func (x *RollUsageQuery) decode(r *reader) { x.Skip = r.u32("skip") }

func (x RollUsage) encode(w *writer) {
	w.raw(x.Code[:])
	w.u32(x.Start)
	w.u32(x.End)
	w.u16(x.NormalCount)
	w.u16(x.ReturnCount)
	w.u16(x.VoidCount)
	w.u32(x.NormalTotal)
	w.u32(x.ReturnTotal)
	w.date(x.First, "first")
	w.date(x.Last, "last")
}
func (x *RollUsage) decode(r *reader) {
	r.copyTo(x.Code[:], "roll code")
	x.Start = r.u32("start")
	x.End = r.u32("end")
	x.NormalCount = r.u16("normal count")
	x.ReturnCount = r.u16("return count")
	x.VoidCount = r.u16("void count")
	x.NormalTotal = r.u32("normal total")
	x.ReturnTotal = r.u32("return total")
	x.First = r.date("first")
	x.Last = r.date("last")
}

// List replies (invoices, details, daily data, declarations, roll usage)
// are: more u8 (1: records remain after these; ask again) ‖ count u16 ‖
// count records.

type encoder interface{ encode(*writer) }

func encodeList[T encoder](w *writer, more bool, recs []T) {
	m := uint8(0)
	if more {
		m = 1
	}
	w.u8(m)
	w.u16(uint16(len(recs)))
	for _, rec := range recs {
		rec.encode(w)
	}
}

func decodeList[T any, PT interface {
	*T
	decode(*reader)
}](r *reader, minSize int) (recs []T, more bool) {
	m := r.u8("more")
	if r.err == nil && m > 1 {
		r.fail("more", "not 0 or 1")
	}
	n := int(r.u16("count"))
	if r.err != nil {
		return nil, false
	}
	if n*minSize > len(r.b) {
		r.fail("count", fmt.Sprintf("%d records cannot fit in %d bytes", n, len(r.b)))
		return nil, false
	}
	recs = make([]T, n)
	for i := range recs {
		PT(&recs[i]).decode(r)
	}
	if r.err != nil {
		return nil, false
	}
	return recs, m == 1
}

// issuingError is the data of an ER reply to an issuing command: code ‖
// request id u64.
func encodeIssuingError(code ErrorCode, id uint64) []byte {
	w := writer{}
	w.u8(uint8(code))
	w.u64(id)
	return w.b
}
