package register_test

import (
	"context"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// TestWaitingRollRecords checks that the waiting rolls live in fiscal
// memory's own record kinds: a distribution adds one, a load takes it as
// loaded, a change of owner takes the rest as dropped, and no intent stays
// open for them.
func TestWaitingRollRecords(t *testing.T) {
	r := newRig(t, smallRolls)
	r.setup() // one roll distributed and loaded
	ctx := context.Background()
	r1, err := r.dev.Distribute(ctx)
	r.must(err)
	r2, err := r.dev.Distribute(ctx)
	r.must(err)
	if n := len(r.mem.OpenIntents()); n != 0 {
		t.Fatalf("%d open intents: %+v", n, r.mem.OpenIntents())
	}
	ws := r.mem.WaitingRolls()
	if len(ws) != 2 || ws[0].Roll.Roll != r1 || ws[1].Roll.Roll != r2 {
		t.Fatalf("waiting in memory %+v", ws)
	}
	tk := r.mem.RollsTaken()
	if len(tk) != 1 || tk[0].Reason != memory.RollLoaded || tk[0].Roll != r.mem.RollLoads()[0].Roll {
		t.Fatalf("taken %+v", tk)
	}
	// The waiting list survives a restart.
	r.must(r.reopen())
	if w := r.dev.Waiting(); len(w) != 2 || w[0] != r1 || w[1] != r2 {
		t.Fatalf("waiting after restart %+v", w)
	}
	next, err := emulator.Issue(issueOpts(func(o *emulator.IssueOptions) {
		o.FiscalCardNo = fiscal.CardNumber{0x11, 0, 0, 0, 0, 0, 0, 0x02}
		o.TaxpayerNo = fiscal.CardNumber{0x33, 0, 0, 0, 0, 0, 0, 0x02}
		o.Rolls = []emulator.PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000002")), Start: 1001, End: 1100}}
	}))
	r.must(err)
	r.must(r.dev.ChangeOwner(ctx, register.ChangeOwnerRequest{Fiscal: next.Fiscal, User: next.User, UserPIN: userPIN}))
	if w := r.mem.WaitingRolls(); len(w) != 0 {
		t.Fatalf("waiting after change of owner %+v", w)
	}
	tk = r.mem.RollsTaken()
	if len(tk) != 3 || tk[1].Roll != r1 || tk[1].Reason != memory.RollDropped || tk[2].Roll != r2 || tk[2].Reason != memory.RollDropped {
		t.Fatalf("taken after change of owner %+v", tk)
	}
}

// TestLegacyRollQueue checks that a fiscal memory written by an older
// register, with the waiting rolls in an open "roll_queue" intent, is moved
// to roll-distributed records at start-up and the rolls can be loaded.
func TestLegacyRollQueue(t *testing.T) {
	r := newRig(t, smallRolls)
	r.setup()
	ctx := context.Background()
	// Distribute a roll, then rewrite the memory the way an older register
	// kept it.
	roll, err := r.dev.Distribute(ctx)
	r.must(err)
	w := r.mem.WaitingRolls()
	if len(w) != 1 {
		t.Fatalf("waiting %+v", w)
	}
	// Rebuild the memory without the distribution record, with the legacy
	// intent instead.
	legacy := memory.NewMemFS()
	lm, err := memory.Open(ctx, legacy, nil)
	r.must(err)
	err = r.mem.Export(ctx, discard{}) // the source must verify
	r.must(err)
	copyMemory(t, r.mem, lm)
	p, err := w[0].Roll.MarshalBinary()
	r.must(err)
	r.must(lm.BeginIntent(ctx, memory.Intent{ID: 900, Op: "roll_queue", Payload: p}))
	lm.Close()
	r.fs = legacy
	r.must(r.reopen())
	if got := r.dev.Waiting(); len(got) != 1 || got[0] != roll {
		t.Fatalf("waiting after migration %+v", got)
	}
	if n := len(r.mem.OpenIntents()); n != 0 {
		t.Fatalf("legacy intent still open: %+v", r.mem.OpenIntents())
	}
	r.issueN(4) // uses up the first roll
	got, err := r.dev.LoadRoll(ctx)
	r.must(err)
	if got != roll || len(r.mem.WaitingRolls()) != 0 {
		t.Fatalf("loaded %v, waiting %+v", got, r.mem.WaitingRolls())
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// copyMemory replays the records of src (a register after setup) into dst
// through the public API, leaving out the distribution records.
func copyMemory(t *testing.T, src, dst *memory.Memory) {
	t.Helper()
	ctx := context.Background()
	mc, _ := src.Machine()
	b := new(memory.Batch).SetMachine(mc)
	for i, a := range src.ApplicationHistory() {
		if i == 0 {
			b.Initialise(a)
		} else {
			b.ChangeOwner(a)
		}
	}
	if p, ok := src.PIN(); ok {
		b.SetPIN(p)
	}
	for _, l := range src.RollLoads() {
		b.AddRollLoad(l)
	}
	invs, err := src.Invoices(ctx, fiscal.Date{}, fiscal.Date{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range invs {
		b.AddInvoice(v)
	}
	for _, d := range src.Dailies(fiscal.Date{}, fiscal.Date{}) {
		b.AddDaily(d)
	}
	if err := dst.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
}

// TestControlUpdateRecords checks that initialisation and a control update
// leave control-update records and that the controls in force after a
// restart without the fiscal card come from fiscal memory.
func TestControlUpdateRecords(t *testing.T) {
	r := newRig(t, nil)
	r.setup()
	ctx := context.Background()
	ups := r.mem.ControlUpdates()
	if len(ups) != 1 || ups[0].Control != r.dev.Status().Controls {
		t.Fatalf("control updates after initialisation %+v", ups)
	}
	r.issueN(1)
	r.clock.AddDays(1)
	_, err := r.dev.Declare(ctx, register.DeclareRequest{})
	r.must(err)
	next := fiscal.ControlData{Deadline: fiscal.MustDate(2028, time.June, 30), SingleLimit: 2_000_000, TotalLimit: 50_000_000,
		ReturnLimit: 5_000_000, Indexes: fiscal.TaxIndexes{1}}
	_, err = r.cs.ProcessDeclarations(next)
	r.must(err)
	_, err = r.dev.UpdateControls(ctx)
	r.must(err)
	ups = r.mem.ControlUpdates()
	if len(ups) != 2 || ups[1].Control != next || !ups[1].Time.Equal(r.clock.Now()) {
		t.Fatalf("control updates %+v", ups)
	}
	if c, ok := r.mem.Controls(); !ok || c != next {
		t.Fatalf("memory's controls %+v", c)
	}
	found := false
	for _, e := range r.dev.History() {
		found = found || e.Kind == "control_update" && e.Time.Equal(ups[1].Time)
	}
	if !found {
		t.Fatalf("history lacks the control update")
	}
	// Without the fiscal card the device still shows the controls in force.
	r.mem.Close()
	m, err := memory.Open(ctx, r.fs, nil)
	r.must(err)
	dead := emulator.Fault{At: 1, Pull: true}
	r.cs.Fiscal.Reset()
	r.cs.Fiscal.InjectFault(dead)
	dev, _ := register.Open(ctx, register.Config{Memory: m, Fiscal: r.cs.Fiscal, Clock: r.clock.Now})
	if dev == nil {
		t.Fatal("no device")
	}
	if got := dev.Status().Controls; got != next {
		t.Fatalf("controls without the fiscal card %+v, want %+v", got, next)
	}
}
