package card

import (
	"bytes"
	"encoding"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

type codec interface {
	encoding.BinaryMarshaler
}

func h(t testing.TB, parts ...string) []byte {
	t.Helper()
	return unhex(t, strings.Join(parts, ""))
}

func cardNo(t testing.TB, s string) fiscal.CardNumber {
	t.Helper()
	c, err := fiscal.ParseCardNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func machineNo(t testing.TB, s string) fiscal.MachineNumber {
	t.Helper()
	m, err := fiscal.ParseMachineNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ascii(s string, width int) string {
	b := make([]byte, width)
	copy(b, s)
	return strings.ToUpper(hexString(b))
}

func hexString(b []byte) string {
	const d = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, d[x>>4], d[x&15])
	}
	return string(out)
}

func testRoll(t testing.TB) fiscal.Roll {
	code, err := fiscal.ParseInvoiceCode("1440012345")
	if err != nil {
		t.Fatal(err)
	}
	return fiscal.Roll{Code: code, Start: 1001, End: 1100}
}

const rollHex = "31343430303132333435" + "000003E9" + "0000044C"

func sampleDaily() fiscal.DailyRecord {
	return fiscal.DailyRecord{
		Date:        fiscal.MustDate(2026, 11, 26),
		NormalCount: 3, ReturnCount: 1, VoidCount: 2,
		Indexes: fiscal.TaxIndexes{1, 2},
		Normal:  fiscal.TaxAmounts{10000, 250},
		Return:  fiscal.TaxAmounts{500},
	}
}

const dailyHex = "20261126" + "0003" + "0001" + "0002" + "010200000000" +
	"00002710" + "000000FA" + "00000000" + "00000000" + "00000000" + "00000000" +
	"000001F4" + "00000000" + "00000000" + "00000000" + "00000000" + "00000000"

func sampleDeclaration() fiscal.Declaration {
	return fiscal.Declaration{
		Start: fiscal.MustDate(2026, 11, 1), End: fiscal.MustDate(2026, 11, 25),
		NormalCount: 40, ReturnCount: 2, VoidCount: 1,
		Indexes: fiscal.TaxIndexes{1},
		Normal:  fiscal.TaxAmounts{123456},
		Return:  fiscal.TaxAmounts{789},
	}
}

const declHex = "20261101" + "20261125" + "00000028" + "0002" + "0001" + "010000000000" +
	"0001E240" + "0000000000000000000000000000000000000000" +
	"00000315" + "0000000000000000000000000000000000000000"

// goldenCase is one encoder/decoder golden vector.
type goldenCase struct {
	name string
	val  codec
	want []byte
	// decode returns a fresh pointer to decode into, and how to dereference it.
	decode func([]byte) (any, error)
}

func decodeInto[T any, P interface {
	*T
	encoding.BinaryUnmarshaler
}](b []byte) (any, error) {
	var v T
	err := P(&v).UnmarshalBinary(b)
	return v, err
}

func goldenCases(t testing.TB) []goldenCase {
	roll := testRoll(t)
	var sig [128]byte
	for i := range sig {
		sig[i] = byte(i)
	}
	resp := fiscal.DeclareDutyResponse{TotalValid: 123456, TotalReturn: 789, Status: 0x01, MAC1: [4]byte{0xA1, 0xA2, 0xA3, 0xA4}, Signature: sig}
	respHex := "0001E240" + "00000315" + "01" + "A1A2A3A4" + hexString(sig[:])
	dc := DataCollect{FiscalCard: cardNo(t, "1100000000000001"), Declaration: sampleDeclaration(), Response: resp}
	dcBody := h(t, "1100000000000001", declHex, respHex)
	detail := fiscal.InvoiceDetail{Date: fiscal.MustDate(2026, 11, 26), Type: fiscal.InvoiceNormal, Number: 1001, Total: 10250,
		FiscalCode: fiscal.FiscalCode{1, 2, 3, 4, 5, 6, 7, 8}}
	detailHex := "20261126" + "01" + "000003E9" + "0000280A" + "0102030405060708" + "00000000" + "0000"
	return []goldenCase{
		{"fiscal EF02", AppInfo{
			Registered: true, CardNumber: cardNo(t, "1100000000000001"), MachineNumber: machineNo(t, "2200000000000002"),
			TaxpayerNo: cardNo(t, "3300000000000003"), TaxpayerID: "440101123456789",
			Start: fiscal.MustDate(2026, 1, 1), Valid: fiscal.MustDate(2031, 12, 31),
			AppType: 0x01, AppVersion: 0x02, FCI: 0x03, TaxpayerName: "ACME", OfficeCode: [4]byte{0x44, 0x01, 0x01, 0x00},
			DeclareMode: 0x01, PINMode: 0x00,
		}, h(t, "00", "00", "1100000000000001", "2200000000000002", "3300000000000003", ascii("440101123456789", 20),
			"20260101", "20311231", "01", "02", "03", ascii("ACME", 40), "44010100", "01", "00"),
			decodeInto[AppInfo]},
		{"fiscal EF02 unregistered, Chinese name", AppInfo{TaxpayerName: "税控"},
			h(t, "00", "01", strings.Repeat("00", 24), strings.Repeat("00", 20), "00000000", "00000000", "000000",
				"CBB0BFD8", strings.Repeat("00", 36), "00000000", "00", "00"),
			decodeInto[AppInfo]},
		{"fiscal EF03", DayAccumulation{DailyRecord: sampleDaily(), PrevInvoice: 1003, PrevFiscalCode: fiscal.FiscalCode{9, 8, 7, 6, 5, 4, 3, 2}},
			h(t, dailyHex, "000003EB", "0908070605040302"), decodeInto[DayAccumulation]},
		{"fiscal EF04", LastDeclaration{Declaration: sampleDeclaration(), Status: 0x01, MAC1: [4]byte{0xA1, 0xA2, 0xA3, 0xA4}},
			h(t, declHex, "01", "A1A2A3A4"), decodeInto[LastDeclaration]},
		{"fiscal EF05 loaded", LoadedRoll{Loaded: true, Roll: roll}, h(t, "01", rollHex), decodeInto[LoadedRoll]},
		{"fiscal EF05 empty", LoadedRoll{}, h(t, "00", strings.Repeat("00", 18)), decodeInto[LoadedRoll]},
		{"user EF01", ControlRecord{FiscalCard: cardNo(t, "1100000000000001"), KeyID: 0x02,
			Cipher: [24]byte{0: 0xC1, 23: 0xC2}, MAC2: [4]byte{0xB1, 0xB2, 0xB3, 0xB4}},
			h(t, "1100000000000001", "02", "C1", strings.Repeat("00", 22), "C2", "B1B2B3B4"), decodeInto[ControlRecord]},
		{"user EF02", UserInfo{Machines: 1, TaxpayerNo: cardNo(t, "3300000000000003"), Start: fiscal.MustDate(2026, 1, 1),
			Valid: fiscal.MustDate(2031, 12, 31), AppType: 1, AppVersion: 2, DeclareMode: 1, TaxpayerName: "ACME",
			TaxpayerID: "440101123456789", OfficeCode: [4]byte{0x44, 0x01, 0x01, 0x00}},
			h(t, "01", "01", "3300000000000003", "20260101", "20311231", "01", "02", "01", ascii("ACME", 40),
				ascii("440101123456789", 20), "44010100"), decodeInto[UserInfo]},
		{"DATA_COLLECT", dc, append(dcBody, fiscal.XOR(dcBody)), decodeInto[DataCollect]},
		{"user EF04", DeclarationRecord{Pending: true, DataCollect: dc}, append([]byte{0x01}, dcBody...), decodeInto[DeclarationRecord]},
		{"user EF05", PurchaseRecord{Roll: roll, Rolls: 4}, h(t, rollHex, "0004"), decodeInto[PurchaseRecord]},
		{"user EF06", MachineRecord{Machine: machineNo(t, "2200000000000002"), FiscalCard: cardNo(t, "1100000000000001"), DailyFile: 0x0010},
			h(t, "2200000000000002", "1100000000000001", "0010"), decodeInto[MachineRecord]},
		{"user EF07 pending", PendingRoll{Pending: true, Roll: fiscal.SignedRoll{Roll: roll, MAC: [4]byte{0xD1, 0xD2, 0xD3, 0xD4}}},
			h(t, rollHex, "D1D2D3D4"), decodeInto[PendingRoll]},
		{"user EF07 empty", PendingRoll{}, make([]byte, 22), decodeInto[PendingRoll]},
		{"GET_REGISTER_NB", RegisterNB{Random: [4]byte{1, 2, 3, 4}, FiscalCard: cardNo(t, "1100000000000001"), MAC1: [4]byte{5, 6, 7, 8}},
			h(t, "01020304", "1100000000000001", "05060708"), decodeInto[RegisterNB]},
		{"check EF01", CheckInfo{TaxpayerNo: cardNo(t, "3300000000000003"), Type: CheckDeclarations, KeyID: 0x05},
			h(t, "3300000000000003", "02", "05"), decodeInto[CheckInfo]},
		{"check EF02", CheckAuth{AuthCode: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, Issued: fiscal.MustDate(2026, 1, 1), Valid: fiscal.MustDate(2027, 1, 1)},
			h(t, "02", "0102030405060708", "20260101", "20270101"), decodeInto[CheckAuth]},
		{"check EF03 details", InspectionRecord{Date: fiscal.MustDate(2026, 11, 26), TaxpayerNo: cardNo(t, "3300000000000003"),
			Machine: machineNo(t, "2200000000000002"), Type: CheckInvoiceDetails, Details: []fiscal.InvoiceDetail{detail, detail}},
			h(t, "20261126", "3300000000000003", "2200000000000002", "00", "02", detailHex, detailHex, strings.Repeat("00", 212-1-54)),
			decodeInto[InspectionRecord]},
		{"check EF03 daily", InspectionRecord{Date: fiscal.MustDate(2026, 11, 26), Type: CheckDailyData, Daily: sampleDaily(), Signature: sig},
			h(t, "20261126", strings.Repeat("00", 16), "01", dailyHex, hexString(sig[:]), strings.Repeat("00", 212-192)),
			decodeInto[InspectionRecord]},
		{"check EF03 declarations", InspectionRecord{Date: fiscal.MustDate(2026, 11, 26), Type: CheckDeclarations,
			Declarations: []fiscal.Declaration{sampleDeclaration()}},
			h(t, "20261126", strings.Repeat("00", 16), "02", "01", declHex, strings.Repeat("00", 212-71)),
			decodeInto[InspectionRecord]},
		{"check EF03 clock", InspectionRecord{Date: fiscal.MustDate(2026, 11, 26), Type: CheckSetClock},
			h(t, "20261126", strings.Repeat("00", 16), "03", strings.Repeat("00", 212)), decodeInto[InspectionRecord]},
	}
}

func TestFileGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.val.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("encoding\n got % X\nwant % X", got, tc.want)
			}
			back, err := tc.decode(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalise(back), normalise(tc.val)) {
				t.Fatalf("decode = %+v\nwant     %+v", back, tc.val)
			}
			// Every wrong length is a typed error, never a panic.
			for _, n := range []int{0, len(tc.want) - 1, len(tc.want) + 1} {
				_, err := tc.decode(make([]byte, max(n, 0)))
				var fe *FormatError
				if !errors.Is(err, ErrMalformedRecord) || !errors.As(err, &fe) {
					t.Errorf("length %d: err = %v", n, err)
				}
			}
		})
	}
}

// normalise maps empty slices to nil so DeepEqual compares content.
func normalise(v any) any {
	if x, ok := v.(InspectionRecord); ok {
		if len(x.Details) == 0 {
			x.Details = nil
		}
		if len(x.Declarations) == 0 {
			x.Declarations = nil
		}
		return x
	}
	return v
}

func TestFileDecodeErrors(t *testing.T) {
	good := map[string][]byte{}
	for _, tc := range goldenCases(t) {
		good[tc.name] = tc.want
	}
	mut := func(name string, off int, v byte) []byte {
		b := bytes.Clone(good[name])
		b[off] = v
		return b
	}
	tests := []struct {
		name string
		b    []byte
		dec  func([]byte) (any, error)
	}{
		{"fiscal EF02 type", mut("fiscal EF02", 0, 0x01), decodeInto[AppInfo]},
		{"fiscal EF02 flag", mut("fiscal EF02", 1, 0x02), decodeInto[AppInfo]},
		{"fiscal EF02 date", mut("fiscal EF02", 48, 0x13), decodeInto[AppInfo]},
		{"fiscal EF02 text", mut("fiscal EF02", 57, 0xFF), decodeInto[AppInfo]},
		{"fiscal EF03 BCD", mut("fiscal EF03", 0, 0xAA), decodeInto[DayAccumulation]},
		{"fiscal EF04 date", mut("fiscal EF04", 6, 0x99), decodeInto[LastDeclaration]},
		{"fiscal EF05 flag", mut("fiscal EF05 loaded", 0, 0x02), decodeInto[LoadedRoll]},
		{"fiscal EF05 code", mut("fiscal EF05 loaded", 1, 'X'), decodeInto[LoadedRoll]},
		{"user EF02 type", mut("user EF02", 0, 0x00), decodeInto[UserInfo]},
		{"DATA_COLLECT xor", mut("DATA_COLLECT", 219, 0x00), decodeInto[DataCollect]},
		{"user EF04 flag", mut("user EF04", 0, 0x07), decodeInto[DeclarationRecord]},
		{"user EF05 range", mut("user EF05", 10, 0xFF), decodeInto[PurchaseRecord]},
		{"user EF07 code", mut("user EF07 pending", 0, 'A'), decodeInto[PendingRoll]},
		{"check EF01 type", mut("check EF01", 8, 0x04), decodeInto[CheckInfo]},
		{"check EF02 type", mut("check EF02", 0, 0x01), decodeInto[CheckAuth]},
		{"check EF03 type", mut("check EF03 clock", 20, 0x04), decodeInto[InspectionRecord]},
		{"check EF03 count", mut("check EF03 details", 21, 8), decodeInto[InspectionRecord]},
		{"check EF03 decl count", mut("check EF03 declarations", 21, 3), decodeInto[InspectionRecord]},
		{"check EF03 detail type", mut("check EF03 details", 26, 0x09), decodeInto[InspectionRecord]},
	}
	for _, tt := range tests {
		_, err := tt.dec(tt.b)
		var fe *FormatError
		if !errors.Is(err, ErrMalformedRecord) && !errors.Is(err, ErrChecksum) || !errors.As(err, &fe) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
	// The XOR error also reaches the fiscal sentinel.
	_, err := decodeInto[DataCollect](mut("DATA_COLLECT", 219, 0x00))
	if !errors.Is(err, fiscal.ErrChecksum) || !errors.Is(err, ErrChecksum) {
		t.Errorf("xor: %v", err)
	}
}

func TestFileEncodeErrors(t *testing.T) {
	roll := testRoll(t)
	bad := []codec{
		AppInfo{TaxpayerName: strings.Repeat("税", 21)},
		AppInfo{Start: fiscal.Date{Year: 2026, Month: 2, Day: 30}},
		DayAccumulation{DailyRecord: fiscal.DailyRecord{NormalCount: 70000}},
		LastDeclaration{Declaration: fiscal.Declaration{Normal: fiscal.TaxAmounts{-1}}},
		LoadedRoll{Loaded: true},
		UserInfo{Machines: 256},
		UserInfo{TaxpayerID: strings.Repeat("1", 21)},
		DataCollect{Response: fiscal.DeclareDutyResponse{TotalValid: fiscal.MaxCardAmount + 1}},
		DeclarationRecord{DataCollect: DataCollect{Declaration: fiscal.Declaration{NormalCount: -1}}},
		PurchaseRecord{Roll: roll, Rolls: -1},
		PurchaseRecord{Roll: fiscal.Roll{Code: roll.Code, Start: 5, End: 4}},
		PendingRoll{Pending: true},
		CheckInfo{Type: 4},
		CheckAuth{Valid: fiscal.Date{Year: 2026, Month: 13, Day: 1}},
		InspectionRecord{Type: 9},
		InspectionRecord{Type: CheckInvoiceDetails, Details: make([]fiscal.InvoiceDetail, 8)},
		InspectionRecord{Type: CheckInvoiceDetails, Details: make([]fiscal.InvoiceDetail, 1)}, // type 0 invalid
		InspectionRecord{Type: CheckDeclarations, Declarations: make([]fiscal.Declaration, 3)},
	}
	for i, v := range bad {
		b, err := v.MarshalBinary()
		var ae *ArgumentError
		if !errors.Is(err, ErrBadArgument) || !errors.As(err, &ae) || len(b) != 0 {
			t.Errorf("case %d (%T): % X, %v", i, v, b, err)
		}
	}
	// AppendBinary leaves the caller's prefix alone on error.
	prefix := []byte{0xAA}
	out, err := CheckInfo{Type: 7}.AppendBinary(prefix)
	if err == nil || !bytes.Equal(out, prefix) {
		t.Fatalf("AppendBinary on error = % X, %v", out, err)
	}
}

func TestControlRecordUpdateData(t *testing.T) {
	c := ControlRecord{KeyID: 2, Cipher: [24]byte{0: 1, 23: 2}, MAC2: [4]byte{9, 9, 9, 9}}
	if got, want := c.UpdateControlsData(), h(t, "02", "01", strings.Repeat("00", 22), "02", "09090909"); !bytes.Equal(got, want) {
		t.Fatalf("% X", got)
	}
}

func fuzzDecoder(f *testing.F, decode func([]byte) (any, error), marshal func(any) ([]byte, error), seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// What decodes re-encodes to the same bytes, except where a
		// layout ignores bytes (padding, an empty roll's bytes).
		enc, err := marshal(v)
		if err != nil {
			t.Fatalf("decoded %+v does not re-encode: %v", v, err)
		}
		v2, err := decode(enc)
		if err != nil || !reflect.DeepEqual(normalise(v2), normalise(v)) {
			t.Fatalf("re-decode: %+v %v, want %+v", v2, err, v)
		}
	})
}

func seedsFor(f *testing.F, prefix string) [][]byte {
	var out [][]byte
	for _, tc := range goldenCases(f) {
		if strings.HasPrefix(tc.name, prefix) {
			out = append(out, tc.want)
		}
	}
	return out
}

func marshalAny(v any) ([]byte, error) { return v.(codec).MarshalBinary() }

func FuzzAppInfo(f *testing.F) {
	fuzzDecoder(f, decodeInto[AppInfo], marshalAny, seedsFor(f, "fiscal EF02")...)
}
func FuzzDayAccumulation(f *testing.F) {
	fuzzDecoder(f, decodeInto[DayAccumulation], marshalAny, seedsFor(f, "fiscal EF03")...)
}
func FuzzLastDeclaration(f *testing.F) {
	fuzzDecoder(f, decodeInto[LastDeclaration], marshalAny, seedsFor(f, "fiscal EF04")...)
}
func FuzzLoadedRoll(f *testing.F) {
	fuzzDecoder(f, decodeInto[LoadedRoll], marshalAny, seedsFor(f, "fiscal EF05")...)
}
func FuzzControlRecord(f *testing.F) {
	fuzzDecoder(f, decodeInto[ControlRecord], marshalAny, seedsFor(f, "user EF01")...)
}
func FuzzUserInfo(f *testing.F) {
	fuzzDecoder(f, decodeInto[UserInfo], marshalAny, seedsFor(f, "user EF02")...)
}
func FuzzDataCollect(f *testing.F) {
	fuzzDecoder(f, decodeInto[DataCollect], marshalAny, seedsFor(f, "DATA_COLLECT")...)
}
func FuzzDeclarationRecord(f *testing.F) {
	fuzzDecoder(f, decodeInto[DeclarationRecord], marshalAny, seedsFor(f, "user EF04")...)
}
func FuzzPurchaseRecord(f *testing.F) {
	fuzzDecoder(f, decodeInto[PurchaseRecord], marshalAny, seedsFor(f, "user EF05")...)
}
func FuzzMachineRecord(f *testing.F) {
	fuzzDecoder(f, decodeInto[MachineRecord], marshalAny, seedsFor(f, "user EF06")...)
}
func FuzzPendingRoll(f *testing.F) {
	fuzzDecoder(f, decodeInto[PendingRoll], marshalAny, seedsFor(f, "user EF07")...)
}
func FuzzRegisterNB(f *testing.F) {
	fuzzDecoder(f, decodeInto[RegisterNB], marshalAny, seedsFor(f, "GET_REGISTER_NB")...)
}
func FuzzCheckInfo(f *testing.F) {
	fuzzDecoder(f, decodeInto[CheckInfo], marshalAny, seedsFor(f, "check EF01")...)
}
func FuzzCheckAuth(f *testing.F) {
	fuzzDecoder(f, decodeInto[CheckAuth], marshalAny, seedsFor(f, "check EF02")...)
}
func FuzzInspectionRecord(f *testing.F) {
	fuzzDecoder(f, decodeInto[InspectionRecord], marshalAny, seedsFor(f, "check EF03")...)
}
