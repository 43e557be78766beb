package emulator

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// FuzzTransmit feeds arbitrary APDU sequences to each kind of card (fresh,
// initialised set per input, application selected) and checks that every
// answer is a response APDU of at least two bytes and nothing panics.
//
// Input: byte 0 picks the card (mod 3), byte 1 bit 0 picks T=1; then
// segments of length byte ‖ APDU bytes.
func FuzzTransmit(f *testing.F) {
	seed := func(kind byte, apdus ...[]byte) {
		b := []byte{kind, 0}
		for _, a := range apdus {
			b = append(b, byte(len(a)))
			b = append(b, a...)
		}
		f.Add(b)
	}
	mustBytes := func(c card.Command) []byte {
		b, _ := c.Bytes()
		return b
	}
	seed(0, mustBytes(prop(card.INSIssueInvoice, invoice(d(2026, 11, 26), 1, 1, line{1, 100}), 8)), []byte{0x00, 0xC0, 0x00, 0x00, 0x08})
	seed(0, []byte{0xC0, 0xF9, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x08})
	seed(0, mustBytes(prop(card.INSDailyCollectSign, fiscal.AppendXOR(make([]byte, 64)), 0x81)))
	seed(0, []byte{0x84, 0x24, 0x01, 0x01, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08})
	seed(0, mustBytes(prop(card.INSUpdateControls, make([]byte, 29), 0)))
	seed(0, []byte{0x00, 0xB0, 0x83, 0x00, 0x00}, []byte{0x00, 0x88, 0x00, 0x01, 0x08, 1, 2, 3, 4, 5, 6, 7, 8})
	seed(1, []byte{0xC0, 0xE9, 0x00, 0x00, 0x16}, []byte{0x00, 0xC0, 0x00, 0x00, 0x16})
	seed(1, []byte{0x00, 0x20, 0x00, 0x01, 0x08, '1', '2', '3', '4', '5', '6', '7', '8'}, []byte{0x00, 0xE2, 0x00, 0x18, 0x01, 0x00})
	seed(1, []byte{0x00, 0xB2, 0x01, 0x0C, 0x00})
	seed(2, []byte{0x00, 0x84, 0x00, 0x00, 0x08}, []byte{0x00, 0x82, 0x00, 0x01, 0x08, 1, 2, 3, 4, 5, 6, 7, 8})
	seed(2, []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0xEF, 0x03}, []byte{0x00, 0xDC, 0x01, 0x04, 0x00})
	f.Add([]byte{})
	prof := testProfile()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 {
			return
		}
		cs, err := Issue(IssueOptions{Options: Options{Profile: prof, Rand: &seqReader{}, T1: in[1]&1 == 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Initialise(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := []*Card{cs.Fiscal, cs.User, cs.Check}[int(in[0])%3]
		ctx := context.Background()
		if _, err := exchange(ctx, c, "SELECT", card.Command{INS: card.INSSelect, P1: 4, Data: []byte(c.st.Kind.dfName())}); err != nil {
			t.Fatal(err)
		}
		rest := in[2:]
		for len(rest) > 0 {
			n := int(rest[0])
			rest = rest[1:]
			if n > len(rest) {
				n = len(rest)
			}
			apdu := rest[:n]
			rest = rest[n:]
			resp, err := c.Transmit(ctx, apdu)
			if err != nil {
				t.Fatalf("Transmit(% X): %v", apdu, err)
			}
			if len(resp) < 2 {
				t.Fatalf("Transmit(% X) = % X", apdu, resp)
			}
		}
		// Whatever happened, the state still saves and loads.
		b, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(b, Options{Profile: prof}); err != nil {
			t.Fatalf("reload: %v", err)
		}
	})
}

// FuzzLoad feeds arbitrary bytes to the state-file decoder, both as they
// are and framed with a correct header and CRC32-C (so the JSON payload
// decoder and the invariant checks are reached): it must never panic, and
// what it accepts must be a working card.
func FuzzLoad(f *testing.F) {
	prof := testProfile()
	cs, err := Issue(IssueOptions{Options: Options{Profile: prof}})
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []*Card{cs.Fiscal, cs.User, cs.Check} {
		b, _ := c.MarshalBinary()
		f.Add(b)
		f.Add(b[stateHeader : len(b)-4])
	}
	f.Add([]byte("GB18240E"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, b := range [][]byte{in, framePayload(in)} {
			if c, err := Load(b, Options{Profile: prof}); err == nil {
				exerciseLoaded(t, c)
			}
		}
	})
}

func framePayload(p []byte) []byte {
	kind := byte(0)
	if i := bytes.Index(p, []byte(`"kind":`)); i >= 0 && i+7 < len(p) {
		kind = p[i+7] - '0'
	}
	b := append([]byte(stateMagic), 0, stateVersion, kind, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
	return appendCRC(append(b, p...))
}

func exerciseLoaded(t *testing.T, c *Card) {
	t.Helper()
	{
		ctx := context.Background()
		for _, apdu := range [][]byte{
			[]byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'},
			[]byte{0x00, 0xB0, 0x81, 0x00, 0x00},
			[]byte{0x00, 0xB2, 0x01, 0x0C, 0x00},
			[]byte{0xC0, 0xE9, 0x00, 0x00, 0x16},
		} {
			if resp, err := c.Transmit(ctx, apdu); err != nil || len(resp) < 2 {
				t.Fatalf("loaded card: % X %v", resp, err)
			}
		}
	}
}
