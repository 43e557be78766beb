//go:build pcsc

package pcsc_test

import (
	"context"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
)

// BenchmarkTransmitThroughPCSC measures one APDU round trip through
// ebfe/scard -> pcscd -> vpcd -> a card that answers at once.
func BenchmarkTransmitThroughPCSC(b *testing.B) {
	pc := openClient(b)
	_, reader := insert(b, pc, 0, &toyCard{name: 1})
	k := connect(b, pc, reader, nil)
	ctx := context.Background()
	apdu := []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'}
	b.ResetTimer()
	for b.Loop() {
		if _, err := k.Transmit(ctx, apdu); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "APDUs/s")
}

// BenchmarkInvoiceThroughPCSC measures what a register does per invoice
// on a PC/SC fiscal card (the emulator behind pcscd): inside a
// transaction, VERIFY_FISCAL_PIN then ISSUE_INVOICE, with T=0 GET
// RESPONSE for each answer.
func BenchmarkInvoiceThroughPCSC(b *testing.B) {
	set, err := emulator.Issue(emulator.IssueOptions{
		Rolls: []emulator.PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 1_000_000}},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	pinBytes, err := set.Initialise(ctx) // in process: registration, controls, first roll
	if err != nil {
		b.Fatal(err)
	}
	pin := card.PIN(pinBytes)

	pc := openClient(b)
	_, reader := insert(b, pc, 0, set.Fiscal)
	k := connect(b, pc, reader, nil)
	apdus := 0
	fc, err := card.OpenFiscalCard(ctx, k, &card.ChannelOptions{Observer: func(card.Exchange) { apdus++ }})
	if err != nil {
		b.Fatal(err)
	}
	block := fiscal.IssueInvoiceBlock{
		Date: fiscal.MustDate(2026, time.November, 26), Type: fiscal.InvoiceNormal,
		Indexes: set.Options.Controls.Indexes,
	}
	block.Amounts[0], block.Total = 1250, 1250
	apdus = 0
	b.ResetTimer()
	for b.Loop() {
		block.Number++
		err := k.Transaction(ctx, func(ctx context.Context) error {
			next, err := fc.VerifyPIN(ctx, pin)
			if err != nil {
				return err
			}
			pin = next
			_, err = fc.IssueInvoice(ctx, block)
			return err
		})
		if err != nil {
			b.Fatalf("invoice %d: %v", block.Number, err)
		}
	}
	b.ReportMetric(float64(apdus)/float64(b.N), "APDUs/invoice")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invoices/s")
}

// BenchmarkResetThroughPCSC measures a card reset through PC/SC, as the
// conformance suite's Reset hook does it: SCardReconnect with
// SCARD_RESET_CARD (pcscd -> vpcd's reset message -> the card, then the
// ATR read again), followed by one APDU (the SELECT a host sends next).
func BenchmarkResetThroughPCSC(b *testing.B) {
	pc := openClient(b)
	toy := &toyCard{name: 2}
	_, reader := insert(b, pc, 0, toy)
	k := connect(b, pc, reader, nil)
	ctx := context.Background()
	apdu := []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'}
	before := toy.resets()
	b.ResetTimer()
	for b.Loop() {
		if err := k.Reconnect(ctx, true); err != nil {
			b.Fatal(err)
		}
		if _, err := k.Transmit(ctx, apdu); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := toy.resets() - before; got < b.N {
		b.Fatalf("%d resets through PC/SC reached the card %d times", b.N, got)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resets/s")
}
