package register_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// ownerSnapshot is a snapshot with the new taxpayer's cards as well.
type ownerSnapshot struct {
	snapshot
	nextFiscal, nextUser []byte
}

var (
	nextFiscalNo = fiscal.CardNumber{0x11, 0, 0, 0, 0, 0, 0, 0x02}
	nextCode     = fiscal.InvoiceCode([]byte("1440000002"))
)

func nextOwnerCards(t testing.TB) *emulator.CardSet {
	t.Helper()
	next, err := emulator.Issue(issueOpts(func(o *emulator.IssueOptions) {
		o.FiscalCardNo = nextFiscalNo
		o.TaxpayerNo = fiscal.CardNumber{0x33, 0, 0, 0, 0, 0, 0, 0x02}
		o.TaxpayerName = "新店主餐馆"
		o.TaxpayerID = "440300000000002"
		o.Rolls = []emulator.PurchasedRoll{{Code: nextCode, Start: 1001, End: 1100}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func (s ownerSnapshot) restore(t testing.TB, seed uint64) (*rig, *emulator.CardSet) {
	r := s.snapshot.restore(t, seed)
	var key [32]byte
	key[0], key[1], key[2] = byte(seed), byte(seed>>8), 0xEE
	opts := emulator.Options{Profile: testProfile(), Rand: rand.NewChaCha8(key)}
	f, err := emulator.Load(s.nextFiscal, opts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := emulator.Load(s.nextUser, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, &emulator.CardSet{Fiscal: f, User: u, Profile: testProfile()}
}

func changeOwner(ctx context.Context, dev *register.Device, next *emulator.CardSet) error {
	return dev.ChangeOwner(ctx, register.ChangeOwnerRequest{Fiscal: next.Fiscal, User: next.User, UserPIN: userPIN})
}

// checkOwnerAfterCrash restarts after a power cut during a change of owner
// and checks: fiscal memory verifies; the old taxpayer's invoices are
// contiguous and the last one the old fiscal card coded is stored with its
// 税控码; the card's last declaration is memory's; the roll usage and the
// drop of the waiting roll are recorded at most once. Then the change of
// owner is completed (ChangeOwner again with the new cards, unless it is
// done), the new taxpayer issues the first number of its roll the same day,
// and the next day both owners' cards have signed their part of that day. A new fiscal card registered whose first PIN was lost, or an old
// card one PIN ahead, is the PIN-out-of-step outcome.
func checkOwnerAfterCrash(t *testing.T, r *rig, next *emulator.CardSet, label string) outcome {
	t.Helper()
	ctx := context.Background()
	for _, c := range []*emulator.Card{r.cs.Fiscal, r.cs.User, next.Fiscal, next.User} {
		c.Reset()
	}
	dev, openErr := r.openOn(r.fs)
	if dev == nil {
		t.Fatalf("%s: reopen: %v", label, openErr)
	}
	if openErr != nil && !errors.Is(openErr, register.ErrPINOutOfStep) {
		t.Fatalf("%s: start-up after the cut: %v", label, openErr)
	}
	if rep, err := r.mem.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("%s: memory does not verify: %v %+v", label, err, rep)
	}
	invs, err := r.mem.Invoices(ctx, fiscal.Date{}, fiscal.Date{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range invs {
		if v.Detail.Number != uint32(i+1) {
			t.Fatalf("%s: invoice %d has number %d", label, i, v.Detail.Number)
		}
	}
	ch := card.NewChannel(r.cs.Fiscal, nil)
	if _, err := ch.SelectName(ctx, card.DFNameFiscal); err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	f := card.NewFiscalCard(ch)
	acc, err := f.ReadDayAccumulation(ctx)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	if n := len(invs); n == 0 || invs[n-1].Detail.Number != acc.PrevInvoice || invs[n-1].Detail.FiscalCode != acc.PrevFiscalCode {
		t.Fatalf("%s: old card coded invoice %d, memory's last is %+v", label, acc.PrevInvoice, invs[len(invs)-1].Detail)
	}
	ld, err := f.ReadLastDeclaration(ctx)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	if !ld.End.IsZero() {
		if last, ok := r.mem.LastDeclaration(); !ok || last.Data != ld.Declaration {
			t.Fatalf("%s: the old card declared %v..%v, memory's last is %+v", label, ld.Start, ld.End, last.Data)
		}
	}
	if n := len(r.mem.RollUsages()); n > 1 {
		t.Fatalf("%s: %d roll usages of the old roll", label, n)
	}
	if n := len(r.mem.RollsTaken()); n > 2 {
		t.Fatalf("%s: %d rolls taken (1 loaded, at most 1 dropped)", label, n)
	}
	// Complete the change of owner.
	if a, _ := r.mem.Application(); a.FiscalCard != nextFiscalNo {
		if dev.Status().PINOutOfStep {
			return pinOutOfStep // the old card is one PIN ahead: no stop declaration possible
		}
		for _, in := range r.mem.OpenIntents() {
			if in.Op == "init" {
				// Half-way: nothing fiscal may happen until it is completed.
				if _, err := dev.Issue(ctx, sale(1)); !errors.Is(err, register.ErrRecoveryPending) && !errors.Is(err, register.ErrPINOutOfStep) {
					t.Fatalf("%s: issuing during an unfinished change of owner: %v", label, err)
				}
			}
		}
		if err := changeOwner(ctx, dev, next); err != nil {
			if errors.Is(err, register.ErrPINOutOfStep) {
				return pinOutOfStep
			}
			t.Fatalf("%s: completing the change of owner: %v", label, err)
		}
	}
	if a, _ := r.mem.Application(); a.FiscalCard != nextFiscalNo || len(r.mem.ApplicationHistory()) != 2 {
		t.Fatalf("%s: application after the change of owner %+v (%d in history)", label, a, len(r.mem.ApplicationHistory()))
	}
	if n := len(r.mem.OpenIntents()); n != 0 {
		t.Fatalf("%s: open intents after the change of owner: %+v", label, r.mem.OpenIntents())
	}
	if w := r.mem.WaitingRolls(); len(w) != 0 {
		t.Fatalf("%s: old taxpayer's rolls still waiting: %+v", label, w)
	}
	if n := len(r.mem.RollUsages()); n != 1 {
		t.Fatalf("%s: %d roll usages of the old roll", label, n)
	}
	// The new taxpayer works on the day of the change, on the new cards.
	r.cs = next
	for _, c := range []*emulator.Card{next.Fiscal, next.User} {
		c.Reset()
	}
	dev, err = r.openOn(r.fs)
	if err != nil {
		t.Fatalf("%s: start with the new cards: %v", label, err)
	}
	if _, err := dev.Distribute(ctx); err != nil {
		t.Fatalf("%s: distribute: %v", label, err)
	}
	if _, err := dev.LoadRoll(ctx); err != nil {
		t.Fatalf("%s: load: %v", label, err)
	}
	inv, err := dev.Issue(ctx, sale(77))
	if err != nil {
		t.Fatalf("%s: new taxpayer cannot issue: %v", label, err)
	}
	if inv.Code != nextCode || inv.Detail.Number != 1001 {
		t.Fatalf("%s: first invoice of the new taxpayer %v/%d", label, inv.Code, inv.Detail.Number)
	}
	// The next day each owner has its own signed record of the day.
	day := fiscal.DateOf(r.clock.Now())
	r.clock.AddDays(1)
	next.Fiscal.Reset()
	next.User.Reset()
	if _, err := r.openOn(r.fs); err != nil {
		t.Fatalf("%s: next day: %v", label, err)
	}
	if ds := r.mem.Dailies(day, day); len(ds) != 2 || ds[1].Record.NormalCount != 1 {
		t.Fatalf("%s: daily records of the day of the change %+v", label, ds)
	}
	return okOutcome
}

func ownerBase(t *testing.T) ownerSnapshot {
	base := newRig(t, smallRolls)
	base.setup()
	base.issueN(2)
	if _, err := base.dev.Distribute(context.Background()); err != nil { // waits; dropped by the change
		t.Fatal(err)
	}
	next := nextOwnerCards(t)
	nf, err := next.Fiscal.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	nu, err := next.User.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return ownerSnapshot{snapshot: takeSnapshot(t, base), nextFiscal: nf, nextUser: nu}
}

func TestCrashPointsChangeOwnerStorage(t *testing.T) {
	snap := ownerBase(t)
	clean, next := snap.restore(t, 0)
	ffs := &memory.FaultFS{FS: clean.fs}
	if _, err := clean.openOn(ffs); err != nil {
		t.Fatal(err)
	}
	if err := changeOwner(context.Background(), clean.dev, next); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	writes := ffs.Ops()
	if got := checkOwnerAfterCrash(t, clean, next, "clean run"); got != okOutcome {
		t.Fatalf("clean run: outcome %d", got)
	}
	counts := map[outcome]int{}
	for n := 1; n <= writes; n++ {
		for _, keep := range []int{0, 9, 1 << 20} {
			label := fmt.Sprintf("change of owner: power cut at write %d keeping %d bytes", n, keep)
			r, next := snap.restore(t, uint64(n*7+keep))
			under := r.fs
			ffs := &memory.FaultFS{FS: under, CutAt: n, Keep: keep}
			dev, err := r.openOn(ffs)
			if err == nil && dev != nil {
				err = changeOwner(context.Background(), dev, next)
			}
			if !ffs.IsCut() && err != nil {
				t.Fatalf("%s: failed without a cut: %v", label, err)
			}
			r.fs = under
			counts[checkOwnerAfterCrash(t, r, next, label)]++
		}
	}
	t.Logf("change of owner: %d writes, outcomes ok=%d pin-out-of-step=%d", writes, counts[okOutcome], counts[pinOutOfStep])
	if counts[okOutcome] == 0 {
		t.Fatal("no crash point completed")
	}
}

func TestCrashPointsChangeOwnerCard(t *testing.T) {
	snap := ownerBase(t)
	clean, next := snap.restore(t, 0)
	if _, err := clean.openOn(clean.fs); err != nil {
		t.Fatal(err)
	}
	if err := changeOwner(context.Background(), clean.dev, next); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	total := map[string]int{"old fiscal": clean.cs.Fiscal.Commands(), "old user": clean.cs.User.Commands(),
		"new fiscal": next.Fiscal.Commands(), "new user": next.User.Commands()}
	counts := map[outcome]int{}
	for _, which := range []string{"old fiscal", "old user", "new fiscal", "new user"} {
		if total[which] == 0 {
			t.Fatalf("%s card: no command in a clean run", which)
		}
		for k := 1; k <= total[which]; k++ {
			for _, apply := range []bool{false, true} {
				label := fmt.Sprintf("change of owner: %s card pulled at command %d (applied %v)", which, k, apply)
				r, next := snap.restore(t, uint64(k*3+len(which)))
				c := map[string]*emulator.Card{"old fiscal": r.cs.Fiscal, "old user": r.cs.User, "new fiscal": next.Fiscal, "new user": next.User}[which]
				c.InjectFault(emulator.Fault{At: k, Pull: true, Apply: apply})
				if dev, err := r.openOn(r.fs); err == nil && dev != nil {
					_ = changeOwner(context.Background(), dev, next)
				}
				counts[checkOwnerAfterCrash(t, r, next, label)]++
			}
		}
	}
	t.Logf("change of owner: commands %v, outcomes ok=%d pin-out-of-step=%d", total, counts[okOutcome], counts[pinOutOfStep])
}
