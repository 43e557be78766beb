package register

import (
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

// FuzzCardFiles feeds arbitrary bytes to the parsers of card files the
// register reads (fiscal EF02, EF03, EF05) and of the waiting-roll list
// kept in fiscal memory: they never panic, and a parsed roll list
// re-encodes to the same bytes.
func FuzzCardFiles(f *testing.F) {
	f.Add(make([]byte, fiscalEF02Len))
	f.Add([]byte{0x01, '1', '4', '4', '0', '0', '0', '0', '0', '0', '0', 0, 0, 0, 1, 0, 0, 1, 0xF4})
	f.Add(make([]byte, fiscalEF03Len))
	roll, _ := fiscal.SignedRoll{Roll: fiscal.Roll{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 500}}.MarshalBinary()
	f.Add(roll)
	f.Add(append(roll, roll...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseFiscalEF02(b)
		_, _ = parseFiscalEF03(b)
		_, _ = parseFiscalEF05(b)
		q, err := decodeQueue(b)
		if err != nil {
			return
		}
		back, err := encodeQueue(q)
		if err != nil {
			t.Fatalf("decoded queue does not encode: %v", err)
		}
		if string(back) != string(b) {
			t.Fatalf("queue round trip changed the bytes")
		}
	})
}
