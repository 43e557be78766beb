package link

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
)

func TestServiceGolden(t *testing.T) {
	from, to := cst(2026, 11, 1, 0, 0, 0), cst(2026, 11, 30, 0, 0, 0)
	cases := []struct {
		name string
		enc  func(*writer)
		want []byte
	}{
		{"inspect with PIN", InspectRequest{PIN: []byte("12345678"), From: from, To: to}.encode, []byte{
			0x01, '1', '2', '3', '4', '5', '6', '7', '8', 0x20, 0x26, 0x11, 0x01, 0x20, 0x26, 0x11, 0x30,
			0, 0, 0, 0, 0, 0, 0}},
		{"inspect clock, no PIN", InspectRequest{SetTime: cst(2026, 11, 27, 9, 5, 0)}.encode, []byte{
			0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x26, 0x11, 0x27, 0x09, 0x05, 0x00}},
		{"inspect result", InspectResult{Type: 1, Items: 3, Records: 3, Truncated: true}.encode, []byte{
			0x01, 0, 0, 0, 3, 0, 0, 0, 3, 0x01}},
		{"self-test result", SelfTestResult{Passed: true, Value: 0x9000, Detail: "ok"}.encode, append([]byte{
			0x01, 0x00, 0x00, 0x00, 0x90, 0x00, 'o', 'k'}, make([]byte, 38)...)},
	}
	for _, c := range cases {
		w := &writer{}
		c.enc(w)
		if w.err != nil || !bytes.Equal(w.b, c.want) {
			t.Errorf("%s: % X (%v)\nwant % X", c.name, w.b, w.err, c.want)
		}
	}
	// A whole 5B request frame: GET CHALLENGE to the fiscal card.
	frame, err := AppendRequest(nil, Request{Command: CmdCardAPDU, Data: []byte{0x01, 0x00, 0x84, 0x00, 0x00, 0x08}})
	if err != nil {
		t.Fatal(err)
	}
	head := []byte{0x1B, 0x10, 0x5B, 0x00, 0x0B, 0x01, 0x00, 0x84, 0x00, 0x00, 0x08}
	if !bytes.Equal(frame[:len(head)], head) || len(frame) != len(head)+2 {
		t.Fatalf("5B frame % X", frame)
	}
	if crc := CRC16(head); frame[11] != byte(crc>>8) || frame[12] != byte(crc) {
		t.Fatalf("5B frame CRC % X, want %04X", frame[11:], crc)
	}
	roundTrip(t, InspectRequest{PIN: []byte("12345678"), From: from, To: to}, 24)
	roundTrip(t, InspectRequest{}, 24)
	roundTrip(t, InspectResult{Type: 3}, 10)
	roundTrip(t, SelfTestResult{Code: CodeMemoryFault, Value: 7, Detail: "memory verify failed"}, 46)
}

func TestServiceDecodeRefusals(t *testing.T) {
	bad := []struct {
		name string
		b    []byte
		dec  func(*reader)
	}{
		{"inspect flags 2", append([]byte{2}, make([]byte, 23)...), new(InspectRequest).decode},
		{"inspect PIN without flag", append([]byte{0, 1}, make([]byte, 22)...), new(InspectRequest).decode},
		{"inspect to before from", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x26, 0x11, 0x02, 0x20, 0x26, 0x11, 0x01, 0, 0, 0, 0, 0, 0, 0}, new(InspectRequest).decode},
		{"inspect short", make([]byte, 23), new(InspectRequest).decode},
		{"inspect result type 4", []byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, new(InspectResult).decode},
		{"self-test passed with code", append([]byte{1, 0x25, 0, 0, 0, 0}, make([]byte, 40)...), new(SelfTestResult).decode},
		{"self-test detail not ASCII", append([]byte{0, 0x25, 0, 0, 0, 0, 0xC4}, make([]byte, 39)...), new(SelfTestResult).decode},
		{"card APDU slot 3", []byte{3, 0, 0xB0, 0x83, 0, 0}, func(r *reader) { decodeCardAPDU(r) }},
		{"card APDU short", []byte{1, 0, 0xB0, 0x83}, func(r *reader) { decodeCardAPDU(r) }},
	}
	for _, c := range bad {
		r := &reader{b: c.b}
		c.dec(r)
		if err := r.end(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", c.name, err)
		}
	}
}

func TestAllowedAPDU(t *testing.T) {
	for _, c := range []struct {
		apdu []byte
		ok   bool
	}{
		{[]byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'}, true}, // SELECT
		{[]byte{0x00, 0xB0, 0x83, 0x00, 0x4C}, true},                               // READ BINARY by SFI
		{[]byte{0x00, 0xB2, 0x01, 0x0C, 0x00}, true},                               // READ RECORD
		{[]byte{0x00, 0x84, 0x00, 0x00, 0x08}, true},                               // GET CHALLENGE
		{[]byte{0x00, 0xC0, 0x00, 0x00, 0x08}, true},                               // GET RESPONSE
		{[]byte{0xC0, 0xF2, 0x00, 0x00, 0x2C}, false},                              // ISSUE_INVOICE
		{[]byte{0xC0, 0xF9, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}, false},      // VERIFY_FISCAL_PIN
		{[]byte{0xC0, 0xF7, 0x00, 0x00}, false},                                    // INPUT_INVOICE_NB
		{[]byte{0x84, 0x24, 0x01, 0x01, 0x0C}, false},                              // PIN unblock
		{[]byte{0x00, 0xD6, 0x83, 0x00, 0x01, 0x00}, false},                        // UPDATE BINARY
		{[]byte{0x00, 0xDC, 0x01, 0x0C, 0x01, 0x00}, false},                        // UPDATE RECORD
		{[]byte{0x00, 0xE2, 0x00, 0x18, 0x01, 0x00}, false},                        // APPEND RECORD
		{[]byte{0x00, 0x20, 0x00, 0x00, 0x08}, false},                              // VERIFY
		{[]byte{0x00, 0x88, 0x00, 0x01, 0x08}, false},                              // INTERNAL AUTHENTICATE
		{[]byte{0x00, 0x82, 0x00, 0x01, 0x08}, false},                              // EXTERNAL AUTHENTICATE
		{[]byte{0x00, 0xB0, 0x83}, false},                                          // short
		{append([]byte{0x00, 0xB0, 0x00, 0x00}, make([]byte, 258)...), false},      // too long
	} {
		if ok, why := AllowedAPDU(c.apdu); ok != c.ok || ok != (why == "") {
			t.Errorf("% X: allowed %v (%q), want %v", c.apdu[:min(len(c.apdu), 6)], ok, why, c.ok)
		}
	}
}

// cardSpy is a handler whose card commands record what reaches them.
type cardSpy struct {
	stubHandler
	sent [][]byte
}

func (h *cardSpy) CardPowerOn(context.Context, CardSlot) ([]byte, error) {
	return []byte{0x3B, 0x00}, nil
}
func (h *cardSpy) CardPowerOff(context.Context, CardSlot) error { return nil }
func (h *cardSpy) CardAPDU(_ context.Context, _ CardSlot, capdu []byte) ([]byte, error) {
	h.sent = append(h.sent, append([]byte(nil), capdu...))
	le := byte(0)
	if len(capdu) == 5 {
		le = capdu[4]
	}
	switch capdu[1] {
	case 0xB0: // data waiting, T=0 style
		return []byte{0x61, le}, nil
	case 0xC0:
		return append(make([]byte, int(le)), 0x90, 0x00), nil
	}
	return []byte{0x90, 0x00}, nil
}

// GET RESPONSE is forwarded only right after a pass-through command that
// the card answered 61xx, on the same slot, for no more than xx bytes.
func TestServerGetResponseOnlyAfter61xx(t *testing.T) {
	h := &cardSpy{}
	s := NewServer(h, nil)
	ctx := context.Background()
	get := func(slot CardSlot, le byte) reply {
		return s.dispatch(ctx, CmdCardAPDU, []byte{byte(slot), 0x00, 0xC0, 0x00, 0x00, le})
	}
	read := func() { s.dispatch(ctx, CmdCardAPDU, []byte{1, 0x00, 0xB0, 0x83, 0x00, 0x10}) }
	refused := func(r reply) bool { return r.status == StatusER && r.data[0] == byte(CodeCardCommandRefused) }
	if r := get(SlotFiscal, 8); !refused(r) {
		t.Fatalf("GET RESPONSE out of the blue: %v % X", r.status, r.data)
	}
	read()
	if r := get(SlotFiscal, 0x10); r.status != StatusOK || len(r.data) != 0x12 {
		t.Fatalf("GET RESPONSE after 61 10: %v % X", r.status, r.data)
	}
	if r := get(SlotFiscal, 0x10); !refused(r) {
		t.Fatalf("second GET RESPONSE: %v % X", r.status, r.data)
	}
	read()
	if r := get(SlotFiscal, 0x11); !refused(r) {
		t.Fatalf("GET RESPONSE for more than the card holds: %v", r.status)
	}
	read()
	if r := get(SlotUser, 0x10); !refused(r) {
		t.Fatalf("GET RESPONSE on the other slot: %v", r.status)
	}
	read()
	s.dispatch(ctx, CmdStatus, nil)
	if r := get(SlotFiscal, 0x10); !refused(r) {
		t.Fatalf("GET RESPONSE after another command: %v", r.status)
	}
	if n := len(h.sent); n != 5 {
		t.Fatalf("%d APDUs reached the handler, want 5 (4 reads, 1 GET RESPONSE)", n)
	}
}

// The server refuses a forbidden APDU itself, before the handler sees it,
// even from a client that does not check (the frame is built by hand).
func TestServerRefusesFiscalAPDU(t *testing.T) {
	h := &cardSpy{}
	s := NewServer(h, nil)
	ctx := context.Background()
	for _, capdu := range [][]byte{
		{0xC0, 0xF2, 0x00, 0x00, 0x2C},
		{0x84, 0x24, 0x01, 0x01, 0x0C},
		{0x00, 0xD6, 0x83, 0x00, 0x01, 0x00},
	} {
		rep := s.dispatch(ctx, CmdCardAPDU, append([]byte{1}, capdu...))
		if rep.status != StatusER || !bytes.Equal(rep.data, []byte{byte(CodeCardCommandRefused)}) {
			t.Errorf("% X: %v % X, want ER A0", capdu, rep.status, rep.data)
		}
	}
	if len(h.sent) != 0 {
		t.Fatalf("refused APDUs reached the handler: % X", h.sent)
	}
	rep := s.dispatch(ctx, CmdCardAPDU, []byte{1, 0x00, 0x84, 0x00, 0x00, 0x08})
	if rep.status != StatusOK || !bytes.Equal(rep.data, []byte{0x90, 0x00}) || len(h.sent) != 1 {
		t.Fatalf("GET CHALLENGE: %v % X, sent %d", rep.status, rep.data, len(h.sent))
	}
	// A handler without the card interface answers "unknown command".
	rep = NewServer(stubHandler{}, nil).dispatch(ctx, CmdCardAPDU, []byte{1, 0x00, 0x84, 0x00, 0x00, 0x08})
	if rep.status != StatusER || rep.data[0] != byte(CodeUnknownCommand) {
		t.Fatalf("stub handler: %v % X", rep.status, rep.data)
	}
	// The client does not even send it.
	line := &silentLine{}
	c := NewClient(line, nil)
	if _, err := c.CardAPDU(ctx, SlotFiscal, []byte{0xC0, 0xF2, 0x00, 0x00, 0x2C}); !errors.Is(err, ErrCardCommandRefused) {
		t.Fatalf("client: %v", err)
	}
	if line.written.Load() != 0 {
		t.Fatalf("client wrote %d bytes", line.written.Load())
	}
}

// silentLine never answers and counts what is written.
type silentLine struct{ written atomic.Int64 }

func (*silentLine) Read([]byte) (int, error) { return 0, io.EOF }
func (l *silentLine) Write(p []byte) (int, error) {
	l.written.Add(int64(len(p)))
	return len(p), nil
}

// FuzzServiceDecoders: the decoders of the service commands never panic,
// fail with ErrMalformed, and what they accept encodes back to the input.
func FuzzServiceDecoders(f *testing.F) {
	w := &writer{}
	InspectRequest{PIN: []byte("12345678"), From: cst(2026, 1, 1, 0, 0, 0)}.encode(w)
	f.Add(uint8(0), w.b)
	w = &writer{}
	InspectResult{Type: 2, Items: 5, Records: 1}.encode(w)
	f.Add(uint8(1), w.b)
	w = &writer{}
	SelfTestResult{Passed: true, Value: 12, Detail: "12 records verified"}.encode(w)
	f.Add(uint8(2), w.b)
	f.Add(uint8(3), []byte{1, 0x00, 0xB0, 0x83, 0x00, 0x4C})
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		r := &reader{b: b}
		var enc func(*writer)
		switch kind % 4 {
		case 0:
			var x InspectRequest
			x.decode(r)
			enc = x.encode
		case 1:
			var x InspectResult
			x.decode(r)
			enc = x.encode
		case 2:
			var x SelfTestResult
			x.decode(r)
			enc = x.encode
		default:
			slot, capdu := decodeCardAPDU(r)
			enc = func(w *writer) { w.u8(uint8(slot)); w.raw(capdu) }
		}
		if err := r.end(); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		w := &writer{}
		enc(w)
		if w.err != nil || !bytes.Equal(w.b, b) {
			t.Fatalf("kind %d: % X re-encodes to % X (%v)", kind%4, b, w.b, w.err)
		}
	})
}

// serviceStub serves every command, the service commands included.
type serviceStub struct{ cardSpy }

func (*serviceStub) Inspect(context.Context, InspectRequest) (InspectResult, error) {
	return InspectResult{Type: 1, Items: 2, Records: 2}, nil
}
func (*serviceStub) SelfTest(_ context.Context, test Command) (SelfTestResult, error) {
	if test == CmdSelfTestClock {
		return SelfTestResult{Code: CodeClockBackwards, Detail: "clock behind"}, nil
	}
	return SelfTestResult{Passed: true, Detail: "ok"}, nil
}
