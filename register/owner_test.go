package register_test

import (
	"context"
	"testing"

	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register"
)

func TestChangeOwner(t *testing.T) {
	r := newRig(t, nil)
	r.setup()
	ctx := context.Background()
	d0 := fiscal.DateOf(day0)
	r.issueN(2)
	_, err := r.dev.Distribute(ctx) // waits, will be dropped
	r.must(err)

	next, err := emulator.Issue(issueOpts(func(o *emulator.IssueOptions) {
		o.FiscalCardNo = fiscal.CardNumber{0x11, 0, 0, 0, 0, 0, 0, 0x02}
		o.TaxpayerNo = fiscal.CardNumber{0x33, 0, 0, 0, 0, 0, 0, 0x02}
		o.TaxpayerName = "新店主餐馆"
		o.TaxpayerID = "440300000000002"
		o.Rolls = []emulator.PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000002")), Start: 1001, End: 1100}}
	}))
	r.must(err)
	r.must(r.dev.ChangeOwner(ctx, register.ChangeOwnerRequest{Fiscal: next.Fiscal, User: next.User, UserPIN: userPIN}))
	st := r.dev.Status()
	if st.Taxpayer != "新店主餐馆" || st.Next != 0 || st.Waiting != 0 || st.InitDate != d0 || st.PeriodStart != d0.AddDays(1) {
		t.Fatalf("status after change of owner %+v", st)
	}
	decls := r.dev.Declarations()
	if len(decls) != 1 || decls[0].Data.End != d0 || decls[0].Data.NormalCount != 2 {
		t.Fatalf("final stop declaration %+v", decls)
	}
	if h := r.mem.ApplicationHistory(); len(h) != 2 || h[0].TaxpayerName != "深圳市示例商店" {
		t.Fatalf("application history %+v", h)
	}
	_, err = r.dev.Distribute(ctx)
	r.must(err)
	_, err = r.dev.LoadRoll(ctx)
	r.must(err)
	_, err = r.dev.Issue(ctx, sale(100))
	wantErr(t, err, register.ErrStopped, 0x8B)

	r.clock.AddDays(1)
	r.cs = next
	r.must(r.reopen())
	inv, err := r.dev.Issue(ctx, sale(100))
	r.must(err)
	if inv.Code.String() != "1440000002" || inv.Detail.Number != 1001 {
		t.Fatalf("first invoice of the new owner %v/%d", inv.Code, inv.Detail.Number)
	}
	old, err := r.dev.InvoiceByNumber(ctx, fiscal.InvoiceCode([]byte("1440000000")), 2)
	r.must(err)
	if old.Detail.Total != 200 {
		t.Fatalf("old invoice %+v", old.Detail)
	}
	rep, err := r.mem.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	inits := 0
	for _, e := range r.dev.History() {
		if e.Kind == "initialisation" {
			inits++
		}
	}
	if inits != 2 {
		t.Fatalf("history shows %d initialisations", inits)
	}
}
