package emulator

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

func TestInitialiseAndIssue(t *testing.T) {
	for _, t1 := range []bool{false, true} {
		cs, pin := initSet(t, func(o *IssueOptions) { o.Options.T1 = t1 })
		f := cs.Fiscal
		if len(pin) != 8 {
			t.Fatalf("pin %x", pin)
		}
		// EF01 holds the control data the issuer encrypted for it.
		want, _ := cs.Options.Controls.MarshalBinary()
		if got := readBinary(t, f, 1, 23); !bytes.Equal(got, want) {
			t.Fatalf("EF01 % X, want % X", got, want)
		}
		// EF05: first roll of the batch 1..1000 in 2 rolls.
		ef05 := readBinary(t, f, 5, 19)
		if ef05[0] != 1 || string(ef05[1:11]) != "1440000000" || u32(ef05[11:]) != 1 || u32(ef05[15:]) != 500 {
			t.Fatalf("EF05 % X", ef05)
		}
		block := invoice(d(2026, time.November, 26), 1, 1, line{1, 12345})
		code, sw := do(t, f, prop(card.INSIssueInvoice, block, 8))
		wantSW(t, "ISSUE_INVOICE", sw, card.SWOK)
		var fc fiscal.FiscalCode
		copy(fc[:], code)
		v := cs.Verifier()
		if err := v.FiscalCode(cs.Options.FiscalCardNo, fiscal.FiscalCode{}, block, fc); err != nil {
			t.Fatal(err)
		}
		ef03 := readBinary(t, f, 3, 76)
		if !bytes.Equal(ef03[0:4], []byte{0x20, 0x26, 0x11, 0x26}) || u16(ef03[4:]) != 1 || ef03[10] != 1 ||
			u32(ef03[16:]) != 12345 || u32(ef03[64:]) != 1 || !bytes.Equal(ef03[68:76], code) {
			t.Fatalf("EF03 % X", ef03)
		}
		// The second code chains on the first.
		block2 := invoice(d(2026, time.November, 26), 1, 2, line{1, 12345})
		code2, sw := do(t, f, prop(card.INSIssueInvoice, block2, 8))
		wantSW(t, "ISSUE_INVOICE 2", sw, card.SWOK)
		var fc2 fiscal.FiscalCode
		copy(fc2[:], code2)
		if err := v.FiscalCode(cs.Options.FiscalCardNo, fc, block2, fc2); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(code, code2) {
			t.Fatal("same code for two invoices")
		}
	}
}

func TestT0GetResponse(t *testing.T) {
	cs := newSet(t, nil)
	f := cs.Fiscal
	selectApp(t, f)
	// GET_REGISTER_NB: 61 10, then GET RESPONSE.
	if got := raw(t, f, unhex(t, "C0F0000010")); !bytes.Equal(got, []byte{0x61, 0x10}) {
		t.Fatalf("GET_REGISTER_NB: % X", got)
	}
	if got := raw(t, f, unhex(t, "00C0000020")); !bytes.Equal(got, []byte{0x6C, 0x10}) {
		t.Fatalf("GET RESPONSE Le=20: % X, want 6C 10", got)
	}
	// A shorter Le gets part and 61 for the rest.
	got := raw(t, f, unhex(t, "00C0000004"))
	if len(got) != 6 || !bytes.Equal(got[4:], []byte{0x61, 0x0C}) {
		t.Fatalf("GET RESPONSE Le=04: % X", got)
	}
	got = raw(t, f, unhex(t, "00C000000C"))
	if len(got) != 14 || !bytes.Equal(got[12:], []byte{0x90, 0x00}) {
		t.Fatalf("GET RESPONSE Le=0C: % X", got)
	}
	// Card number in the middle of the response.
	if !bytes.Equal(got[0:8], cs.Options.FiscalCardNo[:]) {
		t.Fatalf("card no % X", got[0:8])
	}
	// Nothing pending any more.
	if got := raw(t, f, unhex(t, "00C0000010")); !bytes.Equal(got, []byte{0x69, 0x85}) {
		t.Fatalf("GET RESPONSE with nothing pending: % X", got)
	}
}

func TestT1Direct(t *testing.T) {
	cs := newSet(t, func(o *IssueOptions) { o.Options.T1 = true })
	f := cs.Fiscal
	selectApp(t, f)
	got := raw(t, f, unhex(t, "C0F0000010"))
	if len(got) != 18 || !bytes.Equal(got[16:], []byte{0x90, 0x00}) {
		t.Fatalf("T=1 GET_REGISTER_NB: % X", got)
	}
	// Le too short: 6C with the right length.
	if got := raw(t, f, unhex(t, "C0F0000008")); !bytes.Equal(got, []byte{0x6C, 0x10}) {
		t.Fatalf("T=1 short Le: % X", got)
	}
}

func TestRegistration(t *testing.T) {
	ctx := context.Background()
	cs := newSet(t, nil)
	f, u := cs.Fiscal, cs.User
	selectApp(t, f)
	selectApp(t, u)

	// Fiscal commands before registration: 6901.
	_, sw := do(t, f, prop(card.INSVerifyFiscalPIN, make([]byte, 8), 8))
	wantSW(t, "VERIFY before registration", sw, card.SWStatusInvalid)
	_, sw = do(t, f, prop(card.INSIssueInvoice, invoice(d(2026, 1, 2), 1, 1), 8))
	wantSW(t, "ISSUE before registration", sw, card.SWStatusInvalid)
	// TERMINAL_REGISTER without GET_REGISTER_NB: 6985.
	_, sw = do(t, f, prop(card.INSTerminalRegister, []byte{1, 2, 3, 4}, 8))
	wantSW(t, "TERMINAL_REGISTER first", sw, card.SWConditionsNotSatisfied)

	reg, sw := do(t, f, prop(card.INSGetRegisterNB, nil, 16))
	wantSW(t, "GET_REGISTER_NB", sw, card.SWOK)
	// REGISTER_SIGN with a bad MAC1: 9302; with an unknown card: 6A80; wrong length 6700.
	bad := bytes.Clone(reg)
	bad[15] ^= 1
	_, sw = do(t, u, prop(card.INSRegisterSign, bad, 4))
	wantSW(t, "REGISTER_SIGN bad MAC1", sw, card.SWMACError)
	bad = bytes.Clone(reg)
	bad[11] ^= 1
	_, sw = do(t, u, prop(card.INSRegisterSign, bad, 4))
	wantSW(t, "REGISTER_SIGN unknown card", sw, card.SWIncorrectData)
	_, sw = do(t, u, prop(card.INSRegisterSign, reg[:15], 4))
	wantSW(t, "REGISTER_SIGN short", sw, card.SWWrongLength)
	mac2, sw := do(t, u, prop(card.INSRegisterSign, reg, 4))
	wantSW(t, "REGISTER_SIGN", sw, card.SWOK)

	// A wrong MAC2 is refused (9302) and uses up the random.
	badMAC := bytes.Clone(mac2)
	badMAC[0] ^= 0xFF
	_, sw = do(t, f, prop(card.INSTerminalRegister, badMAC, 8))
	wantSW(t, "TERMINAL_REGISTER bad MAC2", sw, card.SWMACError)
	_, sw = do(t, f, prop(card.INSTerminalRegister, mac2, 8))
	wantSW(t, "TERMINAL_REGISTER after failure", sw, card.SWConditionsNotSatisfied)

	reg, _ = do(t, f, prop(card.INSGetRegisterNB, nil, 16))
	mac2, _ = do(t, u, prop(card.INSRegisterSign, reg, 4))
	pin, sw := do(t, f, prop(card.INSTerminalRegister, mac2, 8))
	wantSW(t, "TERMINAL_REGISTER", sw, card.SWOK)
	if len(pin) != 8 {
		t.Fatalf("pin % X", pin)
	}
	if readBinary(t, f, 2, 103)[1] != 0x00 {
		t.Fatal("EF02 registered flag not set")
	}
	// Already registered: 6901 for both.
	_, sw = do(t, f, prop(card.INSGetRegisterNB, nil, 16))
	wantSW(t, "GET_REGISTER_NB again", sw, card.SWStatusInvalid)
	_, sw = do(t, f, prop(card.INSTerminalRegister, mac2, 8))
	wantSW(t, "TERMINAL_REGISTER again", sw, card.SWStatusInvalid)

	// Locked application: 9303.
	f.LockApplication()
	_, sw = do(t, f, prop(card.INSGetRegisterNB, nil, 16))
	wantSW(t, "locked", sw, card.SWAppLocked)
	f.Unblock()
	_ = ctx
}

func TestRollingPIN(t *testing.T) {
	cs, pin := initSet(t, nil)
	f := cs.Fiscal
	f.Reset()
	selectApp(t, f)
	// A new power session: fiscal commands need VERIFY first.
	_, sw := do(t, f, prop(card.INSIssueInvoice, invoice(d(2026, 1, 2), 1, 1, line{1, 1}), 8))
	wantSW(t, "ISSUE without VERIFY", sw, card.SWSecurityStatus)
	_, sw = do(t, f, prop(card.INSDailyCollectSign, make([]byte, 65), 0x81))
	wantSW(t, "DAILY without VERIFY", sw, card.SWSecurityStatus)

	p2 := verifyPIN(t, f, pin)
	if bytes.Equal(p2, pin) {
		t.Fatal("PIN did not roll")
	}
	// The old PIN is now wrong: 63C2, 63C1, then 6983 (blocked).
	_, sw = do(t, f, prop(card.INSVerifyFiscalPIN, pin, 8))
	wantSW(t, "old PIN", sw, card.SWRetriesLeft(2))
	// A failed verify ends the verified state.
	_, sw = do(t, f, prop(card.INSIssueInvoice, invoice(d(2026, 1, 2), 1, 1, line{1, 1}), 8))
	wantSW(t, "ISSUE after failed VERIFY", sw, card.SWSecurityStatus)
	// A right PIN resets the counter.
	p3 := verifyPIN(t, f, p2)
	for i, want := range []card.SW{card.SWRetriesLeft(2), card.SWRetriesLeft(1), card.SWAuthBlocked, card.SWAuthBlocked} {
		_, sw = do(t, f, prop(card.INSVerifyFiscalPIN, pin, 8))
		wantSW(t, "wrong PIN try", sw, want)
		_ = i
	}
	// Blocked: even the right PIN gets 6983, and so do fiscal commands.
	_, sw = do(t, f, prop(card.INSVerifyFiscalPIN, p3, 8))
	wantSW(t, "right PIN when blocked", sw, card.SWAuthBlocked)
	_, sw = do(t, f, prop(card.INSVerifyFiscalPIN, p3[:7], 8))
	wantSW(t, "short PIN", sw, card.SWWrongLength)
	f.Unblock()
	verifyPIN(t, f, p3)
}

func TestRetryLimitOption(t *testing.T) {
	cs, pin := initSet(t, func(o *IssueOptions) { o.Options.PINRetries = 5 })
	_, sw := do(t, cs.Fiscal, prop(card.INSVerifyFiscalPIN, append(bytes.Clone(pin[:7]), pin[7]^1), 8))
	wantSW(t, "wrong PIN", sw, card.SWRetriesLeft(4))
}
