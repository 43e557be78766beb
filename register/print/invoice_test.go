package print

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

func sampleInvoice() Invoice {
	code, _ := fiscal.ParseInvoiceCode("1440001234")
	machine, _ := fiscal.ParseMachineNumber("0123456789012345")
	return Invoice{
		Title:      "广东省通用机打发票",
		Code:       code,
		Number:     1001,
		Machine:    machine,
		Time:       time.Date(2026, 11, 26, 10, 30, 0, 0, fiscal.Zone()),
		Type:       fiscal.InvoiceNormal,
		Payee:      "广州市天河区示例餐饮有限公司",
		PayeeTaxID: "440106123456789",
		Payer:      "个人",
		Lines: []Line{
			{Name: "午餐套餐", Quantity: 2000, UnitPrice: 2500, Amount: 5000},
			{Name: "特别长的商品名称会在窄纸上换行显示", Quantity: 1500, UnitPrice: 1000, Amount: 1500},
		},
		Total:      6500,
		Drawer:     "张三",
		FiscalCode: fiscal.FiscalCode{0x00, 0x00, 0x30, 0x39, 0x00, 0x01, 0x09, 0x32},
	}
}

func TestRenderInvoice57(t *testing.T) {
	d, err := RenderInvoice(sampleInvoice(), Columns57mm)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := d.Lines()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"       广东省通用机打发票",
		"发票代码：1440001234",
		"发票号码：00001001",
		"机器编号：0123456789012345",
		"开票日期：2026-11-26 10:30",
		"收款单位：广州市天河区示例餐饮有",
		"          限公司",
		"纳税人识别号：440106123456789",
		"付款单位：个人",
		"--------------------------------",
		"项目  数量 × 单价          金额",
		"午餐套餐",
		"  2 × 25.00               50.00",
		"特别长的商品名称会在窄纸上换行显",
		"示",
		"  1.5 × 10.00             15.00",
		"--------------------------------",
		"合计(大写)：陆拾伍元整",
		"合计(小写)：¥65.00",
		"开票人：张三",
		"税控码：00000123450000067890",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("layout:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range lines {
		if w := StringWidth(l); w > Columns57mm {
			t.Errorf("line %q is %d columns wide", l, w)
		}
	}
	b, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// 发票代码 in GB18030, then the full-width colon A3BA.
	if !bytes.HasPrefix(b[bytes.IndexByte(b, '\n')+1:], []byte{0xB7, 0xA2, 0xC6, 0xB1, 0xB4, 0xFA, 0xC2, 0xEB, 0xA3, 0xBA}) {
		t.Errorf("printer bytes do not start the second line with GB18030 发票代码：: % X", b[:40])
	}
}

func TestRenderInvoice76AndKinds(t *testing.T) {
	inv := sampleInvoice()
	d, err := RenderInvoice(inv, Columns76mm)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Preview()
	if !strings.Contains(p, "午餐套餐                     2    25.00    50.00") {
		t.Errorf("76 mm table row missing:\n%s", p)
	}
	for _, l := range strings.Split(strings.TrimSuffix(p, "\n"), "\n") {
		if StringWidth(l) > Columns76mm {
			t.Errorf("line %q too wide", l)
		}
	}

	ret := inv
	ret.Type, ret.Original, ret.Number = fiscal.InvoiceReturn, 1001, 1002
	d, err = RenderInvoice(ret, Columns57mm)
	if err != nil {
		t.Fatal(err)
	}
	p = d.Preview()
	for _, s := range []string{"【退票】", "原发票号码：00001001", "合计(大写)：负陆拾伍元整", "¥-65.00"} {
		if !strings.Contains(p, s) {
			t.Errorf("return invoice lacks %q:\n%s", s, p)
		}
	}
	if strings.Contains(p, "原发票代码") {
		t.Errorf("a return of the same roll prints the original's code:\n%s", p)
	}
	ret.OriginalCode = fiscal.InvoiceCode([]byte("1440099999"))
	if d, err = RenderInvoice(ret, Columns57mm); err != nil {
		t.Fatal(err)
	}
	if p := d.Preview(); !strings.Contains(p, "原发票代码：1440099999") {
		t.Errorf("return of another roll lacks the original's code:\n%s", p)
	}

	void := inv
	void.Type, void.Lines, void.Total = fiscal.InvoiceVoid, nil, 0
	d, err = RenderInvoice(void, Columns57mm)
	if err != nil {
		t.Fatal(err)
	}
	if p := d.Preview(); !strings.Contains(p, "【作废】") || !strings.Contains(p, "零元整") || strings.Contains(p, "项目") {
		t.Errorf("void invoice:\n%s", p)
	}
}

func TestRenderInvoiceRefuses(t *testing.T) {
	inv := sampleInvoice()
	inv.Total++
	if _, err := RenderInvoice(inv, Columns57mm); !errors.Is(err, ErrInvoice) {
		t.Errorf("wrong total: err = %v", err)
	}
	if _, err := RenderInvoice(sampleInvoice(), 10); !errors.Is(err, ErrWidth) {
		t.Errorf("narrow paper: err = %v", err)
	}
}

func TestWidthsAndCut(t *testing.T) {
	for r, w := range map[rune]int{'a': 1, '税': 2, 'Ａ': 2, '×': 2, '\n': 0, '￥': 2} {
		if got := RuneWidth(r); got != w {
			t.Errorf("RuneWidth(%q) = %d, want %d", r, got, w)
		}
	}
	head, tail := cut("ab税控", 3)
	if head != "ab" || tail != "税控" {
		t.Errorf("cut = %q %q: a wide character must not be split", head, tail)
	}
	if q := Quantity(2500).String(); q != "2.5" {
		t.Errorf("Quantity = %s", q)
	}
	if q := Quantity(-1).String(); q != "-0.001" {
		t.Errorf("Quantity = %s", q)
	}
}
