package register_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
	"github.com/fiscalkit/gb18240/register/print"
)

func TestReports(t *testing.T) {
	r := newRig(t, smallRolls)
	r.setup()
	ctx := context.Background()
	d0 := fiscal.DateOf(day0)
	r.issueN(2) // 100, 200
	_, err := r.dev.Void(ctx, register.VoidRequest{Drawer: "李四"})
	r.must(err)
	_, err = r.dev.Distribute(ctx)
	r.must(err)
	_, err = r.dev.LoadRoll(ctx) // the first roll (4 invoices) is not used up
	wantErr(t, err, register.ErrRollNotUsedUp, 0x4A)
	r.issueN(1) // number 4: roll used up
	_, err = r.dev.LoadRoll(ctx)
	r.must(err)
	r.clock.AddDays(1)
	r.issueN(1)
	r.clock.AddDays(1)
	_, err = r.dev.Declare(ctx, register.DeclareRequest{})
	r.must(err)

	rep, err := r.dev.PeriodReport(ctx, d0, d0.AddDays(1))
	r.must(err)
	if rep.Mismatch || rep.ClosedDays != 2 || rep.Computed.Normal != 500 || rep.SignedNormal != 500 || rep.Computed.VoidCount != 1 {
		t.Fatalf("period report %+v", rep)
	}
	voids, err := r.dev.VoidRegister(ctx, fiscal.Date{}, fiscal.Date{})
	r.must(err)
	if len(voids) != 1 || voids[0].Detail.Number != 3 || voids[0].Drawer != "李四" {
		t.Fatalf("void register %+v", voids)
	}
	us := r.dev.RollUsages()
	if len(us) != 1 || us[0].NormalCount != 3 || us[0].VoidCount != 1 || us[0].Normal != 400 {
		t.Fatalf("roll usage %+v", us)
	}
	h := r.dev.History()
	kinds := map[string]bool{}
	for _, e := range h {
		kinds[e.Kind] = true
	}
	if !kinds["factory"] || !kinds["initialisation"] || !kinds["declaration"] {
		t.Fatalf("history %+v", h)
	}
	for name, f := range map[string]func(cols int) (*print.Doc, error){
		"period":       func(c int) (*print.Doc, error) { return r.dev.PrintPeriodReport(ctx, d0, d0.AddDays(1), c) },
		"rolls":        func(c int) (*print.Doc, error) { return r.dev.PrintRollReport(ctx, c) },
		"voids":        func(c int) (*print.Doc, error) { return r.dev.PrintVoidRegister(ctx, d0, d0, c) },
		"declarations": r.dev.PrintDeclarations,
		"history":      r.dev.PrintHistory,
		"security":     r.dev.PrintSecurityLog,
	} {
		for _, cols := range []int{print.Columns57mm, print.Columns76mm} {
			doc, err := f(cols)
			r.must(err)
			lines, err := doc.Lines()
			r.must(err)
			for _, l := range lines {
				if print.StringWidth(l) > cols {
					t.Errorf("%s: line %q wider than %d", name, l, cols)
				}
			}
			if _, err := doc.Bytes(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// TestReportMismatch stores a daily record that disagrees with the
// invoices: the period report says so instead of hiding it.
func TestReportMismatch(t *testing.T) {
	r := newRig(t, nil)
	r.setup()
	ctx := context.Background()
	d0 := fiscal.DateOf(day0)
	r.issueN(2)
	bad := fiscal.DailyRecord{Date: d0, NormalCount: 2, Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{250}}
	r.must(r.mem.AddDaily(ctx, memory.Daily{Record: bad}))
	rep, err := r.dev.PeriodReport(ctx, d0, d0)
	r.must(err)
	if !rep.Mismatch || len(rep.MismatchDays) != 1 || rep.MismatchDays[0] != d0 {
		t.Fatalf("mismatch not reported: %+v", rep)
	}
	doc, err := r.dev.PrintPeriodReport(ctx, d0, d0, print.Columns57mm)
	r.must(err)
	if !strings.Contains(doc.Preview(), "不符") {
		t.Fatalf("printed report hides the mismatch:\n%s", doc.Preview())
	}
	day, err := r.dev.DailyReport(ctx, d0)
	r.must(err)
	if !day.Mismatch {
		t.Fatalf("daily report hides the mismatch: %+v", day)
	}
}
