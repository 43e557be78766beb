package link_test

import (
	"context"
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
	d := newDevice(t, "")
	defer d.Close()
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a, b)
	registertest.Run(t, link.NewClient(a, nil), &registertest.Options{OpenDay: true})
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
	}
	st := c.Stats()
	t.Logf("%d invoices: %d reconciliations, %d re-sends, %d duplicates answered from memory",
		n, st.Reconciliations, st.IssueResends, srv.Stats().Duplicates)
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
