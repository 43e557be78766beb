package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

func Example() {
	ctx := context.Background()
	fsys := memory.NewMemFS() // memory.NewDirFS(dir) on a real register
	m, err := memory.Open(ctx, fsys, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	code, _ := fiscal.ParseInvoiceCode("1440012345")
	day := fiscal.MustDate(2026, time.March, 2)

	// Before the card command: is there room? Then a durable intent.
	if err := m.CheckCapacity(memory.KindInvoice, 1); err != nil {
		fmt.Println(err)
		return
	}
	_ = m.BeginIntent(ctx, memory.Intent{ID: 1, Op: "issue", Payload: []byte{0, 0, 0, 1}})

	// After the card answered: new PIN, the invoice and "done" with one sync.
	inv := memory.Invoice{
		Detail:  fiscal.InvoiceDetail{Date: day, Type: fiscal.InvoiceNormal, Number: 1, Total: 1250},
		Code:    code,
		Time:    memory.Clock{Hour: 9, Minute: 30},
		Indexes: fiscal.TaxIndexes{1},
		Amounts: fiscal.TaxAmounts{1250},
		Lines:   []memory.Line{{Name: "咖啡", Quantity: 1000, UnitPrice: 1250, Amount: 1250, TaxIndex: 1}},
	}
	b := new(memory.Batch).SetPIN(memory.PIN{1, 2, 3, 4, 5, 6, 7, 8}).AddInvoice(inv).EndIntent(1)
	if err := m.Commit(ctx, b); err != nil {
		fmt.Println(err)
		return
	}

	// The same invoice number again is refused, and nothing is written.
	err = m.AddInvoice(ctx, inv)
	fmt.Println("duplicate refused:", errors.Is(err, memory.ErrDuplicate))

	got, _ := m.Invoice(ctx, code, 1)
	fmt.Println("invoice", got.Code, got.Detail.Number, got.Detail.Total, got.Lines[0].Name)
	t, _ := m.Totals(ctx, day, day)
	fmt.Println("normal:", t.NormalCount, t.Normal)
	fmt.Println("open intents:", len(m.OpenIntents()))
	m.Close()

	rep, err := memory.Verify(ctx, fsys, nil)
	fmt.Println("verify:", rep.Records, "records, ok:", rep.OK(), err)
	// Output:
	// duplicate refused: true
	// invoice 1440012345 1 12.50 咖啡
	// normal: 1 12.50
	// open intents: 0
	// verify: 4 records, ok: true <nil>
}

// A power cut in the middle of a write leaves a torn tail: Open refuses it
// with ErrTornTail, Repair truncates it (keeping a copy of the segment), and
// everything committed before it is there.
func ExampleRepair() {
	ctx := context.Background()
	disk := memory.NewMemFS()
	m, _ := memory.Open(ctx, disk, nil)
	_ = m.SetPIN(ctx, memory.PIN{1})
	m.Close()

	// Cut the power in the middle of the next write (10 bytes of it land).
	faulty := &memory.FaultFS{FS: disk, CutAt: 1, Keep: 10}
	m, _ = memory.Open(ctx, faulty, nil)
	err := m.SetPIN(ctx, memory.PIN{2})
	fmt.Println("write:", errors.Is(err, memory.ErrPowerCut))

	// Restart on the same disk.
	_, err = memory.Open(ctx, disk, nil)
	fmt.Println("open:", errors.Is(err, memory.ErrTornTail))
	rep, err := memory.Repair(ctx, disk, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("copy kept as", rep.CopiedTo)
	m, _ = memory.Open(ctx, disk, nil)
	pin, _ := m.PIN()
	fmt.Println("PIN after restart:", pin[0])
	// Output:
	// write: true
	// open: true
	// copy kept as 00000001.seg.torn-1
	// PIN after restart: 1
}

// An invoice issued for a host's request keeps the request id: a retry
// of the request finds the invoice instead of issuing another.
func ExampleMemory_InvoiceByRequestID() {
	ctx := context.Background()
	m, err := memory.Open(ctx, memory.NewMemFS(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	code, _ := fiscal.ParseInvoiceCode("1440012345")
	inv := memory.Invoice{
		Detail:    fiscal.InvoiceDetail{Date: fiscal.MustDate(2026, time.March, 2), Type: fiscal.InvoiceNormal, Number: 1, Total: 1250},
		Code:      code,
		Indexes:   fiscal.TaxIndexes{1},
		Amounts:   fiscal.TaxAmounts{1250},
		Lines:     []memory.Line{{Name: "咖啡", Quantity: 1000, UnitPrice: 1250, Amount: 1250, TaxIndex: 1}},
		RequestID: 0xC0FFEE, // stored as a request-id record in the invoice's batch
	}
	if err := m.AddInvoice(ctx, inv); err != nil {
		fmt.Println(err)
		return
	}
	got, err := m.InvoiceByRequestID(ctx, 0xC0FFEE)
	fmt.Println("found:", got.Detail.Number, err)
	_, err = m.InvoiceByRequestID(ctx, 0xBEEF)
	fmt.Println("other id:", errors.Is(err, memory.ErrNotFound))
	back, _ := m.Invoice(ctx, code, 1)
	fmt.Printf("read back with id %#x\n", back.RequestID)
	// Output:
	// found: 1 <nil>
	// other id: true
	// read back with id 0xc0ffee
}
