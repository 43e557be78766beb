package memory

import (
	"errors"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

func signedRoll(start, end uint32) fiscal.SignedRoll {
	return fiscal.SignedRoll{Roll: fiscal.Roll{Code: testCode, Start: start, End: end}, MAC: [4]byte{9, 9, 9, byte(start)}}
}

// TestWaitingRolls checks the rules of the distributed / taken kinds: a
// roll waits from its distribution until it is taken, once; overlapping
// distributions and taking a roll that does not wait are refused without
// writing anything; the list survives a reopen.
func TestWaitingRolls(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	must(t, m.Initialise(ctx, testApp("A")))
	when := time.Unix(1772409600, 0)
	r1, r2, r3 := signedRoll(1, 50), signedRoll(51, 100), signedRoll(101, 150)
	must(t, m.Commit(ctx, new(Batch).AddRollDistribution(RollDistribution{Roll: r1, Time: when})))
	must(t, m.Commit(ctx, new(Batch).AddRollDistribution(RollDistribution{Roll: r2, Time: when})))
	before := m.Stats().Records
	if err := m.Commit(ctx, new(Batch).AddRollDistribution(RollDistribution{Roll: signedRoll(40, 60), Time: when})); !errors.Is(err, ErrDuplicate) {
		t.Errorf("overlapping distribution: %v", err)
	}
	if err := m.Commit(ctx, new(Batch).TakeRoll(RollTaken{Roll: r3.Roll, Time: when, Reason: RollLoaded})); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("taking a roll never distributed: %v", err)
	}
	if err := m.Commit(ctx, new(Batch).TakeRoll(RollTaken{Roll: r1.Roll, Time: when, Reason: 9})); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown reason: %v", err)
	}
	if got := m.Stats().Records; got != before {
		t.Errorf("refused commits wrote records: %d -> %d", before, got)
	}
	must(t, m.Commit(ctx, new(Batch).TakeRoll(RollTaken{Roll: r1.Roll, Time: when, Reason: RollLoaded})))
	if err := m.Commit(ctx, new(Batch).TakeRoll(RollTaken{Roll: r1.Roll, Time: when, Reason: RollDropped})); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("taking a roll twice: %v", err)
	}
	// A batch is all or nothing: a refused second record undoes the first.
	err := m.Commit(ctx, new(Batch).TakeRoll(RollTaken{Roll: r2.Roll, Time: when, Reason: RollLoaded}).TakeRoll(RollTaken{Roll: r2.Roll, Time: when, Reason: RollLoaded}))
	if !errors.Is(err, ErrNotWaiting) {
		t.Errorf("batch taking a roll twice: %v", err)
	}
	check := func(m *Memory) {
		t.Helper()
		w := m.WaitingRolls()
		if len(w) != 1 || w[0].Roll != r2 || !w[0].Time.Equal(when) {
			t.Errorf("waiting %+v, want only %v", w, r2)
		}
		if n := len(m.RollDistributions()); n != 2 {
			t.Errorf("%d distributions", n)
		}
		if tk := m.RollsTaken(); len(tk) != 1 || tk[0].Roll != r1.Roll || tk[0].Reason != RollLoaded {
			t.Errorf("taken %+v", tk)
		}
	}
	check(m)
	m.Close()
	m = mustOpen(t, fsys, nil)
	defer m.Close()
	check(m)
}

// TestControlUpdates checks that a control update needs an application,
// that Controls returns the newest update of the newest application, and
// that a change of owner starts from the new application's controls.
func TestControlUpdates(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	when := time.Unix(1772409600, 0)
	c2 := testApp("x").Control
	c2.Deadline, c2.SingleLimit = day(90), 777
	if err := m.Commit(ctx, new(Batch).AddControlUpdate(ControlUpdate{Time: when, Control: c2})); !errors.Is(err, ErrNotInitialised) {
		t.Errorf("update before initialisation: %v", err)
	}
	if _, ok := m.Controls(); ok {
		t.Errorf("controls before initialisation")
	}
	if err := m.Commit(ctx, new(Batch).AddControlUpdate(ControlUpdate{Time: when})); !errors.Is(err, ErrInvalid) {
		t.Errorf("update without deadline: %v", err)
	}
	must(t, m.Initialise(ctx, testApp("A")))
	if c, _ := m.Controls(); c != testApp("A").Control {
		t.Errorf("controls %+v, want the application's", c)
	}
	must(t, m.Commit(ctx, new(Batch).AddControlUpdate(ControlUpdate{Time: when, Control: c2})))
	if c, _ := m.Controls(); c != c2 {
		t.Errorf("controls %+v, want the update's", c)
	}
	m.Close()
	m = mustOpen(t, fsys, nil)
	if c, _ := m.Controls(); c != c2 || len(m.ControlUpdates()) != 1 {
		t.Errorf("after reopen: controls %+v, %d updates", c, len(m.ControlUpdates()))
	}
	b := testApp("B")
	b.InitDate = day(1)
	b.Control.SingleLimit = 5
	must(t, m.ChangeOwner(ctx, b))
	if c, _ := m.Controls(); c != b.Control {
		t.Errorf("after change of owner: %+v, want the new application's", c)
	}
	m.Close()
	m = mustOpen(t, fsys, nil)
	defer m.Close()
	if c, _ := m.Controls(); c != b.Control {
		t.Errorf("after change of owner and reopen: %+v", c)
	}
}

// TestSecurityReserve checks the policy for a full security log: events
// the device writes by itself (power loss, repair, tamper, PIN error) may
// use SecurityReserve beyond Security; other events stop at Security; and
// the reserve has an end too.
func TestSecurityReserve(t *testing.T) {
	o := &Options{Capacity: Capacity{Security: 3, SecurityReserve: 2}}
	fsys := NewMemFS()
	m := mustOpen(t, fsys, o)
	when := time.Unix(1772409600, 0)
	ev := func(typ SecurityType) SecurityEvent { return SecurityEvent{Time: when, Type: typ, Text: "x"} }
	for range 3 {
		must(t, m.LogSecurity(ctx, ev(SecInspection)))
	}
	if err := m.LogSecurity(ctx, ev(SecInspection)); !errors.Is(err, ErrFull) {
		t.Fatalf("inspection beyond capacity: %v", err)
	}
	if err := m.LogSecurity(ctx, ev(SecOther)); !errors.Is(err, ErrFull) {
		t.Fatalf("other event beyond capacity: %v", err)
	}
	must(t, m.LogSecurity(ctx, ev(SecRepair)))
	must(t, m.LogSecurity(ctx, ev(SecPowerLoss)))
	err := m.LogSecurity(ctx, ev(SecTamper))
	var fe *FullError
	if !errors.As(err, &fe) || fe.Capacity != 5 || fe.Count != 5 {
		t.Fatalf("beyond the reserve: %v", err)
	}
	m.Close()
	m = mustOpen(t, fsys, o)
	defer m.Close()
	if n := len(m.SecurityEvents()); n != 5 {
		t.Errorf("%d events after reopen", n)
	}
	var ks KindStats
	for _, k := range m.Stats().Kinds {
		if k.Kind == KindSecurity {
			ks = k
		}
	}
	if ks.Count != 5 || ks.Capacity != 3 {
		t.Errorf("stats %+v", ks)
	}
}

// TestApplicationScope checks the queries bounded by application: after a
// change of owner on a day, the old and the new owner each have their own
// invoices, daily record and declaration for that day, and the order rules
// hold within each application, also after a reopen.
func TestApplicationScope(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	must(t, m.Initialise(ctx, testApp("A")))
	must(t, m.AddInvoice(ctx, testInvoice(1, day(0), fiscal.InvoiceNormal, 100)))
	must(t, m.AddInvoice(ctx, testInvoice(2, day(1), fiscal.InvoiceNormal, 200)))
	must(t, m.AddDaily(ctx, testDaily(day(0))))
	must(t, m.AddDaily(ctx, testDaily(day(1))))
	must(t, m.AddDeclaration(ctx, Declaration{Date: day(1), Data: fiscal.Declaration{Start: day(0), End: day(1)}}))
	b := testApp("B")
	b.InitDate = day(1)
	must(t, m.ChangeOwner(ctx, b))
	must(t, m.AddInvoice(ctx, testInvoice(3, day(1), fiscal.InvoiceNormal, 300)))
	must(t, m.AddDaily(ctx, testDaily(day(1))))
	if err := m.AddDaily(ctx, testDaily(day(1))); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second daily of the new owner for the same day: %v", err)
	}
	if err := m.AddDeclaration(ctx, Declaration{Date: day(1), Data: fiscal.Declaration{Start: day(0), End: day(1)}}); !errors.Is(err, ErrOrder) {
		t.Errorf("new owner's declaration reaching before the change: %v", err)
	}
	must(t, m.AddDeclaration(ctx, Declaration{Date: day(1), Data: fiscal.Declaration{Start: day(1), End: day(1)}}))
	check := func(m *Memory) {
		t.Helper()
		if m.CurrentApplication() != 1 {
			t.Errorf("current application %d", m.CurrentApplication())
		}
		var got [2][]uint32
		for app := range 2 {
			must(t, m.EachInvoiceOf(ctx, app, day(1), fiscal.Date{}, func(v Invoice) error {
				got[app] = append(got[app], v.Detail.Number)
				return nil
			}))
		}
		if len(got[0]) != 1 || got[0][0] != 2 || len(got[1]) != 1 || got[1][0] != 3 {
			t.Errorf("invoices of day 1 by application %v", got)
		}
		if d := m.DailiesOf(0, day(1), day(1)); len(d) != 1 {
			t.Errorf("old owner's dailies %d", len(d))
		}
		if d := m.DailiesOf(1, fiscal.Date{}, fiscal.Date{}); len(d) != 1 || d[0].Record.Date != day(1) {
			t.Errorf("new owner's dailies %+v", d)
		}
		if d := m.Dailies(day(1), day(1)); len(d) != 2 {
			t.Errorf("all dailies of day 1: %d", len(d))
		}
		if l, ok := m.LastDailyOf(1); !ok || l.Record.Date != day(1) {
			t.Errorf("last daily of the new owner")
		}
		if l, ok := m.LastDeclarationOf(0); !ok || l.Data.Start != day(0) {
			t.Errorf("old owner's last declaration %+v", l)
		}
		if l, ok := m.LastDeclarationOf(1); !ok || l.Data.Start != day(1) || len(m.DeclarationsOf(1, fiscal.Date{}, fiscal.Date{})) != 1 {
			t.Errorf("new owner's declarations %+v", l)
		}
		if _, ok := m.LastDailyOf(2); ok {
			t.Errorf("daily of a missing application")
		}
		for n, want := range map[uint32]int{1: 0, 2: 0, 3: 1} {
			if app, err := m.InvoiceApplication(testCode, n); err != nil || app != want {
				t.Errorf("invoice %d: application %d %v", n, app, err)
			}
		}
	}
	check(m)
	m.Close()
	m = mustOpen(t, fsys, nil)
	defer m.Close()
	check(m)
}

// TestInvoiceBinary checks the exported invoice codec: it is the stored
// payload (so the golden invoice frame's payload), it round-trips, and it
// refuses what AddInvoice refuses.
func TestInvoiceBinary(t *testing.T) {
	b := goldenRecords(t)["invoice"]
	v := b.recs[0].value.(Invoice)
	p, err := v.MarshalBinary()
	must(t, err)
	if string(p) != string(b.recs[0].payload) {
		t.Fatalf("MarshalBinary is not the stored payload")
	}
	var back Invoice
	must(t, back.UnmarshalBinary(p))
	if p2, _ := back.MarshalBinary(); string(p2) != string(p) {
		t.Fatalf("round trip changed the bytes")
	}
	bad := v
	bad.Detail.Total++
	if _, err := bad.MarshalBinary(); !errors.Is(err, ErrInvalid) {
		t.Errorf("total not the sum: %v", err)
	}
	bad = v
	bad.Payer = "付款单位的名称实在是太长了超过了四十个字节的宽度限制"
	if _, err := bad.MarshalBinary(); !errors.Is(err, ErrInvalid) || !errors.Is(err, fiscal.ErrTextTooLong) {
		t.Errorf("payer too long: %v", err)
	}
	keep := back
	if err := back.UnmarshalBinary(p[:len(p)-1]); !errors.Is(err, ErrInvalid) || back.Payer != keep.Payer {
		t.Errorf("short payload: %v", err)
	}
}

// FuzzInvoiceBinary: Invoice.UnmarshalBinary never panics and what it
// accepts re-encodes to the same bytes' meaning.
func FuzzInvoiceBinary(f *testing.F) {
	f.Add(goldenRecords(f)["invoice"].recs[0].payload)
	ret, _ := testInvoice(2, day(1), fiscal.InvoiceReturn, 300).MarshalBinary() // with OriginalCode
	f.Add(ret)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		var v Invoice
		if v.UnmarshalBinary(p) != nil {
			return
		}
		q, err := v.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted invoice does not encode: %v", err)
		}
		var w Invoice
		if err := w.UnmarshalBinary(q); err != nil {
			t.Fatalf("re-encoded invoice does not decode: %v", err)
		}
	})
}

// TestRollUsageAdd checks that a roll's summary counts only the invoices of
// that roll (its code, numbers Start..End) and spans their issue dates.
func TestRollUsageAdd(t *testing.T) {
	u := RollUsage{Roll: fiscal.Roll{Code: testCode, Start: 11, End: 20}}
	other := testInvoice(12, day(0), fiscal.InvoiceNormal, 999)
	other.Code[9] = '9'
	for _, c := range []struct {
		v    Invoice
		want bool
	}{
		{testInvoice(11, day(3), fiscal.InvoiceNormal, 300), true},
		{testInvoice(12, day(1), fiscal.InvoiceReturn, 120), true},
		{testInvoice(13, day(5), fiscal.InvoiceVoid, 0), true},
		{testInvoice(14, day(2), fiscal.InvoiceNormal, 50), true},
		{testInvoice(10, day(0), fiscal.InvoiceNormal, 1000), false}, // before Start
		{testInvoice(21, day(9), fiscal.InvoiceNormal, 1000), false}, // after End
		{other, false},     // another roll's code
		{Invoice{}, false}, // no invoice
	} {
		if got := u.Add(c.v); got != c.want {
			t.Errorf("Add(%d %v) = %v, want %v", c.v.Detail.Number, c.v.Detail.Type, got, c.want)
		}
	}
	want := RollUsage{Roll: u.Roll, NormalCount: 2, ReturnCount: 1, VoidCount: 1, Normal: 350, Return: 120, First: day(1), Last: day(5)}
	if u != want {
		t.Errorf("usage %+v, want %+v", u, want)
	}
}
