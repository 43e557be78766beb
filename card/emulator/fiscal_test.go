package emulator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

func issue(t *testing.T, f *Card, block []byte) ([]byte, card.SW) {
	t.Helper()
	return do(t, f, prop(card.INSIssueInvoice, block, 8))
}

func TestIssueInvoiceFailures(t *testing.T) {
	cs, _ := initSet(t, func(o *IssueOptions) {
		o.TaxItems = []fiscal.TaxItem{{Index: 1, NameCN: "餐饮"}, {Index: 7, NameCN: "零售"}}
		o.Controls.SingleLimit = 100_000
		o.Controls.Deadline = d(2026, time.December, 31)
	})
	f := cs.Fiscal
	nov26 := d(2026, time.November, 26)
	_, sw := issue(t, f, invoice(nov26, 1, 10, line{1, 500}, line{7, 700}))
	wantSW(t, "first invoice", sw, card.SWOK)
	ef03Before := readBinary(t, f, 3, 76)

	bad := func(name string, block []byte, want card.SW) {
		t.Helper()
		_, sw := issue(t, f, block)
		wantSW(t, name, sw, want)
		if got := readBinary(t, f, 3, 76); !bytes.Equal(got, ef03Before) {
			t.Fatalf("%s changed EF03", name)
		}
	}
	xorBad := invoice(nov26, 1, 11, line{1, 1})
	xorBad[43] ^= 1
	bad("bad XOR", xorBad, card.SWIncorrectData)
	bad("short block", invoice(nov26, 1, 11, line{1, 1})[:43], card.SWWrongLength)
	notBCD := invoice(nov26, 1, 11, line{1, 1})
	notBCD[3] = 0x3A
	bad("non-BCD date", fiscal.AppendXOR(notBCD[:43]), card.SWIncorrectData)
	feb30 := invoice(nov26, 1, 11, line{1, 1})
	copy(feb30, []byte{0x20, 0x26, 0x02, 0x30})
	bad("Feb 30", fiscal.AppendXOR(feb30[:43]), card.SWIncorrectData)
	bad("date before previous", invoice(d(2026, time.November, 25), 1, 11, line{1, 1}), card.SWIncorrectData)
	bad("date after deadline", invoice(d(2027, time.January, 1), 1, 11, line{1, 1}), card.SWIncorrectData)
	bad("type 04", invoice(nov26, 4, 11, line{1, 1}), card.SWIncorrectData)
	bad("number not increasing", invoice(nov26, 1, 10, line{1, 1}), card.SWIncorrectData)
	bad("number outside roll", invoice(nov26, 1, 501, line{1, 1}), card.SWIncorrectData)
	bad("unknown tax index", invoice(nov26, 1, 11, line{2, 1}), card.SWIncorrectData)
	bad("duplicate tax index", invoice(nov26, 1, 11, line{1, 1}, line{1, 2}), card.SWIncorrectData)
	bad("amount on empty slot", invoice(nov26, 1, 11, line{0, 1}), card.SWIncorrectData)
	sumBad := invoice(nov26, 1, 11, line{1, 5})
	binary.BigEndian.PutUint32(sumBad[39:], 6)
	bad("total not the sum", fiscal.AppendXOR(sumBad[:43]), card.SWIncorrectData)
	bad("void with an amount", invoice(nov26, 3, 11, line{1, 5}), card.SWIncorrectData)
	bad("over the single limit", invoice(nov26, 1, 11, line{1, 60_000}, line{7, 40_001}), card.SWLimitOrNoInvoice)
	bad("return over the single limit", invoice(nov26, 2, 11, line{1, 100_001}), card.SWLimitOrNoInvoice)

	// At the limit, a return and a void pass; EF03 counts them.
	for i, b := range [][]byte{
		invoice(nov26, 1, 11, line{1, 60_000}, line{7, 40_000}),
		invoice(nov26, 2, 12, line{7, 700}),
		invoice(nov26, 3, 15, line{1, 0}),
	} {
		_, sw := issue(t, f, b)
		wantSW(t, "good invoice", sw, card.SWOK)
		_ = i
	}
	ef03 := readBinary(t, f, 3, 76)
	var acc card.DayAccumulation
	if err := acc.UnmarshalBinary(ef03); err != nil {
		t.Fatal(err)
	}
	if acc.NormalCount != 2 || acc.ReturnCount != 1 || acc.VoidCount != 1 ||
		acc.Normal[0] != 60_500 || acc.Normal[1] != 40_700 || acc.Return[1] != 700 || acc.PrevInvoice != 15 {
		t.Fatalf("EF03 %+v", acc)
	}
	// A new day starts a new accumulation but keeps the chain.
	_, sw = issue(t, f, invoice(d(2026, time.November, 27), 1, 16, line{1, 1}))
	wantSW(t, "next day", sw, card.SWOK)
	if err := acc.UnmarshalBinary(readBinary(t, f, 3, 76)); err != nil {
		t.Fatal(err)
	}
	if acc.NormalCount != 1 || acc.Normal[0] != 1 || acc.PrevInvoice != 16 {
		t.Fatalf("EF03 next day %+v", acc)
	}
}

func TestIssueWithoutControls(t *testing.T) {
	cs := newSet(t, nil)
	ctxInit(t, cs) // registers without loading controls
	_, sw := issue(t, cs.Fiscal, invoice(d(2026, 3, 1), 1, 1, line{1, 1}))
	wantSW(t, "ISSUE without control data", sw, card.SWConditionsNotSatisfied)
}

// ctxInit registers the set and verifies the PIN, nothing else.
func ctxInit(t *testing.T, cs *CardSet) []byte {
	t.Helper()
	f, u := cs.Fiscal, cs.User
	selectApp(t, f)
	selectApp(t, u)
	reg, _ := do(t, f, prop(card.INSGetRegisterNB, nil, 16))
	mac2, _ := do(t, u, prop(card.INSRegisterSign, reg, 4))
	pin, sw := do(t, f, prop(card.INSTerminalRegister, mac2, 8))
	wantSW(t, "TERMINAL_REGISTER", sw, card.SWOK)
	return verifyPIN(t, f, pin)
}

func TestProprietaryNeedsSelect(t *testing.T) {
	cs := newSet(t, nil)
	_, sw := do(t, cs.Fiscal, prop(card.INSGetRegisterNB, nil, 16))
	wantSW(t, "no SELECT", sw, card.SWConditionsNotSatisfied)
	_, sw = do(t, cs.User, prop(card.INSDistributeInvoiceNB, nil, 22))
	wantSW(t, "no SELECT user", sw, card.SWConditionsNotSatisfied)
	selectApp(t, cs.Fiscal)
	_, sw = do(t, cs.Fiscal, prop(card.INSDistributeInvoiceNB, nil, 22))
	wantSW(t, "user INS on fiscal card", sw, card.SWInsNotSupported)
	_, sw = do(t, cs.Fiscal, card.Command{CLA: 0x80, INS: 0xF0})
	wantSW(t, "CLA 80", sw, card.SWClaNotSupported)
	_, sw = do(t, cs.Fiscal, card.Command{CLA: 0xC0, INS: 0xF0, P1: 1, Ne: 16})
	wantSW(t, "P1 01", sw, card.SWWrongP1P2)
}

func dailyRecord(t *testing.T, date fiscal.Date) []byte {
	t.Helper()
	b, err := fiscal.DailyRecord{Date: date, NormalCount: 1, Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{100}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDailyCollectSign(t *testing.T) {
	cs, _ := initSet(t, nil)
	f := cs.Fiscal
	_, sw := issue(t, f, invoice(d(2026, time.November, 26), 1, 1, line{1, 100}))
	wantSW(t, "invoice", sw, card.SWOK)
	rec := dailyRecord(t, d(2026, time.November, 26))
	resp, sw := do(t, f, prop(card.INSDailyCollectSign, fiscal.AppendXOR(bytes.Clone(rec)), 0x81))
	wantSW(t, "DAILY_COLLECT_SIGN", sw, card.SWOK)
	if len(resp) != 129 || !xorOK(resp) {
		t.Fatalf("response of %d bytes, XOR ok %v", len(resp), xorOK(resp))
	}
	if err := cs.Verifier().DailySignature(cs.Options.FiscalCardNo, rec, resp[:128]); err != nil {
		t.Fatal(err)
	}
	other := bytes.Clone(rec)
	other[5] ^= 1
	if err := cs.Verifier().DailySignature(cs.Options.FiscalCardNo, other, resp[:128]); err == nil {
		t.Fatal("signature verifies for another record")
	}
	bad := fiscal.AppendXOR(bytes.Clone(rec))
	bad[64] ^= 1
	_, sw = do(t, f, prop(card.INSDailyCollectSign, bad, 0x81))
	wantSW(t, "bad XOR", sw, card.SWIncorrectData)
	_, sw = do(t, f, prop(card.INSDailyCollectSign, rec, 0x81))
	wantSW(t, "no XOR", sw, card.SWWrongLength)
	_, sw = do(t, f, card.Command{CLA: 0xC0, INS: card.INSDailyCollectSign, P2: 1, Data: fiscal.AppendXOR(bytes.Clone(rec)), Ne: 0x81})
	wantSW(t, "P2 01", sw, card.SWWrongP1P2)
}

// signDaily sends DAILY_COLLECT_SIGN for r and returns the status word.
func signDaily(t *testing.T, f *Card, r fiscal.DailyRecord) card.SW {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	_, sw := do(t, f, prop(card.INSDailyCollectSign, fiscal.AppendXOR(b), 0x81))
	return sw
}

// TestDailyCollectSignChecksTotals: the card signs only what it
// accumulated itself, for EF03's day, for undeclared days that rolled
// over, and (empty) for days it coded nothing on.
func TestDailyCollectSignChecksTotals(t *testing.T) {
	cs, _ := initSet(t, func(o *IssueOptions) {
		o.TaxItems = []fiscal.TaxItem{{Index: 1, NameCN: "餐饮"}, {Index: 7, NameCN: "零售"}}
	})
	f := cs.Fiscal
	nov := func(day int) fiscal.Date { return d(2026, time.November, day) }
	for _, b := range [][]byte{
		invoice(nov(2), 1, 1, line{1, 1000}, line{7, 50}),
		invoice(nov(2), 2, 2, line{7, 30}),
		invoice(nov(2), 3, 3),
	} {
		_, sw := issue(t, f, b)
		wantSW(t, "invoice", sw, card.SWOK)
	}
	nov2 := fiscal.DailyRecord{Date: nov(2), NormalCount: 1, ReturnCount: 1, VoidCount: 1, Indexes: fiscal.TaxIndexes{1, 7},
		Normal: fiscal.TaxAmounts{1000, 50}, Return: fiscal.TaxAmounts{0, 30}}
	wantSW(t, "EF03's day", signDaily(t, f, nov2), card.SWOK)
	// Slot order and indexes without amounts do not matter.
	swapped := fiscal.DailyRecord{Date: nov(2), NormalCount: 1, ReturnCount: 1, VoidCount: 1, Indexes: fiscal.TaxIndexes{7, 3, 1},
		Normal: fiscal.TaxAmounts{50, 0, 1000}, Return: fiscal.TaxAmounts{30}}
	wantSW(t, "same totals, other slot order", signDaily(t, f, swapped), card.SWOK)
	for name, mod := range map[string]func(r *fiscal.DailyRecord){
		"normal count":      func(r *fiscal.DailyRecord) { r.NormalCount++ },
		"return count":      func(r *fiscal.DailyRecord) { r.ReturnCount = 0 },
		"void count":        func(r *fiscal.DailyRecord) { r.VoidCount = 2 },
		"normal amount":     func(r *fiscal.DailyRecord) { r.Normal[0]-- },
		"return amount":     func(r *fiscal.DailyRecord) { r.Return[1]++ },
		"amount moved":      func(r *fiscal.DailyRecord) { r.Normal[0], r.Normal[1] = r.Normal[1], r.Normal[0] },
		"other index":       func(r *fiscal.DailyRecord) { r.Indexes[1] = 8 },
		"extra index":       func(r *fiscal.DailyRecord) { r.Indexes[2], r.Normal[2] = 9, 1 },
		"index twice":       func(r *fiscal.DailyRecord) { r.Indexes[2], r.Normal[2], r.Normal[0] = 1, 500, 500 },
		"amount at index 0": func(r *fiscal.DailyRecord) { r.Normal[3] = 1 },
	} {
		r := nov2
		mod(&r)
		wantSW(t, name, signDaily(t, f, r), card.SWIncorrectData)
	}
	// Nov 3 had nothing yet: only an empty record signs.
	wantSW(t, "empty day after EF03", signDaily(t, f, fiscal.DailyRecord{Date: nov(3), Indexes: fiscal.TaxIndexes{1, 7}}), card.SWOK)
	wantSW(t, "made-up sales", signDaily(t, f, fiscal.DailyRecord{Date: nov(3), NormalCount: 1, Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{5}}), card.SWIncorrectData)

	// Nov 5 starts; Nov 2 rolled over and is still signed (a close after
	// midnight), Nov 3 and 4 were empty.
	_, sw := issue(t, f, invoice(nov(5), 1, 4, line{7, 70}))
	wantSW(t, "next day", sw, card.SWOK)
	wantSW(t, "rolled-over day", signDaily(t, f, nov2), card.SWOK)
	r := nov2
	r.Normal[0]++
	wantSW(t, "rolled-over day, wrong amount", signDaily(t, f, r), card.SWIncorrectData)
	wantSW(t, "empty day between", signDaily(t, f, fiscal.DailyRecord{Date: nov(4)}), card.SWOK)
	wantSW(t, "void-only claim on an empty day", signDaily(t, f, fiscal.DailyRecord{Date: nov(4), VoidCount: 1}), card.SWIncorrectData)
	nov5 := fiscal.DailyRecord{Date: nov(5), NormalCount: 1, Indexes: fiscal.TaxIndexes{1, 7}, Normal: fiscal.TaxAmounts{0, 70}}
	wantSW(t, "EF03's new day", signDaily(t, f, nov5), card.SWOK)

	// The kept accumulation survives save and load.
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Load(b, cs.Options.Options)
	if err != nil {
		t.Fatal(err)
	}
	g.Reset()
	selectApp(t, g)
	_ = verifyPIN(t, g, g.st.PIN)
	wantSW(t, "rolled-over day after reload", signDaily(t, g, nov2), card.SWOK)
	wantSW(t, "wrong rolled-over day after reload", signDaily(t, g, r), card.SWIncorrectData)

	// Declared through Nov 4: Nov 2 is forgotten, EF03's day is still known.
	decl, err := fiscal.Declaration{Start: cs.Options.AppStart, End: nov(4), NormalCount: 1, ReturnCount: 1, VoidCount: 1,
		Indexes: fiscal.TaxIndexes{1, 7}, Normal: fiscal.TaxAmounts{1000, 50}, Return: fiscal.TaxAmounts{0, 30}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	resp, sw := do(t, f, prop(card.INSDeclareDuty, fiscal.AppendXOR(decl), 0x8E))
	wantSW(t, "DECLARE_DUTY", sw, card.SWOK)
	if resp[8] != 0 {
		t.Fatalf("declaration status %02X, want 00", resp[8])
	}
	wantSW(t, "declared day", signDaily(t, f, nov2), card.SWIncorrectData)
	wantSW(t, "declared empty day", signDaily(t, f, fiscal.DailyRecord{Date: nov(3)}), card.SWIncorrectData)
	wantSW(t, "EF03's day after the declaration", signDaily(t, f, nov5), card.SWOK)
}

func declaration(t *testing.T, start, end fiscal.Date, normal, ret fiscal.Amount) []byte {
	t.Helper()
	b, err := fiscal.Declaration{Start: start, End: end, NormalCount: 1, Indexes: fiscal.TaxIndexes{1},
		Normal: fiscal.TaxAmounts{normal}, Return: fiscal.TaxAmounts{ret}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeclareAndCollect(t *testing.T) {
	cs, _ := initSet(t, nil)
	f, u := cs.Fiscal, cs.User
	nov := func(day int) fiscal.Date { return d(2026, time.November, day) }
	_, sw := issue(t, f, invoice(nov(2), 1, 1, line{1, 1000}))
	wantSW(t, "invoice", sw, card.SWOK)
	_, sw = issue(t, f, invoice(nov(3), 2, 2, line{1, 300}))
	wantSW(t, "return", sw, card.SWOK)
	_, sw = issue(t, f, invoice(nov(20), 1, 3, line{1, 5000})) // after the period
	wantSW(t, "later invoice", sw, card.SWOK)

	decl := declaration(t, cs.Options.AppStart, nov(10), 1000, 300)
	resp, sw := do(t, f, prop(card.INSDeclareDuty, fiscal.AppendXOR(bytes.Clone(decl)), 0x8E))
	wantSW(t, "DECLARE_DUTY", sw, card.SWOK)
	if len(resp) != 142 {
		t.Fatalf("response of %d bytes", len(resp))
	}
	if u32(resp[0:]) != 1000 || u32(resp[4:]) != 300 || resp[8] != 0x00 {
		t.Fatalf("totals %d %d status %02X", u32(resp[0:]), u32(resp[4:]), resp[8])
	}
	if err := cs.Verifier().Declaration(cs.Options.FiscalCardNo, decl, resp); err != nil {
		t.Fatal(err)
	}
	ef04 := readBinary(t, f, 4, 75)
	if !bytes.Equal(ef04[:70], decl) || ef04[70] != 0 || !bytes.Equal(ef04[71:], resp[9:13]) {
		t.Fatalf("EF04 % X", ef04)
	}
	_, sw = issue(t, f, invoice(nov(20), 1, 4, line{1, 1}))
	wantSW(t, "invoice after the period end", sw, card.SWOK)
	// The next declaration must start the day after; its totals include Nov 20.
	_, sw = do(t, f, prop(card.INSDeclareDuty, fiscal.AppendXOR(declaration(t, nov(12), nov(25), 5001, 0)), 0x8E))
	wantSW(t, "gap in periods", sw, card.SWIncorrectData)
	_, sw = do(t, f, prop(card.INSDeclareDuty, fiscal.AppendXOR(declaration(t, nov(25), nov(24), 0, 0)), 0x8E))
	wantSW(t, "start after end", sw, card.SWIncorrectData)
	_, sw = do(t, f, prop(card.INSDeclareDuty, fiscal.AppendXOR(declaration(t, nov(11), d(2028, 1, 1), 0, 0)), 0x8E))
	wantSW(t, "end after deadline", sw, card.SWIncorrectData)
	xb := fiscal.AppendXOR(declaration(t, nov(11), nov(25), 0, 0))
	xb[70] ^= 0x55
	_, sw = do(t, f, prop(card.INSDeclareDuty, xb, 0x8E))
	wantSW(t, "bad XOR", sw, card.SWIncorrectData)
	_, sw = do(t, f, prop(card.INSDeclareDuty, xb[:70], 0x8E))
	wantSW(t, "no XOR", sw, card.SWWrongLength)

	// Totals that differ from the card's: status 01.
	resp2, sw := do(t, f, prop(card.INSDeclareDuty, fiscal.AppendXOR(declaration(t, nov(11), nov(25), 4000, 0)), 0x8E))
	wantSW(t, "second declaration", sw, card.SWOK)
	if u32(resp2[0:]) != 5001 || resp2[8] != 0x01 {
		t.Fatalf("second totals %d status %02X", u32(resp2[0:]), resp2[8])
	}

	// DATA_COLLECT to the user card.
	dc := cat(cs.Options.FiscalCardNo[:], decl, resp[:141])
	dc = fiscal.AppendXOR(dc)
	_, sw = do(t, u, prop(card.INSDataCollect, dc, 0))
	wantSW(t, "DATA_COLLECT", sw, card.SWOK)
	rec, sw := do(t, u, card.Command{CLA: 0, INS: card.INSReadRecord, P1: 1, P2: 4<<3 | 4, Ne: 220})
	wantSW(t, "READ RECORD EF04", sw, card.SWOK)
	var dr card.DeclarationRecord
	if err := dr.UnmarshalBinary(rec); err != nil {
		t.Fatal(err)
	}
	if !dr.Pending || !bytes.Equal(rec[1:], dc[:219]) {
		t.Fatalf("EF04 record %+v", dr)
	}
	// A second one while the first is pending: 6901.
	dc2 := fiscal.AppendXOR(cat(cs.Options.FiscalCardNo[:], declaration(t, nov(11), nov(25), 4000, 0), resp2[:141]))
	_, sw = do(t, u, prop(card.INSDataCollect, dc2, 0))
	wantSW(t, "DATA_COLLECT while pending", sw, card.SWStatusInvalid)
	// A forged MAC1: 9302; a forged signature: 9302; bad XOR 6A80; unknown card 6A80.
	forged := bytes.Clone(dc2)
	forged[8+70+9] ^= 1
	_, sw = do(t, u, prop(card.INSDataCollect, fiscal.AppendXOR(forged[:219]), 0))
	wantSW(t, "forged MAC1", sw, card.SWMACError)
	forged = bytes.Clone(dc2)
	forged[200] ^= 1
	_, sw = do(t, u, prop(card.INSDataCollect, fiscal.AppendXOR(forged[:219]), 0))
	wantSW(t, "forged signature", sw, card.SWMACError)
	forged = bytes.Clone(dc2)
	forged[219] ^= 1
	_, sw = do(t, u, prop(card.INSDataCollect, forged, 0))
	wantSW(t, "bad XOR", sw, card.SWIncorrectData)
	forged = bytes.Clone(dc2)
	forged[0] ^= 1
	_, sw = do(t, u, prop(card.INSDataCollect, fiscal.AppendXOR(forged[:219]), 0))
	wantSW(t, "unknown fiscal card", sw, card.SWIncorrectData)
	_, sw = do(t, u, prop(card.INSDataCollect, dc2[:200], 0))
	wantSW(t, "short", sw, card.SWWrongLength)

	// The tax office processes it; then the next one is accepted.
	next := cs.Options.Controls
	next.Deadline = d(2028, time.June, 30)
	n, err := cs.ProcessDeclarations(next)
	if err != nil || n != 1 {
		t.Fatalf("ProcessDeclarations: %d, %v", n, err)
	}
	_, sw = do(t, u, prop(card.INSDataCollect, dc2, 0))
	wantSW(t, "DATA_COLLECT after processing", sw, card.SWOK)

	// UPDATE_CONTROLS with the new record.
	crec, sw := do(t, u, card.Command{CLA: 0, INS: card.INSReadRecord, P1: 1, P2: 1<<3 | 4, Ne: 37})
	wantSW(t, "READ RECORD EF01", sw, card.SWOK)
	_, sw = do(t, f, prop(card.INSUpdateControls, crec[8:], 0))
	wantSW(t, "UPDATE_CONTROLS", sw, card.SWOK)
	var cd fiscal.ControlData
	if err := cd.UnmarshalBinary(readBinary(t, f, 1, 23)); err != nil || cd != next {
		t.Fatalf("EF01 %+v, %v", cd, err)
	}
}

func TestUpdateControlsFailures(t *testing.T) {
	cs, _ := initSet(t, nil)
	f, u := cs.Fiscal, cs.User
	crec, _ := do(t, u, card.Command{CLA: 0, INS: card.INSReadRecord, P1: 1, P2: 1<<3 | 4, Ne: 37})
	data := bytes.Clone(crec[8:])
	before := readBinary(t, f, 1, 23)
	check := func(name string, b []byte, want card.SW) {
		t.Helper()
		_, sw := do(t, f, prop(card.INSUpdateControls, b, 0))
		wantSW(t, name, sw, want)
		if !bytes.Equal(readBinary(t, f, 1, 23), before) {
			t.Fatalf("%s changed EF01", name)
		}
	}
	badMAC := bytes.Clone(data)
	badMAC[28] ^= 1
	check("bad MAC2", badMAC, card.SWMACError)
	badCT := bytes.Clone(data)
	badCT[5] ^= 1
	check("tampered ciphertext", badCT, card.SWMACError)
	unknown := bytes.Clone(data)
	unknown[0] = 9
	check("unknown key version", unknown, card.SWKeyVersion)
	check("short", data[:28], card.SWWrongLength)
	// A valid MAC over a ciphertext that does not decrypt: 6A80.
	p := testProfile()
	junk := make([]byte, 24)
	mac, _ := p.ControlsMAC(cs.Options.FiscalCardNo[:], 1, junk)
	check("garbage plain text", cat([]byte{1}, junk, mac), card.SWIncorrectData)
	// Key 2 also works (another key version the card holds).
	plain, _ := cs.Options.Controls.MarshalBinary()
	ct, _ := p.EncryptControls(cs.Options.FiscalCardNo[:], 2, plain)
	mac, _ = p.ControlsMAC(cs.Options.FiscalCardNo[:], 2, ct)
	_, sw := do(t, f, prop(card.INSUpdateControls, cat([]byte{2}, ct, mac), 0))
	wantSW(t, "key 2", sw, card.SWOK)
	f.Reset()
	selectApp(t, f)
	_, sw = do(t, f, prop(card.INSUpdateControls, data, 0))
	wantSW(t, "without PIN", sw, card.SWSecurityStatus)
}

// TestUpdateControlsReplay: a control record older than the one applied is
// refused with 6985; the record in force may be sent again.
func TestUpdateControlsReplay(t *testing.T) {
	cs, _ := initSet(t, nil) // Initialise applied the issued record (counter 1)
	f, u := cs.Fiscal, cs.User
	userRec := func() []byte {
		t.Helper()
		r, sw := do(t, u, card.Command{CLA: 0, INS: card.INSReadRecord, P1: 1, P2: 1<<3 | 4, Ne: 37})
		wantSW(t, "READ RECORD EF01", sw, card.SWOK)
		return r[8:]
	}
	ef01 := func() []byte { return readBinary(t, f, 1, 23) }
	update := func(b []byte) card.SW {
		t.Helper()
		_, sw := do(t, f, prop(card.INSUpdateControls, b, 0))
		return sw
	}
	rec1 := userRec()
	if f.st.ControlsCounter != 1 {
		t.Fatalf("counter after the first update %d, want 1", f.st.ControlsCounter)
	}
	wantSW(t, "the record in force again", update(rec1), card.SWOK)

	next := cs.Options.Controls
	next.SingleLimit = 5_000
	next.Deadline = d(2028, time.June, 30)
	if _, err := cs.ProcessDeclarations(next); err != nil {
		t.Fatal(err)
	}
	rec2 := userRec()
	wantSW(t, "newer record", update(rec2), card.SWOK)
	after2 := ef01()
	var cd fiscal.ControlData
	if err := cd.UnmarshalBinary(after2); err != nil || cd != next {
		t.Fatalf("EF01 %+v %v", cd, err)
	}
	wantSW(t, "replay of the older record", update(rec1), card.SWConditionsNotSatisfied)
	if !bytes.Equal(ef01(), after2) || f.st.ControlsCounter != 2 {
		t.Fatalf("a refused replay changed EF01 or the counter (%d)", f.st.ControlsCounter)
	}
	wantSW(t, "record in force sent again", update(rec2), card.SWOK)

	// The same counter with other content, and counter 0: refused.
	p := testProfile()
	no := cs.Options.FiscalCardNo
	plain, _ := cs.Options.Controls.MarshalBinary()
	forge := func(counter byte) []byte {
		b, err := controlRecord(p, no, 1, plain, counter)
		if err != nil {
			t.Fatal(err)
		}
		return b[8:]
	}
	wantSW(t, "same counter, other data", update(forge(2)), card.SWConditionsNotSatisfied)
	wantSW(t, "counter 0", update(forge(0)), card.SWConditionsNotSatisfied)
	wantSW(t, "a later counter", update(forge(9)), card.SWOK)

	// The counter is kept across save and load, and the tax office's next
	// record continues from the card's counter.
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Load(b, cs.Options.Options)
	if err != nil {
		t.Fatal(err)
	}
	selectApp(t, g)
	verifyPIN(t, g, g.st.PIN)
	if _, sw := do(t, g, prop(card.INSUpdateControls, forge(8), 0)); sw != card.SWConditionsNotSatisfied {
		t.Fatalf("counter 8 after 9 on the reloaded card: SW %v", sw)
	}
	if _, err := cs.ProcessDeclarations(next); err != nil {
		t.Fatal(err)
	}
	wantSW(t, "tax office's record after a counter jump", update(userRec()), card.SWOK)
	if f.st.ControlsCounter != 10 {
		t.Fatalf("counter %d, want 10", f.st.ControlsCounter)
	}
	// 255 is the last counter; the issuer then refuses.
	wantSW(t, "counter 255", update(forge(255)), card.SWOK)
	if _, err := cs.ProcessDeclarations(next); !errors.Is(err, ErrIssue) {
		t.Fatalf("ProcessDeclarations after counter 255: %v", err)
	}
}

func TestInvoiceRolls(t *testing.T) {
	cs, pin := initSet(t, func(o *IssueOptions) {
		o.Rolls = []PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 3, Rolls: 2}}
	})
	f, u := cs.Fiscal, cs.User
	// Initialise loaded roll 1..1 (3 numbers in 2 rolls: 1..1 and 2..3).
	ef05 := readBinary(t, f, 5, 19)
	if u32(ef05[11:]) != 1 || u32(ef05[15:]) != 1 {
		t.Fatalf("EF05 % X", ef05)
	}
	roll2, sw := do(t, u, prop(card.INSDistributeInvoiceNB, nil, 22))
	wantSW(t, "DISTRIBUTE 2", sw, card.SWOK)
	if u32(roll2[10:]) != 2 || u32(roll2[14:]) != 3 {
		t.Fatalf("roll 2 % X", roll2)
	}
	if err := cs.Verifier().Roll(cs.Options.TaxpayerNo, roll2); err != nil {
		t.Fatal(err)
	}
	if ef07 := readBinary(t, u, 7, 22); !bytes.Equal(ef07, roll2) {
		t.Fatalf("EF07 % X", ef07)
	}
	_, sw = do(t, u, prop(card.INSDistributeInvoiceNB, nil, 22))
	wantSW(t, "nothing left", sw, card.SWLimitOrNoInvoice)

	// Loading while the current roll still has invoices: 6985.
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, roll2, 0))
	wantSW(t, "roll not used up", sw, card.SWConditionsNotSatisfied)
	bad := bytes.Clone(roll2)
	bad[21] ^= 1
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, bad, 0))
	wantSW(t, "bad roll MAC", sw, card.SWMACError)
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, roll2[:21], 0))
	wantSW(t, "short", sw, card.SWWrongLength)
	_, sw = issue(t, f, invoice(d(2026, 5, 1), 1, 1, line{1, 1}))
	wantSW(t, "last invoice of roll 1", sw, card.SWOK)
	_, sw = issue(t, f, invoice(d(2026, 5, 1), 1, 2, line{1, 1}))
	wantSW(t, "number of the next roll", sw, card.SWIncorrectData)
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, roll2, 0))
	wantSW(t, "INPUT_INVOICE_NB", sw, card.SWOK)
	_, sw = issue(t, f, invoice(d(2026, 5, 1), 1, 2, line{1, 1}))
	wantSW(t, "first of roll 2", sw, card.SWOK)
	_, sw = issue(t, f, invoice(d(2026, 5, 1), 1, 3, line{1, 1}))
	wantSW(t, "last of roll 2", sw, card.SWOK)
	// A used roll cannot be loaded again, even with a valid MAC.
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, roll2, 0))
	wantSW(t, "roll loaded twice", sw, card.SWIncorrectData)
	// A roll whose MAC is valid but whose range is reversed: 6A80.
	rev := cat([]byte("1440000000"), []byte{0, 0, 0, 9, 0, 0, 0, 8})
	mac, _ := testProfile().RollMAC(cs.Options.TaxpayerNo[:], rev)
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, cat(rev, mac), 0))
	wantSW(t, "reversed range", sw, card.SWIncorrectData)
	fresh := cat([]byte("1440000001"), []byte{0, 0, 0, 1, 0, 0, 0, 8})
	mac, _ = testProfile().RollMAC(cs.Options.TaxpayerNo[:], fresh)
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, cat(fresh, mac), 0))
	wantSW(t, "roll with another code", sw, card.SWOK)

	// Without VERIFY in a new session: 6982.
	f.Reset()
	selectApp(t, f)
	_, sw = do(t, f, prop(card.INSInputInvoiceNB, roll2, 0))
	wantSW(t, "no PIN", sw, card.SWSecurityStatus)
	_ = pin
}

func TestNoInvoiceInsideDeclaredPeriod(t *testing.T) {
	cs, _ := initSet(t, nil)
	f := cs.Fiscal
	_, sw := issue(t, f, invoice(d(2026, 11, 2), 1, 1, line{1, 10}))
	wantSW(t, "invoice", sw, card.SWOK)
	_, sw = do(t, f, prop(card.INSDeclareDuty, fiscal.AppendXOR(declaration(t, d(2026, 1, 1), d(2026, 11, 5), 10, 0)), 0x8E))
	wantSW(t, "declare", sw, card.SWOK)
	_, sw = issue(t, f, invoice(d(2026, 11, 5), 1, 2, line{1, 10}))
	wantSW(t, "invoice on the last declared day", sw, card.SWIncorrectData)
	_, sw = issue(t, f, invoice(d(2026, 11, 6), 1, 2, line{1, 10}))
	wantSW(t, "invoice the day after", sw, card.SWOK)
	// A first declaration may not start before the application start date.
	cs2, _ := initSet(t, nil)
	_, sw = do(t, cs2.Fiscal, prop(card.INSDeclareDuty, fiscal.AppendXOR(declaration(t, d(2025, 12, 31), d(2026, 11, 5), 0, 0)), 0x8E))
	wantSW(t, "start before application start", sw, card.SWIncorrectData)
}

// noUnblock hides TestProfile's UnblockMAC.
type noUnblock struct{ Profile }

func TestPINUnblock(t *testing.T) {
	cs, pin := initSet(t, nil)
	f := cs.Fiscal
	newPIN := [8]byte([]byte("NEWPIN01"))
	mac, err := cs.UnblockMAC(newPIN)
	if err != nil {
		t.Fatal(err)
	}
	unblock := func(p1p2 uint16, data []byte) ([]byte, card.SW) {
		t.Helper()
		return do(t, f, card.Command{CLA: card.CLAUnblock, INS: card.INSUnblockPIN, P1: byte(p1p2 >> 8), P2: byte(p1p2), Data: data, Ne: 8})
	}
	good := cat(newPIN[:], mac[:])
	// Block the fiscal PIN.
	wrong := bytes.Clone(pin)
	wrong[0] ^= 0xFF
	for range 3 {
		do(t, f, prop(card.INSVerifyFiscalPIN, wrong, 8))
	}
	_, sw := do(t, f, prop(card.INSVerifyFiscalPIN, pin, 8))
	wantSW(t, "blocked", sw, card.SWAuthBlocked)

	badMAC := bytes.Clone(good)
	badMAC[9] ^= 1
	_, sw = unblock(0x0101, badMAC)
	wantSW(t, "bad MAC", sw, card.SWMACError)
	otherPIN := bytes.Clone(good)
	otherPIN[0] ^= 1
	_, sw = unblock(0x0101, otherPIN)
	wantSW(t, "PIN not the one MACed", sw, card.SWMACError)
	_, sw = unblock(0x0001, good)
	wantSW(t, "P1 00", sw, card.SWWrongP1P2)
	_, sw = unblock(0x0101, good[:11])
	wantSW(t, "11 bytes", sw, card.SWWrongLength)
	_, sw = do(t, f, prop(card.INSVerifyFiscalPIN, pin, 8))
	wantSW(t, "still blocked after refusals", sw, card.SWAuthBlocked)

	f.LockApplication()
	resp, sw := unblock(0x0101, good)
	wantSW(t, "PIN_UNBLOCK", sw, card.SWOK)
	if !bytes.Equal(resp, newPIN[:]) {
		t.Fatalf("PIN_UNBLOCK answered % X, want the new PIN", resp)
	}
	// Unblocked, unlocked, the new PIN in force with all tries, not verified.
	_, sw = issue(t, f, invoice(d(2026, time.March, 1), 1, 1, line{1, 1}))
	wantSW(t, "ISSUE_INVOICE before VERIFY", sw, card.SWSecurityStatus)
	_, sw = do(t, f, prop(card.INSVerifyFiscalPIN, pin, 8))
	wantSW(t, "old PIN", sw, card.SWRetriesLeft(2))
	next := verifyPIN(t, f, newPIN[:])
	verifyPIN(t, f, next)

	// The user card does not know the command; an unregistered fiscal card
	// answers 6901; a profile without the key 6A81.
	selectApp(t, cs.User)
	_, sw = do(t, cs.User, card.Command{CLA: card.CLAUnblock, INS: card.INSUnblockPIN, P1: 1, P2: 1, Data: good, Ne: 8})
	wantSW(t, "user card", sw, card.SWInsNotSupported)
	fresh := newSet(t, nil)
	selectApp(t, fresh.Fiscal)
	_, sw = do(t, fresh.Fiscal, card.Command{CLA: card.CLAUnblock, INS: card.INSUnblockPIN, P1: 1, P2: 1, Data: good, Ne: 8})
	wantSW(t, "unregistered", sw, card.SWStatusInvalid)
	plain, _ := initSet(t, func(o *IssueOptions) { o.Options.Profile = noUnblock{testProfile()} })
	_, sw = do(t, plain.Fiscal, card.Command{CLA: card.CLAUnblock, INS: card.INSUnblockPIN, P1: 1, P2: 1, Data: good, Ne: 8})
	wantSW(t, "profile without the unblock key", sw, card.SWFuncNotSupported)
	if _, err := plain.UnblockMAC(newPIN); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("UnblockMAC without the key: %v", err)
	}
}
