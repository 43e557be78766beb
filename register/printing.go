package register

import (
	"context"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register/print"
)

// PrintInvoice lays out a stored invoice as a roll invoice for a paper of
// cols columns (print.Columns57mm or print.Columns76mm): 发票代码, 发票号码,
// 机器编号, date, payee (the taxpayer) and payer, the lines, the total in
// figures and in capitals, the drawer and the 20-digit 税控码. Use the
// returned document's Bytes for a GB18030 printer, Preview for text.
func (d *Device) PrintInvoice(inv Invoice, cols int) (*print.Doc, error) {
	d.mu.Lock()
	machine, payee, taxID := d.machine.Number, d.app.TaxpayerName, d.app.TaxID
	d.mu.Unlock()
	p := print.Invoice{
		Code: inv.Code, Number: inv.Detail.Number, Machine: machine,
		Time: time.Date(inv.Detail.Date.Year, inv.Detail.Date.Month, inv.Detail.Date.Day,
			int(inv.Time.Hour), int(inv.Time.Minute), int(inv.Time.Second), 0, fiscal.Zone()),
		Type: inv.Detail.Type, Original: inv.Detail.Original, OriginalCode: inv.OriginalCode, Payee: payee, PayeeTaxID: taxID,
		Payer: inv.Payer, Total: inv.Detail.Total, Drawer: inv.Drawer, FiscalCode: inv.Detail.FiscalCode,
	}
	for _, l := range inv.Lines {
		p.Lines = append(p.Lines, print.Line{Name: l.Name, Quantity: print.Quantity(l.Quantity), UnitPrice: l.UnitPrice, Amount: l.Amount})
	}
	return print.RenderInvoice(p, cols)
}

// PrintDailyReport lays out a daily summary (日汇总): counts, per-item normal
// and return amounts recomputed from the stored invoices, the signed daily
// record's figures beside them, and a mismatch line if they differ.
func (d *Device) PrintDailyReport(ctx context.Context, day fiscal.Date, cols int) (*print.Doc, error) {
	rep, err := d.DailyReport(ctx, day)
	if err != nil {
		return nil, err
	}
	doc, err := d.reportHeader("日汇总 Daily summary", cols)
	if err != nil {
		return nil, err
	}
	doc.Field("日期：", day.String())
	doc.Rule('-')
	c := rep.Computed
	doc.Columns2("正常发票 normal", fmt.Sprintf("%d", c.NormalCount))
	doc.Columns2("退票 returns", fmt.Sprintf("%d", c.ReturnCount))
	doc.Columns2("废票 voids", fmt.Sprintf("%d", c.VoidCount))
	doc.Rule('-')
	for i, idx := range c.Indexes {
		if idx == 0 {
			continue
		}
		name := fmt.Sprintf("税目 %d", idx)
		for _, it := range rep.Items {
			if it.Index == idx {
				name = it.NameCN
			}
		}
		doc.Text(name)
		doc.Columns2("  正常 normal", c.Normal[i].String())
		doc.Columns2("  退票 return", negative(c.Return[i]))
	}
	doc.Rule('-')
	doc.Columns2("合计 total", (c.Normal.Sum() - c.Return.Sum()).String())
	switch {
	case !rep.HasSigned:
		doc.Text("日交易数据未签名：本日未结")
	case rep.Mismatch:
		doc.Text("核对签名日交易数据：不符！")
		doc.Columns2("  signed normal", rep.Signed.Normal.Sum().String())
		doc.Columns2("  signed return", rep.Signed.Return.Sum().String())
	default:
		doc.Text("核对签名日交易数据：一致")
	}
	return doc, nil
}
