package link_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
)

// restartCase issues, through client c, an invoice whose reply is lost
// after another host issued an invoice of the same content numbered from
// c's cached next number; then the server restarts (its request ids are
// gone) and c calls again with the same request. With gap, a few seconds
// pass between the other host's invoice and c's send, and c's clock margin
// is tiny, so that the other invoice is dated before c's NotBefore.
func restartCase(t *testing.T, gap bool) (d *linktest.Device, res link.IssueResult, issued int, err error) {
	t.Helper()
	d = newDevice(t, "")
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	a1, b1 := linktest.Pipe(nil)
	ctx1, stop1 := context.WithCancel(ctx)
	defer stop1()
	srv1 := link.NewServer(d.Handler(), nil)
	go srv1.Serve(ctx1, b1)
	line := &switchLine{end: a1}
	opts := &link.ClientOptions{ReplyTimeout: 50 * time.Millisecond, ReconcileAttempts: 1, Retries: 1}
	if gap {
		opts.ClockMargin = time.Nanosecond
	}
	c := link.NewClient(line, opts)
	req := tenLine()
	req.Items = req.Items[:1] // one packet
	if r, err := c.IssueNormal(ctx, req); err != nil || r.Outcome != link.Done {
		t.Fatalf("first invoice: %+v, %v", r, err)
	}
	// Another host, same content, same server.
	oa, ob := linktest.Pipe(nil)
	go srv1.Serve(ctx1, ob)
	other := link.NewClient(oa, nil)
	theirs, err := other.IssueNormal(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if gap {
		// The learned offset may be up to a second low (invoice times are
		// whole seconds) and both times are cut to the second.
		time.Sleep(2500 * time.Millisecond)
	}
	line.deaf.Store(true)
	req.RequestID = 0xFEED
	r, err := c.IssueNormal(ctx, req)
	if r.Outcome != link.Unknown || r.From != theirs.Invoice().No {
		t.Fatalf("deaf line: %+v, %v; want Unknown from %d", r, err, theirs.Invoice().No)
	}
	if gap && !theirs.Invoice().Time.Before(r.NotBefore) {
		t.Fatalf("not-before %v does not exclude the other host's invoice at %v", r.NotBefore, theirs.Invoice().Time)
	}
	issued = d.Dev.Status().Issued
	if issued != 3 {
		t.Fatalf("register holds %d invoices, want 3", issued)
	}
	stop1()
	a2, b2 := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a2, b2)
	line.set(a2)
	line.deaf.Store(false)
	res, err = c.IssueNormal(ctx, req)
	return d, res, issued, err
}

// Two invoices without request id in the window match the request's
// content: the client must not pick one. It reports Unknown with the
// candidates, and sends nothing.
func TestReconcileAmbiguousIsUnknown(t *testing.T) {
	d, res, issued, err := restartCase(t, false)
	var amb *link.AmbiguousError
	if res.Outcome != link.Unknown || !errors.Is(err, link.ErrOutcomeUnknown) || !errors.As(err, &amb) {
		t.Fatalf("ambiguous case: %+v, %v; want Unknown with *AmbiguousError", res, err)
	}
	if len(amb.Candidates) != 2 || amb.Want != 1 || res.Sends != 0 {
		t.Fatalf("candidates %+v, want %d; sends %d", amb.Candidates, amb.Want, res.Sends)
	}
	if got := d.Dev.Status().Issued; got != issued {
		t.Fatalf("issued again: %d invoices, want %d", got, issued)
	}
}

// The same case, but the other host's invoice is dated before the
// register time at which the client sent (as the client estimates it from
// its own last invoice): the time bound leaves one candidate, the right
// one.
func TestReconcileTimeBoundPicksTheRightInvoice(t *testing.T) {
	d, res, issued, err := restartCase(t, true)
	if err != nil || res.Outcome != link.Done || res.Sends != 0 || !res.Reconciled {
		t.Fatalf("after restart: %+v, %v", res, err)
	}
	last, lerr := d.Dev.LastInvoice(context.Background())
	if lerr != nil || res.Invoice().No != last.Detail.Number || res.Invoice().FiscalCode != last.Detail.FiscalCode {
		t.Fatalf("resolved to %+v, register's last is %+v (%v)", res.Invoice(), last.Detail, lerr)
	}
	if got := d.Dev.Status().Issued; got != issued {
		t.Fatalf("issued again: %d invoices, want %d", got, issued)
	}
}

// NotBefore needs an invoice of this client to learn the register's clock,
// and is forgotten when the client sets the clock.
func TestNotBeforeLearnedFromInvoices(t *testing.T) {
	d := newDevice(t, "")
	defer d.Close()
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a, b)
	c := link.NewClient(a, nil)
	ctx := context.Background()
	if _, err := c.DateTime(ctx); err != nil {
		t.Fatal(err)
	}
	r1, err := c.IssueNormal(ctx, tenLine())
	if err != nil || !r1.NotBefore.IsZero() {
		t.Fatalf("first invoice: not-before %v, %v; want none (3A teaches nothing)", r1.NotBefore, err)
	}
	r2, err := c.IssueNormal(ctx, tenLine())
	if err != nil || r2.NotBefore.IsZero() || r2.NotBefore.After(r2.Invoice().Time) || r2.Invoice().Time.Sub(r2.NotBefore) > 4*time.Second {
		t.Fatalf("second invoice at %v: not-before %v, %v", r2.Invoice().Time, r2.NotBefore, err)
	}
	if err := c.SetDateTime(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	r3, err := c.IssueNormal(ctx, tenLine())
	if err != nil || !r3.NotBefore.IsZero() {
		t.Fatalf("after 3B: not-before %v, %v; want none", r3.NotBefore, err)
	}
}
