package register_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fiscalkit/gb18240/register"
)

// TestRequestIDExactlyOnce sends each issuing request twice, the second
// time to a new Device on the same fiscal memory and cards (a restart):
// the second answer is the stored invoice, nothing is issued again, and
// the invoices read back carry their ids.
func TestRequestIDExactlyOnce(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	r.setup()
	req := sale(500)
	req.RequestID = 11
	v1, err := r.dev.Issue(ctx, req)
	r.must(err)
	same := sale(500) // same content, another request
	same.RequestID = 12
	v2, err := r.dev.Issue(ctx, same)
	r.must(err)
	ret, err := r.dev.Return(ctx, register.ReturnRequest{Number: v1.Detail.Number, RequestID: 13})
	r.must(err)
	voids, err := r.dev.Void(ctx, register.VoidRequest{Count: 2, RequestID: 14})
	r.must(err)
	if v1.RequestID != 11 || v2.RequestID != 12 || ret.RequestID != 13 || len(voids) != 2 || voids[1].RequestID != 14 {
		t.Fatalf("issued invoices carry ids %d %d %d %+v", v1.RequestID, v2.RequestID, ret.RequestID, voids)
	}
	count := r.mem.InvoiceCount()

	r.must(r.dev.Close())
	r.must(r.mem.Close())
	r.cs.Fiscal.Reset()
	r.cs.User.Reset()
	r.open(r.fs)
	apdus := r.apdus

	got, err := r.dev.Issue(ctx, req)
	if err != nil || got.Detail != v1.Detail || got.RequestID != 11 {
		t.Fatalf("repeated issue: %v %+v, want invoice %d", err, got.Detail, v1.Detail.Number)
	}
	got, err = r.dev.Issue(ctx, same)
	if err != nil || got.Detail.Number != v2.Detail.Number {
		t.Fatalf("repeated issue of the same content: %v, invoice %d, want %d", err, got.Detail.Number, v2.Detail.Number)
	}
	got, err = r.dev.Return(ctx, register.ReturnRequest{Number: v1.Detail.Number, RequestID: 13})
	if err != nil || got.Detail != ret.Detail {
		t.Fatalf("repeated return: %v %+v", err, got.Detail)
	}
	vs, err := r.dev.Void(ctx, register.VoidRequest{Count: 2, RequestID: 14})
	if err != nil || len(vs) != 2 || vs[0].Detail != voids[0].Detail || vs[1].Detail != voids[1].Detail {
		t.Fatalf("repeated void: %v %+v", err, vs)
	}
	if n := r.mem.InvoiceCount(); n != count {
		t.Fatalf("repeats issued %d invoices", n-count)
	}
	if r.apdus != apdus {
		t.Errorf("repeats sent %d card commands", r.apdus-apdus)
	}
	// An id of another kind of request is refused, not answered.
	if _, err := r.dev.Void(ctx, register.VoidRequest{RequestID: 11}); !errors.Is(err, register.ErrBadRequest) {
		t.Errorf("void with a normal invoice's id: %v", err)
	}
	if _, err := r.dev.Issue(ctx, register.InvoiceRequest{RequestID: 14}); !errors.Is(err, register.ErrBadRequest) {
		t.Errorf("issue with a void's id: %v", err)
	}
	// A new id issues.
	req.RequestID = 15
	v3, err := r.dev.Issue(ctx, req)
	r.must(err)
	if v3.Detail.Number == v1.Detail.Number || v3.RequestID != 15 {
		t.Fatalf("new id: invoice %d id %d", v3.Detail.Number, v3.RequestID)
	}
	back, err := r.mem.Invoice(ctx, v3.Code, v3.Detail.Number)
	if err != nil || back.RequestID != 15 {
		t.Fatalf("read back: %v id %d", err, back.RequestID)
	}
}
