package cardtest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

func testSelect(t *testing.T, s *session) {
	for _, c := range []struct {
		ch   *card.Channel
		name string
	}{{s.fiscal.Channel(), card.DFNameFiscal}, {s.user.Channel(), card.DFNameUser}, {s.check.Channel(), card.DFNameCheck}} {
		_, err := c.ch.SelectName(s.ctx, c.name)
		must(t, err, "SELECT "+c.name)
	}
	_, err := s.fiscal.Channel().SelectName(s.ctx, "NOSUCH")
	wantErr(t, err, card.ErrFileNotFound, "SELECT unknown DF name")
	_, err = s.user.Channel().SelectName(s.ctx, card.DFNameFiscal)
	wantErr(t, err, card.ErrFileNotFound, "SELECT TSAM01 on the user card")
	must(t, s.fiscal.Select(s.ctx), "re-select TSAM01")
	_, err = s.fiscal.Channel().SelectFID(s.ctx, card.FiscalEFAppInfo)
	must(t, err, "SELECT EF02 by FID")
	_, err = s.fiscal.Channel().SelectFID(s.ctx, 0xEF3E)
	wantErr(t, err, card.ErrFileNotFound, "SELECT unknown FID")
	// The current EF after SELECT by FID is readable with offset addressing.
	_, err = s.fiscal.Channel().SelectFID(s.ctx, card.FiscalEFAppInfo)
	must(t, err, "SELECT EF02")
	head, err := s.fiscal.Channel().ReadBinary(s.ctx, 0, 2)
	must(t, err, "READ BINARY current EF")
	if head[0] != card.CardTypeFiscal || head[1] != 0x01 {
		t.Fatalf("fiscal EF02 starts % X, want 00 01 (fiscal, unregistered)", head)
	}
}

func testISOErrors(t *testing.T, s *session) {
	ch := s.user.Channel()
	_, err := ch.Do(s.ctx, card.Command{CLA: card.CLAISO, INS: 0x12})
	wantErr(t, err, card.ErrInsNotSupported, "unknown INS")
	_, err = ch.Do(s.ctx, card.Command{CLA: 0x80, INS: card.INSSelect, P1: 4, Data: []byte(card.DFNameUser)})
	wantErr(t, err, card.ErrClaNotSupported, "unknown CLA")
	_, err = ch.ReadBinarySFI(s.ctx, card.SFI(card.UserEFTaxItems), 0, 4)
	wantErr(t, err, card.ErrFileType, "READ BINARY of a record file")
	_, err = ch.ReadRecord(s.ctx, card.SFI(card.UserEFInfo), 1, 0)
	wantErr(t, err, card.ErrFileType, "READ RECORD of a binary file")
	_, err = ch.ReadRecord(s.ctx, card.SFI(card.UserEFTaxItems), 200, fiscal.TaxItemLen)
	wantErr(t, err, card.ErrRecordNotFound, "READ RECORD beyond the last record")
	_, err = ch.ReadBinarySFI(s.ctx, card.SFI(card.UserEFInfo), 200, 1)
	wantErr(t, err, card.ErrOffsetOutOfRange, "READ BINARY beyond the file")
	must(t, s.user.Select(s.ctx), "SELECT TID01")
	_, err = ch.ReadBinary(s.ctx, 0, 1)
	wantErr(t, err, card.ErrNoCurrentEF, "READ BINARY with no current EF")
	_, err = ch.ReadBinarySFI(s.ctx, 0x1D, 0, 1)
	wantErr(t, err, card.ErrFileNotFound, "READ BINARY of a missing SFI")
	_, err = ch.Do(s.ctx, card.Command{CLA: card.CLAProprietary, INS: card.INSDistributeInvoiceNB, P1: 1, Ne: fiscal.SignedRollLen})
	wantErr(t, err, card.ErrWrongP1P2, "DISTRIBUTE_INVOICE_NB with P1=01")
	_, err = s.fiscal.Channel().Do(s.ctx, card.Command{CLA: card.CLAProprietary, INS: card.INSTerminalRegister, Data: []byte{1, 2}, Ne: 8})
	if !errors.Is(err, card.ErrWrongLength) && !errors.Is(err, card.ErrConditionsNotSatisfied) {
		t.Fatalf("TERMINAL_REGISTER with 2 data bytes: %v, want 6700 (or 6985 before GET_REGISTER_NB)", err)
	}
}

func testT0Chaining(t *testing.T, s *session) {
	ch := s.check.Channel()
	raw := s.cards.Check
	// Raw GET CHALLENGE: either T=0 (61 08, then GET RESPONSE) or T=1 style.
	resp, err := raw.Transmit(s.ctx, []byte{0x00, card.INSGetChallenge, 0x00, 0x00, 0x08})
	must(t, err, "raw GET CHALLENGE")
	r, err := card.ParseResponse(resp)
	must(t, err, "parse response")
	if n, ok := r.SW.BytesAvailable(); ok {
		if n != 8 || len(r.Data) != 0 {
			t.Fatalf("GET CHALLENGE under T=0 answered % X, want 61 08 with no data", resp)
		}
		// Wrong Le on GET RESPONSE → 6C08; then the right Le gives the data.
		resp, err = raw.Transmit(s.ctx, []byte{0x00, card.INSGetResponse, 0x00, 0x00, 0x10})
		must(t, err, "raw GET RESPONSE")
		if r, _ = card.ParseResponse(resp); r.SW != card.SWWrongLe(8) {
			t.Fatalf("GET RESPONSE Le=10 answered % X, want 6C 08", resp)
		}
		resp, err = raw.Transmit(s.ctx, []byte{0x00, card.INSGetResponse, 0x00, 0x00, 0x08})
		must(t, err, "raw GET RESPONSE")
		if r, _ = card.ParseResponse(resp); r.SW != card.SWOK || len(r.Data) != 8 {
			t.Fatalf("GET RESPONSE Le=08 answered % X, want 8 bytes and 9000", resp)
		}
		// Any other command drops pending response data.
		_, err = raw.Transmit(s.ctx, []byte{0x00, card.INSGetChallenge, 0x00, 0x00, 0x08})
		must(t, err, "raw GET CHALLENGE")
		must(t, s.check.Select(s.ctx), "SELECT CHECK01 between GET CHALLENGE and GET RESPONSE")
		resp, err = raw.Transmit(s.ctx, []byte{0x00, card.INSGetResponse, 0x00, 0x00, 0x08})
		must(t, err, "raw GET RESPONSE")
		if r, _ = card.ParseResponse(resp); len(r.Data) != 0 || r.SW == card.SWOK {
			t.Fatalf("GET RESPONSE after another command answered % X: the pending data survived", resp)
		}
	} else if r.SW != card.SWOK || len(r.Data) != 8 {
		t.Fatalf("GET CHALLENGE answered % X, want 61 08 or 8 bytes and 9000", resp)
	}
	// The Channel absorbs a 6Cxx: asking for more than the file holds gives
	// the whole file after one re-send.
	d, err := ch.ReadBinarySFI(s.ctx, card.SFI(card.CheckEFAuth), 0, 255)
	must(t, err, "READ BINARY with a too large Le")
	if len(d) != card.CheckAuthLen || d[0] != card.CardTypeCheck {
		t.Fatalf("check EF02 read with Le=255: % X", d)
	}
	// A 142-byte response arrives whole through the channel (checked in
	// DeclareAndCollect); here the user card's 220-byte record.
	_, err = s.user.ReadDeclarations(s.ctx)
	must(t, err, "read user EF04")
}

func testRegistration(t *testing.T, s *session) {
	info, err := s.fiscal.ReadAppInfo(s.ctx)
	must(t, err, "read fiscal EF02")
	if info.Registered {
		t.Fatal("fresh fiscal card already registered")
	}
	machines, err := s.user.ReadMachines(s.ctx)
	must(t, err, "read user EF06")
	found := false
	for _, m := range machines {
		found = found || (m.FiscalCard == info.CardNumber && m.Machine == info.MachineNumber)
	}
	if !found {
		t.Fatalf("user EF06 %+v does not list machine %s with fiscal card %s", machines, info.MachineNumber, info.CardNumber)
	}
	nb, err := s.fiscal.GetRegisterNB(s.ctx)
	must(t, err, "GET_REGISTER_NB")
	if nb.FiscalCard != info.CardNumber {
		t.Fatalf("GET_REGISTER_NB card number %s, EF02 says %s", nb.FiscalCard, info.CardNumber)
	}
	mac2, err := s.user.RegisterSign(s.ctx, nb)
	must(t, err, "REGISTER_SIGN")
	pin, err := s.fiscal.TerminalRegister(s.ctx, mac2)
	must(t, err, "TERMINAL_REGISTER")
	info, err = s.fiscal.ReadAppInfo(s.ctx)
	must(t, err, "read fiscal EF02")
	if !info.Registered {
		t.Fatal("fiscal EF02 not marked registered after TERMINAL_REGISTER")
	}
	_, err = s.fiscal.GetRegisterNB(s.ctx)
	wantErr(t, err, card.ErrAlreadyRegistered, "second GET_REGISTER_NB")
	_, err = s.fiscal.TerminalRegister(s.ctx, mac2)
	wantErr(t, err, card.ErrAlreadyRegistered, "second TERMINAL_REGISTER")
	s.verify(t, pin)
}

func testRegistrationErrors(t *testing.T, s *session) {
	_, err := s.fiscal.VerifyPIN(s.ctx, card.PIN{})
	wantErr(t, err, card.ErrNotRegistered, "VERIFY_FISCAL_PIN before registration")
	_, err = s.fiscal.IssueInvoice(s.ctx, fiscal.IssueInvoiceBlock{Date: fiscal.MustDate(2026, 1, 1), Type: fiscal.InvoiceVoid, Number: 1})
	wantErr(t, err, card.ErrNotRegistered, "ISSUE_INVOICE before registration")
	nb, err := s.fiscal.GetRegisterNB(s.ctx)
	must(t, err, "GET_REGISTER_NB")
	bad := nb
	bad.FiscalCard[7] ^= 0x01
	_, err = s.user.RegisterSign(s.ctx, bad)
	wantErr(t, err, card.ErrWrongFiscalCardNo, "REGISTER_SIGN for an unknown fiscal card")
	bad = nb
	bad.MAC1[0] ^= 0xFF
	_, err = s.user.RegisterSign(s.ctx, bad)
	wantErr(t, err, card.ErrMACInvalid, "REGISTER_SIGN with a bad MAC1")
	mac2, err := s.user.RegisterSign(s.ctx, nb)
	must(t, err, "REGISTER_SIGN")
	wrong := mac2
	wrong[3] ^= 0x55
	_, err = s.fiscal.TerminalRegister(s.ctx, wrong)
	wantErr(t, err, card.ErrMACInvalid, "TERMINAL_REGISTER with a bad MAC2")
	info, err := s.fiscal.ReadAppInfo(s.ctx)
	must(t, err, "read fiscal EF02")
	if info.Registered {
		t.Fatal("a bad MAC2 registered the card")
	}
	// A fresh random makes registration work again.
	s.register(t)
}

func testFiscalPINRolls(t *testing.T, s *session) {
	pin := s.register(t)
	next := s.verify(t, pin)
	if next == pin {
		t.Fatal("VERIFY_FISCAL_PIN returned the same PIN")
	}
	_, err := s.fiscal.VerifyPIN(s.ctx, pin)
	var pe *card.PINError
	if !errors.As(err, &pe) || pe.Retries != s.cards.PINRetries-1 || !errors.Is(err, card.ErrWrongPIN) {
		t.Fatalf("old PIN: %v, want *PINError with %d tries left", err, s.cards.PINRetries-1)
	}
	wantSW(t, err, card.SWRetriesLeft(s.cards.PINRetries-1), "old PIN")
	next2 := s.verify(t, next)
	// A good PIN restores the counter: one wrong try leaves the maximum-1 again.
	_, err = s.fiscal.VerifyPIN(s.ctx, next)
	if !errors.As(err, &pe) || pe.Retries != s.cards.PINRetries-1 {
		t.Fatalf("counter not reset by a good PIN: %v", err)
	}
	s.verify(t, next2)
}

func testFiscalPINBlocks(t *testing.T, s *session) {
	pin := s.register(t)
	wrong := pin
	wrong[0] ^= 0xFF
	for left := s.cards.PINRetries - 1; left > 0; left-- {
		_, err := s.fiscal.VerifyPIN(s.ctx, wrong)
		var pe *card.PINError
		if !errors.As(err, &pe) || pe.Retries != left {
			t.Fatalf("wrong PIN: %v, want %d tries left", err, left)
		}
	}
	_, err := s.fiscal.VerifyPIN(s.ctx, wrong)
	wantErr(t, err, card.ErrPINBlocked, "last wrong PIN")
	_, err = s.fiscal.VerifyPIN(s.ctx, pin)
	wantErr(t, err, card.ErrPINBlocked, "right PIN on a blocked card")
	var pe *card.PINError
	if !errors.As(err, &pe) || pe.Retries != 0 {
		t.Fatalf("blocked: %v, want *PINError with 0 tries", err)
	}
	_, err = s.fiscal.IssueInvoice(s.ctx, fiscal.IssueInvoiceBlock{Date: fiscal.MustDate(2026, 1, 1), Type: fiscal.InvoiceVoid, Number: 1})
	if !errors.Is(err, card.ErrPINBlocked) && !errors.Is(err, card.ErrSecurityStatus) {
		t.Fatalf("ISSUE_INVOICE on a blocked card: %v", err)
	}
}

func testNeedsPIN(t *testing.T, s *session) {
	s.register(t)
	_, err := s.fiscal.IssueInvoice(s.ctx, fiscal.IssueInvoiceBlock{Date: fiscal.MustDate(2026, 1, 1), Type: fiscal.InvoiceVoid, Number: 1})
	wantErr(t, err, card.ErrSecurityStatus, "ISSUE_INVOICE without VERIFY_FISCAL_PIN")
	_, err = s.fiscal.DailyCollectSign(s.ctx, fiscal.DailyRecord{Date: fiscal.MustDate(2026, 1, 1)})
	wantErr(t, err, card.ErrSecurityStatus, "DAILY_COLLECT_SIGN without VERIFY_FISCAL_PIN")
}

func testUpdateControls(t *testing.T, s *session) {
	s.verify(t, s.register(t))
	info, err := s.fiscal.ReadAppInfo(s.ctx)
	must(t, err, "read fiscal EF02")
	rec, err := s.user.ControlRecordFor(s.ctx, info.CardNumber)
	must(t, err, "user EF01")
	bad := rec
	bad.MAC2[0] ^= 1
	wantErr(t, s.fiscal.UpdateControls(s.ctx, bad), card.ErrMACInvalid, "UPDATE_CONTROLS with a bad MAC2")
	bad = rec
	bad.Cipher[5] ^= 1
	wantErr(t, s.fiscal.UpdateControls(s.ctx, bad), card.ErrMACInvalid, "UPDATE_CONTROLS with altered ciphertext")
	bad = rec
	bad.KeyID ^= 0x70
	wantErr(t, s.fiscal.UpdateControls(s.ctx, bad), card.ErrKeyVersion, "UPDATE_CONTROLS with an unknown key id")
	must(t, s.fiscal.UpdateControls(s.ctx, rec), "UPDATE_CONTROLS")
	c, err := s.fiscal.ReadControls(s.ctx)
	must(t, err, "read fiscal EF01")
	if !c.Deadline.Valid() || c.SingleLimit == 0 || c.Indexes.Count() == 0 {
		t.Fatalf("control data after UPDATE_CONTROLS: %+v", c)
	}
	if c.Deadline.Before(info.Start) {
		t.Fatalf("deadline %s before the application start %s: the suite cannot issue", c.Deadline, info.Start)
	}
}

func testRolls(t *testing.T, s *session) {
	s.verify(t, s.register(t))
	before, err := s.user.ReadPurchases(s.ctx)
	must(t, err, "read user EF05")
	if len(before) == 0 {
		t.Fatal("user EF05 holds no purchased rolls")
	}
	sr, err := s.user.DistributeInvoiceNB(s.ctx)
	must(t, err, "DISTRIBUTE_INVOICE_NB")
	if sr.Code != before[0].Code || sr.Start != before[0].Start {
		t.Fatalf("distributed %+v, EF05 first record %+v", sr.Roll, before[0])
	}
	pending, err := s.user.ReadPendingRoll(s.ctx)
	must(t, err, "read user EF07")
	if !pending.Pending || pending.Roll != sr {
		t.Fatalf("user EF07 %+v, want the distributed roll %+v", pending, sr)
	}
	bad := sr
	bad.MAC[1] ^= 1
	wantErr(t, s.fiscal.InputInvoiceNB(s.ctx, bad), card.ErrMACInvalid, "INPUT_INVOICE_NB with a bad MAC")
	bad = sr
	bad.End++
	wantErr(t, s.fiscal.InputInvoiceNB(s.ctx, bad), card.ErrMACInvalid, "INPUT_INVOICE_NB with an altered range")
	must(t, s.fiscal.InputInvoiceNB(s.ctx, sr), "INPUT_INVOICE_NB")
	lr, err := s.fiscal.ReadLoadedRoll(s.ctx)
	must(t, err, "read fiscal EF05")
	if !lr.Loaded || lr.Roll != sr.Roll {
		t.Fatalf("fiscal EF05 %+v, want %+v", lr, sr.Roll)
	}
	sr2, err := s.user.DistributeInvoiceNB(s.ctx)
	must(t, err, "second DISTRIBUTE_INVOICE_NB")
	wantErr(t, s.fiscal.InputInvoiceNB(s.ctx, sr2), card.ErrInvoiceStorageFull, "INPUT_INVOICE_NB while a roll is unused")
	// Empty the user card: 9401 is "no invoice to distribute".
	for i := 0; i < 1000; i++ {
		if _, err = s.user.DistributeInvoiceNB(s.ctx); err != nil {
			break
		}
	}
	wantErr(t, err, card.ErrNoInvoiceToDistribute, "DISTRIBUTE_INVOICE_NB on an empty user card")
	wantSW(t, err, card.SWLimitOrNoInvoice, "DISTRIBUTE_INVOICE_NB on an empty user card")
}

func testIssueInvoice(t *testing.T, s *session) {
	r := s.makeReady(t)
	no := r.roll.Start
	code, err := s.fiscal.IssueInvoice(s.ctx, r.invoice(no, 1234))
	must(t, err, "ISSUE_INVOICE")
	acc, err := s.fiscal.ReadDayAccumulation(s.ctx)
	must(t, err, "read fiscal EF03")
	if acc.PrevInvoice != no || acc.PrevFiscalCode != code {
		t.Fatalf("fiscal EF03 last invoice %d/%s, want %d/%s", acc.PrevInvoice, acc.PrevFiscalCode, no, code)
	}
	if acc.Date != r.date() || acc.NormalCount != 1 || acc.Normal.Sum() != 1234 {
		t.Fatalf("fiscal EF03 after one invoice: %+v", acc.DailyRecord)
	}
	// Return and void of the next numbers.
	ret := r.invoice(no+1, 234)
	ret.Type = fiscal.InvoiceReturn
	code2, err := s.fiscal.IssueInvoice(s.ctx, ret)
	must(t, err, "ISSUE_INVOICE return")
	void := fiscal.IssueInvoiceBlock{Date: r.date(), Type: fiscal.InvoiceVoid, Number: no + 2}
	code3, err := s.fiscal.IssueInvoice(s.ctx, void)
	must(t, err, "ISSUE_INVOICE void")
	if code2 == code || code3 == code2 {
		t.Fatal("different invoices got the same 税控码")
	}
	acc, err = s.fiscal.ReadDayAccumulation(s.ctx)
	must(t, err, "read fiscal EF03")
	if acc.NormalCount != 1 || acc.ReturnCount != 1 || acc.VoidCount != 1 || acc.Return.Sum() != 234 || acc.PrevInvoice != no+2 {
		t.Fatalf("fiscal EF03 after normal, return, void: %+v", acc)
	}
	// An invoice at exactly the single limit passes.
	_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(no+3, r.controls.SingleLimit))
	must(t, err, "ISSUE_INVOICE at the single limit")
}

func testIssueInvoiceErrors(t *testing.T, s *session) {
	r := s.makeReady(t)
	no := r.roll.Start
	_, err := s.fiscal.IssueInvoice(s.ctx, r.invoice(no, r.controls.SingleLimit+1))
	wantErr(t, err, card.ErrAmountOverLimit, "ISSUE_INVOICE over the single limit")
	wantSW(t, err, card.SWLimitOrNoInvoice, "ISSUE_INVOICE over the single limit")
	b := r.invoice(no, 100)
	b.Indexes[0] = 0xEE // not in the control data
	_, err = s.fiscal.IssueInvoice(s.ctx, b)
	wantErr(t, err, card.ErrIncorrectData, "ISSUE_INVOICE with an unknown tax index")
	b = r.invoice(r.roll.End+1, 100)
	_, err = s.fiscal.IssueInvoice(s.ctx, b)
	wantErr(t, err, card.ErrIncorrectData, "ISSUE_INVOICE with a number outside the roll")
	b = r.invoice(no, 100)
	b.Date = r.controls.Deadline.AddDays(1)
	_, err = s.fiscal.IssueInvoice(s.ctx, b)
	wantErr(t, err, card.ErrIncorrectData, "ISSUE_INVOICE after the deadline")
	// A wrong XOR byte, sent raw: 6A80.
	data, err := r.invoice(no, 100).MarshalBinary()
	must(t, err, "encode invoice")
	data[len(data)-1] ^= 0xFF
	_, err = s.fiscal.Channel().Do(s.ctx, card.Command{CLA: card.CLAProprietary, INS: card.INSIssueInvoice, Data: data, Ne: 8})
	wantErr(t, err, card.ErrIncorrectData, "ISSUE_INVOICE with a wrong XOR")
	// Nothing of the refused invoices was counted; the number is still free.
	acc, err := s.fiscal.ReadDayAccumulation(s.ctx)
	must(t, err, "read fiscal EF03")
	if acc.NormalCount != 0 || acc.PrevInvoice != 0 {
		t.Fatalf("refused invoices changed EF03: %+v", acc)
	}
	_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(no, 100))
	must(t, err, "ISSUE_INVOICE after refusals")
	_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(no, 100))
	wantErr(t, err, card.ErrIncorrectData, "ISSUE_INVOICE reusing a number")
	// Invalid blocks never reach the card.
	before := s.fiscalCount
	bad := r.invoice(no+1, 100)
	bad.Total = 99
	_, err = s.fiscal.IssueInvoice(s.ctx, bad)
	wantErr(t, err, card.ErrBadArgument, "ISSUE_INVOICE with a total that is not the sum")
	if s.fiscalCount != before {
		t.Fatal("an invalid invoice was sent to the card")
	}
}

func testExchangesPerInvoice(t *testing.T, s *session) {
	r := s.makeReady(t)
	pin := r.pin
	for i := uint32(0); i < 3; i++ {
		before := len(s.fiscalLog)
		var err error
		pin, err = s.fiscal.VerifyPIN(s.ctx, pin)
		must(t, err, "VERIFY_FISCAL_PIN")
		_, err = s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start+i, 100))
		must(t, err, "ISSUE_INVOICE")
		log := s.fiscalLog[before:]
		var ins []byte
		for _, e := range log {
			ins = append(ins, e.Command[1])
		}
		t0 := []byte{card.INSVerifyFiscalPIN, card.INSGetResponse, card.INSIssueInvoice, card.INSGetResponse}
		t1 := []byte{card.INSVerifyFiscalPIN, card.INSIssueInvoice}
		if !bytes.Equal(ins, t0) && !bytes.Equal(ins, t1) {
			t.Fatalf("invoice %d took exchanges with INS % X, want % X (T=0) or % X (T=1)", i, ins, t0, t1)
		}
	}
}

func testDailyCollectSign(t *testing.T, s *session) {
	r := s.makeReady(t)
	_, err := s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start, 500))
	must(t, err, "ISSUE_INVOICE")
	acc, err := s.fiscal.ReadDayAccumulation(s.ctx)
	must(t, err, "read fiscal EF03")
	sig, err := s.fiscal.DailyCollectSign(s.ctx, acc.DailyRecord)
	must(t, err, "DAILY_COLLECT_SIGN")
	if sig == ([fiscal.SignatureLen]byte{}) {
		t.Fatal("all-zero signature")
	}
	// The card signs only what it accumulated itself.
	other := acc.DailyRecord
	other.NormalCount++
	_, err = s.fiscal.DailyCollectSign(s.ctx, other)
	wantErr(t, err, card.ErrIncorrectData, "DAILY_COLLECT_SIGN with one invoice too many")
	other = acc.DailyRecord
	other.Normal[0]--
	_, err = s.fiscal.DailyCollectSign(s.ctx, other)
	wantErr(t, err, card.ErrIncorrectData, "DAILY_COLLECT_SIGN with a smaller amount")
	// The next day, before any invoice: only an empty record.
	next := r.date().AddDays(1)
	empty := fiscal.DailyRecord{Date: next, Indexes: r.controls.Indexes}
	sig2, err := s.fiscal.DailyCollectSign(s.ctx, empty)
	must(t, err, "DAILY_COLLECT_SIGN of an empty day")
	if sig2 == sig {
		t.Fatal("different records got the same signature")
	}
	made := empty
	made.NormalCount, made.Normal[0] = 1, 500
	_, err = s.fiscal.DailyCollectSign(s.ctx, made)
	wantErr(t, err, card.ErrIncorrectData, "DAILY_COLLECT_SIGN of sales the card did not code")
	// An invoice on the next day rolls EF03 over; the previous day can
	// still be closed (after midnight) with its own totals only.
	_, err = s.fiscal.IssueInvoice(s.ctx, fiscal.IssueInvoiceBlock{Date: next, Type: fiscal.InvoiceVoid, Number: r.roll.Start + 1})
	must(t, err, "ISSUE_INVOICE on the next day")
	_, err = s.fiscal.DailyCollectSign(s.ctx, acc.DailyRecord)
	must(t, err, "DAILY_COLLECT_SIGN of the rolled-over day")
	other = acc.DailyRecord
	other.Normal[0]++
	_, err = s.fiscal.DailyCollectSign(s.ctx, other)
	wantErr(t, err, card.ErrIncorrectData, "DAILY_COLLECT_SIGN of the rolled-over day with a wrong amount")
	// A wrong XOR byte, sent raw: 6A80.
	data, err := acc.DailyRecord.MarshalBinary()
	must(t, err, "encode daily record")
	data = append(data, fiscal.XOR(data)^0x01)
	_, err = s.fiscal.Channel().Do(s.ctx, card.Command{CLA: card.CLAProprietary, INS: card.INSDailyCollectSign, Data: data, Ne: card.DailySignResponseLen})
	wantErr(t, err, card.ErrIncorrectData, "DAILY_COLLECT_SIGN with a wrong XOR")
}

func testDeclareAndCollect(t *testing.T, s *session) {
	r := s.makeReady(t)
	_, err := s.fiscal.IssueInvoice(s.ctx, r.invoice(r.roll.Start, 700))
	must(t, err, "ISSUE_INVOICE")
	acc, err := s.fiscal.ReadDayAccumulation(s.ctx)
	must(t, err, "read fiscal EF03")
	decl := fiscal.Declaration{
		Start: r.info.Start, End: r.date(),
		NormalCount: int64(acc.NormalCount), ReturnCount: acc.ReturnCount, VoidCount: acc.VoidCount,
		Indexes: acc.Indexes, Normal: acc.Normal, Return: acc.Return,
	}
	bad := decl
	bad.End = r.controls.Deadline.AddDays(1)
	_, err = s.fiscal.DeclareDuty(s.ctx, bad)
	wantErr(t, err, card.ErrIncorrectData, "DECLARE_DUTY past the deadline")
	resp, err := s.fiscal.DeclareDuty(s.ctx, decl)
	must(t, err, "DECLARE_DUTY")
	if resp.TotalValid != 700 || resp.TotalReturn != 0 {
		t.Fatalf("DECLARE_DUTY card totals %s/%s, want 7.00/0.00", resp.TotalValid, resp.TotalReturn)
	}
	last, err := s.fiscal.ReadLastDeclaration(s.ctx)
	must(t, err, "read fiscal EF04")
	if last.Declaration != decl || last.MAC1 != resp.MAC1 || last.Status != resp.Status {
		t.Fatalf("fiscal EF04 %+v, want the declaration and MAC1 just made", last)
	}
	dc := card.DataCollect{FiscalCard: r.info.CardNumber, Declaration: decl, Response: resp}
	tampered := dc
	tampered.Response.MAC1[0] ^= 1
	wantErr(t, s.user.DataCollect(s.ctx, tampered), card.ErrMACInvalid, "DATA_COLLECT with a bad MAC1")
	must(t, s.user.DataCollect(s.ctx, dc), "DATA_COLLECT")
	wantErr(t, s.user.DataCollect(s.ctx, dc), card.ErrAlreadyCollected, "second DATA_COLLECT")
	recs, err := s.user.ReadDeclarations(s.ctx)
	must(t, err, "read user EF04")
	if len(recs) != 1 || !recs[0].Pending || recs[0].DataCollect.Declaration != decl || recs[0].DataCollect.Response != resp {
		t.Fatalf("user EF04 %+v", recs)
	}
	// A wrong XOR on DATA_COLLECT, sent raw: 6A80.
	data, err := dc.MarshalBinary()
	must(t, err, "encode DATA_COLLECT")
	data[len(data)-1] ^= 0x80
	_, err = s.user.Channel().Do(s.ctx, card.Command{CLA: card.CLAProprietary, INS: card.INSDataCollect, Data: data})
	wantErr(t, err, card.ErrIncorrectData, "DATA_COLLECT with a wrong XOR")
	// The next period must start the day after this one ended.
	next := decl
	next.Start, next.End = decl.End.AddDays(2), decl.End.AddDays(3)
	_, err = s.fiscal.DeclareDuty(s.ctx, next)
	wantErr(t, err, card.ErrIncorrectData, "DECLARE_DUTY leaving a gap")
}

func testUserFiles(t *testing.T, s *session) {
	info, err := s.user.ReadInfo(s.ctx)
	must(t, err, "read user EF02")
	if info.TaxpayerName == "" {
		t.Fatal("user EF02 has no taxpayer name")
	}
	items, err := s.user.ReadTaxItems(s.ctx)
	must(t, err, "read user EF03")
	if len(items) == 0 || items[0].Index == 0 {
		t.Fatalf("user EF03: %+v", items)
	}
	_, err = s.user.ReadControlRecords(s.ctx)
	must(t, err, "read user EF01")
	item := fiscal.TaxItem{Index: 6, Code: [4]byte{'0', '6', '0', '1'}, Rate: 300, NameCN: "零售", NameEN: "Retail"}
	wantErr(t, s.user.WriteTaxItem(s.ctx, 0, item), card.ErrSecurityStatus, "APPEND RECORD without VERIFY")
	var wrong card.PIN
	copy(wrong[:], "00000000")
	if wrong == s.cards.UserPIN {
		wrong[0] = '9'
	}
	err = s.user.Verify(s.ctx, wrong)
	var pe *card.PINError
	if !errors.As(err, &pe) || pe.Retries != s.cards.PINRetries-1 {
		t.Fatalf("wrong user PIN: %v", err)
	}
	verified, left, err := s.user.PINStatus(s.ctx)
	must(t, err, "VERIFY without data")
	if verified || left != s.cards.PINRetries-1 {
		t.Fatalf("PIN status after a wrong PIN: verified=%v, %d tries left, want %d", verified, left, s.cards.PINRetries-1)
	}
	must(t, s.user.Verify(s.ctx, s.cards.UserPIN), "VERIFY user PIN")
	if verified, _, err = s.user.PINStatus(s.ctx); err != nil || !verified {
		t.Fatalf("PIN status after the right PIN: %v %v", verified, err)
	}
	must(t, s.user.WriteTaxItem(s.ctx, 0, item), "APPEND RECORD EF03")
	items2, err := s.user.ReadTaxItems(s.ctx)
	must(t, err, "read user EF03")
	if len(items2) != len(items)+1 || items2[len(items)] != item {
		t.Fatalf("user EF03 after append: %+v", items2)
	}
	item.Rate = 600
	must(t, s.user.WriteTaxItem(s.ctx, len(items2), item), "UPDATE RECORD EF03")
	items2, err = s.user.ReadTaxItems(s.ctx)
	must(t, err, "read user EF03")
	if items2[len(items2)-1].Rate != 600 {
		t.Fatal("UPDATE RECORD did not change the record")
	}
	info.TaxpayerName = "新名称商店"
	must(t, s.user.WriteInfo(s.ctx, info), "UPDATE BINARY EF02")
	info2, err := s.user.ReadInfo(s.ctx)
	must(t, err, "read user EF02")
	if info2 != info {
		t.Fatalf("user EF02 after update %+v, want %+v", info2, info)
	}
	// Fill EF03 to its capacity: 6A84.
	for i := 0; i < 20 && err == nil; i++ {
		err = s.user.WriteTaxItem(s.ctx, 0, item)
	}
	wantErr(t, err, card.ErrNotEnoughSpace, "APPEND RECORD to a full file")
}

func testUserPINBlocks(t *testing.T, s *session) {
	var wrong card.PIN
	copy(wrong[:], "87654321")
	if wrong == s.cards.UserPIN {
		wrong[0] = '9'
	}
	var err error
	for i := 0; i < s.cards.PINRetries; i++ {
		err = s.user.Verify(s.ctx, wrong)
	}
	wantErr(t, err, card.ErrPINBlocked, "user PIN after all tries")
	wantErr(t, s.user.Verify(s.ctx, s.cards.UserPIN), card.ErrPINBlocked, "right user PIN when blocked")
	_, _, err = s.user.PINStatus(s.ctx)
	wantErr(t, err, card.ErrPINBlocked, "PIN status when blocked")
}

func testCheckCard(t *testing.T, s *session) {
	r := s.makeReady(t)
	ci, err := s.check.ReadInfo(s.ctx)
	must(t, err, "read check EF01")
	auth, err := s.check.ReadAuth(s.ctx)
	must(t, err, "read check EF02")
	if !auth.Valid.Valid() {
		t.Fatalf("check EF02 valid date %v", auth.Valid)
	}
	rec := card.InspectionRecord{Date: r.date(), TaxpayerNo: r.info.TaxpayerNo, Machine: r.info.MachineNumber, Type: card.CheckDailyData,
		Daily: fiscal.DailyRecord{Date: r.date()}}
	wantErr(t, s.check.AppendRecord(s.ctx, rec), card.ErrSecurityStatus, "APPEND RECORD to check EF03 before authentication")
	// A key id other than the one in EF01: 6A88; a wrong cryptogram counts down.
	_, err = s.check.GetChallenge(s.ctx)
	must(t, err, "GET CHALLENGE")
	err = s.check.ExternalAuthenticate(s.ctx, ci.KeyID^0x40, [8]byte{})
	wantErr(t, err, card.ErrRefDataNotFound, "EXTERNAL AUTHENTICATE with an unknown key id")
	err = s.check.ExternalAuthenticate(s.ctx, ci.KeyID, [8]byte{})
	var se *card.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("EXTERNAL AUTHENTICATE with a wrong cryptogram: %v", err)
	}
	if _, ok := se.SW.RetriesLeft(); !ok {
		t.Fatalf("EXTERNAL AUTHENTICATE with a wrong cryptogram: SW %s, want 63Cx", se.SW)
	}
	// EXTERNAL AUTHENTICATE without a fresh challenge is refused.
	err = s.check.ExternalAuthenticate(s.ctx, ci.KeyID, [8]byte{})
	if err == nil {
		t.Fatal("EXTERNAL AUTHENTICATE without a challenge succeeded")
	}
	must(t, s.check.AuthenticateFiscal(s.ctx, s.fiscal), "check ↔ fiscal authentication")
	must(t, s.check.AppendRecord(s.ctx, rec), "APPEND RECORD check EF03")
	recs, err := s.check.ReadRecords(s.ctx)
	must(t, err, "read check EF03")
	if len(recs) != 1 || recs[0].Type != card.CheckDailyData || recs[0].Daily != rec.Daily || recs[0].Machine != rec.Machine {
		t.Fatalf("check EF03 %+v", recs)
	}
	// PIN.
	var wrong card.PIN
	copy(wrong[:], "11112222")
	if wrong == s.cards.CheckPIN {
		wrong[0] = '9'
	}
	err = s.check.Verify(s.ctx, wrong)
	var pe *card.PINError
	if !errors.As(err, &pe) || pe.Retries != s.cards.PINRetries-1 {
		t.Fatalf("wrong check PIN: %v", err)
	}
	must(t, s.check.Verify(s.ctx, s.cards.CheckPIN), "VERIFY check PIN")
	ci.Type = card.CheckInvoiceDetails
	must(t, s.check.WriteInfo(s.ctx, ci), "UPDATE BINARY check EF01")
	ci2, err := s.check.ReadInfo(s.ctx)
	must(t, err, "read check EF01")
	if ci2 != ci {
		t.Fatalf("check EF01 %+v, want %+v", ci2, ci)
	}
}
