package card

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestCommandBytesGolden(t *testing.T) {
	long := seq(300)
	tests := []struct {
		name string
		cmd  Command
		want []byte
	}{
		{"case1", Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00}, unhex(t, "00A40400")},
		{"case2S", Command{CLA: 0x00, INS: 0xC0, Ne: 8}, unhex(t, "00C0000008")},
		{"case2S 256", Command{CLA: 0x00, INS: 0xB0, Ne: 256}, unhex(t, "00B0000000")},
		{"case3S", Command{CLA: 0x00, INS: 0xA4, P1: 0x04, Data: []byte("TSAM01")}, unhex(t, "00A4040006 5453414D3031")},
		{"case4S", Command{CLA: 0xC0, INS: 0xF9, Data: unhex(t, "0102030405060708"), Ne: 8}, unhex(t, "C0F9000008 0102030405060708 08")},
		{"case4S 255/256", Command{CLA: 0x00, INS: 0xD6, Data: seq(255), Ne: 256}, append(append(unhex(t, "00D60000FF"), seq(255)...), 0x00)},
		{"case2E", Command{INS: 0xB0, Ne: 257}, unhex(t, "00B00000 00 0101")},
		{"case2E 65536", Command{INS: 0xB0, Ne: 65536}, unhex(t, "00B00000 00 0000")},
		{"case3E", Command{INS: 0xD6, Data: long}, append(unhex(t, "00D60000 00 012C"), long...)},
		{"case4E", Command{INS: 0xD6, Data: long, Ne: 2}, append(append(unhex(t, "00D60000 00 012C"), long...), 0x00, 0x02)},
		{"case4E by Ne", Command{INS: 0x88, Data: seq(8), Ne: 300}, append(append(unhex(t, "00880000 00 0008"), seq(8)...), 0x01, 0x2C)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cmd.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Bytes() = % X\nwant      % X", got, tt.want)
			}
			back, err := ParseCommand(got)
			if err != nil {
				t.Fatalf("ParseCommand: %v", err)
			}
			if back.CLA != tt.cmd.CLA || back.INS != tt.cmd.INS || back.P1 != tt.cmd.P1 || back.P2 != tt.cmd.P2 ||
				!bytes.Equal(back.Data, tt.cmd.Data) || back.Ne != tt.cmd.Ne {
				t.Fatalf("round trip = %+v, want %+v", back, tt.cmd)
			}
		})
	}
}

func TestCommandBytesErrors(t *testing.T) {
	for _, tt := range []struct {
		cmd  Command
		want error
	}{
		{Command{Data: make([]byte, 65536)}, ErrAPDUTooLong},
		{Command{Ne: -1}, ErrBadLe},
		{Command{Ne: 65537}, ErrBadLe},
	} {
		_, err := tt.cmd.Bytes()
		var fe *FormatError
		if !errors.Is(err, tt.want) || !errors.As(err, &fe) {
			t.Errorf("%v: err = %v, want %v as *FormatError", tt.cmd, err, tt.want)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	for _, in := range []string{
		"", "00", "00A404",
		"00A4040006 5453414D30", // Lc 6, 5 bytes
		"00A4040002 AABBCCDD",   // Lc 2, 4 bytes
		"00B00000 00 01",        // truncated extended
		"00D60000 00 0000 AA",   // extended Lc zero
		"00D60000 00 0003 AABB", // extended Lc too long
		"00D60000 00 0001 AA 00 00 00",
	} {
		_, err := ParseCommand(unhex(t, in))
		var fe *FormatError
		if !errors.Is(err, ErrMalformedAPDU) || !errors.As(err, &fe) {
			t.Errorf("ParseCommand(%s) err = %v, want ErrMalformedAPDU", in, err)
		}
	}
}

func TestResponse(t *testing.T) {
	r, err := ParseResponse(unhex(t, "0102 6108"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Data, []byte{1, 2}) || r.SW != 0x6108 || r.SW.SW1() != 0x61 || r.SW.SW2() != 0x08 {
		t.Fatalf("got %+v", r)
	}
	if n, ok := r.SW.BytesAvailable(); !ok || n != 8 {
		t.Fatalf("BytesAvailable = %d %v", n, ok)
	}
	if got := r.Bytes(); !bytes.Equal(got, unhex(t, "01026108")) {
		t.Fatalf("Bytes = % X", got)
	}
	r, err = ParseResponse([]byte{0x90, 0x00})
	if err != nil || r.Data != nil || !r.SW.OK() {
		t.Fatalf("9000: %+v %v", r, err)
	}
	for _, in := range [][]byte{nil, {0x90}} {
		if _, err := ParseResponse(in); !errors.Is(err, ErrMalformedAPDU) {
			t.Errorf("ParseResponse(% X) err = %v", in, err)
		}
	}
}

func TestSWFamilies(t *testing.T) {
	if SWBytesAvailable(256) != 0x6100 || SWBytesAvailable(0x10) != 0x6110 {
		t.Error("SWBytesAvailable")
	}
	if SWWrongLe(8) != 0x6C08 || SWWrongLe(256) != 0x6C00 {
		t.Error("SWWrongLe")
	}
	if SWRetriesLeft(2) != 0x63C2 {
		t.Error("SWRetriesLeft")
	}
	if n, ok := SW(0x6100).BytesAvailable(); !ok || n != 256 {
		t.Error("6100 available")
	}
	if n, ok := SW(0x6C00).WrongLe(); !ok || n != 256 {
		t.Error("6C00 wrong le")
	}
	if n, ok := SW(0x63C0).RetriesLeft(); !ok || n != 0 {
		t.Error("63C0 retries")
	}
	if _, ok := SW(0x6300).RetriesLeft(); ok {
		t.Error("6300 has no retry counter")
	}
	if _, ok := SWOK.WrongLe(); ok {
		t.Error("9000 is not 6Cxx")
	}
	if SW(0x6a82).String() != "6A82" {
		t.Error("String")
	}
}

func TestInsNameAndFID(t *testing.T) {
	if InsName(0xC0, INSIssueInvoice) != "ISSUE_INVOICE" || InsName(0x00, INSSelect) != "SELECT" ||
		InsName(0x00, INSGetResponse) != "GET RESPONSE" || InsName(0xC0, INSDistributeInvoiceNB) != "DISTRIBUTE_INVOICE_NB" ||
		InsName(0x00, 0x12) != "INS 12" {
		t.Error("InsName")
	}
	if FID(0x03) != 0xEF03 || SFI(0xEF03) != 3 || SFI(FID(0x11)) != 0x11 {
		t.Error("FID/SFI")
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"00A40400", "00C0000008", "00A40400065453414D3031", "C0F90000080102030405060708 08",
		"00B0000000010100", "00D6000000000201020000", "00B0000000"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		// A parsed command re-encodes to a command that parses the same.
		enc, err := c.Bytes()
		if err != nil {
			t.Fatalf("re-encode %+v: %v", c, err)
		}
		c2, err := ParseCommand(enc)
		if err != nil || c2.CLA != c.CLA || c2.INS != c.INS || c2.P1 != c.P1 || c2.P2 != c.P2 || c2.Ne != c.Ne || !bytes.Equal(c2.Data, c.Data) {
			t.Fatalf("re-parse of % X: %+v %v, want %+v", enc, c2, err, c)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0x90, 0x00})
	f.Add([]byte{0x61, 0x08})
	f.Add([]byte{1, 2, 3, 0x90, 0x00})
	f.Add([]byte{0x90})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			if len(b) >= 2 {
				t.Fatalf("rejected %d bytes: %v", len(b), err)
			}
			return
		}
		if !bytes.Equal(r.Bytes(), b) {
			t.Fatalf("round trip % X -> % X", b, r.Bytes())
		}
	})
}
