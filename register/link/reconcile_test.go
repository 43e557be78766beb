package link_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
)

// idlessHandler is a register that does not store request ids (as
// registers did before fiscal memory kept them): it issues without the id,
// uploads records without one and cannot look invoices up by id (it does
// not implement link.RequestHandler), so only the server's RAM knows ids.
type idlessHandler struct{ link.Handler }

func (h idlessHandler) IssueNormal(ctx context.Context, req link.IssueRequest) (link.Invoice, error) {
	req.RequestID = 0
	return h.Handler.IssueNormal(ctx, req)
}

func (h idlessHandler) Invoices(ctx context.Context, q link.NumberRange, limit int) ([]link.Invoice, error) {
	x, err := h.Handler.Invoices(ctx, q, limit)
	for i := range x {
		x[i].RequestID = 0
	}
	return x, err
}

// restartCase issues, through client c, an invoice whose reply is lost
// after another host issued an invoice of the same content numbered from
// c's cached next number; then the server and the register restart (a
// new Server and a new register.Device on the same fiscal memory and
// cards: the server's RAM of request ids is gone) and c calls again with
// the same request. With gap, a few seconds pass between the other host's
// invoice and c's send, and c's clock margin is tiny, so that the other
// invoice is dated before c's NotBefore. With idless the register does
// not store request ids (idlessHandler).
func restartCase(t *testing.T, gap, idless bool) (d *linktest.Device, res link.IssueResult, issued int, err error) {
	t.Helper()
	d = newDevice(t, "")
	t.Cleanup(func() { d.Close() })
	handler := func() link.Handler {
		if idless {
			return idlessHandler{d.Handler()}
		}
		return d.Handler()
	}
	ctx := context.Background()
	a1, b1 := linktest.Pipe(nil)
	ctx1, stop1 := context.WithCancel(ctx)
	defer stop1()
	srv1 := link.NewServer(handler(), nil)
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
	if err := d.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	a2, b2 := linktest.Pipe(nil)
	serve(t, link.NewServer(handler(), nil), a2, b2)
	line.set(a2)
	line.deaf.Store(false)
	res, err = c.IssueNormal(ctx, req)
	return d, res, issued, err
}

// A register that stores request ids: two invoices of the same content
// lie in the window, and the client still finds its own, by id, without
// sending the request again.
func TestRestartReconcilesByRequestID(t *testing.T) {
	d, res, issued, err := restartCase(t, false, false)
	if err != nil || res.Outcome != link.Done || res.Sends != 0 || !res.Reconciled || len(res.Invoices) != 1 {
		t.Fatalf("after restart: %+v, %v", res, err)
	}
	last, lerr := d.Dev.LastInvoice(context.Background())
	if lerr != nil || res.Invoice().No != last.Detail.Number || res.Invoice().FiscalCode != last.Detail.FiscalCode ||
		res.Invoice().RequestID != 0xFEED || last.RequestID != 0xFEED {
		t.Fatalf("resolved to %+v, register's last is %+v id %x (%v)", res.Invoice(), last.Detail, last.RequestID, lerr)
	}
	if got := d.Dev.Status().Issued; got != issued {
		t.Fatalf("issued again: %d invoices, want %d", got, issued)
	}

	// Another restart; a new client sends the same request blindly: the
	// register answers it from fiscal memory and issues nothing.
	ctx := context.Background()
	if err := d.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a, b)
	c := link.NewClient(a, nil)
	req := tenLine()
	req.Items = req.Items[:1]
	req.RequestID = 0xFEED
	again, err := c.IssueNormal(ctx, req)
	if err != nil || again.Outcome != link.Done || again.Invoice().No != last.Detail.Number || again.Invoice().FiscalCode != last.Detail.FiscalCode {
		t.Fatalf("repeat to a restarted register: %+v, %v; want invoice %d", again, err, last.Detail.Number)
	}
	if got := d.Dev.Status().Issued; got != issued {
		t.Fatalf("repeat issued again: %d invoices, want %d", got, issued)
	}
	// The lookup command itself: the invoice for the id, none for another.
	invs, err := c.InvoicesByRequest(ctx, 0xFEED)
	if err != nil || len(invs) != 1 || invs[0].No != last.Detail.Number {
		t.Fatalf("lookup: %+v, %v", invs, err)
	}
	if invs, err := c.InvoicesByRequest(ctx, 0xBEEF); err != nil || len(invs) != 0 {
		t.Fatalf("lookup of an unused id: %+v, %v", invs, err)
	}
}

// The lost reply case against a register that stores ids, where the
// request was not executed: reconciliation by id says NotDone and the
// client sends it, once.
func TestReconcileByIDNotDoneSends(t *testing.T) {
	d := newDevice(t, "")
	defer d.Close()
	ctx := context.Background()
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a, b)
	line := &dropFirstRequest{end: a}
	c := link.NewClient(line, &link.ClientOptions{ReplyTimeout: 50 * time.Millisecond})
	before := d.Dev.Status().Issued
	req := tenLine()
	req.Items = req.Items[:1]
	res, err := c.IssueNormal(ctx, req)
	if err != nil || res.Outcome != link.Done || res.Sends != 2 || !res.Reconciled {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := d.Dev.Status().Issued; got != before+1 {
		t.Fatalf("%d invoices issued, want 1", got-before)
	}
	if c.Stats().ReconciledByID != 1 {
		t.Fatalf("reconciled by id %d times, want 1", c.Stats().ReconciledByID)
	}
}

// dropFirstRequest loses the first issuing request on its way.
type dropFirstRequest struct {
	end     *linktest.End
	dropped bool
}

func (l *dropFirstRequest) Write(p []byte) (int, error) {
	if !l.dropped && len(p) > 2 && p[2] == byte(link.CmdIssueNormal) {
		l.dropped = true
		return len(p), nil
	}
	return l.end.Write(p)
}
func (l *dropFirstRequest) Read(p []byte) (int, error)        { return l.end.Read(p) }
func (l *dropFirstRequest) SetReadDeadline(t time.Time) error { return l.end.SetReadDeadline(t) }

// A register that does not store request ids: two invoices without request
// id in the window match the request's content, and the client must not
// pick one. It reports Unknown with the candidates, and sends nothing.
func TestReconcileAmbiguousIsUnknown(t *testing.T) {
	d, res, issued, err := restartCase(t, false, true)
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

// The same case (a register without request ids), but the other host's
// invoice is dated before the register time at which the client sent (as
// the client estimates it from its own last invoice): the time bound
// leaves one candidate, the right one.
func TestReconcileTimeBoundPicksTheRightInvoice(t *testing.T) {
	d, res, issued, err := restartCase(t, true, true)
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
