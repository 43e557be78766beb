package print_test

import (
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register/print"
)

func ExampleCapitals() {
	for _, fen := range []fiscal.Amount{100500, 10000010, 5} {
		s, _ := print.Capitals(fen)
		fmt.Println(fen, s)
	}
	// Output:
	// 1005.00 壹仟零伍元整
	// 100000.10 壹拾万元零壹角
	// 0.05 伍分
}

func ExampleRenderInvoice() {
	code, _ := fiscal.ParseInvoiceCode("1440001234")
	inv := print.Invoice{
		Code:   code,
		Number: 7,
		Time:   time.Date(2026, 11, 26, 9, 5, 0, 0, fiscal.Zone()),
		Type:   fiscal.InvoiceNormal,
		Payee:  "示例商店",
		Lines:  []print.Line{{Name: "矿泉水", Quantity: 3000, UnitPrice: 150, Amount: 450}},
		Total:  450,
	}
	doc, err := print.RenderInvoice(inv, print.Columns57mm)
	if err != nil {
		panic(err)
	}
	fmt.Print(doc.Preview())
	// Output:
	//             税控发票
	// 发票代码：1440001234
	// 发票号码：00000007
	// 机器编号：0000000000000000
	// 开票日期：2026-11-26 09:05
	// 收款单位：示例商店
	// --------------------------------
	// 项目  数量 × 单价          金额
	// 矿泉水
	//   3 × 1.50                 4.50
	// --------------------------------
	// 合计(大写)：肆元伍角
	// 合计(小写)：¥4.50
	// 税控码：00000000000000000000
}
