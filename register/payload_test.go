package register

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// TestIssuePayload checks that recovery reads the issue intents of this
// version (memory's invoice payload) and of older ones (JSON) alike.
func TestIssuePayload(t *testing.T) {
	v := Invoice{
		Detail: fiscal.InvoiceDetail{Date: fiscal.MustDate(2026, 11, 26), Type: fiscal.InvoiceNormal, Number: 7, Total: 250},
		Code:   fiscal.InvoiceCode([]byte("1440000000")), Time: memory.Clock{Hour: 9},
		Indexes: fiscal.TaxIndexes{1}, Amounts: fiscal.TaxAmounts{250}, Payer: "个人", Drawer: "张三",
		Lines: []memory.Line{{Name: "午餐", Quantity: 1000, UnitPrice: 250, Amount: 250, TaxIndex: 1}},
	}
	bin, err := v.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string][]byte{"binary": bin, "json": js} {
		var got Invoice
		if err := decodeIssuePayload(p, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Detail != v.Detail || got.Code != v.Code || got.Payer != v.Payer || len(got.Lines) != 1 || got.Lines[0] != v.Lines[0] {
			t.Fatalf("%s: %+v", name, got)
		}
	}
	if err := decodeIssuePayload(bin[:20], new(Invoice)); err == nil {
		t.Fatal("a cut payload decoded")
	}
}

// FuzzIssuePayload: the decoder of issue intents never panics.
func FuzzIssuePayload(f *testing.F) {
	f.Add([]byte(`{"Detail":{}}`))
	f.Add([]byte{0x20, 0x26, 0x11, 0x26})
	f.Fuzz(func(t *testing.T, p []byte) {
		var v Invoice
		_ = decodeIssuePayload(p, &v)
	})
}

// TestIssueIntentRequestID checks the intent of an invoice with a request
// id: the id comes back; a cut or zero id is refused.
func TestIssueIntentRequestID(t *testing.T) {
	v := Invoice{
		Detail: fiscal.InvoiceDetail{Date: fiscal.MustDate(2026, 11, 26), Type: fiscal.InvoiceVoid, Number: 7},
		Code:   fiscal.InvoiceCode([]byte("1440000000")), Indexes: fiscal.TaxIndexes{1},
	}
	bin, err := v.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := append([]byte{0, 0, 0, 0, 0, 0, 0x12, 0x34}, bin...)
	var got Invoice
	if err := decodeIssueIntent(memory.Intent{Op: opIssueReq, Payload: p}, &got); err != nil || got.RequestID != 0x1234 || got.Detail != v.Detail {
		t.Fatalf("%v %+v", err, got)
	}
	for _, bad := range [][]byte{p[:7], append(make([]byte, 8), bin...), p[:len(p)-1]} {
		if err := decodeIssueIntent(memory.Intent{Op: opIssueReq, Payload: bad}, new(Invoice)); !errors.Is(err, memory.ErrInvalid) {
			t.Errorf("% x: %v", bad[:min(len(bad), 10)], err)
		}
	}
}

// FuzzIssueIntent: the decoder of request-id issue intents never panics.
func FuzzIssueIntent(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x26})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		var v Invoice
		if decodeIssueIntent(memory.Intent{Op: opIssueReq, Payload: p}, &v) == nil && v.RequestID == 0 {
			t.Fatal("decoded with request id 0")
		}
	})
}
