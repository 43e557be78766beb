package card_test

import (
	"context"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
)

// BenchmarkIssueInvoice measures one invoice as the register does it:
// VERIFY_FISCAL_PIN then ISSUE_INVOICE, against the emulator. It reports
// the APDU exchanges per invoice and the emulator's command rate.
func BenchmarkIssueInvoice(b *testing.B) {
	for _, mode := range []struct {
		name string
		t1   bool
	}{{"T0", false}, {"T1", true}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			opts := emulator.IssueOptions{Options: emulator.Options{T1: mode.t1}}
			code, _ := fiscal.ParseInvoiceCode("1440000000")
			opts.Rolls = []emulator.PurchasedRoll{{Code: code, Start: 1, End: 4_000_000_000, Rolls: 1}}
			fc, _, _, pin, roll, controls, info := readySet(b, opts)
			var exchanges int
			fc = card.NewFiscalCard(card.NewChannel(fc.Channel().Transmitter(), &card.ChannelOptions{Observer: func(card.Exchange) { exchanges++ }}))
			inv := fiscal.IssueInvoiceBlock{Date: info.Start, Type: fiscal.InvoiceNormal, Number: roll.Start, Total: 100}
			inv.Indexes[0], inv.Amounts[0] = controls.Indexes[0], 100
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if pin, err = fc.VerifyPIN(ctx, pin); err != nil {
					b.Fatal(err)
				}
				if _, err = fc.IssueInvoice(ctx, inv); err != nil {
					b.Fatal(err)
				}
				inv.Number++
			}
			b.ReportMetric(float64(exchanges)/float64(b.N), "apdus/invoice")
			b.ReportMetric(float64(exchanges)/b.Elapsed().Seconds(), "apdus/s")
		})
	}
}

// BenchmarkChannelReadBinary measures a plain READ BINARY of fiscal EF02
// (103 bytes) through the Channel and the emulator.
func BenchmarkChannelReadBinary(b *testing.B) {
	ctx := context.Background()
	cs, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fc, err := card.OpenFiscalCard(ctx, cs.Fiscal, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := cs.Fiscal.Commands()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := fc.ReadAppInfo(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cs.Fiscal.Commands()-start)/b.Elapsed().Seconds(), "apdus/s")
}
