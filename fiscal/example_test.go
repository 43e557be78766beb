package fiscal_test

import (
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

func Example() {
	block := fiscal.IssueInvoiceBlock{
		Date:    fiscal.MustDate(2026, 11, 26),
		Type:    fiscal.InvoiceNormal,
		Number:  42,
		Indexes: fiscal.TaxIndexes{1, 2},
		Amounts: fiscal.TaxAmounts{10000, 500},
		Total:   10500,
	}
	if err := block.Validate(); err != nil {
		panic(err)
	}
	b, err := block.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes, XOR %02X\n", len(b), b[len(b)-1])

	var back fiscal.IssueInvoiceBlock
	if err := back.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	fmt.Println(back.Date, back.Type, back.Number, back.Total)

	code := fiscal.FiscalCode{0x00, 0x00, 0x30, 0x39, 0x00, 0x01, 0x09, 0x32}
	fmt.Println("税控码", code)
	// Output:
	// 44 bytes, XOR F6
	// 2026-11-26 normal 42 105.00
	// 税控码 00000123450000067890
}
