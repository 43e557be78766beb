package register_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register"
)

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	d0 := fiscal.DateOf(day0)
	tests := []struct {
		name     string
		mod      func(*emulator.IssueOptions)
		run      func(r *rig) error
		sentinel error
		code     byte
	}{
		{name: "deadline passed", mod: func(o *emulator.IssueOptions) { o.Controls.Deadline = d0.AddDays(2) },
			run: func(r *rig) error {
				r.setup()
				r.clock.AddDays(3)
				_, err := r.dev.Issue(ctx, sale(100))
				if st := r.dev.Status(); !st.DeadlinePassed {
					t.Errorf("status does not show the deadline: %+v", st)
				}
				return err
			}, sentinel: register.ErrDeadlinePassed, code: 0x11},
		{name: "single-invoice limit (card 9401)", mod: func(o *emulator.IssueOptions) { o.Controls.SingleLimit = 1000 },
			run: func(r *rig) error {
				r.setup()
				_, err := r.dev.Issue(ctx, sale(1500))
				var se *card.StatusError
				if !errors.As(err, &se) || se.SW != card.SWLimitOrNoInvoice {
					t.Errorf("card status not reachable: %v", err)
				}
				// The refused number is issued next, none is skipped.
				inv, err2 := r.dev.Issue(ctx, sale(900))
				if err2 != nil || inv.Detail.Number != 1 {
					t.Errorf("after a refusal: %v %+v", err2, inv.Detail)
				}
				return err
			}, sentinel: register.ErrSingleLimit, code: 0x12},
		{name: "line amount beyond any card amount", run: func(r *rig) error {
			r.setup()
			// Quantity × UnitPrice overflows int64; it must not wrap.
			req := sale(fiscal.MaxCardAmount)
			req.Lines[0].Quantity = math.MaxUint32
			_, err := r.dev.Issue(ctx, req)
			if st := r.dev.Status(); st.Next != 1 {
				t.Errorf("a refused request moved the invoice number to %d", st.Next)
			}
			return err
		}, sentinel: register.ErrSingleLimit, code: 0x12},
		{name: "cumulative limit", mod: func(o *emulator.IssueOptions) { o.Controls.TotalLimit = 1000 },
			run: func(r *rig) error {
				r.setup()
				r.issueN(1)           // 100
				r.must(issue(r, 800)) // 900
				return issue(r, 101)
			}, sentinel: register.ErrCumulativeLimit, code: 0x13},
		{name: "return limit", mod: func(o *emulator.IssueOptions) { o.Controls.ReturnLimit = 150 },
			run: func(r *rig) error {
				r.setup()
				r.issueN(2) // 100, 200
				_, err := r.dev.Return(ctx, register.ReturnRequest{Number: 1})
				r.must(err)
				_, err = r.dev.Return(ctx, register.ReturnRequest{Number: 2})
				return err
			}, sentinel: register.ErrReturnLimit, code: 0x14},
		{name: "wrong fiscal card", run: func(r *rig) error {
			r.must(r.dev.WriteFactoryData(ctx, register.Factory{Number: fiscal.MachineNumber{0x99, 0, 0, 0, 0, 0, 0, 1}}))
			return r.dev.Initialise(ctx)
		}, sentinel: register.ErrWrongFiscalCard, code: 0x15},
		{name: "user card of another machine", run: func(r *rig) error {
			other, err := emulator.Issue(issueOpts(func(o *emulator.IssueOptions) {
				o.MachineNo = fiscal.MachineNumber{0x22, 0, 0, 0, 0, 0, 0, 0x02}
			}))
			r.must(err)
			r.dev.SetUserCard(other.User)
			r.must(r.dev.WriteFactoryData(ctx, register.Factory{Number: machineNo}))
			return r.dev.Initialise(ctx)
		}, sentinel: register.ErrIllegalUserCard, code: 0x0E},
		{name: "no user card", run: func(r *rig) error {
			r.dev.SetUserCard(nil)
			r.must(r.dev.WriteFactoryData(ctx, register.Factory{Number: machineNo}))
			return r.dev.Initialise(ctx)
		}, sentinel: register.ErrNoUserCard, code: 0x04},
		{name: "initialise without factory data", run: func(r *rig) error { return r.dev.Initialise(ctx) },
			sentinel: register.ErrNoFactoryData, code: 0x87},
		{name: "initialise twice", run: func(r *rig) error { r.setup(); return r.dev.Initialise(ctx) },
			sentinel: register.ErrAlreadyInitialised, code: 0x82},
		{name: "factory data twice", run: func(r *rig) error {
			r.setup()
			return r.dev.WriteFactoryData(ctx, register.Factory{Number: machineNo})
		}, sentinel: register.ErrAlreadyInitialised, code: 0x82},
		{name: "no roll loaded", run: func(r *rig) error {
			r.must(r.dev.WriteFactoryData(ctx, register.Factory{Number: machineNo}))
			r.must(r.dev.Initialise(ctx))
			return issue(r, 100)
		}, sentinel: register.ErrNoInvoices, code: 0x80},
		{name: "roll used up", mod: smallRolls, run: func(r *rig) error {
			r.setup()
			r.issueN(4)
			return issue(r, 100)
		}, sentinel: register.ErrNoInvoices, code: 0x80},
		{name: "load while the roll has invoices", run: func(r *rig) error {
			r.setup()
			_, err := r.dev.Distribute(ctx)
			r.must(err)
			_, err = r.dev.LoadRoll(ctx)
			return err
		}, sentinel: register.ErrRollNotUsedUp, code: 0x4A},
		{name: "no roll left on the user card", run: func(r *rig) error {
			r.setup()
			_, err := r.dev.Distribute(ctx) // the second and last roll
			r.must(err)
			_, err = r.dev.Distribute(ctx)
			return err
		}, sentinel: register.ErrNoInvoices, code: 0x80},
		{name: "20 rolls waiting", mod: func(o *emulator.IssueOptions) {
			o.Rolls = []emulator.PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 2500, Rolls: 25}}
		}, run: func(r *rig) error {
			r.setup()
			for i := 0; i < register.MaxWaitingRolls; i++ {
				_, err := r.dev.Distribute(ctx)
				r.must(err)
			}
			_, err := r.dev.Distribute(ctx)
			return err
		}, sentinel: register.ErrRollStoreFull, code: 0x58},
		{name: "eleven lines", run: func(r *rig) error {
			r.setup()
			req := sale(100)
			for len(req.Lines) < 11 {
				req.Lines = append(req.Lines, req.Lines[0])
			}
			_, err := r.dev.Issue(ctx, req)
			return err
		}, sentinel: register.ErrTooManyLines, code: 0x4E},
		{name: "unknown tax item", run: func(r *rig) error {
			r.setup()
			req := sale(100)
			req.Lines[0].TaxIndex = 5
			_, err := r.dev.Issue(ctx, req)
			return err
		}, sentinel: register.ErrBadRequest, code: 0x84},
		{name: "line name too long", run: func(r *rig) error {
			r.setup()
			req := sale(100)
			req.Lines[0].Name = "一份很长很长很长很长的商品名称"
			before := r.apdus
			_, err := r.dev.Issue(ctx, req)
			if r.apdus != before {
				t.Errorf("%d card commands sent for a bad request", r.apdus-before)
			}
			return err
		}, sentinel: register.ErrBadRequest, code: 0x84},
		{name: "return with a drawer name too long", run: func(r *rig) error {
			r.setup()
			r.issueN(1)
			before := r.apdus
			_, err := r.dev.Return(ctx, register.ReturnRequest{Number: 1, Drawer: "一个很长很长很长很长的开票人"})
			if r.apdus != before {
				t.Errorf("%d card commands sent for a bad request", r.apdus-before)
			}
			return err
		}, sentinel: register.ErrBadRequest, code: 0x84},
		{name: "voids with a drawer name too long", run: func(r *rig) error {
			r.setup()
			before := r.apdus
			out, err := r.dev.Void(ctx, register.VoidRequest{Count: 3, Drawer: "一个很长很长很长很长的开票人"})
			if r.apdus != before || len(out) != 0 {
				t.Errorf("%d card commands sent, %d voids issued for a bad request", r.apdus-before, len(out))
			}
			return err
		}, sentinel: register.ErrBadRequest, code: 0x84},
		{name: "return of a void", run: func(r *rig) error {
			r.setup()
			_, err := r.dev.Void(ctx, register.VoidRequest{})
			r.must(err)
			_, err = r.dev.Return(ctx, register.ReturnRequest{Number: 1})
			return err
		}, sentinel: register.ErrNotReturnable, code: 0x86},
		{name: "return of an unknown invoice", run: func(r *rig) error {
			r.setup()
			_, err := r.dev.Return(ctx, register.ReturnRequest{Number: 42})
			return err
		}, sentinel: register.ErrNotFound, code: 0x85},
		{name: "clock goes backwards", run: func(r *rig) error {
			r.setup()
			r.clock.AddDays(1)
			r.issueN(1)
			r.clock.AddDays(-1)
			return issue(r, 100)
		}, sentinel: register.ErrClockBackwards, code: 0x83},
		{name: "five-year lock", mod: func(o *emulator.IssueOptions) {
			o.AppValid = fiscal.MustDate(2036, time.December, 31)
			o.Controls.Deadline = fiscal.MustDate(2036, time.December, 31)
		}, run: func(r *rig) error {
			r.setup()
			r.clock.AddDays(register.LockDays)
			err := issue(r, 100)
			if st := r.dev.Status(); !st.Locked {
				t.Errorf("status does not show the lock: %+v", st)
			}
			return err
		}, sentinel: register.ErrLocked, code: 0x81},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigOpts(t, tc.mod, tc.name == "five-year lock")
			err := tc.run(r)
			wantErr(t, err, tc.sentinel, tc.code)
			rep, verr := r.mem.Verify(ctx)
			if verr != nil || !rep.OK() {
				t.Fatalf("memory after refusal: %v %+v", verr, rep)
			}
		})
	}
}

func issue(r *rig, amount fiscal.Amount) error {
	_, err := r.dev.Issue(context.Background(), sale(amount))
	return err
}

// TestAPDUBudget checks that an invoice costs VERIFY_FISCAL_PIN and
// ISSUE_INVOICE only: 4 exchanges under T=0, no SELECT or file read, and
// two fiscal-memory syncs.
func TestAPDUBudget(t *testing.T) {
	for _, t1 := range []bool{false, true} {
		r := newRig(t, func(o *emulator.IssueOptions) { o.Options.T1 = t1 })
		r.setup()
		r.issueN(1)
		var ins []byte
		r.obs = func(e card.Exchange) { ins = append(ins, e.Command[1]) }
		syncs := r.mem.Stats().Syncs
		r.issueN(1)
		want := []byte{card.INSVerifyFiscalPIN, card.INSGetResponse, card.INSIssueInvoice, card.INSGetResponse}
		if t1 {
			want = []byte{card.INSVerifyFiscalPIN, card.INSIssueInvoice}
		}
		if string(ins) != string(want) {
			t.Errorf("T=1 %v: exchanges % X, want % X", t1, ins, want)
		}
		if n := r.mem.Stats().Syncs - syncs; n != 2 {
			t.Errorf("%d syncs per invoice, want 2", n)
		}
	}
}
