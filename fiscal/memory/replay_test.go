package memory

import (
	"errors"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

// rawLog writes one segment whose frames carry the given payloads with
// correct CRCs, chain and sequence numbers (one record per batch), so that
// only the records' content can be wrong.
func rawLog(t *testing.T, recs []pending) FS {
	t.Helper()
	b := segHeader{Version: formatVersion, Index: 1, FirstSeq: 1}.append(nil)
	crc := uint32(0)
	for i, r := range recs {
		b, crc = appendFrame(b, crc, uint64(i+1), r.Kind, false, r.Payload)
	}
	fsys := NewMemFS()
	f, err := fsys.Create(segmentName(1))
	must(t, err)
	_, err = f.Write(b)
	must(t, err)
	must(t, f.Close())
	return fsys
}

func payloadOf(t *testing.T, enc func([]byte) ([]byte, error)) []byte {
	t.Helper()
	p, err := enc(nil)
	must(t, err)
	return p
}

// TestReplayRejectsBadContent checks that the replay's quick paths for
// invoices and security events (replayInvoice, replaySecurity) refuse what
// the full decoder and the state's rules refuse, naming the record, in
// Open, Verify and Verify with DeepVerify alike.
func TestReplayRejectsBadContent(t *testing.T) {
	inv := func(n uint32, d fiscal.Date) []byte {
		return payloadOf(t, testInvoice(n, d, fiscal.InvoiceNormal, 100).appendPayload)
	}
	sec := func() []byte {
		return payloadOf(t, SecurityEvent{Time: day(0).Time(), Type: SecInspection, Text: "abc"}.appendPayload)
	}
	enc := func(v Invoice) []byte { return payloadOf(t, v.appendPayload) }
	req := func(n uint32, id uint64) []byte {
		return payloadOf(t, RequestRecord{Code: testCode, Number: n, ID: id}.appendPayload)
	}
	// noLines is invoice 50 of day 1 without lines, its slots changed by f,
	// so that only the slot rules can refuse it.
	noLines := func(f func(*Invoice)) []byte {
		v := testInvoice(50, day(1), fiscal.InvoiceNormal, 100)
		v.Lines = nil
		f(&v)
		return enc(v)
	}
	lined := func(f func(*Invoice)) []byte {
		v := testInvoice(50, day(1), fiscal.InvoiceNormal, 100)
		f(&v)
		return enc(v)
	}
	// A return, a void and an invoice without lines that the rules accept.
	good := []pending{{KindInvoice, inv(1, day(0))}, {KindSecurity, sec()},
		{KindInvoice, enc(testInvoice(10, day(0), fiscal.InvoiceReturn, 60))},
		{KindInvoice, func() []byte {
			v := testInvoice(11, day(0), fiscal.InvoiceReturn, 60)
			v.OriginalCode = fiscal.InvoiceCode{} // the original has the return's own code
			return enc(v)
		}()},
		{KindInvoice, enc(testInvoice(12, day(0), fiscal.InvoiceVoid, 0))},
		{KindRequest, req(12, 77)},
		{KindInvoice, noLines(func(v *Invoice) { v.Detail.Number = 13; v.Detail.Date = day(0) })},
		{KindRequest, req(13, 77)}, // two invoices of one request
		{KindInvoice, inv(14, day(0))},
	}
	const goodInvoices = 6
	cases := []struct {
		name string
		pre  []pending // records after good and before bad
		bad  pending
		want error // also matched, besides ErrCorrupt; nil: none
	}{
		{"invoice date not BCD", nil, pending{KindInvoice, func() []byte { p := inv(2, day(1)); p[0] = 0xAA; return p }()}, nil},
		{"invoice date not a day", nil, pending{KindInvoice, func() []byte { p := inv(2, day(1)); p[3] = 0x32; return p }()}, nil},
		{"invoice code not digits", nil, pending{KindInvoice, func() []byte { p := inv(2, day(1)); p[fiscal.InvoiceDetailLen+3] = 'X'; return p }()}, nil},
		{"invoice number 0", nil, pending{KindInvoice, inv(0, day(1))}, nil},
		{"invoice total not the sum", nil, pending{KindInvoice, func() []byte { p := inv(2, day(1)); p[12]++; return p }()}, nil},
		{"invoice dated before the last", nil, pending{KindInvoice, inv(2, day(-1))}, ErrOrder},
		{"invoice stored twice", nil, pending{KindInvoice, inv(1, day(1))}, ErrDuplicate},
		{"invoice amount in an unused tax slot", nil, pending{KindInvoice, noLines(func(v *Invoice) { v.Amounts[3] = 5; v.Detail.Total = 105 })}, nil},
		{"invoice tax index used twice", nil, pending{KindInvoice, noLines(func(v *Invoice) { v.Indexes[1] = 1 })}, nil},
		{"void invoice with an amount", nil, pending{KindInvoice, noLines(func(v *Invoice) { v.Detail.Type = fiscal.InvoiceVoid })}, nil},
		{"return invoice without its original", nil, pending{KindInvoice, lined(func(v *Invoice) { v.Detail.Type = fiscal.InvoiceReturn })}, nil},
		{"return original code not digits", nil, pending{KindInvoice, lined(func(v *Invoice) {
			v.Detail.Type, v.Detail.Original = fiscal.InvoiceReturn, 49
			v.OriginalCode = fiscal.InvoiceCode([]byte("12345678AB"))
		})}, nil},
		{"invoice line with a tax index not the invoice's", nil, pending{KindInvoice, lined(func(v *Invoice) { v.Lines[1].TaxIndex = 3 })}, nil},
		{"invoice lines not adding up to the slots", nil, pending{KindInvoice, lined(func(v *Invoice) { v.Lines[0].Amount++ })}, nil},
		{"request id 0", nil, pending{KindRequest, req(14, 0)}, nil},
		{"request payload short", nil, pending{KindRequest, req(14, 78)[:21]}, nil},
		{"request invoice code not digits", nil, pending{KindRequest, func() []byte { p := req(14, 78); p[0] = 'X'; return p }()}, nil},
		{"request for an invoice not the newest", nil, pending{KindRequest, req(13, 78)}, ErrOrder},
		{"request for an unknown invoice", nil, pending{KindRequest, req(15, 78)}, ErrOrder},
		{"request for an invoice that has one", []pending{{KindRequest, req(14, 78)}}, pending{KindRequest, req(14, 79)}, ErrDuplicate},
		// 14 has no request id: 15 may not continue request 77 of 12 and 13.
		{"request id of an earlier request", []pending{{KindInvoice, inv(15, day(0))}}, pending{KindRequest, req(15, 77)}, ErrDuplicate},
		{"security text not UTF-8", nil, pending{KindSecurity, func() []byte { p := sec(); p[len(p)-1] = 0xFF; return p }()}, nil},
		{"security type unknown", nil, pending{KindSecurity, func() []byte { p := sec(); p[8] = 0xEE; return p }()}, nil},
		{"security payload short", nil, pending{KindSecurity, func() []byte { p := sec(); return p[:len(p)-1] }()}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := rawLog(t, append(append(append([]pending{}, good...), c.pre...), c.bad))
			badSeq := uint64(len(good) + len(c.pre) + 1)
			check := func(what string, err error) {
				t.Helper()
				var ce *CorruptionError
				if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: %v, want a *CorruptionError matching ErrCorrupt", what, err)
				}
				if ce.Seq != badSeq || ce.Kind != c.bad.Kind {
					t.Errorf("%s names %s seq %d, want %s seq %d", what, ce.Kind, ce.Seq, c.bad.Kind, badSeq)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Errorf("%s: %v, want it to match %v", what, err, c.want)
				}
			}
			_, err := Open(ctx, fsys, nil)
			check("Open", err)
			_, err = Verify(ctx, fsys, nil)
			check("Verify", err)
			_, err = Verify(ctx, fsys, &Options{DeepVerify: true})
			check("DeepVerify", err)
		})
	}
	// The good records alone open, and come back as written.
	m := mustOpen(t, rawLog(t, good), nil)
	defer m.Close()
	if n, ev := m.InvoiceCount(), m.SecurityEvents(); n != goodInvoices || len(ev) != 1 || ev[0].Text != "abc" || ev[0].Type != SecInspection {
		t.Fatalf("reopened: %d invoices, events %+v", n, ev)
	}
	vs, err := m.InvoicesByRequestID(ctx, 77)
	if err != nil || len(vs) != 2 || vs[0].Detail.Number != 12 || vs[1].Detail.Number != 13 || vs[0].RequestID != 77 || vs[1].RequestID != 77 {
		t.Fatalf("InvoicesByRequestID(77) after replay: %v %+v", err, vs)
	}
	if _, err := m.InvoicesByRequestID(ctx, 78); !errors.Is(err, ErrNotFound) {
		t.Errorf("InvoicesByRequestID(78): %v, want ErrNotFound", err)
	}
}
