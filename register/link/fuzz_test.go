package link

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte{0x1b, 0x10, 0x33, 0x00, 0x05, 0x47, 0x2c})
	f.Add([]byte{0x1b, 0x10, 0x3b, 0x00, 0x0c, 0x20, 0x26, 0x11, 0x27, 0x08, 0x30, 0x05, 0x8a, 0xac})
	f.Add([]byte{0x1b, 0x10, 0x00, 0x00, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := AppendRequest(nil, r)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %x gave %x, %v", b, again, err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("OK\x00\x04\xc9\x9a"))
	f.Add([]byte("ER\x00\x05\x20\x69\x40"))
	f.Add([]byte("NP\x02\x04\xd0\x46"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		again, err := AppendResponse(nil, r)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %x gave %x, %v", b, again, err)
		}
	})
}

// FuzzFrameReader feeds arbitrary line bytes (in two chunks) to both frame
// readers: they must not panic, and every frame they return must parse.
func FuzzFrameReader(f *testing.F) {
	good, _ := AppendRequest(nil, Request{Command: CmdStatus, Data: []byte{1}})
	okf, _ := AppendResponse(nil, Response{Status: StatusOK, Data: []byte{2}})
	f.Add(append([]byte{0x1b, 0x1b, 0x10, 0xff}, good...), 3)
	f.Add(append([]byte("OKER"), okf...), 1)
	f.Add(append(good[:4], okf...), 5)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		if split < 0 || split > len(b) {
			split = len(b) / 2
		}
		for _, req := range []bool{true, false} {
			fr := &frameReader{r: &bytesConn{chunks: [][]byte{b[:split], b[split:]}}, request: req, interByte: time.Microsecond}
			for range len(b) + 2 {
				fb, err := fr.next(context.Background(), time.Now().Add(2*time.Millisecond))
				if errors.Is(err, ErrBadCRC) {
					continue
				}
				if err != nil {
					break
				}
				var perr error
				if req {
					_, perr = ParseRequest(fb)
				} else {
					_, perr = ParseResponse(fb)
				}
				if perr != nil {
					t.Fatalf("frame reader returned %x which does not parse: %v", fb, perr)
				}
			}
		}
	})
}

// decoders of every command's request and reply data, with the matching
// encoder, to check that whatever decodes re-encodes to the same bytes.
func commandDecoders() []func(*reader, *writer) {
	pair := func(d interface {
		decode(*reader)
		encode(*writer)
	}) func(*reader, *writer) {
		return func(r *reader, w *writer) {
			d.decode(r)
			if r.err == nil {
				d.encode(w)
			}
		}
	}
	return []func(*reader, *writer){
		pair(new(ConnectInfo)), pair(new(StatusInfo)), pair(new(MachineInfo)), pair(new(UserInfo)),
		pair(new(Roll)), pair(new(CurrentInvoice)), pair(new(IssueRequest)), pair(new(ReturnRequest)),
		pair(new(VoidRequest)), pair(new(Invoice)), pair(new(InvoiceDetail)), pair(new(NumberRange)),
		pair(new(TimeRange)), pair(new(DateRange)), pair(new(DailyData)), pair(new(DeclareRequest)),
		pair(new(Declaration)), pair(new(RollUsageQuery)), pair(new(RollUsage)), pair(new(RequestQuery)),
		func(r *reader, w *writer) {
			x := decodeTaxItems(r)
			if r.err == nil {
				encodeTaxItems(w, x)
			}
		},
		func(r *reader, w *writer) {
			x, more := decodeList[Invoice](r, invoiceSize)
			if r.err == nil {
				encodeList(w, more, x)
			}
		},
		func(r *reader, w *writer) {
			x, more := decodeList[InvoiceDetail](r, invoiceSize+43)
			if r.err == nil {
				encodeList(w, more, x)
			}
		},
	}
}

func FuzzCommandData(f *testing.F) {
	w := &writer{}
	IssueRequest{RequestID: 1, Payer: []byte("x"), Items: tenItems()[:2]}.encode(w)
	f.Add(uint8(6), w.b)
	w = &writer{}
	Invoice{No: 1, Type: TypeNormal, Time: cst(2026, 1, 2, 3, 4, 5)}.encode(w)
	f.Add(uint8(9), w.b)
	f.Add(uint8(1), []byte{1, 0x20, 0x26, 0x11, 0x27, 0x08, 0x30, 0x05, 0, 0, 0, 1, 0, 0, 0, 2, 3, 0x20, 0x26, 0x12, 0x31})
	decs := commandDecoders()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dec := decs[int(which)%len(decs)]
		r := &reader{b: data}
		w := &writer{}
		dec(r, w)
		if err := r.end(); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if w.err != nil || !bytes.Equal(w.b, data) {
			t.Fatalf("decoder %d: %x re-encodes to %x (%v)", which%uint8(len(decs)), data, w.b, w.err)
		}
	})
}
