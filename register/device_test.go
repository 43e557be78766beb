package register_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register"
	"github.com/fiscalkit/gb18240/register/print"
)

func TestLifecycle(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	if _, err := r.dev.Issue(ctx, sale(100)); err == nil {
		t.Fatal("issued before initialisation")
	} else {
		wantErr(t, err, register.ErrNotInitialised, 0x10)
	}
	r.setup()
	st := r.dev.Status()
	if !st.Initialised || st.Next != 1 || st.Remaining != 500 || st.Roll.Code.String() != "1440000000" {
		t.Fatalf("status after setup: %+v", st)
	}
	inv, err := r.dev.Issue(ctx, sale(1234))
	r.must(err)
	if inv.Detail.Number != 1 || inv.Detail.Total != 1234 || inv.Detail.FiscalCode == (fiscal.FiscalCode{}) {
		t.Fatalf("invoice %+v", inv.Detail)
	}
	inv2, err := r.dev.Issue(ctx, sale(500))
	r.must(err)
	if inv2.Detail.Number != 2 {
		t.Fatalf("second invoice number %d", inv2.Detail.Number)
	}
	ret, err := r.dev.Return(ctx, register.ReturnRequest{Number: 1, Drawer: "张三"})
	r.must(err)
	if ret.Detail.Number != 3 || ret.Detail.Type != fiscal.InvoiceReturn || ret.Detail.Original != 1 || ret.Detail.Total != 1234 {
		t.Fatalf("return %+v", ret.Detail)
	}
	_, err = r.dev.Return(ctx, register.ReturnRequest{Number: 1})
	wantErr(t, err, register.ErrNotReturnable, 0x86)
	_, err = r.dev.Return(ctx, register.ReturnRequest{Number: 3})
	wantErr(t, err, register.ErrNotReturnable, 0x86)
	voids, err := r.dev.Void(ctx, register.VoidRequest{Count: 2})
	r.must(err)
	if len(voids) != 2 || voids[0].Detail.Number != 4 || voids[1].Detail.Number != 5 || voids[1].Detail.Type != fiscal.InvoiceVoid {
		t.Fatalf("voids %+v", voids)
	}
	// Next day: the daily close of day 0 runs by itself.
	r.clock.AddDays(1)
	_, err = r.dev.Issue(ctx, sale(700))
	r.must(err)
	st = r.dev.Status()
	if st.LastDaily != fiscal.DateOf(day0) {
		t.Fatalf("last daily %v, want %v", st.LastDaily, fiscal.DateOf(day0))
	}
	rep, err := r.dev.DailyReport(ctx, fiscal.DateOf(day0))
	r.must(err)
	if !rep.HasSigned || rep.Mismatch || rep.Signed.NormalCount != 2 || rep.Signed.ReturnCount != 1 || rep.Signed.VoidCount != 2 ||
		rep.Signed.Normal[0] != 1734 || rep.Signed.Return[0] != 1234 {
		t.Fatalf("daily report %+v", rep)
	}
	// Three days later: one record per day, days without sales included.
	r.clock.AddDays(3)
	r.must(r.reopen())
	st = r.dev.Status()
	if want := fiscal.DateOf(day0).AddDays(3); st.LastDaily != want {
		t.Fatalf("last daily after restart %v, want %v", st.LastDaily, want)
	}
	if n := len(r.mem.Dailies(fiscal.Date{}, fiscal.Date{})); n != 4 {
		t.Fatalf("%d daily records, want 4", n)
	}
	if st.Next != 7 || st.PeriodNormal != 1734+700 || st.PeriodReturn != 1234 {
		t.Fatalf("status after restart %+v", st)
	}
	rep, err = r.dev.DailyReport(ctx, fiscal.DateOf(day0).AddDays(1))
	r.must(err)
	if rep.Mismatch || rep.Signed.NormalCount != 1 {
		t.Fatalf("day 1 report %+v", rep)
	}
	// The chain of fiscal codes verifies against the card's profile.
	rpt, err := r.mem.Verify(ctx)
	r.must(err)
	if !rpt.OK() {
		t.Fatalf("fiscal memory does not verify: %+v", rpt)
	}
}

func (r *rig) reopen() error {
	r.cs.Fiscal.Reset()
	r.cs.User.Reset()
	return r.open(r.fs)
}

func TestPrinting(t *testing.T) {
	r := newRig(t, nil)
	r.setup()
	ctx := context.Background()
	inv, err := r.dev.Issue(ctx, sale(100500))
	r.must(err)
	for _, cols := range []int{print.Columns57mm, print.Columns76mm} {
		doc, err := r.dev.PrintInvoice(inv, cols)
		r.must(err)
		text := doc.Preview()
		for _, want := range []string{"1440000000", "00000001", machineNo.String(), "壹仟零伍元整", inv.Detail.FiscalCode.String(), "张三", "个人"} {
			if !strings.Contains(text, want) {
				t.Errorf("%d columns: preview lacks %q:\n%s", cols, want, text)
			}
		}
		lines, err := doc.Lines()
		r.must(err)
		for _, l := range lines {
			if w := print.StringWidth(l); w > cols {
				t.Errorf("line %q is %d columns wide, paper %d", l, w, cols)
			}
		}
		b, err := doc.Bytes()
		r.must(err)
		back, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		r.must(err)
		if !strings.Contains(string(back), "税控码") {
			t.Errorf("GB18030 bytes do not decode to the invoice")
		}
	}
	doc, err := r.dev.PrintDailyReport(ctx, fiscal.DateOf(day0), print.Columns57mm)
	r.must(err)
	if text := doc.Preview(); !strings.Contains(text, "1005.00") || !strings.Contains(text, "本日未结") ||
		!strings.Contains(text, "日汇总") || !strings.Contains(text, "机器编号："+machineNo.String()) || !strings.Contains(text, "纳税人：") {
		t.Errorf("daily report:\n%s", text)
	}
}

// TestStartWithoutFiscalCard opens the register while the fiscal card does
// not answer: Open reports it, and once the card is back the register works.
func TestStartWithoutFiscalCard(t *testing.T) {
	r := newRig(t, nil)
	r.setup()
	r.issueN(1)
	r.cs.Fiscal.PowerOff()
	err := r.open(r.fs)
	wantErr(t, err, register.ErrNoFiscalCard, 0x05)
	_, err = r.dev.Issue(context.Background(), sale(100))
	wantErr(t, err, register.ErrNoFiscalCard, 0x05)
	if st := r.dev.Status(); !st.Initialised || st.Next != 2 {
		t.Fatalf("status without the fiscal card: %+v", st)
	}
	r.cs.Fiscal.PowerOn()
	inv, err := r.dev.Issue(context.Background(), sale(100))
	r.must(err)
	if inv.Detail.Number != 2 {
		t.Fatalf("number %d", inv.Detail.Number)
	}
}
