package link

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// DeviceOptions configure DeviceHandler. The zero value means the defaults.
type DeviceOptions struct {
	// Memory is the fiscal memory the device was opened on. It serves the
	// daily data (44), declaration upload (3E) and roll usage (3C); without
	// it those commands answer "unknown command".
	Memory *memory.Memory
	// Clock is no longer read: 3A, 41 and the clock self-test (5F) report
	// register.Device.Now, the time the register dates invoices with (its
	// Config.Clock plus the offset a clock inspection set). Kept so that
	// existing code compiles.
	Clock func() time.Time
	// SetClock, if set, carries out 3B (set date/time), for example by
	// moving the offset of a clock shared with the device. Without it 3B
	// answers "unknown command".
	SetClock func(time.Time) error
	// Declare, if set, replaces the device's own declaration for 3D
	// (declaration to card), for example to refuse it.
	Declare func(ctx context.Context, req DeclareRequest) (Declaration, error)
	// CheckCard returns the reader of the register's check-card slot, nil
	// while no check card is inserted; it serves 45 (inspection). Without
	// it 45 answers "unknown command".
	CheckCard func() card.Transmitter
	// FiscalReader and UserReader are the register's card slots (the same
	// cards as register.Config.Fiscal and User). They serve the card
	// self-tests (5D, 5E) and, with ServiceMode, the card commands 59, 5A
	// and 5B. Nil: the slot's commands answer "unknown command" (fiscal)
	// or "no user card" (user).
	FiscalReader, UserReader CardReader
	// ServiceMode switches on the card commands 59 (power on), 5A (power
	// off) and 5B (raw APDU) for a lab harness. Even then only the
	// read-only ISO commands of AllowedAPDU reach a card; see CardHandler.
	// Off by default: a register in service answers them "unknown command".
	ServiceMode bool
}

// CardReader is a card slot of the register as the service commands use
// it: a card.Transmitter that can also power its card on and off.
type CardReader interface {
	card.Transmitter
	// PowerOn powers the card on (or resets it) and returns its ATR.
	PowerOn(ctx context.Context) (atr []byte, err error)
	// PowerOff removes the card's power.
	PowerOff(ctx context.Context) error
}

// DeviceHandler serves a register.Device over the link. Errors of the
// device travel as their 税控器 codes (register.ErrorCode).
//
// The issuing commands pass their request id to the device, which stores
// it with the invoices in fiscal memory and answers a repeated id from
// there (also after a restart of the server or the register); uploads
// carry the stored ids, and CmdInvoicesByRequest (RequestHandler) looks
// invoices up by id. Invoice numbers in the number-range
// commands are looked up in the loaded roll when the range is small
// (≤ 256 numbers) and in all of fiscal memory otherwise.
func DeviceHandler(dev *register.Device, opts *DeviceOptions) Handler {
	h := &deviceHandler{dev: dev}
	if opts != nil {
		h.opts = *opts
	}
	return h
}

type deviceHandler struct {
	dev  *register.Device
	opts DeviceOptions
}

var _ Handler = (*deviceHandler)(nil)

// devErr turns a device error into a *DeviceError with its code.
func devErr(cmd Command, err error) error {
	if err == nil {
		return nil
	}
	if code, ok := register.ErrorCode(err); ok {
		return fmt.Errorf("%w: %w", &DeviceError{Command: cmd, Code: ErrorCode(code)}, err)
	}
	return err
}

func u32(a fiscal.Amount) uint32 {
	v, err := a.Uint32()
	if err != nil {
		return 0
	}
	return v
}

func gbField(s string, width int) []byte {
	b, err := fiscal.EncodeText(s, width, fiscal.TextOptions{Truncate: true, Replace: true})
	if err != nil {
		return nil
	}
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

func fromGB(cmd Command, field string, b []byte) (string, error) {
	s, err := fiscal.DecodeText(b)
	if err != nil {
		return "", &DataError{Command: cmd, Field: field, Reason: err.Error()}
	}
	return s, nil
}

func dateTime(d fiscal.Date, c memory.Clock) time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return time.Date(d.Year, d.Month, d.Day, int(c.Hour), int(c.Minute), int(c.Second), 0, chinaTime)
}

func dateOnly(d fiscal.Date) time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return d.Time().In(chinaTime)
}

func toInvoice(v register.Invoice) Invoice {
	return Invoice{No: v.Detail.Number, Type: InvoiceType(v.Detail.Type), Time: dateTime(v.Detail.Date, v.Time),
		Total: u32(v.Detail.Total), FiscalCode: v.Detail.FiscalCode, OriginalNo: v.Detail.Original, RequestID: v.RequestID}
}

func toDetail(v register.Invoice) InvoiceDetail {
	d := InvoiceDetail{Invoice: toInvoice(v), Payer: gbField(v.Payer, PayerLen)}
	for _, l := range v.Lines {
		d.Items = append(d.Items, Item{Name: gbField(l.Name, NameLen), Quantity: l.Quantity,
			TaxIndex: uint8(l.TaxIndex), UnitPrice: u32(l.UnitPrice)})
	}
	return d
}

func (h *deviceHandler) Connect(context.Context) (ConnectInfo, error) {
	m, ok := h.dev.Machine()
	if !ok {
		return ConnectInfo{}, &DeviceError{Command: CmdConnect, Code: CodeNoFactoryData}
	}
	return ConnectInfo{MachineNo: m.Number, ProtocolVersion: 1, MaxPacketData: MaxPacketData}, nil
}

func (h *deviceHandler) Status(context.Context) (StatusInfo, error) {
	s := h.dev.Status()
	st := StatusInfo{Time: h.dev.Now().In(chinaTime).Truncate(time.Second), NextInvoice: s.Next,
		Remaining: uint32(max(s.Remaining, 0)), RollsWaiting: uint8(min(max(s.Waiting, 0), 255)),
		IssueDeadline: dateOnly(s.Controls.Deadline), Flags: FlagFiscalCard}
	if s.Initialised {
		st.Flags |= FlagInitialised
	}
	if s.Locked || s.PINOutOfStep || s.DeadlinePassed {
		st.Flags |= FlagLocked
	}
	if h.opts.Memory != nil && len(h.opts.Memory.Stats().Warnings) > 0 {
		st.Flags |= FlagMemoryWarning
	}
	return st, nil
}

func (h *deviceHandler) DateTime(context.Context) (time.Time, error) {
	return h.dev.Now().In(chinaTime).Truncate(time.Second), nil
}

func (h *deviceHandler) SetDateTime(_ context.Context, t time.Time) error {
	if h.opts.SetClock == nil {
		return ErrUnsupported
	}
	return h.opts.SetClock(t)
}

func (h *deviceHandler) MachineInfo(context.Context) (MachineInfo, error) {
	m, ok := h.dev.Machine()
	if !ok {
		return MachineInfo{}, &DeviceError{Command: CmdMachineInfo, Code: CodeNoFactoryData}
	}
	return MachineInfo{MachineNo: m.Number, ProductionDate: dateOnly(m.Produced),
		HardwareVersion: string(gbField(m.HardwareVersion, VersionLen)), SoftwareVersion: string(gbField(m.SoftwareVersion, VersionLen))}, nil
}

func (h *deviceHandler) UserInfo(context.Context) (UserInfo, error) {
	a, ok := h.dev.Application()
	if !ok {
		return UserInfo{}, &DeviceError{Command: CmdUserInfo, Code: CodeNotInitialised}
	}
	return UserInfo{FiscalCardNo: a.FiscalCard, TaxpayerID: string(gbField(a.TaxID, TaxpayerIDLen)),
		TaxpayerName: gbField(a.TaxpayerName, PayerLen), InitDate: dateOnly(a.InitDate),
		IssueDeadline: dateOnly(a.Control.Deadline), SingleLimit: u32(a.Control.SingleLimit),
		CumulativeLimit: u32(a.Control.TotalLimit), ReturnLimit: u32(a.Control.ReturnLimit)}, nil
}

func (h *deviceHandler) TaxItems(context.Context) ([]TaxItem, error) {
	var out []TaxItem
	for _, it := range h.dev.TaxItems() {
		out = append(out, TaxItem{Index: uint8(it.Index), Rate: uint16(min(max(it.Rate, 0), 0xFFFF)), Name: gbField(it.NameCN, NameLen)})
	}
	return out, nil
}

func (h *deviceHandler) Initialise(ctx context.Context) error {
	return devErr(CmdInitialise, h.dev.Initialise(ctx))
}

func (h *deviceHandler) DistributeRoll(ctx context.Context) (Roll, error) {
	r, err := h.dev.Distribute(ctx)
	return Roll{Code: r.Code, Start: r.Start, End: r.End}, devErr(CmdDistributeRoll, err)
}

func (h *deviceHandler) LoadRoll(ctx context.Context) (Roll, error) {
	r, err := h.dev.LoadRoll(ctx)
	return Roll{Code: r.Code, Start: r.Start, End: r.End}, devErr(CmdLoadRoll, err)
}

func (h *deviceHandler) CurrentInvoice(ctx context.Context) (CurrentInvoice, error) {
	s := h.dev.Status()
	c := CurrentInvoice{Next: s.Next, Remaining: uint32(max(s.Remaining, 0))}
	last, err := h.dev.LastInvoice(ctx)
	switch {
	case err == nil:
		c.LastIssued = last.Detail.Number
	case !errors.Is(err, register.ErrNotFound):
		return c, devErr(CmdCurrentInvoice, err)
	}
	return c, nil
}

func (h *deviceHandler) IssueNormal(ctx context.Context, req IssueRequest) (Invoice, error) {
	payer, err := fromGB(CmdIssueNormal, "payer", req.Payer)
	if err != nil {
		return Invoice{}, err
	}
	r := register.InvoiceRequest{Payer: payer}
	for _, it := range req.Items {
		name, err := fromGB(CmdIssueNormal, "item name", it.Name)
		if err != nil {
			return Invoice{}, err
		}
		r.Lines = append(r.Lines, register.Line{Name: name, Quantity: it.Quantity,
			UnitPrice: fiscal.AmountFromUint32(it.UnitPrice), TaxIndex: fiscal.TaxIndex(it.TaxIndex)})
	}
	r.RequestID = req.RequestID
	v, err := h.dev.Issue(ctx, r)
	if err != nil {
		return Invoice{}, devErr(CmdIssueNormal, err)
	}
	return toInvoice(v), nil
}

func (h *deviceHandler) IssueReturn(ctx context.Context, req ReturnRequest) (Invoice, error) {
	v, err := h.dev.Return(ctx, register.ReturnRequest{Number: req.OriginalNo, RequestID: req.RequestID})
	if err != nil {
		return Invoice{}, devErr(CmdIssueReturn, err)
	}
	return toInvoice(v), nil
}

// Void returns the voids that were issued even when a later one failed, so
// that the client learns of every invoice issued (Done with fewer invoices
// than asked); the error is only returned when none was issued.
func (h *deviceHandler) Void(ctx context.Context, req VoidRequest) ([]Invoice, error) {
	vs, err := h.dev.Void(ctx, register.VoidRequest{Count: int(req.Count), RequestID: req.RequestID})
	if len(vs) == 0 && err != nil {
		return nil, devErr(CmdVoid, err)
	}
	out := make([]Invoice, len(vs))
	for i, v := range vs {
		out[i] = toInvoice(v)
	}
	return out, nil
}

// byNumber returns the stored invoices numbered q.From..q.To, oldest first.
func (h *deviceHandler) byNumber(ctx context.Context, cmd Command, q NumberRange, limit int) ([]register.Invoice, error) {
	if q.To < q.From {
		return nil, nil
	}
	var out []register.Invoice
	if q.To-q.From < 256 {
		for n := q.From; len(out) < limit; n++ {
			v, err := h.dev.InvoiceByNumber(ctx, fiscal.InvoiceCode{}, n)
			switch {
			case err == nil:
				out = append(out, v)
			case !errors.Is(err, register.ErrNotFound):
				return nil, devErr(cmd, err)
			}
			if n == q.To {
				break
			}
		}
		return out, nil
	}
	all, err := h.dev.Invoices(ctx, fiscal.Date{}, fiscal.Date{})
	if err != nil {
		return nil, devErr(cmd, err)
	}
	for _, v := range all {
		if v.Detail.Number >= q.From && v.Detail.Number <= q.To && len(out) < limit {
			out = append(out, v)
		}
	}
	return out, nil
}

func (h *deviceHandler) Invoices(ctx context.Context, q NumberRange, limit int) ([]Invoice, error) {
	vs, err := h.byNumber(ctx, CmdInvoices, q, limit)
	out := make([]Invoice, len(vs))
	for i, v := range vs {
		out[i] = toInvoice(v)
	}
	return out, err
}

func (h *deviceHandler) InvoiceDetails(ctx context.Context, q NumberRange, limit int) ([]InvoiceDetail, error) {
	vs, err := h.byNumber(ctx, CmdInvoiceDetails, q, limit)
	out := make([]InvoiceDetail, len(vs))
	for i, v := range vs {
		out[i] = toDetail(v)
	}
	return out, err
}

func (h *deviceHandler) InvoiceDetailsByTime(ctx context.Context, q TimeRange, limit int) ([]InvoiceDetail, error) {
	if q.From.IsZero() || q.To.Before(q.From) {
		return nil, nil
	}
	vs, err := h.dev.Invoices(ctx, fiscal.DateOf(q.From), fiscal.DateOf(q.To))
	if err != nil {
		return nil, devErr(CmdInvoiceDetailsByTime, err)
	}
	var out []InvoiceDetail
	skip := q.Skip
	for _, v := range vs {
		t := dateTime(v.Detail.Date, v.Time)
		if t.Before(q.From) || t.After(q.To) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, toDetail(v))
	}
	return out, nil
}

func (h *deviceHandler) DailyData(_ context.Context, q DateRange, limit int) ([]DailyData, error) {
	if h.opts.Memory == nil {
		return nil, ErrUnsupported
	}
	var out []DailyData
	skip := q.Skip
	for _, d := range h.opts.Memory.Dailies(fiscal.DateOf(q.From), fiscal.DateOf(q.To)) {
		if skip > 0 {
			skip--
			continue
		}
		if len(out) == limit {
			break
		}
		r := d.Record
		x := DailyData{Date: dateOnly(r.Date), NormalCount: uint16(r.NormalCount), ReturnCount: uint16(r.ReturnCount),
			VoidCount: uint16(r.VoidCount), Signature: d.Signature}
		for i := range x.TaxIndex {
			x.TaxIndex[i], x.Normal[i], x.Return[i] = uint8(r.Indexes[i]), u32(r.Normal[i]), u32(r.Return[i])
		}
		out = append(out, x)
	}
	return out, nil
}

func (h *deviceHandler) Declare(ctx context.Context, req DeclareRequest) (Declaration, error) {
	if h.opts.Declare != nil {
		return h.opts.Declare(ctx, req)
	}
	r := register.DeclareRequest{Mode: register.DeclareMode(req.Mode)}
	if !req.EndDate.IsZero() {
		r.End = fiscal.DateOf(req.EndDate)
	}
	d, err := h.dev.Declare(ctx, r)
	if err != nil {
		return Declaration{}, devErr(CmdDeclare, err)
	}
	return toDeclaration(d), nil
}

func toDeclaration(d memory.Declaration) Declaration {
	r := d.Data
	x := Declaration{Start: dateOnly(r.Start), End: dateOnly(r.End), NormalCount: uint32(max(r.NormalCount, 0)),
		ReturnCount: uint16(r.ReturnCount), VoidCount: uint16(r.VoidCount), MAC: d.Response.MAC1, Signature: d.Response.Signature}
	for i := range x.TaxIndex {
		x.TaxIndex[i], x.Normal[i], x.Return[i] = uint8(r.Indexes[i]), u32(r.Normal[i]), u32(r.Return[i])
	}
	return x
}

func (h *deviceHandler) Declarations(_ context.Context, q DateRange, limit int) ([]Declaration, error) {
	if h.opts.Memory == nil {
		return nil, ErrUnsupported
	}
	var out []Declaration
	skip := q.Skip
	for _, d := range h.opts.Memory.Declarations(fiscal.DateOf(q.From), fiscal.DateOf(q.To)) {
		if skip > 0 {
			skip--
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, toDeclaration(d))
	}
	return out, nil
}

func (h *deviceHandler) RollUsage(ctx context.Context, q RollUsageQuery, limit int) ([]RollUsage, error) {
	if h.opts.Memory == nil {
		return nil, ErrUnsupported
	}
	conv := func(u memory.RollUsage) RollUsage {
		return RollUsage{Code: u.Roll.Code, Start: u.Roll.Start, End: u.Roll.End, NormalCount: uint16(u.NormalCount),
			ReturnCount: uint16(u.ReturnCount), VoidCount: uint16(u.VoidCount), NormalTotal: u32(u.Normal),
			ReturnTotal: u32(u.Return), First: dateOnly(u.First), Last: dateOnly(u.Last)}
	}
	var all []RollUsage
	done := map[fiscal.Roll]bool{}
	for _, u := range h.opts.Memory.RollUsages() {
		all = append(all, conv(u))
		done[u.Roll] = true
	}
	// The loaded roll has no summary record until it is used up: compute
	// it from the stored invoices.
	if s := h.dev.Status(); s.Roll.Start != 0 && !done[s.Roll] {
		vs, err := h.dev.Invoices(ctx, fiscal.Date{}, fiscal.Date{})
		if err != nil {
			return nil, devErr(CmdRollUsage, err)
		}
		u := memory.RollUsage{Roll: s.Roll}
		for _, v := range vs {
			u.Add(v) // counts only the invoices of the roll
		}
		all = append(all, conv(u))
	}
	if int(q.Skip) >= len(all) {
		return nil, nil
	}
	all = all[q.Skip:]
	return all[:min(len(all), limit)], nil
}
