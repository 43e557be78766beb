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
// gone) and c calls again with the same request. moveClock advances the
// register's clock between the other host's invoice and c's send, and lets
// c learn the new time (3A).
func restartCase(t *testing.T, moveClock bool) (d *linktest.Device, res link.IssueResult, issued int, err error) {
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
	c := link.NewClient(line, &link.ClientOptions{ReplyTimeout: 50 * time.Millisecond, ReconcileAttempts: 1, Retries: 1})
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
	if moveClock {
		if err := d.SetClock(time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DateTime(ctx); err != nil {
			t.Fatal(err)
		}
	}
	line.deaf.Store(true)
	req.RequestID = 0xFEED
	r, err := c.IssueNormal(ctx, req)
	if r.Outcome != link.Unknown || r.From != theirs.Invoice().No {
		t.Fatalf("deaf line: %+v, %v; want Unknown from %d", r, err, theirs.Invoice().No)
	}
	if moveClock && !theirs.Invoice().Time.Before(r.NotBefore) {
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
// register time at which the client sent (as the client knows it): the
// time bound leaves one candidate, the right one.
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
