package emulator

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// One TEST profile for the whole test binary: RSA key derivation is cached
// inside it. It is immutable apart from its internal cache.
var (
	testProfileOnce sync.Once
	testProfileVal  *TestProfile
)

func testProfile() *TestProfile {
	testProfileOnce.Do(func() { testProfileVal = TestProfileDoNotShip("unit tests") })
	return testProfileVal
}

// seqReader is a deterministic random source: 01 02 03 ...
type seqReader struct{ n byte }

func (r *seqReader) Read(p []byte) (int, error) {
	for i := range p {
		r.n++
		p[i] = r.n
	}
	return len(p), nil
}

func newSet(t testing.TB, mod func(*IssueOptions)) *CardSet {
	t.Helper()
	o := IssueOptions{Options: Options{Profile: testProfile(), Rand: &seqReader{}}}
	if mod != nil {
		mod(&o)
	}
	cs, err := Issue(o)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// initSet issues a set and runs Initialise; it returns the set and the
// current fiscal PIN.
func initSet(t testing.TB, mod func(*IssueOptions)) (*CardSet, []byte) {
	t.Helper()
	cs := newSet(t, mod)
	pin, err := cs.Initialise(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs, pin
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// raw sends hex APDU bytes and returns the raw response.
func raw(t testing.TB, c *Card, apdu []byte) []byte {
	t.Helper()
	resp, err := c.Transmit(context.Background(), apdu)
	if err != nil {
		t.Fatalf("Transmit(% X): %v", apdu, err)
	}
	if len(resp) < 2 {
		t.Fatalf("response of %d bytes", len(resp))
	}
	return resp
}

// do sends a command, follows 61xx with GET RESPONSE and returns the data
// and final status word.
func do(t testing.TB, c *Card, cmd card.Command) ([]byte, card.SW) {
	t.Helper()
	b, err := cmd.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for {
		r, err := card.ParseResponse(raw(t, c, b))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, r.Data...)
		if n, ok := r.SW.BytesAvailable(); ok {
			b = []byte{0x00, 0xC0, 0x00, 0x00, byte(n)}
			continue
		}
		return data, r.SW
	}
}

func wantSW(t testing.TB, what string, got, want card.SW) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: SW %v, want %v", what, got, want)
	}
}

func prop(ins byte, data []byte, ne int) card.Command {
	return card.Command{CLA: card.CLAProprietary, INS: ins, Data: data, Ne: ne}
}

func selectApp(t testing.TB, c *Card) {
	t.Helper()
	_, sw := do(t, c, card.Command{CLA: 0, INS: card.INSSelect, P1: 4, Data: []byte(c.st.Kind.dfName())})
	wantSW(t, "SELECT", sw, card.SWOK)
}

func readBinary(t testing.TB, c *Card, sfi byte, n int) []byte {
	t.Helper()
	data, sw := do(t, c, card.Command{CLA: 0, INS: card.INSReadBinary, P1: 0x80 | sfi, Ne: n})
	wantSW(t, "READ BINARY", sw, card.SWOK)
	return data
}

func verifyPIN(t testing.TB, f *Card, pin []byte) []byte {
	t.Helper()
	np, sw := do(t, f, prop(card.INSVerifyFiscalPIN, pin, 8))
	wantSW(t, "VERIFY_FISCAL_PIN", sw, card.SWOK)
	return np
}

type line struct {
	idx byte
	amt uint32
}

func d(y int, m time.Month, day int) fiscal.Date { return fiscal.MustDate(y, m, day) }

// invoice builds an ISSUE_INVOICE block by hand.
func invoice(date fiscal.Date, typ byte, no uint32, lines ...line) []byte {
	b, _ := date.AppendBCD(nil)
	b = append(b, typ)
	b = binary.BigEndian.AppendUint32(b, no)
	var total uint32
	for i := range 6 {
		var l line
		if i < len(lines) {
			l = lines[i]
		}
		b = append(b, l.idx)
		b = binary.BigEndian.AppendUint32(b, l.amt)
		total += l.amt
	}
	b = binary.BigEndian.AppendUint32(b, total)
	return fiscal.AppendXOR(b)
}
