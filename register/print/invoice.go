package print

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Quantity is an amount of goods in thousandths of a unit (2.5 kg is 2500).
type Quantity int64

// String formats q with the decimals it needs: 2500 is "2.5", 3000 is "3".
func (q Quantity) String() string {
	sign := ""
	if q < 0 {
		sign, q = "-", -q
	}
	s := strconv.FormatInt(int64(q/1000), 10)
	if frac := q % 1000; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	return sign + s
}

// Line is one goods line of a printed invoice (经营项目 / 数量 / 单价 / 金额).
type Line struct {
	Name      string
	Quantity  Quantity
	UnitPrice fiscal.Amount
	Amount    fiscal.Amount
}

// Invoice is what a printed roll invoice shows. The register fills it from its
// fiscal memory; nothing here is computed except the capitals.
type Invoice struct {
	Title    string // e.g. "广东省通用机打发票"; empty prints "税控发票"
	Code     fiscal.InvoiceCode
	Number   uint32
	Machine  fiscal.MachineNumber
	Time     time.Time // issuing date and time; printed in China Standard Time
	Type     fiscal.InvoiceType
	Original uint32 // for a return: the invoice it reverses
	// OriginalCode is, for a return of an invoice of another roll, the
	// original's 发票代码 (printed as 原发票代码); zero means Code.
	OriginalCode fiscal.InvoiceCode
	Payee        string // 收款单位
	PayeeTaxID   string // 纳税人识别号
	Payer        string // 付款单位
	Lines        []Line
	Total        fiscal.Amount
	Drawer       string // 开票人 / 收款员
	FiscalCode   fiscal.FiscalCode
}

// ErrInvoice is returned by RenderInvoice for an invoice that cannot be printed
// as given (a total that is not the sum of its lines, too many lines).
var ErrInvoice = errors.New("print: invoice is inconsistent")

// RenderInvoice lays out a roll invoice for a paper of cols columns (use
// Columns57mm or Columns76mm). The layout, top to bottom: title, 发票代码,
// 发票号码 (8 digits), 机器编号, date, payee and its tax number, payer, the goods
// table, the total in capitals (大写) and in figures (小写), the drawer and the
// 20-digit 税控码. A return is marked 退票 with the original number and shows
// negative figures (负 before the capitals); a void is marked 作废 and has no lines.
//
// On papers under 40 columns each goods line takes two printed lines (name,
// then quantity × price and amount); from 40 columns a line fits in one row
// when its name does.
func RenderInvoice(inv Invoice, cols int) (*Doc, error) {
	d, err := NewDoc(cols)
	if err != nil {
		return nil, err
	}
	if len(inv.Lines) > fiscal.MaxInvoiceLines {
		return nil, fmt.Errorf("%w: %d lines, at most %d", ErrInvoice, len(inv.Lines), fiscal.MaxInvoiceLines)
	}
	var sum fiscal.Amount
	for _, l := range inv.Lines {
		sum += l.Amount
	}
	if inv.Type != fiscal.InvoiceVoid && sum != inv.Total {
		return nil, fmt.Errorf("%w: lines sum to %s, total is %s", ErrInvoice, sum, inv.Total)
	}
	capitals, err := Capitals(inv.Total)
	if err != nil {
		return nil, err
	}
	title := inv.Title
	if title == "" {
		title = "税控发票"
	}
	d.Center(title)
	switch inv.Type {
	case fiscal.InvoiceReturn:
		d.Center("【退票】")
	case fiscal.InvoiceVoid:
		d.Center("【作废】")
	}
	d.Field("发票代码：", inv.Code.String())
	d.Field("发票号码：", fmt.Sprintf("%08d", inv.Number))
	d.Field("机器编号：", inv.Machine.String())
	d.Field("开票日期：", inv.Time.In(fiscal.Zone()).Format("2006-01-02 15:04"))
	d.Field("收款单位：", inv.Payee)
	if inv.PayeeTaxID != "" {
		d.Field("纳税人识别号：", inv.PayeeTaxID)
	}
	if inv.Payer != "" {
		d.Field("付款单位：", inv.Payer)
	}
	if inv.Type == fiscal.InvoiceReturn {
		if oc := inv.OriginalCode; oc != (fiscal.InvoiceCode{}) && oc != inv.Code {
			d.Field("原发票代码：", oc.String())
		}
		d.Field("原发票号码：", fmt.Sprintf("%08d", inv.Original))
	}
	d.Rule('-')
	sign := ""
	if inv.Type == fiscal.InvoiceReturn {
		sign = "-"
	}
	if inv.Type != fiscal.InvoiceVoid {
		goodsTable(d, inv.Lines, sign)
		d.Rule('-')
	}
	if inv.Type == fiscal.InvoiceReturn {
		// A red (return) invoice writes its capitals with 负, its figures with a minus.
		capitals = "负" + capitals
	}
	d.Field("合计(大写)：", capitals)
	d.Field("合计(小写)：", "¥"+sign+inv.Total.String())
	if inv.Drawer != "" {
		d.Field("开票人：", inv.Drawer)
	}
	d.Field("税控码：", inv.FiscalCode.String())
	return d, nil
}

func goodsTable(d *Doc, lines []Line, sign string) {
	cols := d.Columns()
	if cols >= 40 {
		// name | qty | price | amount, the numbers right-aligned.
		numW := 9
		nameW := cols - 3*numW
		w := []int{nameW, -numW, -numW, -numW}
		d.Row(w, "项目", "数量", "单价", "金额")
		for _, l := range lines {
			qty, price, amt := l.Quantity.String(), l.UnitPrice.String(), sign+l.Amount.String()
			if StringWidth(l.Name) <= nameW-1 && StringWidth(qty) <= numW-1 && StringWidth(price) <= numW-1 && StringWidth(amt) <= numW-1 {
				d.Row(w, l.Name, qty, price, amt)
				continue
			}
			d.Text(l.Name)
			d.Columns2("  "+qty+" × "+price, amt)
		}
		return
	}
	d.Columns2("项目  数量 × 单价", "金额")
	for _, l := range lines {
		d.Text(l.Name)
		d.Columns2("  "+l.Quantity.String()+" × "+l.UnitPrice.String(), sign+l.Amount.String())
	}
}
