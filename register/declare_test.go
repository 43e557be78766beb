package register_test

import (
	"context"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register"
)

// pendingOnUserCard returns the user card's EF04 records still waiting for
// the tax office.
func pendingOnUserCard(t *testing.T, r *rig) []card.DeclarationRecord {
	t.Helper()
	return userCardDeclarations(t, r, true)
}

// userCardDeclarations returns the user card's EF04 records (only the
// pending ones if pendingOnly).
func userCardDeclarations(t *testing.T, r *rig, pendingOnly bool) []card.DeclarationRecord {
	t.Helper()
	ctx := context.Background()
	ch := card.NewChannel(r.cs.User, nil)
	if _, err := ch.SelectName(ctx, card.DFNameUser); err != nil {
		t.Fatal(err)
	}
	var out []card.DeclarationRecord
	for i := 1; i <= 10; i++ {
		b, err := ch.ReadRecord(ctx, 4, byte(i), card.DeclarationRecordLen)
		if err != nil {
			break
		}
		var dr card.DeclarationRecord
		if err := dr.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if dr.Pending || !pendingOnly {
			out = append(out, dr)
		}
	}
	return out
}

func TestDeclareAndUpdate(t *testing.T) {
	r := newRig(t, nil)
	r.setup()
	ctx := context.Background()
	d0 := fiscal.DateOf(day0)
	r.issueN(2) // 100 + 200 on day 0
	r.clock.AddDays(1)
	r.issueN(1) // 100 on day 1
	_, err := r.dev.Return(ctx, register.ReturnRequest{Number: 3})
	r.must(err)
	r.clock.AddDays(2) // day 3

	decl, err := r.dev.Declare(ctx, register.DeclareRequest{Mode: register.DeclareNormal})
	r.must(err)
	if decl.Data.Start != d0 || decl.Data.End != d0.AddDays(2) {
		t.Fatalf("period %v..%v, want %v..%v", decl.Data.Start, decl.Data.End, d0, d0.AddDays(2))
	}
	if decl.Data.NormalCount != 3 || decl.Data.ReturnCount != 1 || decl.Data.Normal.Sum() != 400 || decl.Data.Return.Sum() != 100 {
		t.Fatalf("declaration data %+v", decl.Data)
	}
	if decl.Response.Status != 0 || decl.Response.TotalValid != 400 || decl.Response.TotalReturn != 100 {
		t.Fatalf("card response %+v", decl.Response)
	}
	data, _ := decl.Data.MarshalBinary()
	resp, _ := decl.Response.MarshalBinary()
	if err := r.cs.Verifier().Declaration(r.cs.Options.FiscalCardNo, data, resp); err != nil {
		t.Fatalf("declaration MAC/signature: %v", err)
	}
	if p := pendingOnUserCard(t, r); len(p) != 1 || p[0].Declaration != decl.Data {
		t.Fatalf("user card EF04 pending: %+v", p)
	}
	st := r.dev.Status()
	if st.PeriodStart != d0.AddDays(3) || st.PeriodNormal != 0 || st.PeriodReturn != 0 {
		t.Fatalf("period after declaration: %+v", st)
	}
	// A return of an invoice of the declared period is refused.
	_, err = r.dev.Return(ctx, register.ReturnRequest{Number: 1})
	wantErr(t, err, register.ErrNotReturnable, 0x86)
	// Nothing new can be declared or updated until the tax office processed it.
	r.clock.AddDays(1)
	_, err = r.dev.Declare(ctx, register.DeclareRequest{})
	wantErr(t, err, register.ErrDeclarationPending, 0x45)
	_, err = r.dev.UpdateControls(ctx)
	wantErr(t, err, register.ErrDeclarationPending, 0x45)

	// The tax office processes it and writes new controls.
	next := fiscal.ControlData{Deadline: fiscal.MustDate(2028, time.June, 30), SingleLimit: 2_000_000, TotalLimit: 50_000_000,
		ReturnLimit: 5_000_000, Indexes: fiscal.TaxIndexes{1}}
	if n, err := r.cs.ProcessDeclarations(next); err != nil || n != 1 {
		t.Fatalf("ProcessDeclarations: %d %v", n, err)
	}
	ctl, err := r.dev.UpdateControls(ctx)
	r.must(err)
	if ctl != next || r.dev.Status().Controls != next {
		t.Fatalf("controls after update %+v, want %+v", ctl, next)
	}
	// The controls survive a restart (read from the fiscal card).
	r.must(r.reopen())
	if got := r.dev.Status().Controls; got != next {
		t.Fatalf("controls after restart %+v", got)
	}
	// Re-declare writes the last declaration to the user card again.
	if _, err := r.dev.Declare(ctx, register.DeclareRequest{Mode: register.Redeclare}); err != nil {
		t.Fatal(err)
	}
	if p := pendingOnUserCard(t, r); len(p) != 1 || p[0].Declaration != decl.Data {
		t.Fatalf("after re-declaration: %+v", p)
	}
	if _, err := r.cs.ProcessDeclarations(next); err != nil {
		t.Fatal(err)
	}
	// Stop declaration: through today; no invoice today afterwards.
	r.issueN(1)
	stop, err := r.dev.Declare(ctx, register.DeclareRequest{Mode: register.DeclareStop})
	r.must(err)
	if today := fiscal.DateOf(r.clock.Now()); stop.Data.Start != d0.AddDays(3) || stop.Data.End != today || stop.Data.NormalCount != 1 {
		t.Fatalf("stop declaration %+v", stop.Data)
	}
	_, err = r.dev.Issue(ctx, sale(100))
	wantErr(t, err, register.ErrStopped, 0x8B)
	if n := len(r.dev.Declarations()); n != 2 {
		t.Fatalf("%d declarations stored", n)
	}
}

func TestDeclareModes(t *testing.T) {
	ctx := context.Background()
	d0 := fiscal.DateOf(day0) // 2026-11-26
	t.Run("month", func(t *testing.T) {
		r := newRig(t, nil)
		r.setup()
		_, err := r.dev.Declare(ctx, register.DeclareRequest{Mode: register.DeclareMonth})
		wantErr(t, err, register.ErrNothingToDeclare, 0x8A) // October ended before initialisation
		r.clock.Set(time.Date(2026, time.December, 3, 9, 0, 0, 0, fiscal.Zone()))
		decl, err := r.dev.Declare(ctx, register.DeclareRequest{Mode: register.DeclareMonth})
		r.must(err)
		if decl.Data.Start != d0 || decl.Data.End != fiscal.MustDate(2026, time.November, 30) {
			t.Fatalf("month declaration %v..%v", decl.Data.Start, decl.Data.End)
		}
	})
	t.Run("clipped to the deadline", func(t *testing.T) {
		r := newRig(t, func(o *emulator.IssueOptions) { o.Controls.Deadline = d0.AddDays(2) })
		r.setup()
		r.clock.AddDays(6)
		decl, err := r.dev.Declare(ctx, register.DeclareRequest{})
		r.must(err)
		if decl.Data.End != d0.AddDays(2) {
			t.Fatalf("end %v, want the deadline %v", decl.Data.End, d0.AddDays(2))
		}
	})
	t.Run("normal end after yesterday", func(t *testing.T) {
		r := newRig(t, nil)
		r.setup()
		_, err := r.dev.Declare(ctx, register.DeclareRequest{End: d0})
		wantErr(t, err, register.ErrBadRequest, 0x84)
	})
	t.Run("no user card", func(t *testing.T) {
		r := newRig(t, nil)
		r.setup()
		r.clock.AddDays(1)
		r.dev.SetUserCard(nil)
		_, err := r.dev.Declare(ctx, register.DeclareRequest{})
		wantErr(t, err, register.ErrNoUserCard, 0x04)
	})
}
