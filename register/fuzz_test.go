package register

import (
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

// FuzzCardFiles feeds arbitrary bytes to the decoder of the waiting-roll
// list that older fiscal memories keep in a "roll_queue" intent (the card
// files the register reads are decoded by package card, which fuzzes its
// own codecs): it never panics, and a parsed list re-encodes to the same
// bytes.
func FuzzCardFiles(f *testing.F) {
	roll, _ := fiscal.SignedRoll{Roll: fiscal.Roll{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 500}}.MarshalBinary()
	f.Add([]byte{})
	f.Add(roll)
	f.Add(append(roll, roll...))
	f.Add(roll[:7])
	f.Fuzz(func(t *testing.T, b []byte) {
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

// encodeQueue writes a legacy "roll_queue" payload (older registers did).
func encodeQueue(q []fiscal.SignedRoll) ([]byte, error) {
	var b []byte
	for _, r := range q {
		var err error
		if b, err = r.AppendBinary(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}
