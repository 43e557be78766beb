package register_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) addDays(n int)  { c.mu.Lock(); c.t = c.t.AddDate(0, 0, n); c.mu.Unlock() }

// A control update during a business day that drops a tax index must not
// drop that index's sales from the day's record or the next declaration: the
// fiscal card accumulated them and signs only its own totals.
func TestTaxIndexRemovedDuringTheDay(t *testing.T) {
	ctx := context.Background()
	cs, err := emulator.Issue(emulator.IssueOptions{TaxItems: []fiscal.TaxItem{
		{Index: 1, Code: [4]byte{'0', '1', '0', '1'}, Rate: 500, NameCN: "餐饮", NameEN: "Food"},
		{Index: 2, Code: [4]byte{'0', '2', '0', '1'}, Rate: 300, NameCN: "零售", NameEN: "Retail"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	clk := &stepClock{t: time.Date(2026, time.November, 26, 10, 0, 0, 0, fiscal.Zone())}
	m, err := memory.Open(ctx, memory.NewMemFS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := register.Open(ctx, register.Config{Memory: m, Fiscal: cs.Fiscal, User: cs.User, UserPIN: []byte("12345678"), Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	sale := func(idx fiscal.TaxIndex, amt fiscal.Amount) {
		t.Helper()
		_, err := dev.Issue(ctx, register.InvoiceRequest{Drawer: "张三", Lines: []register.Line{{Name: "x", Quantity: 1000, UnitPrice: amt, TaxIndex: idx}}})
		must(err, "issue")
	}
	must(dev.WriteFactoryData(ctx, register.Factory{Number: fiscal.MachineNumber{0x22, 0, 0, 0, 0, 0, 0, 0x01}, Produced: fiscal.MustDate(2026, 1, 5), HardwareVersion: "HW1", SoftwareVersion: "SW1"}), "factory")
	must(dev.Initialise(ctx), "initialise")
	_, err = dev.Distribute(ctx)
	must(err, "distribute")
	_, err = dev.LoadRoll(ctx)
	must(err, "load roll")

	sale(1, 1000)
	clk.addDays(1)
	sale(1, 2000) // day 2, index 1
	_, err = dev.Declare(ctx, register.DeclareRequest{})
	must(err, "declare day 1")
	next := cs.Options.Controls
	next.Indexes = fiscal.TaxIndexes{2} // the tax office drops index 1
	_, err = cs.ProcessDeclarations(next)
	must(err, "tax office")
	_, err = dev.UpdateControls(ctx)
	must(err, "update controls")
	sale(2, 3000) // day 2, index 2

	// Day 1 was closed and signed under the old indexes: its report must
	// still match once the controls list other indexes.
	day1 := fiscal.DateOf(clk.now()).AddDays(-1)
	rep1, err := dev.DailyReport(ctx, day1)
	must(err, "daily report of day 1")
	if !rep1.HasSigned || rep1.Mismatch || rep1.Computed.Normal.Sum() != 1000 {
		t.Errorf("day 1 after the control update: signed %v, mismatch %v\nsigned   %+v\ncomputed %+v", rep1.HasSigned, rep1.Mismatch, rep1.Signed, rep1.Computed)
	}

	today := fiscal.DateOf(clk.now())
	must(dev.CloseDay(ctx, today), "close the day of the change (the card refuses a record that is not its own)")
	rep, err := dev.DailyReport(ctx, today)
	must(err, "daily report")
	if !rep.HasSigned || rep.Mismatch {
		t.Fatalf("daily report: signed %v, mismatch %v", rep.HasSigned, rep.Mismatch)
	}
	r := rep.Signed
	if r.NormalCount != 2 || r.Normal.Sum() != 5000 {
		t.Fatalf("signed record %+v: want 2 sales totalling 50.00", r)
	}
	if i := r.Indexes.Slot(1); i < 0 || r.Normal[i] != 2000 {
		t.Errorf("index 1 carries %v in %v, want 20.00", r.Normal, r.Indexes)
	}

	clk.addDays(1)
	decl, err := dev.Declare(ctx, register.DeclareRequest{})
	must(err, "declare day 2")
	if decl.Data.Normal.Sum() != 5000 || decl.Data.Indexes.Slot(1) < 0 {
		t.Errorf("declaration %+v: want both indexes, 50.00 in all", decl.Data)
	}
	if decl.Response.TotalValid != 5000 {
		t.Errorf("card's own period total = %v, want 50.00", decl.Response.TotalValid)
	}
}
