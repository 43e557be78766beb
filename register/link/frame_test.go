package link

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCRC16CheckValue(t *testing.T) {
	if got := CRC16([]byte("123456789")); got != 0xFEE8 {
		t.Fatalf("CRC16(123456789) = %04X, want FEE8", got)
	}
	if got := CRC16(nil); got != 0 {
		t.Fatalf("CRC16(nil) = %04X, want 0", got)
	}
}

// Golden frames. The CRCs were computed by hand with a separate bitwise
// CRC-16/BUYPASS (poly 8005, init 0, no reflection) over the bytes shown.
func TestGoldenRequests(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		// 1B 10 cmd=33 pack=00 len=05 (the packet without CRC is 5 bytes)
		{"current invoice", Request{Command: CmdCurrentInvoice}, "1b10330005" + "472c"},
		// set time 2026-11-27 08:30:05: len = 5 + 7 = 0x0C
		{"set time", Request{Command: CmdSetDateTime, Data: unhex(t, "20261127083005")}, "1b103b000c20261127083005" + "8aac"},
	}
	for _, tt := range tests {
		got, err := AppendRequest(nil, tt.req)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("%s: got %x, want %s", tt.name, got, tt.want)
		}
		back, err := ParseRequest(got)
		if err != nil || back.Command != tt.req.Command || back.Pack != tt.req.Pack || !bytes.Equal(back.Data, tt.req.Data) {
			t.Errorf("%s: parse back = %+v, %v", tt.name, back, err)
		}
	}
}

func TestGoldenResponses(t *testing.T) {
	tests := []struct {
		name string
		resp Response
		want string
	}{
		{"OK empty", Response{Status: StatusOK}, "4f4b0004" + "c99a"},
		{"ER unknown command", Response{Status: StatusER, Data: []byte{0x20}}, "4552000520" + "6940"},
		{"WT", Response{Status: StatusWT}, "57540004" + "2810"},
		{"NP 2", Response{Status: StatusNP, Pack: 2}, "4e500204" + "d046"},
		// current invoice: next 42, remaining 951, last issued 41; len = 4 + 12
		{"OK current invoice", Response{Status: StatusOK, Data: unhex(t, "0000002a000003b700000029")},
			"4f4b0010" + "0000002a000003b700000029" + "5fd2"},
	}
	for _, tt := range tests {
		got, err := AppendResponse(nil, tt.resp)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("%s: got %x, want %s", tt.name, got, tt.want)
		}
		back, err := ParseResponse(got)
		if err != nil || back.Status != tt.resp.Status || back.Pack != tt.resp.Pack || !bytes.Equal(back.Data, tt.resp.Data) {
			t.Errorf("%s: parse back = %+v, %v", tt.name, back, err)
		}
	}
}

func TestGoldenCurrentInvoiceData(t *testing.T) {
	w := &writer{}
	CurrentInvoice{Next: 42, Remaining: 951, LastIssued: 41}.encode(w)
	if hex.EncodeToString(w.b) != "0000002a000003b700000029" {
		t.Fatalf("got %x", w.b)
	}
}

func TestParseErrors(t *testing.T) {
	good, _ := AppendRequest(nil, Request{Command: CmdStatus, Data: []byte{1, 2, 3}})
	bad := func(mut func([]byte) []byte) []byte { return mut(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShortFrame},
		{"bad sync", bad(func(b []byte) []byte { b[0] = 0x1C; return b }), ErrBadSync},
		{"bad type", bad(func(b []byte) []byte { b[1] = 0x20; return b }), ErrBadSync},
		{"crc", bad(func(b []byte) []byte { b[6] ^= 1; return b }), ErrBadCRC},
		{"len too small", bad(func(b []byte) []byte { b[4] = 4; return b }), ErrBadLength},
		{"truncated", good[:len(good)-1], ErrShortFrame},
		{"trailing", append(append([]byte(nil), good...), 0), ErrBadLength},
	}
	for _, tt := range tests {
		_, err := ParseRequest(tt.b)
		var fe *FrameError
		if !errors.Is(err, tt.want) || !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want %v as *FrameError", tt.name, err, tt.want)
		}
	}
	if _, err := AppendRequest(nil, Request{Data: make([]byte, MaxPacketData+1)}); !errors.Is(err, ErrPacketTooLong) {
		t.Errorf("long data: %v", err)
	}
	if b, err := AppendRequest(nil, Request{Data: make([]byte, MaxPacketData)}); err != nil || b[4] != 255 {
		t.Errorf("max data: len byte %d, %v", b[4], err)
	}
}

// bytesConn is a DeadlineReadWriter over a fixed byte sequence delivered
// in the given chunks, with a pause between chunks.
type bytesConn struct {
	chunks [][]byte
	pause  time.Duration
	dl     time.Time
	next   time.Time
}

func (c *bytesConn) Read(p []byte) (int, error) {
	for {
		now := time.Now()
		if len(c.chunks) == 0 || c.next.After(now) {
			wait := time.Hour
			if len(c.chunks) > 0 {
				wait = c.next.Sub(now)
			}
			if !c.dl.IsZero() && c.dl.Sub(now) < wait {
				if d := c.dl.Sub(now); d > 0 {
					time.Sleep(d)
				}
				return 0, errDeadline{}
			}
			time.Sleep(wait)
			continue
		}
		n := copy(p, c.chunks[0])
		c.chunks[0] = c.chunks[0][n:]
		if len(c.chunks[0]) == 0 {
			c.chunks = c.chunks[1:]
			c.next = time.Now().Add(c.pause)
		}
		return n, nil
	}
}
func (c *bytesConn) Write(p []byte) (int, error)       { return len(p), nil }
func (c *bytesConn) SetReadDeadline(t time.Time) error { c.dl = t; return nil }

type errDeadline struct{}

func (errDeadline) Error() string   { return "deadline" }
func (errDeadline) Timeout() bool   { return true }
func (errDeadline) Temporary() bool { return true }

func TestFrameReaderResync(t *testing.T) {
	f1, _ := AppendRequest(nil, Request{Command: CmdStatus})
	f2, _ := AppendRequest(nil, Request{Command: CmdDateTime, Data: []byte{1, 2}})
	f3, _ := AppendRequest(nil, Request{Command: CmdConnect})
	corrupt := append([]byte(nil), f2...)
	corrupt[5] ^= 0x40
	var stream []byte
	stream = append(stream, 0x00, 0x1B, 0x1B, 0x99) // garbage, including a lone sync byte
	stream = append(stream, f1...)
	stream = append(stream, corrupt...)             // CRC mismatch
	stream = append(stream, 0x1B, 0x10, 0x41, 0x00) // cut mid-frame, then the next frame
	stream = append(stream, f3...)
	stream = append(stream, f2...)
	fr := &frameReader{r: &bytesConn{chunks: [][]byte{stream}}, request: true, interByte: 20 * time.Millisecond}
	var got [][]byte
	crcErrs := 0
	for len(got) < 3 {
		f, err := fr.next(context.Background(), time.Now().Add(2*time.Second))
		if errors.Is(err, ErrBadCRC) {
			crcErrs++
			continue
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(got), err)
		}
		got = append(got, f)
	}
	for i, want := range [][]byte{f1, f3, f2} {
		if !bytes.Equal(got[i], want) {
			t.Errorf("frame %d = %x, want %x", i, got[i], want)
		}
	}
	if crcErrs == 0 {
		t.Error("the corrupted frame was not reported")
	}
}

// A frame cut short followed by silence and then a whole frame: the
// inter-byte timeout gives the partial frame up even though its length byte
// asks for more bytes than follow.
func TestFrameReaderStalledPartial(t *testing.T) {
	good, _ := AppendResponse(nil, Response{Status: StatusOK, Data: []byte{7}})
	partial := []byte{'O', 'K', 0x00, 0xF0, 1, 2, 3} // claims 240 bytes
	fr := &frameReader{r: &bytesConn{chunks: [][]byte{partial, good}, pause: 50 * time.Millisecond}, interByte: 10 * time.Millisecond}
	f, err := fr.next(context.Background(), time.Now().Add(2*time.Second))
	if err != nil || !bytes.Equal(f, good) {
		t.Fatalf("got %x, %v; want %x", f, err, good)
	}
	if fr.discarded < int64(len(partial)) {
		t.Errorf("discarded %d bytes, want at least %d", fr.discarded, len(partial))
	}
}

func TestFrameReaderTimeoutAndContext(t *testing.T) {
	fr := &frameReader{r: &bytesConn{}, interByte: 10 * time.Millisecond}
	if _, err := fr.next(context.Background(), time.Now().Add(20*time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}
