package register_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register"
	"github.com/fiscalkit/gb18240/register/print"
)

// TestReturnAcrossRollCodes returns invoices of a roll whose invoice code
// differs from the roll loaded now. The return invoice is numbered in the
// new roll, but "already returned" is about the original (its code and
// number): an original is returned at most once, and an invoice of the new
// roll that happens to share a returned original's number stays returnable.
func TestReturnAcrossRollCodes(t *testing.T) {
	codeA, codeB := fiscal.InvoiceCode([]byte("1440000000")), fiscal.InvoiceCode([]byte("1440000001"))
	r := newRig(t, func(o *emulator.IssueOptions) {
		o.Rolls = []emulator.PurchasedRoll{{Code: codeA, Start: 1, End: 2, Rolls: 1}, {Code: codeB, Start: 1, End: 10, Rolls: 1}}
	})
	r.setup()
	ctx := context.Background()
	r.issueN(2) // A/1, A/2: roll A used up
	_, err := r.dev.Distribute(ctx)
	r.must(err)
	_, err = r.dev.LoadRoll(ctx)
	r.must(err)
	if code, n, err := r.dev.CurrentInvoiceNumber(); err != nil || code != codeB || n != 1 {
		t.Fatalf("roll B not loaded: %v %d %v", code, n, err)
	}

	ret, err := r.dev.Return(ctx, register.ReturnRequest{Code: codeA, Number: 1}) // B/1
	r.must(err)
	if ret.Code != codeB || ret.Detail.Number != 1 || ret.Detail.Original != 1 {
		t.Fatalf("return %v/%d of %d", ret.Code, ret.Detail.Number, ret.Detail.Original)
	}
	if doc, err := r.dev.PrintInvoice(ret, print.Columns57mm); err != nil || !strings.Contains(doc.Preview(), "原发票代码：1440000000") {
		t.Errorf("printed return does not name the original's roll: %v", err)
	}
	check := func(label string) {
		t.Helper()
		if _, err := r.dev.Return(ctx, register.ReturnRequest{Code: codeA, Number: 1}); !errorsIs(err, register.ErrNotReturnable) {
			t.Fatalf("%s: second return of A/1: %v", label, err)
		}
	}
	check("same process")
	_, err = r.dev.Issue(ctx, sale(300)) // B/2
	r.must(err)
	_, err = r.dev.Return(ctx, register.ReturnRequest{Code: codeA, Number: 2}) // B/3, returns A/2
	r.must(err)
	if _, err := r.dev.Return(ctx, register.ReturnRequest{Code: codeB, Number: 2}); err != nil {
		t.Fatalf("B/2 was never returned: %v", err)
	}
	r.open(r.fs) // the period is rebuilt from fiscal memory
	check("after a restart")
	if _, err := r.dev.Return(ctx, register.ReturnRequest{Code: codeB, Number: 2}); !errorsIs(err, register.ErrNotReturnable) {
		t.Fatalf("after a restart, second return of B/2: %v", err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// TestRecoverIssueAcrossRollCodes: a roll of another invoice code may start at
// the number the previous roll ended with. When an issue is cut before the
// card coded it, fiscal EF03 still names the previous roll's last invoice by
// that same number: recovery must not store the new invoice with the old
// invoice's 税控码.
func TestRecoverIssueAcrossRollCodes(t *testing.T) {
	codeA, codeB := fiscal.InvoiceCode([]byte("1440000000")), fiscal.InvoiceCode([]byte("1440000001"))
	r := newRig(t, func(o *emulator.IssueOptions) {
		o.Rolls = []emulator.PurchasedRoll{{Code: codeA, Start: 1, End: 2, Rolls: 1}, {Code: codeB, Start: 2, End: 10, Rolls: 1}}
	})
	r.setup()
	ctx := context.Background()
	r.issueN(2) // A/1, A/2
	a2, err := r.dev.InvoiceByNumber(ctx, codeA, 2)
	r.must(err)
	_, err = r.dev.Distribute(ctx)
	r.must(err)
	_, err = r.dev.LoadRoll(ctx)
	r.must(err)
	// T=0: VERIFY_FISCAL_PIN, GET RESPONSE, then ISSUE_INVOICE: the card is
	// pulled before it executes it.
	r.cs.Fiscal.InjectFault(emulator.Fault{At: 3, Pull: true})
	if _, err := r.dev.Issue(ctx, sale(500)); !errorsIs(err, register.ErrNoFiscalCard) {
		t.Fatalf("issue with the card pulled: %v", err)
	}
	r.cs.Fiscal.Reset()
	v, err := r.dev.Issue(ctx, sale(700)) // recovery first, then this invoice
	r.must(err)
	if v.Code != codeB || v.Detail.Number != 2 || v.Detail.Total != 700 {
		t.Fatalf("after recovery the invoice is %v/%d of %v, want %v/2 of 7.00", v.Code, v.Detail.Number, v.Detail.Total, codeB)
	}
	if v.Detail.FiscalCode == a2.Detail.FiscalCode {
		t.Fatal("the new invoice carries the previous roll's 税控码")
	}
}
