package card_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
)

// A register's life with its cards: registration, control data, a roll,
// one invoice, and an over-limit refusal, against emulated T=0 cards.
func Example() {
	ctx := context.Background()
	cs, err := emulator.Issue(emulator.IssueOptions{}) // a demonstration card set
	if err != nil {
		panic(err)
	}
	var exchanges int
	count := &card.ChannelOptions{Observer: func(card.Exchange) { exchanges++ }}
	fc, err := card.OpenFiscalCard(ctx, cs.Fiscal, count)
	if err != nil {
		panic(err)
	}
	uc, err := card.OpenUserCard(ctx, cs.User, nil)
	if err != nil {
		panic(err)
	}

	// Registration binds the fiscal card to the machine and yields the PIN.
	nb, _ := fc.GetRegisterNB(ctx)
	mac2, _ := uc.RegisterSign(ctx, nb)
	pin, _ := fc.TerminalRegister(ctx, mac2)
	pin, _ = fc.VerifyPIN(ctx, pin) // the card answers with the next PIN

	// Control data and the first roll come from the user card.
	info, _ := fc.ReadAppInfo(ctx)
	rec, _ := uc.ControlRecordFor(ctx, info.CardNumber)
	_ = fc.UpdateControls(ctx, rec)
	controls, _ := fc.ReadControls(ctx)
	roll, _ := uc.DistributeInvoiceNB(ctx)
	_ = fc.InputInvoiceNB(ctx, roll)
	fmt.Println("registered:", info.CardNumber, "roll", roll.Code, roll.Start, "-", roll.End)

	// One invoice: VERIFY_FISCAL_PIN then ISSUE_INVOICE, no SELECT between.
	exchanges = 0
	pin, err = fc.VerifyPIN(ctx, pin)
	if err != nil {
		panic(err)
	}
	inv := fiscal.IssueInvoiceBlock{Date: info.Start, Type: fiscal.InvoiceNormal, Number: roll.Start, Total: 12345}
	inv.Indexes[0], inv.Amounts[0] = controls.Indexes[0], 12345
	code, err := fc.IssueInvoice(ctx, inv)
	if err != nil {
		panic(err)
	}
	fmt.Println("税控码 digits:", len(code.String()), "exchanges:", exchanges)

	// Over the single-invoice limit: the card says 9401.
	inv.Number++
	inv.Amounts[0] = controls.SingleLimit + 1
	inv.Total = inv.Amounts[0]
	_, err = fc.IssueInvoice(ctx, inv)
	var se *card.StatusError
	fmt.Println(errors.Is(err, card.ErrAmountOverLimit), errors.As(err, &se) && se.SW == card.SWLimitOrNoInvoice)
	fmt.Println(err)
	// Output:
	// registered: 1100000000000001 roll 1440000000 1 - 500
	// 税控码 digits: 20 exchanges: 4
	// true true
	// card: ISSUE_INVOICE: SW 9401: amount over the single-invoice limit
}

// Status words become errors that unwrap to per-command sentinels; the raw
// SW and the PIN tries left stay reachable.
func ExampleCheckStatus() {
	err := card.CheckStatus(card.CLAProprietary, card.INSDistributeInvoiceNB, 0x9401)
	fmt.Println(errors.Is(err, card.ErrNoInvoiceToDistribute), errors.Is(err, card.ErrAmountOverLimit))

	err = card.CheckStatus(card.CLAProprietary, card.INSVerifyFiscalPIN, card.SWRetriesLeft(2))
	var pe *card.PINError
	var se *card.StatusError
	if errors.As(err, &pe) && errors.As(err, &se) {
		fmt.Println(pe.Retries, se.SW, se.Command)
	}
	fmt.Println(err)
	// Output:
	// true false
	// 2 63C2 VERIFY_FISCAL_PIN
	// card: VERIFY_FISCAL_PIN: SW 63C2: wrong PIN, 2 tries left
}
