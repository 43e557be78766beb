package link_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
)

func ExampleNewClient() {
	reg := linktest.NewRegister(&linktest.RegisterOptions{Now: func() time.Time {
		return time.Date(2026, 11, 27, 9, 30, 0, 0, link.ChinaTime())
	}})
	host, device := linktest.Pipe(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go link.NewServer(reg, nil).Serve(ctx, device)

	c := link.NewClient(host, nil)
	c.DistributeRoll(ctx)
	roll, _ := c.LoadRoll(ctx)
	fmt.Printf("roll %d-%d loaded\n", roll.Start, roll.End)
	res, err := c.IssueNormal(ctx, link.IssueRequest{
		Payer: []byte("ACME"),
		Items: []link.Item{{Name: []byte("coffee"), Quantity: 2000, TaxIndex: 1, UnitPrice: 1550}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	inv := res.Invoice()
	fmt.Println(res.Outcome, inv.No, inv.Type, inv.Total, inv.Time.Format(time.DateTime))
	// Output:
	// roll 1-1000 loaded
	// Done 1 normal 3100 2026-11-27 09:30:00
}

func ExampleAppendRequest() {
	frame, _ := link.AppendRequest(nil, link.Request{Command: link.CmdCurrentInvoice})
	fmt.Printf("% X\n", frame)
	reply, _ := link.AppendResponse(nil, link.Response{Status: link.StatusOK, Data: []byte{0, 0, 0, 42, 0, 0, 3, 0xB7, 0, 0, 0, 41}})
	r, err := link.ParseResponse(reply)
	fmt.Println(r.Status, len(r.Data), err)
	// Output:
	// 1B 10 33 00 05 47 2C
	// OK 12 <nil>
}

// A lab harness may read the fiscal card through the register; commands
// that could change fiscal data are refused before they reach the line.
func ExampleAllowedAPDU() {
	for _, apdu := range [][]byte{
		{0x00, 0xB0, 0x83, 0x00, 0x4C}, // READ BINARY of fiscal EF03 by SFI
		{0xC0, 0xF2, 0x00, 0x00, 0x2C}, // ISSUE_INVOICE
		{0x00, 0xD6, 0x83, 0x00, 0x01, 0x00},
	} {
		if ok, why := link.AllowedAPDU(apdu); ok {
			fmt.Printf("% X: allowed\n", apdu[:2])
		} else {
			fmt.Printf("% X: refused, %s\n", apdu[:2], why)
		}
	}
	// Output:
	// 00 B0: allowed
	// C0 F2: refused, CLA C0: only the ISO class 00 is passed through
	// 00 D6: refused, INS D6 is not a read-only ISO command (A4, B0, B2, 84, C0)
}
