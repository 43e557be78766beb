package register_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// A register on emulated cards and an in-memory fiscal memory: factory
// data, fiscal initialisation, one roll, one invoice.
func Example() {
	ctx := context.Background()
	cards, err := emulator.Issue(emulator.IssueOptions{}) // the tax office's demonstration set
	if err != nil {
		panic(err)
	}
	mem, err := memory.Open(ctx, memory.NewMemFS(), nil)
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, time.November, 26, 10, 30, 0, 0, fiscal.Zone())
	dev, err := register.Open(ctx, register.Config{
		Memory: mem, Fiscal: cards.Fiscal, User: cards.User, UserPIN: []byte("12345678"),
		Clock: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	machine, _ := fiscal.ParseMachineNumber("2200000000000001")
	if err := dev.WriteFactoryData(ctx, register.Factory{Number: machine}); err != nil {
		panic(err)
	}
	if err := dev.Initialise(ctx); err != nil {
		panic(err)
	}
	if _, err := dev.Distribute(ctx); err != nil {
		panic(err)
	}
	if _, err := dev.LoadRoll(ctx); err != nil {
		panic(err)
	}
	inv, err := dev.Issue(ctx, register.InvoiceRequest{Drawer: "张三", Lines: []register.Line{
		{Name: "矿泉水", Quantity: 3000, UnitPrice: 150, TaxIndex: 1},
	}})
	if err != nil {
		panic(err)
	}
	st := dev.Status()
	fmt.Println("invoice", inv.Code, inv.Detail.Number, inv.Detail.Total, "yuan")
	fmt.Println("fiscal code digits:", len(inv.Detail.FiscalCode.String()))
	fmt.Println("next", st.Next, "remaining", st.Remaining)

	_, err = dev.Issue(ctx, register.InvoiceRequest{Lines: []register.Line{{Name: "x", Quantity: 1000, UnitPrice: 100, TaxIndex: 9}}})
	code, _ := register.ErrorCode(err)
	fmt.Printf("refused with code 0x%02X\n", code)
	// Output:
	// invoice 1440000000 1 4.50 yuan
	// fiscal code digits: 20
	// next 2 remaining 499
	// refused with code 0x84
}
