package memory

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

// smallSegment returns the single segment of a small memory holding every
// record kind.
func smallSegment(t testing.TB) []byte {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	fillSmall(t, m)
	m.Close()
	return fsys.Bytes(segmentName(1))
}

// FuzzSegment feeds arbitrary bytes as the only segment file to Verify,
// Open, Repair and Export: none may panic, and they must agree.
func FuzzSegment(f *testing.F) {
	seg := smallSegment(f)
	f.Add(seg)
	f.Add(seg[:segHeaderLen])
	f.Add(seg[:len(seg)-5])
	f.Add(seg[:segHeaderLen+30])
	f.Add([]byte{})
	f.Add([]byte("GB18240M"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := NewMemFS()
		fsys.SetBytes(segmentName(1), data)
		deep := &Options{DeepVerify: true}
		rep, verr := Verify(ctx, fsys, deep)
		if _, qerr := Verify(ctx, fsys, nil); verr == nil && qerr != nil {
			t.Fatalf("deep verify passes, quick verify says %v", qerr)
		}
		m, oerr := Open(ctx, fsys, deep)
		if (verr == nil) != (oerr == nil) {
			t.Fatalf("Verify says %v, Open says %v", verr, oerr)
		}
		if verr != nil {
			var ce *CorruptionError
			if !errors.As(verr, &ce) || rep.Bad != ce {
				t.Fatalf("verify error is not a corruption report: %v", verr)
			}
			rr, rerr := Repair(ctx, fsys, nil)
			if ce.Torn {
				if rerr != nil {
					t.Fatalf("torn tail not repaired: %v", rerr)
				}
				if _, err := Verify(ctx, fsys, nil); err != nil || rr.Torn == nil {
					t.Fatalf("after repair: %v", err)
				}
			} else if !errors.Is(rerr, ErrCorrupt) {
				t.Fatalf("repair of corruption: %v", rerr)
			}
			return
		}
		defer m.Close()
		if err := m.Export(ctx, io.Discard); err != nil {
			t.Fatalf("export of a verified memory: %v", err)
		}
		if err := m.LogSecurity(ctx, SecurityEvent{Type: SecOther, Text: "fuzz"}); err != nil && !errors.Is(err, ErrFull) {
			t.Fatalf("append to a verified memory: %v", err)
		}
		if _, err := m.Verify(ctx); err != nil {
			t.Fatalf("verify after append: %v", err)
		}
	})
}

// FuzzDecodeRecord decodes arbitrary payloads of every kind: no panic, and
// whatever decodes re-encodes to a payload that decodes to the same value.
func FuzzDecodeRecord(f *testing.F) {
	for _, b := range goldenRecords(f) {
		f.Add(uint8(b.recs[0].kind), b.recs[0].payload)
	}
	ret, _ := testInvoice(2, day(1), fiscal.InvoiceReturn, 300).MarshalBinary() // with OriginalCode
	f.Add(uint8(KindInvoice), ret)
	f.Add(uint8(0), []byte{})
	f.Add(uint8(200), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, kind uint8, payload []byte) {
		r, err := decodeRecord(Kind(kind), payload)
		if Kind(kind) == KindInvoice {
			// Open's quick path must accept whatever the full decoder
			// accepts, and read the same key fields.
			h, perr := peekInvoice(payload)
			if err == nil {
				v := r.value.(Invoice)
				if perr != nil || h.Detail.Date != v.Detail.Date || h.Detail.Number != v.Detail.Number ||
					h.Code != v.Code || h.Detail.Type != v.Detail.Type || h.Detail.Total != v.Detail.Total {
					t.Fatalf("peek %v disagrees with decode: %+v / %+v", perr, h.Detail, v.Detail)
				}
			}
			// And refuse whatever the full decoder and Invoice.validate
			// refuse, but for text that does not decode.
			if perr == nil && err != nil && !errors.Is(err, fiscal.ErrBadText) {
				t.Fatalf("peek accepts what decode refuses: %v", err)
			}
		}
		if err != nil {
			return
		}
		p, err := encodeValue(r)
		if err != nil {
			t.Fatalf("decoded %s does not re-encode: %v", Kind(kind), err)
		}
		r2, err := decodeRecord(Kind(kind), p)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", Kind(kind), err)
		}
		if !reflect.DeepEqual(r.value, r2.value) {
			t.Fatalf("%s round trip:\n%#v\n%#v", Kind(kind), r.value, r2.value)
		}
		if len(p) == len(payload) && !bytes.Equal(p, payload) && Kind(kind) != KindInvoice && Kind(kind) != KindApplication && Kind(kind) != KindMachine {
			// Only text fields (padding) and reserved bytes may re-encode differently.
			t.Logf("%s payload re-encodes differently", Kind(kind))
		}
	})
}
