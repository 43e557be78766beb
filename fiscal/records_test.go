package fiscal

import (
	"bytes"
	"encoding"
	"errors"
	"reflect"
	"testing"
)

type record interface {
	encoding.BinaryMarshaler
}

// golden pairs a record value with bytes computed by hand from the layout
// comments, not by the encoder.
var goldenTests = []struct {
	name string
	val  record
	hex  string
	zero func() encoding.BinaryUnmarshaler
}{
	{
		name: "DailyRecord",
		val: DailyRecord{
			Date: MustDate(2026, 11, 26), NormalCount: 3, ReturnCount: 1, VoidCount: 2,
			Indexes: TaxIndexes{1, 2}, Normal: TaxAmounts{12345, 100}, Return: TaxAmounts{500},
		},
		hex: "20261126 0003 0001 0002 010200000000" +
			"00003039 00000064 00000000 00000000 00000000 00000000" +
			"000001f4 00000000 00000000 00000000 00000000 00000000",
		zero: func() encoding.BinaryUnmarshaler { return new(DailyRecord) },
	},
	{
		name: "Declaration",
		val: Declaration{
			Start: MustDate(2026, 11, 1), End: MustDate(2026, 11, 30), NormalCount: 70000, ReturnCount: 2, VoidCount: 5,
			Indexes: TaxIndexes{1, 2, 3}, Normal: TaxAmounts{1, 2, 3}, Return: TaxAmounts{0, 0, 0, 0, 0, 9},
		},
		hex: "20261101 20261130 00011170 0002 0005 010203000000" +
			"00000001 00000002 00000003 00000000 00000000 00000000" +
			"00000000 00000000 00000000 00000000 00000000 00000009",
		zero: func() encoding.BinaryUnmarshaler { return new(Declaration) },
	},
	{
		name: "InvoiceDetail",
		val: InvoiceDetail{
			Date: MustDate(2026, 11, 26), Type: InvoiceReturn, Number: 42, Total: 10500,
			FiscalCode: FiscalCode{1, 2, 3, 4, 5, 6, 7, 8}, Original: 41,
		},
		hex:  "20261126 02 0000002a 00002904 0102030405060708 00000029 0000",
		zero: func() encoding.BinaryUnmarshaler { return new(InvoiceDetail) },
	},
	{
		name: "ControlData",
		val: ControlData{
			Deadline: MustDate(2026, 12, 15), SingleLimit: 1000000, TotalLimit: 50000000, ReturnLimit: 200000,
			Indexes: TaxIndexes{1, 2}, DetailMode: 1,
		},
		hex:  "20261215 000f4240 02faf080 00030d40 010200000000 01",
		zero: func() encoding.BinaryUnmarshaler { return new(ControlData) },
	},
	{
		name: "Roll",
		val:  Roll{Code: InvoiceCode([]byte("1440001234")), Start: 1001, End: 1100},
		hex:  "31343430303031323334 000003e9 0000044c",
		zero: func() encoding.BinaryUnmarshaler { return new(Roll) },
	},
	{
		name: "SignedRoll",
		val:  SignedRoll{Roll: Roll{Code: InvoiceCode([]byte("1440001234")), Start: 1, End: 50}, MAC: [4]byte{0xDE, 0xAD, 0xBE, 0xEF}},
		hex:  "31343430303031323334 00000001 00000032 deadbeef",
		zero: func() encoding.BinaryUnmarshaler { return new(SignedRoll) },
	},
	{
		name: "TaxItem",
		val:  TaxItem{Index: 1, Code: [4]byte{0x10, 0x20, 0x30, 0x40}, Rate: 300, NameCN: "税控", NameEN: "ABC"},
		hex: "01 10203040 012c" +
			"cbb0bfd8" + "00000000000000000000000000000000" +
			"414243" + "0000000000000000000000000000000000",
		zero: func() encoding.BinaryUnmarshaler { return new(TaxItem) },
	},
	{
		name: "IssueInvoiceBlock",
		val: IssueInvoiceBlock{
			Date: MustDate(2026, 11, 26), Type: InvoiceNormal, Number: 42,
			Indexes: TaxIndexes{1, 2}, Amounts: TaxAmounts{10000, 500}, Total: 10500,
		},
		// XOR worked by hand: 20^26^11^26^01^2A^01^27^10^02^01^F4^29^04 = F6.
		hex: "20261126 01 0000002a 01 00002710 02 000001f4 00 00000000 00 00000000 00 00000000 00 00000000" +
			"00002904 f6",
		zero: func() encoding.BinaryUnmarshaler { return new(IssueInvoiceBlock) },
	},
}

func TestGoldenRecords(t *testing.T) {
	for _, tt := range goldenTests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.hex)
			got, err := tt.val.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("MarshalBinary =\n%x\nwant\n%x", got, want)
			}
			dst := tt.zero()
			if err := dst.UnmarshalBinary(want); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if v := reflect.ValueOf(dst).Elem().Interface(); !reflect.DeepEqual(v, tt.val) {
				t.Fatalf("UnmarshalBinary = %+v, want %+v", v, tt.val)
			}
			// Every shorter and longer input is a length error, never a panic.
			for _, n := range []int{0, len(want) - 1, len(want) + 1} {
				buf := append(append([]byte{}, want...), 0)[:n]
				if err := tt.zero().UnmarshalBinary(buf); !errors.Is(err, ErrLength) {
					t.Errorf("UnmarshalBinary(%d bytes) err = %v, want ErrLength", n, err)
				}
			}
		})
	}
}

func TestDeclareDutyResponse(t *testing.T) {
	r := DeclareDutyResponse{TotalValid: 10500, TotalReturn: 500, Status: 1, MAC1: [4]byte{1, 2, 3, 4}}
	for i := range r.Signature {
		r.Signature[i] = byte(i)
	}
	b, err := r.MarshalBinary()
	if err != nil || len(b) != DeclareDutyResponseLen {
		t.Fatalf("MarshalBinary = %d bytes, %v", len(b), err)
	}
	if !bytes.Equal(b[:13], unhex(t, "00002904 000001f4 01 01020304")) || b[13] != 0 || b[140] != 127 {
		t.Fatalf("layout wrong: %x", b[:20])
	}
	// 128 signature bytes 0..127 XOR to 0; the header XORs to 29^04^01^F4^01^01^02^03^04 = DD.
	if b[141] != 0xDD {
		t.Errorf("XOR = %02X, want DD", b[141])
	}
	var back DeclareDutyResponse
	if err := back.UnmarshalBinary(b); err != nil || back != r {
		t.Fatalf("round trip: %v", err)
	}
	b[50] ^= 1
	if err := back.UnmarshalBinary(b); !errors.Is(err, ErrChecksum) {
		t.Errorf("flipped bit: err = %v, want ErrChecksum", err)
	}
}

func TestEncodeRefusesBadFields(t *testing.T) {
	tests := []struct {
		name  string
		val   record
		want  error
		field string
	}{
		{"count over u16", DailyRecord{Date: MustDate(2026, 1, 1), NormalCount: 70000}, ErrCountRange, "NormalCount"},
		{"negative amount", DailyRecord{Date: MustDate(2026, 1, 1), Normal: TaxAmounts{-1}}, ErrAmountRange, "Normal[0]"},
		{"bad date", Declaration{Start: Date{2026, 2, 30}}, ErrDate, "Start"},
		{"amount over u32", ControlData{SingleLimit: MaxCardAmount + 1}, ErrAmountRange, "SingleLimit"},
		{"bad type", InvoiceDetail{Type: 4}, ErrInvoiceType, "Type"},
		{"empty roll", Roll{Code: InvoiceCode([]byte("1440001234")), Start: 5, End: 4}, ErrRoll, "End"},
		{"code not digits", Roll{Start: 1, End: 2}, ErrDigits, "Code"},
		{"name too long", TaxItem{NameCN: "一二三四五六七八九十一"}, ErrTextTooLong, "NameCN"},
	}
	for _, tt := range tests {
		_, err := tt.val.MarshalBinary()
		var fe *FieldError
		if !errors.Is(err, tt.want) || !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: err = %v, want %v on field %s", tt.name, err, tt.want, tt.field)
		}
	}
}

func TestDecodeRefusesBadBytes(t *testing.T) {
	inv := unhex(t, "20261126 04 0000002a 00002904 0102030405060708 00000029 0000")
	if err := new(InvoiceDetail).UnmarshalBinary(inv); !errors.Is(err, ErrInvoiceType) {
		t.Errorf("type 04: err = %v", err)
	}
	roll := unhex(t, "3134343030303132333A 000003e9 0000044c")
	if err := new(Roll).UnmarshalBinary(roll); !errors.Is(err, ErrDigits) {
		t.Errorf("code with ':': err = %v", err)
	}
	block, _ := goldenTests[7].val.MarshalBinary()
	block[43] ^= 0xFF
	var b IssueInvoiceBlock
	if err := b.UnmarshalBinary(block); !errors.Is(err, ErrChecksum) {
		t.Errorf("bad XOR: err = %v", err)
	}
	if b != (IssueInvoiceBlock{}) {
		t.Error("failed decode modified the receiver")
	}
}

func TestIssueInvoiceBlockValidate(t *testing.T) {
	ok := IssueInvoiceBlock{Date: MustDate(2026, 11, 26), Type: InvoiceNormal, Number: 1, Indexes: TaxIndexes{1}, Amounts: TaxAmounts{100}, Total: 100}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]IssueInvoiceBlock{}
	b := ok
	b.Total = 99
	bad["total mismatch"] = b
	b = ok
	b.Type = InvoiceVoid
	bad["void with amount"] = b
	b = ok
	b.Indexes = TaxIndexes{}
	bad["amount in unused slot"] = b
	b = ok
	b.Number = 0
	bad["number 0"] = b
	for name, v := range bad {
		if err := v.Validate(); err == nil {
			t.Errorf("%s: Validate passed", name)
		}
	}
}
