package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
)

// Issue a card set, initialise it as a register would, issue an invoice
// with raw APDUs (T=0: 61 08, then GET RESPONSE) and check its 税控码.
func Example() {
	ctx := context.Background()
	cs, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		panic(err)
	}
	if _, err := cs.Initialise(ctx); err != nil {
		panic(err)
	}

	block, _ := fiscal.IssueInvoiceBlock{
		Date:    fiscal.MustDate(2026, time.November, 26),
		Type:    fiscal.InvoiceNormal,
		Number:  1,
		Indexes: fiscal.TaxIndexes{1},
		Amounts: fiscal.TaxAmounts{12_50},
		Total:   12_50,
	}.MarshalBinary()
	cmd, _ := card.Command{CLA: 0xC0, INS: card.INSIssueInvoice, Data: block, Ne: 8}.Bytes()
	resp, _ := cs.Fiscal.Transmit(ctx, cmd)
	fmt.Printf("ISSUE_INVOICE: % X\n", resp)
	resp, _ = cs.Fiscal.Transmit(ctx, []byte{0x00, 0xC0, 0x00, 0x00, 0x08})
	fmt.Printf("GET RESPONSE: %d bytes, SW % X\n", len(resp)-2, resp[len(resp)-2:])

	var code fiscal.FiscalCode
	copy(code[:], resp)
	err = cs.Verifier().FiscalCode(cs.Options.FiscalCardNo, fiscal.FiscalCode{}, block, code)
	fmt.Println("code verifies:", err == nil)
	// Output:
	// ISSUE_INVOICE: 61 08
	// GET RESPONSE: 8 bytes, SW 90 00
	// code verifies: true
}

// The tax office unblocks a fiscal card whose PIN was blocked by wrong
// tries (税控卡解锁): it computes the MAC of a new PIN, and PIN_UNBLOCK
// (84 24 01 01) installs that PIN.
func ExampleCardSet_UnblockMAC() {
	ctx := context.Background()
	cs, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		panic(err)
	}
	if _, err := cs.Initialise(ctx); err != nil {
		panic(err)
	}
	fc, err := card.OpenFiscalCard(ctx, cs.Fiscal, nil)
	if err != nil {
		panic(err)
	}
	for range 3 {
		_, err = fc.VerifyPIN(ctx, card.PIN([]byte("guess!!!")))
	}
	fmt.Println("blocked:", errors.Is(err, card.ErrPINBlocked))

	newPIN := card.PIN([]byte("87654321"))
	mac, err := cs.UnblockMAC(newPIN)
	if err != nil {
		panic(err)
	}
	pin, err := fc.UnblockPIN(ctx, newPIN, mac)
	fmt.Println("unblocked:", err == nil)
	_, err = fc.VerifyPIN(ctx, pin)
	fmt.Println("new PIN verifies:", err == nil)
	// Output:
	// blocked: true
	// unblocked: true
	// new PIN verifies: true
}
