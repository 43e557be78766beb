package register

import (
	"context"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register/print"
)

// PeriodReport is a period summary (时段汇总) for a date range: totals
// recomputed from the stored invoices beside the sums of the signed daily
// records of the same days. Mismatch is set when the closed days disagree;
// days not closed yet are counted in Open.
type PeriodReport struct {
	From, To fiscal.Date
	// Computed is recomputed from the stored invoices.
	Computed memory.Totals
	// Signed sums the signed daily records of the range.
	SignedNormal, SignedReturn           fiscal.Amount
	SignedNormalCount, SignedReturnCount int
	SignedVoidCount                      int
	ClosedDays                           int
	Mismatch                             bool
	MismatchDays                         []fiscal.Date
	OpenNormal, OpenReturn               fiscal.Amount // invoices of days not closed yet
	Items                                []fiscal.TaxItem
}

// PeriodReport builds the period summary of from..to (both included).
func (d *Device) PeriodReport(ctx context.Context, from, to fiscal.Date) (PeriodReport, error) {
	d.mu.Lock()
	items := append([]fiscal.TaxItem(nil), d.app.TaxItems...)
	d.mu.Unlock()
	rep := PeriodReport{From: from, To: to, Items: items}
	rep.Computed = memory.Totals{From: from, To: to, ByIndex: map[fiscal.TaxIndex]memory.TaxTotal{}}
	// One pass over the invoices gives the range's totals and each day's.
	byDay := map[fiscal.Date]*memory.Totals{}
	err := d.mem.EachInvoice(ctx, from, to, func(v Invoice) error {
		rep.Computed.Add(v)
		t := byDay[v.Detail.Date]
		if t == nil {
			t = &memory.Totals{From: v.Detail.Date, To: v.Detail.Date}
			byDay[v.Detail.Date] = t
		}
		t.Add(v)
		return nil
	})
	if err != nil {
		return rep, memErr("period report", err)
	}
	// A day may have two signed records (a change of owner during the
	// day): each owner's card signed its part; they add up.
	closed := map[fiscal.Date]*memory.Totals{}
	var days []fiscal.Date
	for _, dl := range d.mem.Dailies(from, to) {
		r := dl.Record
		s := closed[r.Date]
		if s == nil {
			s = &memory.Totals{From: r.Date, To: r.Date}
			closed[r.Date] = s
			days = append(days, r.Date)
			rep.ClosedDays++
		}
		s.Normal += r.Normal.Sum()
		s.Return += r.Return.Sum()
		s.NormalCount += r.NormalCount
		s.ReturnCount += r.ReturnCount
		s.VoidCount += r.VoidCount
		rep.SignedNormal += r.Normal.Sum()
		rep.SignedReturn += r.Return.Sum()
		rep.SignedNormalCount += r.NormalCount
		rep.SignedReturnCount += r.ReturnCount
		rep.SignedVoidCount += r.VoidCount
	}
	for _, day := range days {
		s, t := closed[day], byDay[day]
		if t == nil {
			t = &memory.Totals{}
		}
		if t.Normal != s.Normal || t.Return != s.Return || t.NormalCount != s.NormalCount ||
			t.ReturnCount != s.ReturnCount || t.VoidCount != s.VoidCount {
			rep.Mismatch = true
			rep.MismatchDays = append(rep.MismatchDays, day)
		}
	}
	for day, t := range byDay {
		if closed[day] == nil {
			rep.OpenNormal += t.Normal
			rep.OpenReturn += t.Return
		}
	}
	return rep, nil
}

// PrintPeriodReport lays out a period summary.
func (d *Device) PrintPeriodReport(ctx context.Context, from, to fiscal.Date, cols int) (*print.Doc, error) {
	rep, err := d.PeriodReport(ctx, from, to)
	if err != nil {
		return nil, err
	}
	doc, err := d.reportHeader("时段汇总 Period summary", cols)
	if err != nil {
		return nil, err
	}
	doc.Field("时段：", fmt.Sprintf("%v..%v", from, to))
	doc.Rule('-')
	c := rep.Computed
	doc.Columns2("正常发票 normal", fmt.Sprintf("%d", c.NormalCount))
	doc.Columns2("退票 returns", fmt.Sprintf("%d", c.ReturnCount))
	doc.Columns2("废票 voids", fmt.Sprintf("%d", c.VoidCount))
	doc.Rule('-')
	for _, it := range rep.Items {
		tt := c.ByIndex[it.Index]
		doc.Text(it.NameCN)
		doc.Columns2("  正常 normal", tt.Normal.String())
		doc.Columns2("  退票 return", negative(tt.Return))
	}
	doc.Rule('-')
	doc.Columns2("合计 total", (c.Normal - c.Return).String())
	doc.Columns2("已结日数 days closed", fmt.Sprintf("%d", rep.ClosedDays))
	if rep.OpenNormal != 0 || rep.OpenReturn != 0 {
		doc.Columns2("未结 not closed", (rep.OpenNormal - rep.OpenReturn).String())
	}
	if rep.Mismatch {
		doc.Text("核对签名日交易数据：不符！")
		for _, day := range rep.MismatchDays {
			doc.Text("  " + day.String())
		}
	} else {
		doc.Text("核对签名日交易数据：一致")
	}
	return doc, nil
}

// negative formats a return amount with its minus sign (0.00 unsigned).
func negative(a fiscal.Amount) string {
	if a == 0 {
		return a.String()
	}
	return "-" + a.String()
}

// reportHeader starts a report: its title, the taxpayer and the machine.
func (d *Device) reportHeader(title string, cols int) (*print.Doc, error) {
	d.mu.Lock()
	machine, payee := d.machine.Number, d.app.TaxpayerName
	d.mu.Unlock()
	doc, err := print.NewDoc(cols)
	if err != nil {
		return nil, err
	}
	doc.Center(title)
	doc.Field("纳税人：", payee)
	doc.Field("机器编号：", machine.String())
	return doc, nil
}

// RollUsages returns the summaries of the used-up rolls (已使用卷汇总).
func (d *Device) RollUsages() []memory.RollUsage { return d.mem.RollUsages() }

// PrintRollReport lays out the used-roll summary, and the loaded roll's
// use so far.
func (d *Device) PrintRollReport(ctx context.Context, cols int) (*print.Doc, error) {
	doc, err := d.reportHeader("已使用卷汇总 Used rolls", cols)
	if err != nil {
		return nil, err
	}
	usages := d.mem.RollUsages()
	d.mu.Lock()
	cur, hasCur, next := d.roll, d.hasRoll, d.next
	d.mu.Unlock()
	if hasCur && next != 0 {
		u, err := d.rollUsage(ctx, cur, Invoice{})
		if err != nil {
			return nil, err
		}
		usages = append(usages, u)
	}
	for _, u := range usages {
		doc.Rule('-')
		doc.Field("发票代码：", u.Roll.Code.String())
		doc.Field("号码：", fmt.Sprintf("%08d-%08d", u.Roll.Start, u.Roll.End))
		doc.Columns2("正常/退/废", fmt.Sprintf("%d/%d/%d", u.NormalCount, u.ReturnCount, u.VoidCount))
		doc.Columns2("正常金额", u.Normal.String())
		doc.Columns2("退票金额", negative(u.Return))
		if !u.First.IsZero() {
			doc.Field("日期：", fmt.Sprintf("%v..%v", u.First, u.Last))
		}
	}
	return doc, nil
}

// VoidRegister returns the void invoices dated from..to: the 作废发票登记簿
// (usage rule U6).
func (d *Device) VoidRegister(ctx context.Context, from, to fiscal.Date) ([]Invoice, error) {
	var out []Invoice
	err := d.mem.EachInvoice(ctx, from, to, func(v Invoice) error {
		if v.Detail.Type == fiscal.InvoiceVoid {
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, memErr("void register", err)
	}
	return out, nil
}

// PrintVoidRegister lays out the void-invoice register.
func (d *Device) PrintVoidRegister(ctx context.Context, from, to fiscal.Date, cols int) (*print.Doc, error) {
	voids, err := d.VoidRegister(ctx, from, to)
	if err != nil {
		return nil, err
	}
	doc, err := d.reportHeader("作废发票登记簿 Void register", cols)
	if err != nil {
		return nil, err
	}
	doc.Field("时段：", fmt.Sprintf("%v..%v", from, to))
	doc.Rule('-')
	for _, v := range voids {
		doc.Text(fmt.Sprintf("%v %08d %v %v", v.Code, v.Detail.Number, v.Detail.Date, v.Time))
		doc.Columns2("  开票人 "+v.Drawer, v.Detail.FiscalCode.String())
	}
	doc.Rule('-')
	doc.Columns2("共 total", fmt.Sprintf("%d", len(voids)))
	return doc, nil
}

// PrintDeclarations lays out the declaration information (申报信息).
func (d *Device) PrintDeclarations(cols int) (*print.Doc, error) {
	doc, err := d.reportHeader("申报信息 Declarations", cols)
	if err != nil {
		return nil, err
	}
	for _, dc := range d.mem.Declarations(fiscal.Date{}, fiscal.Date{}) {
		doc.Rule('-')
		doc.Field("申报日期：", dc.Date.String())
		doc.Field("时段：", fmt.Sprintf("%v..%v", dc.Data.Start, dc.Data.End))
		doc.Columns2("正常/退/废", fmt.Sprintf("%d/%d/%d", dc.Data.NormalCount, dc.Data.ReturnCount, dc.Data.VoidCount))
		doc.Columns2("正常金额", dc.Data.Normal.Sum().String())
		doc.Columns2("退票金额", negative(dc.Data.Return.Sum()))
		status := "一致 ok"
		if dc.Response.Status != 0 {
			status = fmt.Sprintf("不符 status %02X", dc.Response.Status)
		}
		if dc.Response.Signature == ([fiscal.SignatureLen]byte{}) {
			status += "，无签名 (lost)"
		}
		doc.Field("税控卡：", status)
	}
	return doc, nil
}

// SecurityLog returns the security log (安全日志).
func (d *Device) SecurityLog() []memory.SecurityEvent { return d.mem.SecurityEvents() }

// PrintSecurityLog lays out the security log (安全日志).
func (d *Device) PrintSecurityLog(cols int) (*print.Doc, error) {
	doc, err := d.reportHeader("安全日志 Security log", cols)
	if err != nil {
		return nil, err
	}
	for _, e := range d.mem.SecurityEvents() {
		doc.Text(e.Time.In(fiscal.Zone()).Format("2006-01-02 15:04:05") + " " + e.Type.String())
		doc.Text("  " + e.Text)
	}
	return doc, nil
}

// HistoryEvent is one entry of the device history (usage rule U5).
type HistoryEvent struct {
	Time time.Time
	Kind string // "factory", "initialisation", "declaration", "repair", "power_loss", ...
	Text string
}

// History returns the device's lifecycle as one list, oldest first: factory
// data, every initialisation (the current and earlier applications),
// declarations, control updates, and the security log's repairs, power losses,
// inspections, tamper findings and other events.
func (d *Device) History() []HistoryEvent {
	var out []HistoryEvent
	if m, ok := d.mem.Machine(); ok {
		out = append(out, HistoryEvent{Time: m.Produced.Time(), Kind: "factory",
			Text: fmt.Sprintf("machine %v, hardware %s, software %s", m.Number, m.HardwareVersion, m.SoftwareVersion)})
	}
	for _, a := range d.mem.ApplicationHistory() {
		out = append(out, HistoryEvent{Time: a.InitDate.Time(), Kind: "initialisation",
			Text: fmt.Sprintf("taxpayer %s (%s), fiscal card %v", a.TaxpayerName, a.TaxID, a.FiscalCard)})
	}
	for _, dc := range d.mem.Declarations(fiscal.Date{}, fiscal.Date{}) {
		out = append(out, HistoryEvent{Time: dc.Date.Time(), Kind: "declaration",
			Text: fmt.Sprintf("%v..%v, %s normal, %s returns", dc.Data.Start, dc.Data.End, dc.Data.Normal.Sum(), dc.Data.Return.Sum())})
	}
	for _, u := range d.mem.ControlUpdates() {
		c := u.Control
		out = append(out, HistoryEvent{Time: u.Time, Kind: "control_update",
			Text: fmt.Sprintf("deadline %v, single limit %s, cumulative limit %s, return limit %s", c.Deadline, c.SingleLimit, c.TotalLimit, c.ReturnLimit)})
	}
	for _, e := range d.mem.SecurityEvents() {
		out = append(out, HistoryEvent{Time: e.Time, Kind: e.Type.String(), Text: e.Text})
	}
	// Stable insertion sort by time: the lists are short and mostly sorted.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Time.Before(out[j-1].Time); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// PrintHistory lays out the device history.
func (d *Device) PrintHistory(cols int) (*print.Doc, error) {
	doc, err := d.reportHeader("设备档案 Device history", cols)
	if err != nil {
		return nil, err
	}
	for _, e := range d.History() {
		doc.Text(e.Time.In(fiscal.Zone()).Format("2006-01-02 15:04") + " " + e.Kind)
		doc.Text("  " + e.Text)
	}
	return doc, nil
}
