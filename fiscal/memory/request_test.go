package memory

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

// TestRequestIDs stores invoices with and without request ids and reads
// them back by every path, before and after reopening.
func TestRequestIDs(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	v1 := testInvoice(1, day(0), fiscal.InvoiceNormal, 300)
	v1.RequestID = 0xfeedface00000001
	must(t, m.AddInvoice(ctx, v1))
	must(t, m.AddInvoice(ctx, testInvoice(2, day(0), fiscal.InvoiceNormal, 300))) // no id
	// Two voids of one request: the same id on consecutive invoices.
	for n := uint32(3); n <= 4; n++ {
		v := testInvoice(n, day(0), fiscal.InvoiceVoid, 0)
		v.RequestID = 77
		must(t, m.AddInvoice(ctx, v))
	}
	check := func(m *Memory) {
		t.Helper()
		got, err := m.InvoiceByRequestID(ctx, v1.RequestID)
		if err != nil || got.Detail.Number != 1 || got.RequestID != v1.RequestID {
			t.Fatalf("InvoiceByRequestID: %v %d %x", err, got.Detail.Number, got.RequestID)
		}
		vs, err := m.InvoicesByRequestID(ctx, 77)
		if err != nil || len(vs) != 2 || vs[0].Detail.Number != 3 || vs[1].Detail.Number != 4 || vs[1].RequestID != 77 {
			t.Fatalf("InvoicesByRequestID(77): %v %+v", err, vs)
		}
		for _, id := range []uint64{0, 78} {
			if _, err := m.InvoiceByRequestID(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("request id %d: %v, want ErrNotFound", id, err)
			}
		}
		if v, _ := m.Invoice(ctx, testCode, 1); v.RequestID != v1.RequestID {
			t.Errorf("Invoice: request id %x", v.RequestID)
		}
		if v, _ := m.Invoice(ctx, testCode, 2); v.RequestID != 0 {
			t.Errorf("invoice without id reads back with %x", v.RequestID)
		}
		if v, _ := m.LastInvoice(ctx); v.RequestID != 77 {
			t.Errorf("LastInvoice: request id %d", v.RequestID)
		}
		var ids []uint64
		must(t, m.EachInvoice(ctx, fiscal.Date{}, fiscal.Date{}, func(v Invoice) error { ids = append(ids, v.RequestID); return nil }))
		if len(ids) != 4 || ids[0] != v1.RequestID || ids[1] != 0 || ids[2] != 77 || ids[3] != 77 {
			t.Errorf("EachInvoice ids %x", ids)
		}
		ids = ids[:0]
		must(t, m.EachInvoiceOf(ctx, m.CurrentApplication(), fiscal.Date{}, fiscal.Date{}, func(v Invoice) error { ids = append(ids, v.RequestID); return nil }))
		if m.CurrentApplication() >= 0 && (len(ids) != 4 || ids[0] != v1.RequestID) {
			t.Errorf("EachInvoiceOf ids %x", ids)
		}
	}
	check(m)
	m.Close()
	m = mustOpen(t, fsys, &Options{DeepVerify: true})
	check(m)

	var buf bytes.Buffer
	must(t, m.Export(ctx, &buf))
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var o map[string]any
		must(t, json.Unmarshal([]byte(line), &o))
		if o["kind"] == "request" {
			n++
			if n == 1 && (o["code"] != testCode.String() || o["number"] != 1.0 || o["request_id"] != float64(v1.RequestID)) {
				t.Errorf("export: %s", line)
			}
		}
	}
	if n != 3 {
		t.Errorf("export has %d request lines, want 3", n)
	}
}

// TestRequestRules checks the rules of KindRequest records: each refused
// batch leaves the memory as it was.
func TestRequestRules(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	v1 := testInvoice(1, day(0), fiscal.InvoiceNormal, 300)
	v1.RequestID = 5
	must(t, m.AddInvoice(ctx, v1))
	must(t, m.AddInvoice(ctx, testInvoice(2, day(0), fiscal.InvoiceNormal, 300)))
	before := bytes.Clone(fsys.Bytes(segmentName(1)))

	v3 := testInvoice(3, day(0), fiscal.InvoiceNormal, 300)
	cases := []struct {
		name string
		b    *Batch
		want error
	}{
		{"id 0", new(Batch).AddRequest(RequestRecord{Code: testCode, Number: 2}), ErrInvalid},
		{"bad code", new(Batch).AddRequest(RequestRecord{Number: 2, ID: 9}), ErrInvalid},
		{"older invoice", new(Batch).AddRequest(RequestRecord{Code: testCode, Number: 1, ID: 9}), ErrOrder},
		{"unknown invoice", new(Batch).AddRequest(RequestRecord{Code: testCode, Number: 9, ID: 9}), ErrOrder},
		{"second id", new(Batch).AddRequest(RequestRecord{Code: testCode, Number: 2, ID: 6}).AddRequest(RequestRecord{Code: testCode, Number: 2, ID: 7}), ErrDuplicate},
		// Invoice 2 (no id) lies between: id 5 is an earlier request's.
		{"id of an earlier request", new(Batch).AddInvoice(func() Invoice { v := v3; v.RequestID = 5; return v }()), ErrDuplicate},
	}
	for _, c := range cases {
		if err := m.Commit(ctx, c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if !bytes.Equal(fsys.Bytes(segmentName(1)), before) {
			t.Fatalf("%s: refused batch changed the memory", c.name)
		}
	}
	if _, err := m.InvoicesByRequestID(ctx, 6); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused id is known: %v", err)
	}
	// The newest invoice may get its id afterwards, once.
	must(t, m.Commit(ctx, new(Batch).AddRequest(RequestRecord{Code: testCode, Number: 2, ID: 6})))
	if v, _ := m.InvoiceByRequestID(ctx, 6); v.Detail.Number != 2 {
		t.Errorf("id 6 names invoice %d", v.Detail.Number)
	}
	m.Close()
	if rep, err := Verify(ctx, fsys, nil); err != nil || !rep.OK() {
		t.Fatalf("verify: %v", err)
	}
}

// TestRequestVerifyRefuses writes, with the raw writer, a request record
// that breaks a rule and checks that Verify names it.
func TestRequestVerifyRefuses(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	must(t, m.AddInvoice(ctx, testInvoice(1, day(0), fiscal.InvoiceNormal, 300)))
	p, _ := RequestRecord{Code: testCode, Number: 2, ID: 1}.appendPayload(nil) // no invoice 2
	if _, err := m.w.write([]pending{{Kind: KindRequest, Payload: p}}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	_, err := Verify(ctx, fsys, nil)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Kind != KindRequest || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify: %v", err)
	}
}
