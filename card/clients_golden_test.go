package card

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

// TestClientAPDUsGolden pins the exact command bytes of every proprietary
// command and file access the clients send, under T=0 (61xx, GET RESPONSE).
func TestClientAPDUsGolden(t *testing.T) {
	ctx := context.Background()
	rep := strings.Repeat
	roll := testRoll(t)
	sig := rep("5A", 128)
	declResp := "0001E240" + "00000315" + "01" + "A1A2A3A4" + sig
	declRespXOR := hexString([]byte{fiscal.XOR(unhex(t, declResp))})
	sigXOR := hexString([]byte{fiscal.XOR(unhex(t, sig))})
	dc := DataCollect{FiscalCard: cardNo(t, "1100000000000001"), Declaration: sampleDeclaration()}
	dcBytes, err := dc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	inv := fiscal.IssueInvoiceBlock{Date: fiscal.MustDate(2026, 11, 26), Type: fiscal.InvoiceNormal, Number: 1001, Total: 10250}
	inv.Indexes[0], inv.Amounts[0] = 1, 10250
	invHex := "20261126" + "01" + "000003E9" + "01" + "0000280A" + rep("00", 25) + "0000280A"
	invHex += hexString([]byte{fiscal.XOR(unhex(t, invHex))})
	dailyXOR := hexString([]byte{fiscal.XOR(unhex(t, dailyHex))})
	declXOR := hexString([]byte{fiscal.XOR(unhex(t, declHex))})
	s := &scripted{t: t, steps: []step{
		// FiscalCard
		{"00A4040006" + "5453414D3031", "9000"},
		{"C0F0000010", "6110"}, {"00C0000010", "01020304 1100000000000001 05060708 9000"},
		{"C0F1000004 0A0B0C0D 08", "6108"}, {"00C0000008", "3132333435363738 9000"},
		{"C0F9000008 3132333435363738 08", "6108"}, {"00C0000008", "4142434445464748 9000"},
		{"C0F200002C" + invHex + "08", "6108"}, {"00C0000008", "0102030405060708 9000"},
		{"C0F4000047" + declHex + declXOR + "8E", "618E"}, {"00C000008E", declResp + declRespXOR + "9000"},
		{"C0F600001D 02" + rep("11", 24) + "B1B2B3B4", "9000"},
		{"C0F7000016" + rollHex + "D1D2D3D4", "9000"},
		{"C0FB000041" + dailyHex + dailyXOR + "81", "6181"}, {"00C0000081", sig + sigXOR + "9000"},
		{"00880001 08 0102030405060708 08", "6108"}, {"00C0000008", "A1A2A3A4A5A6A7A8 9000"},
		{"842401010C 3837363534333231 E1E2E3E4 08", "6108"}, {"00C0000008", "3837363534333231 9000"},
		{"00B0810017", "6117"}, {"00C0000017", "20271231 000F4240 05F5E100 00989680 010000000000 00 9000"},
		{"00B0850013", "6113"}, {"00C0000013", "01" + rollHex + "9000"},
		// UserCard
		{"00A4040005" + "5449443031", "9000"},
		{"0020000008 3132333435363738", "9000"},
		{"00200000", "63C2"},
		{"C0E4000010 01020304 1100000000000001 05060708 04", "6104"}, {"00C0000004", "0A0B0C0D 9000"},
		{"C0E60000DC" + hexString(dcBytes), "6901"},
		{"C0E9000016", "6116"}, {"00C0000016", rollHex + "D1D2D3D4 9000"},
		{"00B2010C25", "6125"}, {"00C0000025", "1100000000000001 02" + rep("11", 24) + "B1B2B3B4 9000"},
		{"00B2020C25", "6A83"},
		{"00B2011C2F", "6A83"},
		{"00E2002814" + rollHex + "0004", "9000"},
		{"00D6870016" + rep("00", 22), "9000"},
		// CheckCard
		{"00A4040007" + "434845434B3031", "9000"},
		{"00B081000A", "610A"}, {"00C000000A", "3300000000000003 02 01 9000"},
		{"0084000008", "6108"}, {"00C0000008", "0102030405060708 9000"},
		{"00880001 08 0102030405060708 08", "6108"}, {"00C0000008", "A1A2A3A4A5A6A7A8 9000"},
		{"0082000108 A1A2A3A4A5A6A7A8", "9000"},
	}}
	ch := NewChannel(s, nil)
	fc, uc, cc := NewFiscalCard(ch), NewUserCard(ch), NewCheckCard(ch)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fc.Select(ctx))
	nb, err := fc.GetRegisterNB(ctx)
	must(err)
	pin, err := fc.TerminalRegister(ctx, [4]byte{0x0A, 0x0B, 0x0C, 0x0D})
	must(err)
	next, err := fc.VerifyPIN(ctx, pin)
	must(err)
	if string(next[:]) != "ABCDEFGH" {
		t.Fatalf("next PIN %q", next[:])
	}
	code, err := fc.IssueInvoice(ctx, inv)
	must(err)
	if code != (fiscal.FiscalCode{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Fatal("fiscal code")
	}
	resp, err := fc.DeclareDuty(ctx, sampleDeclaration())
	must(err)
	if resp.TotalValid != 123456 || resp.Status != 1 {
		t.Fatalf("DECLARE_DUTY response %+v", resp)
	}
	var cipher [24]byte
	copy(cipher[:], bytes.Repeat([]byte{0x11}, 24))
	must(fc.UpdateControls(ctx, ControlRecord{KeyID: 2, Cipher: cipher, MAC2: [4]byte{0xB1, 0xB2, 0xB3, 0xB4}}))
	must(fc.InputInvoiceNB(ctx, fiscal.SignedRoll{Roll: roll, MAC: [4]byte{0xD1, 0xD2, 0xD3, 0xD4}}))
	_, err = fc.DailyCollectSign(ctx, sampleDaily())
	must(err)
	_, err = fc.InternalAuthenticate(ctx, 1, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	must(err)
	inForce, err := fc.UnblockPIN(ctx, PIN([]byte("87654321")), [4]byte{0xE1, 0xE2, 0xE3, 0xE4})
	must(err)
	if string(inForce[:]) != "87654321" {
		t.Fatalf("PIN after unblock %q", inForce[:])
	}
	ctl, err := fc.ReadControls(ctx)
	must(err)
	if ctl.SingleLimit != 1_000_000 || ctl.Indexes[0] != 1 {
		t.Fatalf("controls %+v", ctl)
	}
	lr, err := fc.ReadLoadedRoll(ctx)
	must(err)
	if !lr.Loaded || lr.Roll != roll {
		t.Fatalf("loaded roll %+v", lr)
	}

	must(uc.Select(ctx))
	must(uc.Verify(ctx, PIN([]byte("12345678"))))
	verified, left, err := uc.PINStatus(ctx)
	must(err)
	if verified || left != 2 {
		t.Fatalf("PIN status %v %d", verified, left)
	}
	mac2, err := uc.RegisterSign(ctx, nb)
	must(err)
	if mac2 != [4]byte{0x0A, 0x0B, 0x0C, 0x0D} {
		t.Fatal("MAC2")
	}
	if err := uc.DataCollect(ctx, dc); err == nil {
		t.Fatal("6901 on DATA_COLLECT was not an error")
	}
	sr, err := uc.DistributeInvoiceNB(ctx)
	must(err)
	if sr.Roll != roll {
		t.Fatal("distributed roll")
	}
	recs, err := uc.ReadControlRecords(ctx)
	must(err)
	if len(recs) != 1 || recs[0].KeyID != 2 {
		t.Fatalf("control records %+v", recs)
	}
	items, err := uc.ReadTaxItems(ctx)
	must(err)
	if len(items) != 0 {
		t.Fatal("tax items")
	}
	must(uc.WritePurchase(ctx, 0, PurchaseRecord{Roll: roll, Rolls: 4}))
	must(uc.WritePendingRoll(ctx, PendingRoll{}))

	must(cc.Select(ctx))
	must(cc.AuthenticateFiscal(ctx, fc))
	s.done()
}
