package cardtest

import (
	"errors"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// notRun logs that a check needs a hook the set does not provide.
func notRun(t *testing.T, hook, what string) {
	t.Helper()
	t.Logf("not run (Cards.%s is nil): %s", hook, what)
}

// testControlsReplay: the control record in force may be sent again; an
// older one is refused with 6985 and changes nothing.
func testControlsReplay(t *testing.T, s *session) {
	r := s.makeReady(t)
	rec1, err := s.user.ControlRecordFor(s.ctx, r.info.CardNumber)
	must(t, err, "user EF01")
	must(t, s.fiscal.UpdateControls(s.ctx, rec1), "UPDATE_CONTROLS with the record in force, again")
	if s.cards.RenewControls == nil {
		notRun(t, "RenewControls", "an older control record is refused")
		return
	}
	next := r.controls
	next.SingleLimit = max(r.controls.SingleLimit-1, 1)
	next.ReturnLimit = max(r.controls.ReturnLimit-1, 1)
	must(t, s.cards.RenewControls(next), "tax office writes newer controls")
	rec2, err := s.user.ControlRecordFor(s.ctx, r.info.CardNumber)
	must(t, err, "user EF01")
	if rec2 == rec1 {
		t.Fatal("the newer control record equals the older one")
	}
	must(t, s.fiscal.UpdateControls(s.ctx, rec2), "UPDATE_CONTROLS with the newer record")
	got, err := s.fiscal.ReadControls(s.ctx)
	must(t, err, "read fiscal EF01")
	if got != next {
		t.Fatalf("fiscal EF01 %+v, want %+v", got, next)
	}
	err = s.fiscal.UpdateControls(s.ctx, rec1)
	wantErr(t, err, card.ErrStaleControls, "UPDATE_CONTROLS with the older record")
	wantSW(t, err, card.SWConditionsNotSatisfied, "UPDATE_CONTROLS with the older record")
	if got, err = s.fiscal.ReadControls(s.ctx); err != nil || got != next {
		t.Fatalf("a refused replay changed fiscal EF01: %+v %v", got, err)
	}
	must(t, s.fiscal.UpdateControls(s.ctx, rec2), "UPDATE_CONTROLS with the record in force, again")
}

// testPINUnblock: PIN_UNBLOCK (84 24 01 01) with a wrong MAC is refused
// and leaves the PIN blocked; with the tax office's MAC it installs the new
// PIN with a full try counter.
func testPINUnblock(t *testing.T, s *session) {
	pin := s.register(t)
	wrong := pin
	wrong[0] ^= 0xFF
	for range s.cards.PINRetries {
		_, _ = s.fiscal.VerifyPIN(s.ctx, wrong)
	}
	_, err := s.fiscal.VerifyPIN(s.ctx, pin)
	wantErr(t, err, card.ErrPINBlocked, "right PIN on a blocked card")
	newPIN := card.PIN([]byte("UNBLOCK1"))
	_, err = s.fiscal.UnblockPIN(s.ctx, newPIN, [card.MACLen]byte{0xDE, 0xAD, 0xBE, 0xEF})
	wantErr(t, err, card.ErrMACInvalid, "PIN_UNBLOCK with a wrong MAC")
	wantSW(t, err, card.SWMACError, "PIN_UNBLOCK with a wrong MAC")
	_, err = s.fiscal.VerifyPIN(s.ctx, pin)
	wantErr(t, err, card.ErrPINBlocked, "right PIN after a refused unblock")
	if s.cards.UnblockMAC == nil {
		notRun(t, "UnblockMAC", "unblocking with the tax office's MAC")
		return
	}
	mac, err := s.cards.UnblockMAC(newPIN)
	must(t, err, "tax office's unblock MAC")
	other := newPIN
	other[7] ^= 1
	_, err = s.fiscal.UnblockPIN(s.ctx, other, mac)
	wantErr(t, err, card.ErrMACInvalid, "PIN_UNBLOCK with the MAC of another PIN")
	inForce, err := s.fiscal.UnblockPIN(s.ctx, newPIN, mac)
	must(t, err, "PIN_UNBLOCK")
	// The session is not verified by the unblock itself.
	_, err = s.fiscal.IssueInvoice(s.ctx, fiscal.IssueInvoiceBlock{Date: fiscal.MustDate(2026, 1, 1), Type: fiscal.InvoiceVoid, Number: 1})
	wantErr(t, err, card.ErrSecurityStatus, "ISSUE_INVOICE right after PIN_UNBLOCK")
	_, err = s.fiscal.VerifyPIN(s.ctx, pin)
	var pe *card.PINError
	if !errors.As(err, &pe) || pe.Retries != s.cards.PINRetries-1 {
		t.Fatalf("old PIN after unblock: %v, want a wrong PIN with %d tries left", err, s.cards.PINRetries-1)
	}
	next := s.verify(t, inForce)
	s.verify(t, next)
}

// testPowerCycle: a reset ends the power session and nothing else.
func testPowerCycle(t *testing.T, s *session) {
	if s.cards.Reset == nil {
		notRun(t, "Reset", "power-cycle checks")
		return
	}
	r := s.makeReady(t)
	code, err := s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start, 100))
	must(t, err, "ISSUE_INVOICE")
	must(t, s.cards.Reset(FiscalCard), "reset the fiscal card")
	// The application must be selected again; nothing is executed before.
	_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start+1, 100))
	var se *card.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("ISSUE_INVOICE right after a reset: %v, want a status word", err)
	}
	must(t, s.fiscal.Select(s.ctx), "select TSAM01 after the reset")
	// PIN verification is lost, the rolling PIN itself is kept.
	_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start+1, 100))
	wantErr(t, err, card.ErrSecurityStatus, "ISSUE_INVOICE after reset and select")
	acc, err := s.fiscal.ReadDayAccumulation(s.ctx)
	must(t, err, "read fiscal EF03")
	if acc.PrevInvoice != r.roll.Start || acc.PrevFiscalCode != code || acc.NormalCount != 1 {
		t.Fatalf("fiscal EF03 after a reset %+v, want the invoice before it", acc)
	}
	s.verify(t, r.pin)
	_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start+1, 100))
	must(t, err, "ISSUE_INVOICE after VERIFY_FISCAL_PIN")

	// User card: VERIFY is lost.
	must(t, s.user.Verify(s.ctx, s.cards.UserPIN), "VERIFY user PIN")
	must(t, s.cards.Reset(UserCard), "reset the user card")
	must(t, s.user.Select(s.ctx), "select TID01 after the reset")
	verified, _, err := s.user.PINStatus(s.ctx)
	must(t, err, "PIN status after the reset")
	if verified {
		t.Fatal("user PIN still verified after a reset")
	}
	item := fiscal.TaxItem{Index: 6, Code: [4]byte{'0', '6', '0', '1'}, Rate: 300, NameCN: "零售", NameEN: "Retail"}
	wantErr(t, s.user.WriteTaxItem(s.ctx, 0, item), card.ErrSecurityStatus, "APPEND RECORD after a reset")

	// Check card: external authentication is lost.
	must(t, s.check.AuthenticateFiscal(s.ctx, s.fiscal), "check ↔ fiscal authentication")
	must(t, s.cards.Reset(CheckCard), "reset the check card")
	must(t, s.check.Select(s.ctx), "select CHECK01 after the reset")
	rec := card.InspectionRecord{Date: r.date(), TaxpayerNo: r.info.TaxpayerNo, Machine: r.info.MachineNumber, Type: card.CheckDailyData,
		Daily: fiscal.DailyRecord{Date: r.date()}}
	wantErr(t, s.check.AppendRecord(s.ctx, rec), card.ErrSecurityStatus, "APPEND RECORD to check EF03 after a reset")

	// A partly read T=0 response is gone after a reset.
	raw := s.cards.Check
	resp, err := raw.Transmit(s.ctx, []byte{0x00, card.INSGetChallenge, 0x00, 0x00, 0x08})
	must(t, err, "raw GET CHALLENGE")
	first, err := card.ParseResponse(resp)
	must(t, err, "parse response")
	if _, ok := first.SW.BytesAvailable(); !ok {
		t.Log("the check card answers T=1 style: no pending T=0 response to lose")
		return
	}
	resp, err = raw.Transmit(s.ctx, []byte{0x00, card.INSGetResponse, 0x00, 0x00, 0x04})
	must(t, err, "raw GET RESPONSE Le=04")
	part, err := card.ParseResponse(resp)
	must(t, err, "parse response")
	if n, ok := part.SW.BytesAvailable(); !ok || n != 4 || len(part.Data) != 4 {
		t.Fatalf("GET RESPONSE Le=04 of 8 pending bytes answered % X, want 4 bytes and 61 04", resp)
	}
	must(t, s.cards.Reset(CheckCard), "reset the check card")
	resp, err = raw.Transmit(s.ctx, []byte{0x00, card.INSGetResponse, 0x00, 0x00, 0x04})
	must(t, err, "raw GET RESPONSE after the reset")
	rest, err := card.ParseResponse(resp)
	must(t, err, "parse response")
	if len(rest.Data) != 0 || rest.SW == card.SWOK {
		t.Fatalf("GET RESPONSE after a reset answered % X: the pending data survived", resp)
	}
}

// testCardFaults provokes 6581 (memory failure: nothing happens) and 9303
// (application locked).
func testCardFaults(t *testing.T, s *session) {
	r := s.makeReady(t)
	if s.cards.FailNext == nil {
		notRun(t, "FailNext", "6581 on ISSUE_INVOICE and DISTRIBUTE_INVOICE_NB")
	} else {
		must(t, s.cards.FailNext(FiscalCard, card.SWEEPROMError), "arm 6581")
		_, err := s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start, 100))
		wantErr(t, err, card.ErrMemory, "ISSUE_INVOICE answered 6581")
		wantSW(t, err, card.SWEEPROMError, "ISSUE_INVOICE answered 6581")
		acc, err := s.fiscal.ReadDayAccumulation(s.ctx)
		must(t, err, "read fiscal EF03")
		if acc.NormalCount != 0 || acc.PrevInvoice != 0 {
			t.Fatalf("an invoice answered 6581 was counted: %+v", acc)
		}
		_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start, 100))
		must(t, err, "ISSUE_INVOICE of the same number after 6581")
		before, err := s.user.ReadPurchases(s.ctx)
		must(t, err, "read user EF05")
		must(t, s.cards.FailNext(UserCard, card.SWEEPROMError), "arm 6581")
		_, err = s.user.DistributeInvoiceNB(s.ctx)
		wantErr(t, err, card.ErrMemory, "DISTRIBUTE_INVOICE_NB answered 6581")
		after, err := s.user.ReadPurchases(s.ctx)
		must(t, err, "read user EF05")
		if len(after) != len(before) || (len(after) > 0 && after[0] != before[0]) {
			t.Fatalf("DISTRIBUTE_INVOICE_NB answered 6581 changed EF05: %+v → %+v", before, after)
		}
	}
	if s.cards.Lock == nil {
		notRun(t, "Lock", "9303 from a locked application")
		return
	}
	must(t, s.cards.Lock(FiscalCard), "lock the fiscal application")
	_, err := s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start+1, 100))
	wantErr(t, err, card.ErrAppLocked, "ISSUE_INVOICE on a locked card")
	wantSW(t, err, card.SWAppLocked, "ISSUE_INVOICE on a locked card")
	_, err = s.fiscal.VerifyPIN(s.ctx, r.pin)
	wantErr(t, err, card.ErrAppLocked, "VERIFY_FISCAL_PIN on a locked card")
	if s.cards.UnblockMAC == nil {
		notRun(t, "UnblockMAC", "PIN_UNBLOCK lifts the lock")
		return
	}
	newPIN := card.PIN([]byte("UNLOCK01"))
	mac, err := s.cards.UnblockMAC(newPIN)
	must(t, err, "tax office's unblock MAC")
	inForce, err := s.fiscal.UnblockPIN(s.ctx, newPIN, mac)
	must(t, err, "PIN_UNBLOCK on a locked card")
	s.verify(t, inForce)
	_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start+1, 100))
	must(t, err, "ISSUE_INVOICE after PIN_UNBLOCK")
}
