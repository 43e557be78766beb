package fiscal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDateBCD(t *testing.T) {
	tests := []struct {
		hex     string
		want    Date
		wantErr error
	}{
		{"20261126", MustDate(2026, 11, 26), nil},
		{"20240229", MustDate(2024, 2, 29), nil},
		{"20000229", MustDate(2000, 2, 29), nil},
		{"19991231", MustDate(1999, 12, 31), nil},
		{"00000000", Date{}, nil},
		{"21000229", Date{}, ErrDate}, // 2100 is not a leap year
		{"20230229", Date{}, ErrDate},
		{"20261301", Date{}, ErrDate},
		{"20260000", Date{}, ErrDate},
		{"20260431", Date{}, ErrDate},
		{"2026113A", Date{}, ErrBCD},
		{"A0261126", Date{}, ErrBCD},
		{"202611", Date{}, ErrLength},
	}
	for _, tt := range tests {
		got, err := DecodeDate(unhex(t, tt.hex))
		if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("DecodeDate(%s) error = %v, want %v", tt.hex, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("DecodeDate(%s) = %v, want %v", tt.hex, got, tt.want)
		}
		if err == nil {
			back, err := got.AppendBCD(nil)
			if err != nil || hex.EncodeToString(back) != tt.hex {
				t.Errorf("AppendBCD(%v) = %x, %v; want %s", got, back, err, tt.hex)
			}
		}
	}
	if _, err := (Date{2026, 2, 30}).AppendBCD(nil); !errors.Is(err, ErrDate) {
		t.Errorf("encoding 2026-02-30: err = %v, want ErrDate", err)
	}
}

func TestDateArithmetic(t *testing.T) {
	d := MustDate(2024, 12, 31)
	if got := d.AddDays(1); got != MustDate(2025, 1, 1) {
		t.Errorf("AddDays(1) = %v", got)
	}
	if got := MustDate(2024, 3, 1).AddDays(-1); got != MustDate(2024, 2, 29) {
		t.Errorf("AddDays(-1) = %v", got)
	}
	if n := MustDate(2024, 1, 1).DaysUntil(MustDate(2025, 1, 1)); n != 366 {
		t.Errorf("DaysUntil = %d, want 366", n)
	}
	// 23:30 UTC on the 25th is already the 26th in China.
	if got := DateOf(time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)); got != MustDate(2026, 11, 26) {
		t.Errorf("DateOf = %v", got)
	}
	if !MustDate(2026, 1, 2).After(MustDate(2025, 12, 31)) || MustDate(2026, 1, 2).Before(MustDate(2026, 1, 1)) {
		t.Error("Before/After wrong")
	}
	p, err := ParseDate("2026-11-26")
	if err != nil || p != MustDate(2026, 11, 26) {
		t.Errorf("ParseDate = %v, %v", p, err)
	}
	if _, err := ParseDate("2026-02-30"); !errors.Is(err, ErrDate) {
		t.Errorf("ParseDate(2026-02-30) err = %v", err)
	}
}

func TestAmount(t *testing.T) {
	if u, err := Amount(123456).Uint32(); err != nil || u != 123456 {
		t.Errorf("Uint32 = %d, %v", u, err)
	}
	for _, a := range []Amount{-1, MaxCardAmount + 1} {
		if _, err := a.Uint32(); !errors.Is(err, ErrAmountRange) {
			t.Errorf("Amount(%d).Uint32() err = %v, want ErrAmountRange", a, err)
		}
	}
	for s, want := range map[string]Amount{"12": 1200, "12.3": 1230, "12.34": 1234, "0.05": 5, "-0.05": -5} {
		got, err := ParseAmount(s)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "1.234", "1.", ".5", "a", "1,00", "--1"} {
		if _, err := ParseAmount(s); err == nil {
			t.Errorf("ParseAmount(%q) succeeded", s)
		}
	}
	if s := Amount(-1205).String(); s != "-12.05" {
		t.Errorf("String = %q", s)
	}
}

func TestFiscalCodeAndNumbers(t *testing.T) {
	f := FiscalCode{0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}
	if s := f.String(); s != "00000000014294967295" {
		t.Errorf("FiscalCode = %s", s)
	}
	back, err := ParseFiscalCode(f.String())
	if err != nil || back != f {
		t.Errorf("ParseFiscalCode = %x, %v", back, err)
	}
	if _, err := ParseFiscalCode("00000000014294967296"); !errors.Is(err, ErrDigits) {
		t.Errorf("overflowing half: err = %v", err)
	}
	m, err := ParseMachineNumber("0123456789012345")
	if err != nil || m != (MachineNumber{0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0x23, 0x45}) || m.String() != "0123456789012345" {
		t.Errorf("MachineNumber = %x %s, %v", m[:], m, err)
	}
	if _, err := ParseMachineNumber("12345"); !errors.Is(err, ErrDigits) {
		t.Errorf("short machine number: err = %v", err)
	}
	if _, err := ParseInvoiceCode("14400012345"); !errors.Is(err, ErrDigits) {
		t.Errorf("11-digit invoice code: err = %v", err)
	}
}

func TestXOR(t *testing.T) {
	block := AppendXOR([]byte{0x20, 0x26, 0x11, 0x26})
	if block[4] != 0x31 {
		t.Errorf("XOR = %02X, want 31", block[4])
	}
	if body, err := CheckXOR(block); err != nil || len(body) != 4 {
		t.Errorf("CheckXOR = %x, %v", body, err)
	}
	block[0] ^= 0x80
	if _, err := CheckXOR(block); !errors.Is(err, ErrChecksum) {
		t.Errorf("corrupted block: err = %v", err)
	}
	if _, err := CheckXOR(nil); !errors.Is(err, ErrLength) {
		t.Errorf("empty block: err = %v", err)
	}
}

func TestText(t *testing.T) {
	got, err := EncodeText("税控", 6, TextOptions{})
	if err != nil || !bytes.Equal(got, unhex(t, "cbb0bfd8 0000")) {
		t.Fatalf("EncodeText = %x, %v", got, err)
	}
	// "ABC有限公司" is 3 + 4×2 = 11 bytes; in 8 bytes only "ABC有限" fits whole and
	// the third byte pair must not be split.
	_, err = EncodeText("ABC有限公司", 8, TextOptions{})
	var te *TextError
	if !errors.Is(err, ErrTextTooLong) || !errors.As(err, &te) || te.Offset != 9 {
		t.Errorf("strict overflow: err = %v", err)
	}
	got, err = EncodeText("ABC有限公司", 8, TextOptions{Truncate: true})
	if err != nil || !bytes.Equal(got, unhex(t, "414243 d3d0 cfde 00")) {
		t.Errorf("truncated = %x, %v", got, err)
	}
	// A four-byte GB18030 sequence (outside the BMP) is also kept whole.
	got, err = EncodeText("A😀", 4, TextOptions{Truncate: true})
	if err != nil || !bytes.Equal(got, unhex(t, "41 000000")) {
		t.Errorf("4-byte char truncated = %x, %v", got, err)
	}
	if _, err := EncodeText("a\xffb", 8, TextOptions{}); !errors.Is(err, ErrUnencodable) {
		t.Errorf("invalid UTF-8: err = %v", err)
	}
	if got, err := EncodeText("a\xffb", 4, TextOptions{Replace: true}); err != nil || string(got) != "a?b\x00" {
		t.Errorf("replaced = %q, %v", got, err)
	}
	s, err := DecodeText(unhex(t, "cbb0bfd8 2000"))
	if err != nil || s != "税控" {
		t.Errorf("DecodeText = %q, %v", s, err)
	}
	if _, err := DecodeText([]byte{0x81, 0x20}); !errors.Is(err, ErrBadText) {
		t.Errorf("bad GB18030: err = %v", err)
	}
	if b, err := GB18030("€"); err != nil || !bytes.Equal(b, []byte{0xA2, 0xE3}) {
		t.Errorf("GB18030(€) = %x, %v", b, err)
	}
}

func BenchmarkEncodeText(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeText("深圳市示例商店有限公司 ABC", TaxpayerNameLen, TextOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssueInvoiceBlock(b *testing.B) {
	blk := IssueInvoiceBlock{Date: MustDate(2026, 11, 26), Type: InvoiceNormal, Number: 42, Indexes: TaxIndexes{1, 2}, Amounts: TaxAmounts{10000, 500}, Total: 10500}
	buf := make([]byte, 0, IssueInvoiceBlockLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := blk.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSlotFor(t *testing.T) {
	x := TaxIndexes{1, 2}
	if i := x.SlotFor(2); i != 1 {
		t.Errorf("SlotFor(2) = %d, want 1", i)
	}
	if i := x.SlotFor(7); i != 2 || x[2] != 7 {
		t.Errorf("SlotFor(7) = %d (%v), want 2 claimed", i, x)
	}
	if i := x.SlotFor(0); i != -1 {
		t.Errorf("SlotFor(0) = %d, want -1", i)
	}
	full := TaxIndexes{1, 2, 3, 4, 5, 6}
	if i := full.SlotFor(9); i != -1 || full != (TaxIndexes{1, 2, 3, 4, 5, 6}) {
		t.Errorf("SlotFor on a full list = %d, %v", i, full)
	}
}
