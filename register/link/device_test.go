package link_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
	"github.com/fiscalkit/gb18240/register/registertest"
)

func newDevice(t testing.TB, dir string) *linktest.Device {
	t.Helper()
	d, err := linktest.NewDevice(context.Background(), &linktest.DeviceOptions{Dir: dir, Rolls: 10})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The conformance suite against the real register engine on emulated cards
// and fiscal memory, through DeviceHandler.
func TestConformanceDevice(t *testing.T) {
	d, err := linktest.NewDevice(context.Background(), &linktest.DeviceOptions{Rolls: 10, ServiceMode: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a, b)
	registertest.Run(t, link.NewClient(a, nil), &registertest.Options{OpenDay: true, SelfTests: true, CardPassThrough: true, CheckPIN: []byte("12345678"), RequestIDs: true})
}

// Exactly once against the real engine: faults in both directions, every
// Done matches fiscal memory, nothing issued twice or lost.
func TestExactlyOnceDeviceUnderFaults(t *testing.T) {
	n := 120
	if testing.Short() {
		n = 40
	}
	d := newDevice(t, t.TempDir())
	defer d.Close()
	seed := faultSeed(t)
	t.Logf("fault seed %d (client side), %d (server side); repeat with -faultseed %d", seed, seed+1, seed)
	f := link.Faults{Drop: 0.02, Duplicate: 0.03, Corrupt: 0.02, Cut: 0.02, Delay: 0.03, MaxDelay: 5 * time.Millisecond}
	fa, fb := f, f
	fa.Seed, fb.Seed = seed, seed+1
	srv := link.NewServer(d.Handler(), &link.ServerOptions{InterByteTimeout: 5 * time.Millisecond})
	a, b := linktest.Pipe(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, link.NewFaultyLink(b, fb))
	c := link.NewClient(link.NewFaultyLink(a, fa), &link.ClientOptions{ReplyTimeout: 60 * time.Millisecond,
		InterByteTimeout: 5 * time.Millisecond, IssueAttempts: 10, ReconcileAttempts: 10, Retries: 10})
	ca, cb := linktest.Pipe(nil)
	go srv.Serve(ctx, cb)
	clean := link.NewClient(ca, nil)

	before := d.Dev.Status().Issued
	done := map[uint32]link.Invoice{}
	for i := range n {
		req := tenLine()
		req.Items = req.Items[:1+i%10]
		res, err := c.IssueNormal(ctx, req)
		if res.Outcome == link.Unknown {
			req.RequestID = res.RequestID
			res, err = clean.IssueNormal(ctx, req)
		}
		if err != nil || res.Outcome != link.Done || len(res.Invoices) != 1 {
			t.Fatalf("invoice %d: %+v, %v", i, res, err)
		}
		inv := res.Invoice()
		if _, dup := done[inv.No]; dup {
			t.Fatalf("invoice number %d reported Done twice", inv.No)
		}
		done[inv.No] = inv
	}
	if got := d.Dev.Status().Issued - before; got != n {
		t.Fatalf("fiscal memory holds %d new invoices, %d were Done", got, n)
	}
	for no, inv := range done {
		v, err := d.Dev.InvoiceByNumber(ctx, fiscal.InvoiceCode{}, no)
		if err != nil {
			t.Fatal(err)
		}
		if v.Detail.FiscalCode != inv.FiscalCode || uint32(v.Detail.Total) != inv.Total || v.Detail.Type != fiscal.InvoiceNormal {
			t.Errorf("invoice %d: Done %+v, fiscal memory %+v", no, inv, v.Detail)
		}
		if v.RequestID == 0 || v.RequestID != inv.RequestID {
			t.Errorf("invoice %d: request id %x in fiscal memory, Done with %x", no, v.RequestID, inv.RequestID)
		}
	}
	st := c.Stats()
	t.Logf("%d invoices: %d reconciliations (%d by request id), %d re-sends, %d duplicates answered from memory",
		n, st.Reconciliations, st.ReconciledByID, st.IssueResends, srv.Stats().Duplicates)
	if err := d.SaveErr(); err != nil {
		t.Fatal(err)
	}
}

// A device reopened from its directory keeps its invoices and cards.
func TestDeviceReopen(t *testing.T) {
	dir := t.TempDir()
	d := newDevice(t, dir)
	a, b := linktest.Pipe(nil)
	srv := link.NewServer(d.Handler(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx, b)
	res, err := link.NewClient(a, nil).IssueNormal(ctx, tenLine())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := newDevice(t, dir)
	defer d2.Close()
	a2, b2 := linktest.Pipe(nil)
	serve(t, link.NewServer(d2.Handler(), nil), a2, b2)
	c := link.NewClient(a2, nil)
	invs, err := c.Invoices(context.Background(), link.NumberRange{From: res.Invoice().No, To: res.Invoice().No})
	if err != nil || len(invs) != 1 || invs[0].FiscalCode != res.Invoice().FiscalCode {
		t.Fatalf("after reopening: %+v, %v", invs, err)
	}
	if r2, err := c.IssueNormal(context.Background(), tenLine()); err != nil || r2.Invoice().No != res.Invoice().No+1 {
		t.Fatalf("issuing after reopening: %+v, %v", r2, err)
	}
}

// switchLine forwards to the current end of a pipe; while deaf, everything
// read is lost.
type switchLine struct {
	mu   sync.Mutex
	end  *linktest.End
	deaf atomic.Bool
}

func (s *switchLine) set(e *linktest.End) { s.mu.Lock(); s.end = e; s.mu.Unlock() }
func (s *switchLine) cur() *linktest.End  { s.mu.Lock(); defer s.mu.Unlock(); return s.end }
func (s *switchLine) Write(p []byte) (int, error) {
	return s.cur().Write(p)
}
func (s *switchLine) SetReadDeadline(t time.Time) error { return s.cur().SetReadDeadline(t) }
func (s *switchLine) Read(p []byte) (int, error) {
	for {
		n, err := s.cur().Read(p)
		if n == 0 || !s.deaf.Load() {
			return n, err
		}
	}
}

// The reply to an invoice is lost (Unknown), then the server restarts and
// forgets its request ids (fiscal memory keeps them). Calling again with
// the same request reconciles first, finds the invoice by its request id,
// and does not issue it twice.
func TestUnknownResolvedAfterServerRestart(t *testing.T) {
	d := newDevice(t, "")
	defer d.Close()
	ctx := context.Background()
	a1, b1 := linktest.Pipe(nil)
	ctx1, stop1 := context.WithCancel(ctx)
	defer stop1()
	go link.NewServer(d.Handler(), nil).Serve(ctx1, b1)
	line := &switchLine{end: a1}
	c := link.NewClient(line, &link.ClientOptions{ReplyTimeout: 50 * time.Millisecond, ReconcileAttempts: 1, Retries: 1})
	if res, err := c.IssueNormal(ctx, tenLine()); err != nil || res.Outcome != link.Done {
		t.Fatalf("first invoice: %+v, %v", res, err)
	}
	line.deaf.Store(true)
	req := tenLine()
	req.Items = req.Items[:1] // one packet: it reaches the register, the reply does not come back
	req.RequestID = 0xFEED
	res, err := c.IssueNormal(ctx, req)
	if res.Outcome != link.Unknown || !errors.Is(err, link.ErrOutcomeUnknown) {
		t.Fatalf("deaf line: %+v, %v", res, err)
	}
	issued := d.Dev.Status().Issued
	last, err := d.Dev.LastInvoice(ctx)
	if err != nil || issued != 2 || last.Detail.Number != res.From {
		t.Fatalf("register: %d invoices, last %+v (%v); want 2, number %d", issued, last.Detail, err, res.From)
	}

	stop1() // the server and its memory of request ids are gone
	a2, b2 := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a2, b2)
	line.set(a2)
	line.deaf.Store(false)
	res2, err := c.IssueNormal(ctx, req)
	if err != nil || res2.Outcome != link.Done || res2.Sends != 0 || !res2.Reconciled {
		t.Fatalf("after restart: %+v, %v", res2, err)
	}
	if inv := res2.Invoice(); inv.No != last.Detail.Number || inv.FiscalCode != last.Detail.FiscalCode {
		t.Fatalf("resolved to %+v, register's last is %+v", inv, last.Detail)
	}
	if got := d.Dev.Status().Issued; got != issued {
		t.Fatalf("issued again: %d invoices, want %d", got, issued)
	}
}

// Voids carry no content to match but their type: with request ids in
// fiscal memory a lost reply is still resolved exactly after the server
// and the register restart, with the other host's voids in the window.
func TestVoidUnknownResolvedAfterRestart(t *testing.T) {
	d := newDevice(t, "")
	defer d.Close()
	ctx := context.Background()
	a1, b1 := linktest.Pipe(nil)
	ctx1, stop1 := context.WithCancel(ctx)
	defer stop1()
	srv1 := link.NewServer(d.Handler(), nil)
	go srv1.Serve(ctx1, b1)
	line := &switchLine{end: a1}
	c := link.NewClient(line, &link.ClientOptions{ReplyTimeout: 50 * time.Millisecond, ReconcileAttempts: 1, Retries: 1})
	if res, err := c.IssueNormal(ctx, tenLine()); err != nil || res.Outcome != link.Done {
		t.Fatalf("first invoice: %+v, %v", res, err)
	}
	// Another host voids two invoices after c learned the next number.
	oa, ob := linktest.Pipe(nil)
	go srv1.Serve(ctx1, ob)
	if res, err := link.NewClient(oa, nil).Void(ctx, link.VoidRequest{Count: 2}); err != nil || len(res.Invoices) != 2 {
		t.Fatalf("other host: %+v, %v", res, err)
	}
	line.deaf.Store(true)
	req := link.VoidRequest{RequestID: 0xF00D, Count: 2}
	if res, err := c.Void(ctx, req); res.Outcome != link.Unknown {
		t.Fatalf("deaf line: %+v, %v", res, err)
	}
	issued := d.Dev.Status().Issued
	mine, err := d.Mem.InvoicesByRequestID(ctx, 0xF00D)
	if err != nil || len(mine) != 2 || issued != 5 {
		t.Fatalf("register: %d invoices, %d for the request (%v)", issued, len(mine), err)
	}
	stop1()
	if err := d.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	a2, b2 := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a2, b2)
	line.set(a2)
	line.deaf.Store(false)
	res, err := c.Void(ctx, req)
	if err != nil || res.Outcome != link.Done || res.Sends != 0 || len(res.Invoices) != 2 {
		t.Fatalf("after restart: %+v, %v", res, err)
	}
	for i, inv := range res.Invoices {
		if inv.No != mine[i].Detail.Number || inv.FiscalCode != mine[i].Detail.FiscalCode || inv.RequestID != 0xF00D {
			t.Fatalf("void %d resolved to %+v, register has %+v", i, inv, mine[i].Detail)
		}
	}
	if got := d.Dev.Status().Issued; got != issued {
		t.Fatalf("voided again: %d invoices, want %d", got, issued)
	}
	if n := c.Stats().ReconciledByID; n != 1 { // the deaf attempt got no answer
		t.Fatalf("%d reconciliations by request id, want 1", n)
	}
}

// 3A reports the register's own time (register.Device.Now), the clock
// that dates its invoices.
func TestDateTimeIsDeviceClock(t *testing.T) {
	d := newDevice(t, "")
	defer d.Close()
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a, b)
	c := link.NewClient(a, nil)
	ctx := context.Background()
	got, err := c.DateTime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := d.Dev.Now().Sub(got); diff < 0 || diff > 2*time.Second {
		t.Fatalf("3A says %v, the register's clock %v", got, d.Dev.Now())
	}
}
