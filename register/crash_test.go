package register_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// crashFlow is one multi-step operation whose every crash point is tested.
type crashFlow struct {
	name    string
	prepare func(r *rig)                                          // state before the operation (no faults)
	days    int                                                   // clock advance before the operation
	run     func(ctx context.Context, dev *register.Device) error // the operation (after Open)
	// issued is, for the issuing flows (which send crashRequestID), the
	// number of invoices prepare issued: every invoice after those is the
	// operation's and must carry the request id.
	issued int
}

// crashRequestID is the request id of the issuing flows.
const crashRequestID = 0xC0FFEE0000000001

var smallRolls = func(o *emulator.IssueOptions) {
	o.Rolls = []emulator.PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 12, Rolls: 3}}
}

func crashFlows() []crashFlow {
	return []crashFlow{
		{name: "issue", prepare: func(r *rig) { r.setup(); r.issueN(2) }, issued: 2,
			run: func(ctx context.Context, dev *register.Device) error {
				req := sale(321)
				req.RequestID = crashRequestID
				_, err := dev.Issue(ctx, req)
				return err
			}},
		{name: "return", prepare: func(r *rig) { r.setup(); r.issueN(2) }, issued: 2,
			run: func(ctx context.Context, dev *register.Device) error {
				_, err := dev.Return(ctx, register.ReturnRequest{Number: 2, RequestID: crashRequestID})
				return err
			}},
		{name: "void", prepare: func(r *rig) { r.setup(); r.issueN(1) }, issued: 1,
			run: func(ctx context.Context, dev *register.Device) error {
				_, err := dev.Void(ctx, register.VoidRequest{Count: 2, RequestID: crashRequestID})
				return err
			}},
		{name: "daily close at start-up", prepare: func(r *rig) { r.setup(); r.issueN(2) }, days: 3,
			run: func(ctx context.Context, dev *register.Device) error { return nil }},
		{name: "daily close today", prepare: func(r *rig) { r.setup(); r.issueN(1) },
			run: func(ctx context.Context, dev *register.Device) error {
				return dev.CloseDay(ctx, dev.Status().Today)
			}},
		{name: "roll load", prepare: func(r *rig) {
			r.setup()
			_, err := r.dev.Distribute(context.Background())
			r.must(err)
			r.issueN(4) // uses up the 4-invoice roll
		}, run: func(ctx context.Context, dev *register.Device) error { _, err := dev.LoadRoll(ctx); return err }},
		{name: "declare", prepare: func(r *rig) { r.setup(); r.issueN(2) }, days: 2,
			run: func(ctx context.Context, dev *register.Device) error {
				_, err := dev.Declare(ctx, register.DeclareRequest{})
				return err
			}},
		{name: "update controls", prepare: func(r *rig) {
			r.setup()
			r.issueN(1)
			r.clock.AddDays(1)
			_, err := r.dev.Declare(context.Background(), register.DeclareRequest{})
			r.must(err)
			_, err = r.cs.ProcessDeclarations(fiscal.ControlData{Deadline: fiscal.MustDate(2028, 6, 30), SingleLimit: 2_000_000,
				TotalLimit: 50_000_000, ReturnLimit: 5_000_000, Indexes: fiscal.TaxIndexes{1}})
			r.must(err)
		}, run: func(ctx context.Context, dev *register.Device) error { _, err := dev.UpdateControls(ctx); return err }},
		{name: "initialise", prepare: func(r *rig) {
			r.must(r.dev.WriteFactoryData(context.Background(), register.Factory{Number: machineNo}))
		}, run: func(ctx context.Context, dev *register.Device) error { return dev.Initialise(ctx) }},
		{name: "distribute", prepare: func(r *rig) { r.setup() },
			run: func(ctx context.Context, dev *register.Device) error { _, err := dev.Distribute(ctx); return err }},
	}
}

func (r *rig) issueN(n int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		_, err := r.dev.Issue(context.Background(), sale(fiscal.Amount(100*(i+1))))
		r.must(err)
	}
}

// snapshot is everything that survives a power cut: fiscal memory bytes and
// both cards' persistent state.
type snapshot struct {
	fs           *memory.MemFS
	fiscal, user []byte
	clock        time.Time
}

func takeSnapshot(t testing.TB, r *rig) snapshot {
	fb, err := r.cs.Fiscal.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	ub, err := r.cs.User.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{fs: r.fs.(*memory.MemFS).Clone(), fiscal: fb, user: ub, clock: r.clock.Now()}
}

// restore builds a rig (without a device) from a snapshot; cards get a
// random source seeded by seed so fresh PINs differ between runs.
func (s snapshot) restore(t testing.TB, seed uint64) *rig {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	opts := emulator.Options{Profile: testProfile(), Rand: rand.NewChaCha8(key)}
	f, err := emulator.Load(s.fiscal, opts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := emulator.Load(s.user, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, cs: &emulator.CardSet{Fiscal: f, User: u, Profile: testProfile()}, fs: s.fs.Clone(), clock: &fakeClock{t: s.clock}}
}

// openOn opens memory (repairing a torn tail) and a Device on fsys.
func (r *rig) openOn(fsys memory.FS) (*register.Device, error) {
	ctx := context.Background()
	m, err := register.OpenMemory(ctx, fsys, nil, r.clock.Now())
	if err != nil {
		return nil, err
	}
	r.mem = m
	dev, err := register.Open(ctx, register.Config{Memory: m, Fiscal: r.cs.Fiscal, User: r.cs.User, UserPIN: userPIN, Clock: r.clock.Now,
		Observer: func(e card.Exchange) { r.ins = append(r.ins, e.Command[1]) }})
	r.dev = dev
	return dev, err
}

type outcome int

const (
	okOutcome outcome = iota
	pinOutOfStep
)

// checkAfterCrash reopens after a power cut and checks the invariants:
// memory verifies; invoice numbers of the roll are contiguous and unique;
// the last invoice the fiscal card coded is stored with its 税控码; the
// register issues the next number, or reports a PIN out of step without
// spending a PIN try. For an issuing flow, every invoice the operation
// stored (recovered ones too) carries its request id, and sending the
// request again returns them instead of issuing anything.
func checkAfterCrash(t *testing.T, r *rig, label string, fl crashFlow) outcome {
	t.Helper()
	ctx := context.Background()
	r.cs.Fiscal.Reset()
	r.cs.User.Reset()
	dev, openErr := r.openOn(r.fs)
	if dev == nil {
		t.Fatalf("%s: reopen: %v", label, openErr)
	}
	if openErr != nil && !errors.Is(openErr, register.ErrPINOutOfStep) {
		t.Fatalf("%s: start-up after the cut: %v", label, openErr)
	}
	rep, verr := r.mem.Verify(ctx)
	if verr != nil || !rep.OK() {
		t.Fatalf("%s: memory does not verify: %v %+v", label, verr, rep)
	}
	if st := dev.Status(); !st.Initialised {
		if st.PINOutOfStep || errors.Is(openErr, register.ErrPINOutOfStep) {
			return pinOutOfStep // registered, first PIN lost with the power
		}
		if err := dev.Initialise(ctx); err != nil {
			if errors.Is(err, register.ErrPINOutOfStep) {
				return pinOutOfStep
			}
			t.Fatalf("%s: initialise after the cut: %v", label, err)
		}
		if _, err := dev.Distribute(ctx); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
	}
	invs, ierr := r.mem.Invoices(ctx, fiscal.Date{}, fiscal.Date{})
	if ierr != nil {
		t.Fatalf("%s: %v", label, ierr)
	}
	for i, v := range invs {
		if v.Detail.Number != uint32(i+1) {
			t.Fatalf("%s: invoice %d has number %d: skipped or repeated", label, i, v.Detail.Number)
		}
	}
	if fl.issued > 0 {
		checkRequestIDs(t, r, dev, label, fl, invs)
	}
	ch := card.NewChannel(r.cs.Fiscal, nil)
	if _, err := ch.SelectName(ctx, card.DFNameFiscal); err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	ef03, err := ch.ReadBinarySFI(ctx, 3, 0, 76)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	prevNo := uint32(ef03[64])<<24 | uint32(ef03[65])<<16 | uint32(ef03[66])<<8 | uint32(ef03[67])
	if n := len(invs); n > 0 || prevNo != 0 {
		if n == 0 || invs[n-1].Detail.Number != prevNo || string(invs[n-1].Detail.FiscalCode[:]) != string(ef03[68:76]) {
			t.Fatalf("%s: card coded invoice %d, memory's last is %v", label, prevNo, invs)
		}
	}
	checkDeclarations(t, r, ch, label)
	st := dev.Status()
	if st.PINOutOfStep {
		checkLatched(t, r, dev, label)
		return pinOutOfStep
	}
	if st.Next == 0 {
		_, err := dev.LoadRoll(ctx)
		if errors.Is(err, register.ErrPINOutOfStep) {
			checkLatched(t, r, dev, label)
			return pinOutOfStep
		}
		if err != nil && !errors.Is(err, register.ErrNoInvoices) {
			t.Fatalf("%s: load after crash: %v", label, err)
		}
		st = dev.Status()
	}
	if st.Next == 0 {
		return okOutcome // nothing left to issue on
	}
	inv, err := dev.Issue(ctx, sale(77))
	if errors.Is(err, register.ErrPINOutOfStep) {
		checkLatched(t, r, dev, label)
		return pinOutOfStep
	}
	if err != nil {
		t.Fatalf("%s: cannot go on issuing: %v", label, err)
	}
	if inv.Detail.Number != uint32(len(invs)+1) {
		t.Fatalf("%s: next invoice got number %d, want %d", label, inv.Detail.Number, len(invs)+1)
	}
	return okOutcome
}

// checkRequestIDs checks the request ids after a cut in an issuing flow:
// the operation's invoices have crashRequestID, the others none, the
// lookup by id finds exactly the operation's, and the request sent again
// issues nothing new (it returns the stored invoices).
func checkRequestIDs(t *testing.T, r *rig, dev *register.Device, label string, fl crashFlow, invs []register.Invoice) {
	t.Helper()
	ctx := context.Background()
	var ours []uint32
	for i, v := range invs {
		want := uint64(0)
		if i >= fl.issued {
			want = crashRequestID
			ours = append(ours, v.Detail.Number)
		}
		if v.RequestID != want {
			t.Fatalf("%s: invoice %d has request id %#x, want %#x", label, v.Detail.Number, v.RequestID, want)
		}
	}
	got, err := r.mem.InvoicesByRequestID(ctx, crashRequestID)
	if len(ours) == 0 {
		if !errors.Is(err, memory.ErrNotFound) {
			t.Fatalf("%s: lookup of an id never stored: %v", label, err)
		}
		return
	}
	if err != nil || len(got) != len(ours) {
		t.Fatalf("%s: lookup by request id: %v, %d invoices, want %d", label, err, len(got), len(ours))
	}
	for i, v := range got {
		if v.Detail.Number != ours[i] {
			t.Fatalf("%s: lookup by request id gives invoice %d, want %d", label, v.Detail.Number, ours[i])
		}
	}
	if err := fl.run(ctx, dev); err != nil {
		t.Fatalf("%s: the request sent again: %v", label, err)
	}
	if n := r.mem.InvoiceCount(); n != len(invs) {
		t.Fatalf("%s: the request sent again issued %d more invoices", label, n-len(invs))
	}
}

// checkDeclarations checks that the fiscal card's last declaration (EF04)
// is the last one in fiscal memory, that one with a signature is on the
// user card, and that the controls in force are the card's.
func checkDeclarations(t *testing.T, r *rig, ch *card.Channel, label string) {
	t.Helper()
	ctx := context.Background()
	ef04, err := ch.ReadBinarySFI(ctx, 4, 0, 75)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	last, ok := r.mem.LastDeclaration()
	var cardDecl fiscal.Declaration
	if cardDecl.UnmarshalBinary(ef04[:70]) != nil || cardDecl.End.IsZero() {
		if ok {
			t.Fatalf("%s: memory holds declaration %v..%v the card never made", label, last.Data.Start, last.Data.End)
		}
		return
	}
	if !ok || last.Data != cardDecl {
		t.Fatalf("%s: the card declared %v..%v, memory's last is %+v", label, cardDecl.Start, cardDecl.End, last.Data)
	}
	if last.Response.Signature == ([fiscal.SignatureLen]byte{}) {
		return // recorded from EF04: the signature was lost with the card's answer
	}
	found := false
	for _, p := range userCardDeclarations(t, r, false) {
		found = found || p.Declaration == cardDecl
	}
	if !found && !r.dev.Status().RecoveryPending && !r.dev.Status().PINOutOfStep {
		t.Fatalf("%s: declaration %v..%v is not on the user card", label, cardDecl.Start, cardDecl.End)
	}
	ef01, err := ch.ReadBinarySFI(ctx, 1, 0, fiscal.ControlDataLen)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	var ctl fiscal.ControlData
	if err := ctl.UnmarshalBinary(ef01); err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	if got := r.dev.Status().Controls; got != ctl {
		t.Fatalf("%s: controls in force %+v, card holds %+v", label, got, ctl)
	}
}

// checkLatched checks that after a PIN rejection no VERIFY is sent again,
// neither by this Device nor by a new one on the same fiscal memory.
func checkLatched(t *testing.T, r *rig, dev *register.Device, label string) {
	t.Helper()
	ctx := context.Background()
	r.ins = nil
	if _, err := dev.Issue(ctx, sale(77)); !errors.Is(err, register.ErrPINOutOfStep) {
		t.Fatalf("%s: PIN rejection did not latch: %v", label, err)
	}
	r.cs.Fiscal.Reset()
	dev2, err := r.openOn(r.fs)
	if dev2 == nil || !dev2.Status().PINOutOfStep {
		t.Fatalf("%s: a new device forgot the PIN rejection: %v", label, err)
	}
	if _, err := dev2.Issue(ctx, sale(77)); !errors.Is(err, register.ErrPINOutOfStep) {
		t.Fatalf("%s: new device: %v", label, err)
	}
	for _, ins := range r.ins {
		if ins == card.INSVerifyFiscalPIN {
			t.Fatalf("%s: VERIFY_FISCAL_PIN sent again after the card rejected the PIN", label)
		}
	}
}

func TestCrashPointsStorage(t *testing.T) {
	for _, fl := range crashFlows() {
		t.Run(fl.name, func(t *testing.T) {
			base := newRig(t, smallRolls)
			fl.prepare(base)
			base.clock.AddDays(fl.days)
			snap := takeSnapshot(t, base)
			// Count the writes of a clean run.
			clean := snap.restore(t, 0)
			ffs := &memory.FaultFS{FS: clean.fs}
			if _, err := clean.openOn(ffs); err != nil {
				t.Fatal(err)
			}
			if err := fl.run(context.Background(), clean.dev); err != nil {
				t.Fatalf("clean run: %v", err)
			}
			writes := ffs.Ops()
			if writes == 0 {
				t.Fatal("operation wrote nothing")
			}
			counts := map[outcome]int{}
			for n := 1; n <= writes; n++ {
				for _, keep := range []int{0, 9, 1 << 20} {
					label := fmt.Sprintf("%s: power cut at write %d keeping %d bytes", fl.name, n, keep)
					r := snap.restore(t, uint64(n*7+keep))
					under := r.fs
					ffs := &memory.FaultFS{FS: under, CutAt: n, Keep: keep}
					dev, err := r.openOn(ffs)
					if err == nil && dev != nil {
						err = fl.run(context.Background(), dev)
					}
					if !ffs.IsCut() && err != nil {
						t.Fatalf("%s: failed without a cut: %v", label, err)
					}
					r.fs = under
					counts[checkAfterCrash(t, r, label, fl)]++
				}
			}
			t.Logf("%s: %d writes, outcomes ok=%d pin-out-of-step=%d", fl.name, writes, counts[okOutcome], counts[pinOutOfStep])
		})
	}
}

func TestCrashPointsCard(t *testing.T) {
	for _, fl := range crashFlows() {
		t.Run(fl.name, func(t *testing.T) {
			base := newRig(t, smallRolls)
			fl.prepare(base)
			base.clock.AddDays(fl.days)
			snap := takeSnapshot(t, base)
			clean := snap.restore(t, 0)
			if _, err := clean.openOn(clean.fs); err != nil {
				t.Fatal(err)
			}
			f0, u0 := clean.cs.Fiscal.Commands(), clean.cs.User.Commands()
			if err := fl.run(context.Background(), clean.dev); err != nil {
				t.Fatalf("clean run: %v", err)
			}
			// Commands of Open are counted too: the fault is armed before Open.
			fc, uc := clean.cs.Fiscal.Commands(), clean.cs.User.Commands()
			_, _ = f0, u0
			counts := map[outcome]int{}
			for _, which := range []string{"fiscal", "user"} {
				total := fc
				if which == "user" {
					total = uc
				}
				for k := 1; k <= total; k++ {
					for _, apply := range []bool{false, true} {
						label := fmt.Sprintf("%s: %s card pulled at command %d (applied %v)", fl.name, which, k, apply)
						r := snap.restore(t, uint64(k*3+len(which)))
						c := r.cs.Fiscal
						if which == "user" {
							c = r.cs.User
						}
						c.InjectFault(emulator.Fault{At: k, Pull: true, Apply: apply})
						if dev, err := r.openOn(r.fs); err == nil && dev != nil {
							_ = fl.run(context.Background(), dev)
						}
						counts[checkAfterCrash(t, r, label, fl)]++
					}
				}
			}
			t.Logf("%s: %d fiscal + %d user commands, outcomes ok=%d pin-out-of-step=%d", fl.name, fc, uc, counts[okOutcome], counts[pinOutOfStep])
		})
	}
}
