//go:build pcsc

package pcsc_test

import (
	"context"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// TestRegisterFlowThroughPCSC runs a register (register.Device) whose
// fiscal and user cards are the emulator behind pcscd: factory data,
// initialisation (registration binds the two cards through PC/SC), roll
// distribution and loading, invoices issued inside a PC/SC transaction
// (sale, return, void), and the daily close, whose signature and the chain
// of fiscal codes are then checked against the cards' profile.
func TestRegisterFlowThroughPCSC(t *testing.T) {
	st := newStack(t)
	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fiscalCard := st.put(t, 0, set.Fiscal)
	userCard := st.put(t, 1, set.User)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	day0 := time.Date(2026, time.November, 26, 10, 0, 0, 0, fiscal.Zone())
	mem, err := memory.Open(ctx, memory.NewMemFS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	apdus := 0
	dev, err := register.Open(ctx, register.Config{
		Memory: mem, Fiscal: fiscalCard, User: userCard, UserPIN: set.Options.UserPIN[:],
		Clock:    func() time.Time { return day0 },
		Observer: func(card.Exchange) { apdus++ },
	})
	if err != nil {
		t.Fatalf("register.Open: %v", err)
	}
	defer dev.Close()
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	must(dev.WriteFactoryData(ctx, register.Factory{Number: set.Options.MachineNo, Produced: fiscal.MustDate(2026, time.January, 5),
		HardwareVersion: "HW1", SoftwareVersion: "SW1"}), "factory data")
	must(dev.Initialise(ctx), "initialise")
	_, err = dev.Distribute(ctx)
	must(err, "distribute")
	_, err = dev.LoadRoll(ctx)
	must(err, "load roll")
	if s := dev.Status(); !s.Initialised || s.Next != 1 {
		t.Fatalf("status after initialisation: %+v", s)
	}

	sale := func(amount fiscal.Amount) register.InvoiceRequest {
		return register.InvoiceRequest{Payer: "个人", Drawer: "张三",
			Lines: []register.Line{{Name: "午餐", Quantity: 1000, UnitPrice: amount, TaxIndex: 1}}}
	}
	var issued []register.Invoice
	// The register holds the fiscal card for the whole flow.
	err = fiscalCard.Transaction(ctx, func(ctx context.Context) error {
		for _, amount := range []fiscal.Amount{1234, 500} {
			inv, err := dev.Issue(ctx, sale(amount))
			if err != nil {
				return err
			}
			issued = append(issued, inv)
		}
		ret, err := dev.Return(ctx, register.ReturnRequest{Number: 1, Drawer: "张三"})
		if err != nil {
			return err
		}
		issued = append(issued, ret)
		voids, err := dev.Void(ctx, register.VoidRequest{Count: 1, Drawer: "张三"})
		issued = append(issued, voids...)
		return err
	})
	must(err, "invoices")
	if len(issued) != 4 {
		t.Fatalf("%d invoices, want 4", len(issued))
	}
	for i, inv := range issued {
		if inv.Detail.Number != uint32(i+1) || inv.Detail.FiscalCode == (fiscal.FiscalCode{}) {
			t.Errorf("invoice %d: %+v", i+1, inv.Detail)
		}
	}

	must(dev.CloseDay(ctx, fiscal.DateOf(day0)), "daily close")
	rep, err := dev.DailyReport(ctx, fiscal.DateOf(day0))
	must(err, "daily report")
	if !rep.HasSigned || rep.Mismatch || rep.Signed.NormalCount != 2 || rep.Signed.ReturnCount != 1 || rep.Signed.VoidCount != 1 ||
		rep.Signed.Normal[0] != 1734 || rep.Signed.Return[0] != 1234 {
		t.Fatalf("daily report %+v", rep)
	}

	// What the cards produced through PC/SC verifies against their profile.
	v := set.Verifier()
	no := set.Options.FiscalCardNo
	var prev fiscal.FiscalCode
	for _, inv := range issued {
		block, err := fiscal.IssueInvoiceBlock{Date: inv.Detail.Date, Type: inv.Detail.Type, Number: inv.Detail.Number,
			Indexes: inv.Indexes, Amounts: inv.Amounts, Total: inv.Detail.Total}.MarshalBinary()
		must(err, "invoice block")
		if err := v.FiscalCode(no, prev, block, inv.Detail.FiscalCode); err != nil {
			t.Errorf("fiscal code of invoice %d: %v", inv.Detail.Number, err)
		}
		prev = inv.Detail.FiscalCode
	}
	dailies := mem.Dailies(fiscal.Date{}, fiscal.Date{})
	if len(dailies) != 1 {
		t.Fatalf("%d daily records, want 1", len(dailies))
	}
	rec, err := dailies[0].Record.MarshalBinary()
	must(err, "daily record")
	if err := v.DailySignature(no, rec, dailies[0].Signature[:]); err != nil {
		t.Errorf("daily signature: %v", err)
	}
	rpt, err := mem.Verify(ctx)
	must(err, "verify fiscal memory")
	if !rpt.OK() {
		t.Errorf("fiscal memory does not verify: %+v", rpt)
	}
	t.Logf("%d APDUs through PC/SC for the whole flow", apdus)
}
