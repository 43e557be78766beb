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
	if st.Taxpayer != "新店主餐馆" || st.Next != 0 || st.Waiting != 0 || st.InitDate != d0 || st.PeriodStart != d0 || st.PeriodNormal != 0 {
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
	// The new taxpayer issues on the day of the change.
	inv, err := r.dev.Issue(ctx, sale(100))
	r.must(err)
	if inv.Code.String() != "1440000002" || inv.Detail.Number != 1001 {
		t.Fatalf("first invoice of the new owner %v/%d", inv.Code, inv.Detail.Number)
	}
	if st := r.dev.Status(); st.PeriodNormal != 100 {
		t.Fatalf("new owner's period total %v", st.PeriodNormal)
	}
	// An invoice of the old taxpayer is not the new one's to return.
	_, err = r.dev.Return(ctx, register.ReturnRequest{Code: fiscal.InvoiceCode([]byte("1440000000")), Number: 2})
	wantErr(t, err, register.ErrNotReturnable, 0x86)

	// Next day: the new fiscal card signs its own part of the day of the
	// change, and the new taxpayer declares only its own sales.
	r.clock.AddDays(1)
	r.cs = next
	r.must(r.reopen())
	if ds := r.mem.Dailies(d0, d0); len(ds) != 2 || ds[0].Record.NormalCount != 2 || ds[1].Record.NormalCount != 1 || ds[1].Record.Normal.Sum() != 100 {
		t.Fatalf("daily records of the day of the change %+v", ds)
	}
	decl, err := r.dev.Declare(ctx, register.DeclareRequest{})
	r.must(err)
	if decl.Data.Start != d0 || decl.Data.End != d0 || decl.Data.NormalCount != 1 || decl.Data.Normal.Sum() != 100 || decl.Response.Status != 0 {
		t.Fatalf("new owner's first declaration %+v", decl)
	}
	rep, err := r.dev.PeriodReport(ctx, d0, d0)
	r.must(err)
	if rep.Mismatch || rep.SignedNormalCount != 3 || rep.Computed.NormalCount != 3 {
		t.Fatalf("period report of the day of the change %+v", rep)
	}
	if dr, err := r.dev.DailyReport(ctx, d0); err != nil || dr.Mismatch || !dr.HasSigned || dr.Signed.NormalCount != 1 {
		t.Fatalf("daily report of the day of the change %+v %v", dr, err)
	}
	old, err := r.dev.InvoiceByNumber(ctx, fiscal.InvoiceCode([]byte("1440000000")), 2)
	r.must(err)
	if old.Detail.Total != 200 {
		t.Fatalf("old invoice %+v", old.Detail)
	}
	vrep, err := r.mem.Verify(ctx)
	if err != nil || !vrep.OK() {
		t.Fatalf("verify: %v %+v", err, vrep)
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
