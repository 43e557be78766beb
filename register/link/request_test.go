package link

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"
)

// InvoicesByRequest of the dispatch stubs: two records for id 7 (a void
// request), none for any other id.
func (*serviceStub) InvoicesByRequest(_ context.Context, id uint64, skip, limit int) ([]Invoice, error) {
	if id != 7 {
		return nil, nil
	}
	all := []Invoice{{No: 5, Type: TypeVoid, RequestID: 7}, {No: 6, Type: TypeVoid, RequestID: 7}}
	all = all[min(skip, len(all)):]
	return all[:min(len(all), limit)], nil
}

// Golden frames of CmdInvoicesByRequest, with CRCs from a separate bitwise
// CRC-16/BUYPASS in Python over the bytes shown.
func TestGoldenInvoicesByRequest(t *testing.T) {
	w := &writer{}
	RequestQuery{RequestID: 0x0123456789ABCDEF}.encode(w)
	// 1B 10 cmd=70 pack=00 len=0x11 ‖ id u64 ‖ skip u32 ‖ CRC
	req, err := AppendRequest(nil, Request{Command: CmdInvoicesByRequest, Data: w.b})
	if err != nil || hex.EncodeToString(req) != "1b107000110123456789abcdef000000007d55" {
		t.Fatalf("request %x, %v", req, err)
	}
	// OK ‖ pack 0 ‖ len 0x2B ‖ more 0 ‖ count 1 ‖ one 36-byte invoice record ‖ CRC
	inv := Invoice{No: 42, Type: TypeNormal, Time: cst(2026, 11, 27, 8, 30, 5), Total: 1250,
		FiscalCode: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, RequestID: 0x0123456789ABCDEF}
	w = &writer{}
	encodeList(w, false, []Invoice{inv})
	rep, err := AppendResponse(nil, Response{Status: StatusOK, Data: w.b})
	const want = "4f4b002b0000010000002a0120261127083005000004e20102030405060708000000000123456789abcdefda27"
	if err != nil || hex.EncodeToString(rep) != want {
		t.Fatalf("reply %x, %v", rep, err)
	}
	roundTrip(t, RequestQuery{RequestID: 9, Skip: 3}, 12)
	// A zero id is malformed.
	var q RequestQuery
	r := &reader{b: make([]byte, 12)}
	q.decode(r)
	if err := r.end(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("zero id: %v", err)
	}
}

// The server serves CmdInvoicesByRequest through RequestHandler, and
// answers "unknown command" for a handler without it.
func TestDispatchInvoicesByRequest(t *testing.T) {
	ctx := context.Background()
	w := &writer{}
	RequestQuery{RequestID: 7, Skip: 1}.encode(w)
	rep := NewServer(&serviceStub{}, nil).dispatch(ctx, CmdInvoicesByRequest, w.b)
	r := &reader{b: rep.data}
	x, more := decodeList[Invoice](r, invoiceSize)
	if rep.status != StatusOK || r.end() != nil || more || len(x) != 1 || x[0].No != 6 {
		t.Fatalf("lookup: %v %x", rep.status, rep.data)
	}
	rep = NewServer(stubHandler{}, nil).dispatch(ctx, CmdInvoicesByRequest, w.b)
	if rep.status != StatusER || !bytes.Equal(rep.data, []byte{byte(CodeUnknownCommand)}) {
		t.Fatalf("handler without lookup: %v %x", rep.status, rep.data)
	}
}
