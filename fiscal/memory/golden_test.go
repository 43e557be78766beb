package memory

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

// goldenFrames are the frames of one record of each kind, written as the
// first record (sequence 1, chain seed 0) of a memory. They were produced by
// an independent Python implementation of the format in doc.go (struct
// packing, Python's gb18030 codec, a bitwise CRC32-C).
var goldenFrames = map[string]string{
	"machine":     "0000002c010000000000000000000001123456789012345620260115485731000000000000000000000000005357322e300000000000000000000000b5ba2aaa",
	"init":        "000000a70200000000000000000000010102030405060708b2e2cad400000000000000000000000000000000000000000000000000000000000000000000000039313434303330300000000000000000000000001100000000000001220000000000000220260115202601012030123120260215000186a0004c4b40000186a001020000000001010100000001012cb2cdd2fb00000000000000000000000000000000466f6f6400000000000000000000000000000000000000000033c1f3fa",
	"invoice":     "000000a4030000000000000000000001202603020100000001000004e2000000010000000200000000000031343430303132333435091e00010000000000000004e2000000000000000000000000000000000000000041434d45000000000000000000000000000000000000000000000000000000000000000000000000d5c5c8fd0000000000000000000000000000000001bfa7b7c800000000000000000000000000000000000003e8000004e2000004e201a257a5bd",
	"daily":       "000000c004000000000000000000000120260302000100000000010000000000000004e20000000000000000000000000000000000000000000000000000000000000000000000000000000000000000abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab0000000016a0383a",
	"declaration": "000000d80500000000000000000000012026040120260301202603310000000100000000010000000000000004e20000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004e20000000000deadbeefcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdc400000000541633fc",
	"roll":        "0000001a0600000000000000000000013134343030313233343500000001000000640000000069a4d300000023dbb819",
	"roll_usage":  "0000003607000000000000000000000131343430303132333435000000010000006400000062000000010000000100000000000186a000000000000001f42026030220260320000000000000c97afef7",
	"pin":         "00000008080000000000000000000001010203040506070800000000b13c8d09",
	"intent":      "000000140900000000000000000000010000000000000007056973737565000400000001a9f33230",
	"intent_done": "000000080a0000000000000000000001000000000000000700000000aa7791f9",
	"security":    "000000150b00000000000000000000010000000069a4d30001000a706f776572206c6f7374000000000000008e00c064",
	// The three kinds added in this version (produced the same way: struct packing
	// and a bitwise CRC32-C in Python, independent of this package).
	"roll_distributed": "0000001e0c00000000000000000000013134343030313233343500000065000000c8deadbeef0000000069a4d3000000000000000b378d30",
	"roll_taken":       "0000001b0d00000000000000000000013134343030313233343500000065000000c80000000069a4d30001007b25988e",
	"control_update":   "0000001f0e00000000000000000000010000000069a4d30020260315000186a0004c4b40000186a0010200000000010000000000b57fe995",
	// Added later still: a request id (struct packing and a bitwise CRC32-C in Python).
	"request":   "000000160f000000000000000000000131343430303132333435000000010123456789abcdef0000000000000e876ff6",
	"segment":   "474231383234304d0001000000000001000000000000000100000000de4d96f4000000140901000000000000000000010000000000000007056973737565000400000001d15452bd000000080800000000000000000000020102030405060708000000007daa0bef",
	"segheader": "474231383234304d0001000000000001000000000000000100000000de4d96f4",
}

func mustCode(t testing.TB, s string) fiscal.InvoiceCode {
	t.Helper()
	c, err := fiscal.ParseInvoiceCode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// goldenRecords returns the records of goldenFrames.
func goldenRecords(t testing.TB) map[string]*Batch {
	code := mustCode(t, "1440012345")
	mn, _ := fiscal.ParseMachineNumber("1234567890123456")
	fc, _ := fiscal.ParseCardNumber("1100000000000001")
	uc, _ := fiscal.ParseCardNumber("2200000000000002")
	d := fiscal.MustDate
	var sig1, sig2 [128]byte
	for i := range sig1 {
		sig1[i], sig2[i] = 0xAB, 0xCD
	}
	roll := fiscal.Roll{Code: code, Start: 1, End: 100}
	roll2 := fiscal.Roll{Code: code, Start: 101, End: 200}
	when := time.Unix(1772409600, 0)
	return map[string]*Batch{
		"machine": new(Batch).SetMachine(Machine{Number: mn, Produced: d(2026, 1, 15), HardwareVersion: "HW1", SoftwareVersion: "SW2.0"}),
		"init": new(Batch).Initialise(Application{
			TaxpayerNumber: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, TaxpayerName: "测试", TaxID: "91440300",
			FiscalCard: fc, UserCard: uc, InitDate: d(2026, 1, 15), AppStart: d(2026, 1, 1), AppValid: d(2030, 12, 31),
			Control: fiscal.ControlData{Deadline: d(2026, 2, 15), SingleLimit: 100000, TotalLimit: 5000000, ReturnLimit: 100000,
				Indexes: fiscal.TaxIndexes{1, 2}, DetailMode: 1},
			TaxItems: []fiscal.TaxItem{{Index: 1, Code: [4]byte{0, 0, 0, 1}, Rate: 300, NameCN: "餐饮", NameEN: "Food"}},
		}),
		"invoice": new(Batch).AddInvoice(Invoice{
			Detail: fiscal.InvoiceDetail{Date: d(2026, 3, 2), Type: fiscal.InvoiceNormal, Number: 1, Total: 1250,
				FiscalCode: fiscal.FiscalCode{0, 0, 0, 1, 0, 0, 0, 2}},
			Code: code, Time: Clock{9, 30, 0}, Indexes: fiscal.TaxIndexes{1}, Amounts: fiscal.TaxAmounts{1250},
			Payer: "ACME", Drawer: "张三",
			Lines: []Line{{Name: "咖啡", Quantity: 1000, UnitPrice: 1250, Amount: 1250, TaxIndex: 1}},
		}),
		"daily": new(Batch).AddDaily(Daily{Record: fiscal.DailyRecord{Date: d(2026, 3, 2), NormalCount: 1,
			Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{1250}}, Signature: sig1}),
		"declaration": new(Batch).AddDeclaration(Declaration{Date: d(2026, 4, 1),
			Data: fiscal.Declaration{Start: d(2026, 3, 1), End: d(2026, 3, 31), NormalCount: 1,
				Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{1250}},
			Response: fiscal.DeclareDutyResponse{TotalValid: 1250, MAC1: [4]byte{0xde, 0xad, 0xbe, 0xef}, Signature: sig2}}),
		"roll": new(Batch).AddRollLoad(RollLoad{Roll: roll, Loaded: when}),
		"roll_usage": new(Batch).AddRollUsage(RollUsage{Roll: roll, NormalCount: 98, ReturnCount: 1, VoidCount: 1,
			Normal: 100000, Return: 500, First: d(2026, 3, 2), Last: d(2026, 3, 20)}),
		"pin":         new(Batch).SetPIN(PIN{1, 2, 3, 4, 5, 6, 7, 8}),
		"intent":      new(Batch).BeginIntent(Intent{ID: 7, Op: "issue", Payload: []byte{0, 0, 0, 1}}),
		"intent_done": new(Batch).EndIntent(7),
		"security":    new(Batch).LogSecurity(SecurityEvent{Time: when, Type: SecPowerLoss, Text: "power lost"}),
		"roll_distributed": new(Batch).AddRollDistribution(RollDistribution{
			Roll: fiscal.SignedRoll{Roll: roll2, MAC: [4]byte{0xde, 0xad, 0xbe, 0xef}}, Time: when}),
		"roll_taken": new(Batch).TakeRoll(RollTaken{Roll: roll2, Time: when, Reason: RollLoaded}),
		"control_update": new(Batch).AddControlUpdate(ControlUpdate{Time: when, Control: fiscal.ControlData{
			Deadline: d(2026, 3, 15), SingleLimit: 100000, TotalLimit: 5000000, ReturnLimit: 100000,
			Indexes: fiscal.TaxIndexes{1, 2}, DetailMode: 1}}),
		"request": new(Batch).AddRequest(RequestRecord{Code: code, Number: 1, ID: 0x0123456789abcdef}),
	}
}

func TestGoldenFrames(t *testing.T) {
	recs := goldenRecords(t)
	if len(recs) != int(kindLast) || len(goldenFrames) != len(recs)+2 {
		t.Fatalf("golden set incomplete: %d records, %d vectors", len(recs), len(goldenFrames))
	}
	for name, b := range recs {
		if b.Err() != nil {
			t.Fatalf("%s: %v", name, b.Err())
		}
		r := b.recs[0]
		if r.kind.String() != name {
			t.Errorf("%s: kind name %q", name, r.kind)
		}
		got, _ := appendFrame(nil, 0, 1, r.kind, false, r.payload)
		if want := goldenFrames[name]; hex.EncodeToString(got) != want {
			t.Errorf("%s frame:\n got %x\nwant %s", name, got, want)
		}
		// And back: the frame reads and the payload decodes to the same value.
		f, st, reason := readFrame(got, 0, 0)
		if st != frameOK {
			t.Fatalf("%s: readFrame: %v %s", name, st, reason)
		}
		back, err := decodeRecord(f.Kind, f.Payload)
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		p2, _ := encodeValue(back)
		if hex.EncodeToString(p2) != hex.EncodeToString(r.payload) {
			t.Errorf("%s: re-encoded payload differs", name)
		}
	}
	h := segHeader{Version: formatVersion, Index: 1, FirstSeq: 1}.append(nil)
	if got := hex.EncodeToString(h); got != goldenFrames["segheader"] {
		t.Errorf("segment header:\n got %s\nwant %s", got, goldenFrames["segheader"])
	}
}

// encodeValue re-encodes a decoded record value.
func encodeValue(r record) ([]byte, error) {
	switch v := r.value.(type) {
	case interface{ appendPayload([]byte) ([]byte, error) }:
		return v.appendPayload(nil)
	case uint64:
		return appendIntentDone(nil, v), nil
	}
	return nil, nil
}

// TestGoldenSegment pins a whole segment: the header and a batch of two
// records chained on each other (intent with the "more" flag, then the PIN).
func TestGoldenSegment(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	b := new(Batch).BeginIntent(Intent{ID: 7, Op: "issue", Payload: []byte{0, 0, 0, 1}}).SetPIN(PIN{1, 2, 3, 4, 5, 6, 7, 8})
	must(t, m.Commit(ctx, b))
	m.Close()
	if got := hex.EncodeToString(fsys.Bytes(segmentName(1))); got != goldenFrames["segment"] {
		t.Errorf("segment:\n got %s\nwant %s", got, goldenFrames["segment"])
	}
}

// TestGoldenReturnInvoice pins a return invoice carrying its original's
// invoice code (frame made by the same independent Python implementation),
// and checks that the same payload without it, as older code wrote it,
// still reads, with the original taken to be of the return's own code.
func TestGoldenReturnInvoice(t *testing.T) {
	const golden = "000000ae030000000000000000000001202603030200000001000004e20000000100000003000000010000313434303031323334360a0f00010000000000000004e2000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0eecbc40000000000000000000000000000000001bfa7b7c800000000000000000000000000000000000003e8000004e2000004e2013134343030313233343500000000000098766134"
	orig, code := mustCode(t, "1440012345"), mustCode(t, "1440012346")
	v := Invoice{
		Detail: fiscal.InvoiceDetail{Date: fiscal.MustDate(2026, 3, 3), Type: fiscal.InvoiceReturn, Number: 1, Total: 1250,
			FiscalCode: fiscal.FiscalCode{0, 0, 0, 1, 0, 0, 0, 3}, Original: 1},
		Code: code, Time: Clock{10, 15, 0}, Indexes: fiscal.TaxIndexes{1}, Amounts: fiscal.TaxAmounts{1250},
		Drawer: "李四", Lines: []Line{{Name: "咖啡", Quantity: 1000, UnitPrice: 1250, Amount: 1250, TaxIndex: 1}},
		OriginalCode: orig,
	}
	b := new(Batch).AddInvoice(v)
	if b.Err() != nil {
		t.Fatal(b.Err())
	}
	got, _ := appendFrame(nil, 0, 1, KindInvoice, false, b.recs[0].payload)
	if hex.EncodeToString(got) != golden {
		t.Fatalf("frame:\n got %x\nwant %s", got, golden)
	}
	p := b.recs[0].payload
	back, err := decodeInvoice(p)
	if err != nil || back.OriginalCode != orig {
		t.Fatalf("decode: %v, original code %q", err, back.OriginalCode)
	}
	if c, n := back.OriginalKey(); c != orig || n != 1 {
		t.Errorf("OriginalKey %v/%d", c, n)
	}
	if _, err := peekInvoice(p); err != nil {
		t.Errorf("peek: %v", err)
	}
	// Written without the original's code (older code): still valid.
	old := p[:len(p)-fiscal.InvoiceCodeLen]
	back, err = decodeInvoice(old)
	if err != nil || back.OriginalCode != (fiscal.InvoiceCode{}) {
		t.Fatalf("older payload: %v, original code %q", err, back.OriginalCode)
	}
	if c, n := back.OriginalKey(); c != code || n != 1 {
		t.Errorf("older payload: OriginalKey %v/%d, want the return's own code", c, n)
	}
	if _, err := peekInvoice(old); err != nil {
		t.Errorf("older payload: peek: %v", err)
	}
	// Only a return carries it, and only as ten digits.
	normal := bytes.Clone(p)
	normal[4] = byte(fiscal.InvoiceNormal)
	if _, err := peekInvoice(normal); err == nil {
		t.Error("peek accepts an original code on a normal invoice")
	}
	if _, err := decodeInvoice(normal); err == nil {
		t.Error("decode accepts an original code on a normal invoice")
	}
	bad := bytes.Clone(p)
	bad[len(bad)-1] = 'x'
	if _, err := decodeInvoice(bad); err == nil {
		t.Error("decode accepts a non-digit original code")
	}
	v.Detail.Type, v.Detail.Original = fiscal.InvoiceNormal, 0
	if err := new(Batch).AddInvoice(v).Err(); !errors.Is(err, ErrInvalid) {
		t.Errorf("a normal invoice with an original code: %v", err)
	}
}
