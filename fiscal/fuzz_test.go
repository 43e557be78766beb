package fiscal

import (
	"encoding"
	"reflect"
	"testing"
)

// fuzzDecoder checks, for any input, that decoding never panics and that a
// successful decode survives a round trip: encode(decode(b)) decodes to the
// same value (bytes can differ only in padding and reserved fields).
func fuzzDecoder[T any, P interface {
	*T
	encoding.BinaryUnmarshaler
	encoding.BinaryMarshaler
}](f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v T
		if err := P(&v).UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := P(&v).MarshalBinary()
		if err != nil {
			t.Fatalf("decoded value does not encode: %v (%+v)", err, v)
		}
		var again T
		if err := P(&again).UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded bytes do not decode: %v", err)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v", v, again)
		}
	})
}

func golden(f *testing.F, name string) []byte {
	for _, g := range goldenTests {
		if g.name == name {
			return unhex(f, g.hex)
		}
	}
	f.Fatalf("no golden %s", name)
	return nil
}

func FuzzDecodeDate(f *testing.F) {
	f.Add([]byte{0x20, 0x26, 0x11, 0x26})
	f.Add([]byte{0x21, 0x00, 0x02, 0x29})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDate(b)
		if err != nil {
			return
		}
		back, err := d.AppendBCD(nil)
		if err != nil || string(back) != string(b) {
			t.Fatalf("round trip %x -> %v -> %x, %v", b, d, back, err)
		}
	})
}

func FuzzDailyRecord(f *testing.F) { fuzzDecoder[DailyRecord](f, golden(f, "DailyRecord")) }

func FuzzDeclaration(f *testing.F) { fuzzDecoder[Declaration](f, golden(f, "Declaration")) }

func FuzzInvoiceDetail(f *testing.F) { fuzzDecoder[InvoiceDetail](f, golden(f, "InvoiceDetail")) }

func FuzzControlData(f *testing.F) { fuzzDecoder[ControlData](f, golden(f, "ControlData")) }

func FuzzRoll(f *testing.F) { fuzzDecoder[Roll](f, golden(f, "Roll")) }

func FuzzSignedRoll(f *testing.F) { fuzzDecoder[SignedRoll](f, golden(f, "SignedRoll")) }

func FuzzTaxItem(f *testing.F) { fuzzDecoder[TaxItem](f, golden(f, "TaxItem")) }

func FuzzIssueInvoiceBlock(f *testing.F) {
	fuzzDecoder[IssueInvoiceBlock](f, golden(f, "IssueInvoiceBlock"))
}

func FuzzDeclareDutyResponse(f *testing.F) {
	b, _ := DeclareDutyResponse{TotalValid: 1}.MarshalBinary()
	fuzzDecoder[DeclareDutyResponse](f, b)
}

func FuzzDecodeText(f *testing.F) {
	f.Add([]byte{0xCB, 0xB0, 0xBF, 0xD8, 0, 0})
	f.Add([]byte{0x94, 0x39, 0xFC, 0x36})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeText(b)
		if err != nil {
			return
		}
		enc, err := EncodeText(s, len(b), TextOptions{})
		if err != nil {
			t.Fatalf("decoded text %q does not re-encode in %d bytes: %v", s, len(b), err)
		}
		if s2, err := DecodeText(enc); err != nil || s2 != s {
			t.Fatalf("round trip %q -> %q, %v", s, s2, err)
		}
	})
}

func FuzzEncodeText(f *testing.F) {
	f.Add("ABC有限公司", 8)
	f.Add("a\xffb😀", 5)
	f.Fuzz(func(t *testing.T, s string, width int) {
		if width < 0 || width > 256 {
			return
		}
		b, err := EncodeText(s, width, TextOptions{Truncate: true, Replace: true})
		if err != nil {
			t.Fatalf("EncodeText with truncate+replace failed: %v", err)
		}
		if len(b) != width {
			t.Fatalf("field is %d bytes, want %d", len(b), width)
		}
		if _, err := DecodeText(b); err != nil {
			t.Fatalf("truncated field is not valid GB18030: %x: %v", b, err)
		}
	})
}
