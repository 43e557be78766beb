package link_test

import (
	"context"
	"errors"
	"flag"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
	"github.com/fiscalkit/gb18240/register/registertest"
)

var faultSeedFlag = flag.Uint64("faultseed", 0, "seed of the fault-injection tests (0: from the clock)")

// faultSeed returns the seed of a fault-injection run: -faultseed, or the
// clock. Tests print it so that a failing run can be repeated.
func faultSeed(t testing.TB) uint64 {
	t.Helper()
	if *faultSeedFlag != 0 {
		return *faultSeedFlag
	}
	return uint64(time.Now().UnixNano())
}

// serve starts srv on one end of a pipe and returns the other end; the
// server stops when the test ends.
func serve(t testing.TB, srv *link.Server, a, b interface {
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	Close() error
}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, b) }()
	t.Cleanup(func() {
		cancel()
		a.Close()
		b.Close()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("server: %v", err)
		}
	})
}

func TestConformanceNetPipe(t *testing.T) {
	reg := linktest.NewRegister(&linktest.RegisterOptions{RollSize: 20})
	a, b := net.Pipe()
	serve(t, link.NewServer(reg, nil), a, b)
	registertest.Run(t, link.NewClient(a, nil), nil)
}

func TestConformanceBufferedPipe(t *testing.T) {
	reg := linktest.NewRegister(nil)
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, nil), a, b)
	registertest.Run(t, link.NewClient(a, nil), nil)
}

func tenLine() link.IssueRequest {
	return link.IssueRequest{Payer: []byte("p"), Items: registertest.TenItems()}
}

func loadRoll(t testing.TB, c *link.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.DistributeRoll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadRoll(ctx); err != nil {
		t.Fatal(err)
	}
}

// Consecutive identical multi-packet invoices differ only in their first
// packet (the request id); each is issued at once, without reconciling.
func TestIdenticalInvoicesNoReconcile(t *testing.T) {
	reg := linktest.NewRegister(nil)
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, nil), a, b)
	c := link.NewClient(a, nil)
	loadRoll(t, c)
	for i := range 10 {
		res, err := c.IssueNormal(context.Background(), tenLine())
		if err != nil || res.Outcome != link.Done || res.Sends != 1 || res.Reconciled || res.Invoice().No != uint32(i+1) {
			t.Fatalf("invoice %d: %+v, %v", i, res, err)
		}
	}
	if st := c.Stats(); st.Reconciliations != 0 || st.StaleReplies != 0 || st.Timeouts != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A command slower than the client's reply timeout succeeds because the
// server keeps the line alive with WT.
func TestWaitKeepsTheClientWaiting(t *testing.T) {
	reg := linktest.NewRegister(&linktest.RegisterOptions{IssueDelay: 300 * time.Millisecond})
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, &link.ServerOptions{BusyInterval: 40 * time.Millisecond}), a, b)
	c := link.NewClient(a, &link.ClientOptions{ReplyTimeout: 100 * time.Millisecond})
	loadRoll(t, c)
	res, err := c.IssueNormal(context.Background(), tenLine())
	if err != nil || res.Outcome != link.Done || res.Reconciled || res.Sends != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	if w := c.Stats().Waits; w < 3 {
		t.Errorf("%d WT frames, want at least 3", w)
	}
}

// Without WT the same slow command times out, and the client reconciles
// instead of sending blindly again: still exactly one invoice.
func TestQuietServerMeansReconcile(t *testing.T) {
	reg := linktest.NewRegister(&linktest.RegisterOptions{IssueDelay: 400 * time.Millisecond})
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, &link.ServerOptions{BusyInterval: time.Hour}), a, b)
	c := link.NewClient(a, &link.ClientOptions{ReplyTimeout: 50 * time.Millisecond, ReconcileAttempts: 20})
	loadRoll(t, c)
	res, err := c.IssueNormal(context.Background(), tenLine())
	if err != nil || res.Outcome != link.Done || !res.Reconciled {
		t.Fatalf("%+v, %v", res, err)
	}
	if n := reg.IssuedFor(res.RequestID); n != 1 {
		t.Fatalf("issued %d times", n)
	}
}

// Every frame the client writes arrives twice: the server answers the
// copies from memory and never issues twice.
func TestDuplicatedFramesIssueOnce(t *testing.T) {
	reg := linktest.NewRegister(nil)
	a, b := linktest.Pipe(nil)
	srv := link.NewServer(reg, nil)
	serve(t, srv, a, b)
	c := link.NewClient(link.NewFaultyLink(a, link.Faults{Duplicate: 1}), &link.ClientOptions{ReplyTimeout: 200 * time.Millisecond})
	loadRoll(t, c)
	for i := range 20 {
		req := tenLine()
		req.Items = req.Items[:1+i%2*9] // one packet or two
		res, err := c.IssueNormal(context.Background(), req)
		if err != nil || res.Outcome != link.Done {
			t.Fatalf("invoice %d: %+v, %v", i, res, err)
		}
		if n := reg.IssuedFor(res.RequestID); n != 1 {
			t.Fatalf("invoice %d issued %d times", i, n)
		}
	}
	if got := len(reg.Issued()); got != 20 {
		t.Fatalf("%d invoices, want 20", got)
	}
	// One more exchange: the server has then read the duplicate of the last
	// invoice's final packet too (it precedes this request on the line).
	if _, err := c.CurrentInvoice(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Duplicates < 10 || st.Repeats < 10 {
		t.Errorf("%d duplicates answered from memory, %d repeated final packets; want at least 10 each", st.Duplicates, st.Repeats)
	}
}

// Lists longer than one transfer are paged with the "more" flag.
func TestListPaging(t *testing.T) {
	reg := linktest.NewRegister(nil)
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, &link.ServerOptions{MaxTransfer: 1000}), a, b)
	c := link.NewClient(a, nil)
	loadRoll(t, c)
	ctx := context.Background()
	if res, err := c.Void(ctx, link.VoidRequest{Count: 25}); err != nil || len(res.Invoices) != 25 {
		t.Fatalf("void 25: %+v, %v", res, err)
	}
	for range 3 {
		if res, err := c.IssueNormal(ctx, tenLine()); err != nil {
			t.Fatalf("%+v %v", res, err)
		}
	}
	invs, err := c.Invoices(ctx, link.NumberRange{From: 1, To: 1000})
	if err != nil || len(invs) != 28 {
		t.Fatalf("%d invoices, %v; want 28", len(invs), err)
	}
	for i, inv := range invs {
		if inv.No != uint32(i+1) {
			t.Fatalf("invoice %d has number %d", i, inv.No)
		}
	}
	det, err := c.InvoiceDetails(ctx, link.NumberRange{From: 1, To: 1000})
	if err != nil || len(det) != 28 || len(det[27].Items) != 10 {
		t.Fatalf("%d details, %v", len(det), err)
	}
}

// Raw frames: bad CRC gets ER 1F, unknown commands ER 20, requests of
// issuing commands without a request id ER F1 with the id echoed.
func TestServerRejectsBadFrames(t *testing.T) {
	reg := linktest.NewRegister(nil)
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, nil), a, b)
	read := func() link.Response {
		t.Helper()
		buf := make([]byte, 64)
		_ = a.SetReadDeadline(time.Now().Add(time.Second))
		n, err := a.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		r, err := link.ParseResponse(buf[:n])
		if err != nil {
			t.Fatalf("%x: %v", buf[:n], err)
		}
		return r
	}
	f, _ := link.AppendRequest(nil, link.Request{Command: link.CmdStatus})
	f[len(f)-1] ^= 0xFF
	a.Write(append([]byte{0x00, 0x55}, f...))
	if r := read(); r.Status != link.StatusER || r.Data[0] != byte(link.CodeBadCRC) {
		t.Errorf("bad CRC: %+v", r)
	}
	f, _ = link.AppendRequest(nil, link.Request{Command: 0x99})
	a.Write(f)
	if r := read(); r.Status != link.StatusER || r.Data[0] != byte(link.CodeUnknownCommand) {
		t.Errorf("unknown command: %+v", r)
	}
	f, _ = link.AppendRequest(nil, link.Request{Command: link.CmdStatus, Data: []byte{1}})
	a.Write(f)
	if r := read(); r.Status != link.StatusER || r.Data[0] != byte(link.CodeBadRequest) {
		t.Errorf("status with data: %+v", r)
	}
	f, _ = link.AppendRequest(nil, link.Request{Command: link.CmdVoid, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 1}})
	a.Write(f)
	if r := read(); r.Status != link.StatusER || r.Data[0] != byte(link.CodeBadRequest) || len(r.Data) != 9 {
		t.Errorf("void without request id: %+v", r)
	}
	if len(reg.Issued()) != 0 {
		t.Error("something was issued")
	}
}

// The first packet of a two-packet request arrives, the rest never does:
// the server gives the request up after FrameTimeout and serves the next
// one; nothing is issued from the fragment.
func TestServerAbandonsIncompleteRequest(t *testing.T) {
	reg := linktest.NewRegister(nil)
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, &link.ServerOptions{FrameTimeout: 50 * time.Millisecond}), a, b)
	c := link.NewClient(a, nil)
	loadRoll(t, c)
	// IssueRequest: id u64 ‖ branch u16 ‖ payer[40] ‖ count ‖ 10 × 29-byte items = 341 bytes.
	data := make([]byte, 341)
	data[7] = 1   // request id 1
	data[50] = 10 // ten items
	first, _ := link.AppendRequest(nil, link.Request{Command: link.CmdIssueNormal, Pack: 1, Data: data[:link.MaxPacketData]})
	a.Write(first)
	buf := make([]byte, 16)
	a.SetReadDeadline(time.Now().Add(time.Second))
	n, err := a.Read(buf)
	if r, perr := link.ParseResponse(buf[:n]); err != nil || perr != nil || r.Status != link.StatusNP || r.Pack != 2 {
		t.Fatalf("after packet 1: %x, %v, %v", buf[:n], err, perr)
	}
	time.Sleep(100 * time.Millisecond)
	// The tail arriving now is a stray single packet, not the end of the
	// abandoned request: it does not decode, and nothing is issued.
	last, _ := link.AppendRequest(nil, link.Request{Command: link.CmdIssueNormal, Data: data[link.MaxPacketData:]})
	a.Write(last)
	a.SetReadDeadline(time.Now().Add(time.Second))
	n, err = a.Read(buf)
	if r, perr := link.ParseResponse(buf[:n]); err != nil || perr != nil || r.Status != link.StatusER {
		t.Fatalf("after the late tail: %x, %v, %v", buf[:n], err, perr)
	}
	if cur, err := c.CurrentInvoice(context.Background()); err != nil || cur.LastIssued != 0 || len(reg.Issued()) != 0 {
		t.Fatalf("something was issued: %+v, %v", cur, err)
	}
}

func TestDeviceErrorsReachTheCaller(t *testing.T) {
	reg := linktest.NewRegister(nil)
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(reg, nil), a, b)
	c := link.NewClient(a, nil)
	res, err := c.IssueNormal(context.Background(), tenLine())
	var de *link.DeviceError
	if res.Outcome != link.NotDone || !errors.Is(err, link.ErrNoInvoices) || !errors.As(err, &de) || de.Code != link.CodeNoInvoices {
		t.Fatalf("no roll: %+v, %v", res, err)
	}
	if _, err := c.LoadRoll(context.Background()); !errors.As(err, &de) || errors.Is(err, link.ErrOutcomeUnknown) {
		t.Fatalf("load without a distributed roll: %v", err)
	}
}

// An unreachable register gives Unknown, and the same request succeeds
// exactly once when it is back.
func TestUnreachableThenResolved(t *testing.T) {
	reg := linktest.NewRegister(nil)
	srv := link.NewServer(reg, nil)
	a, b := linktest.Pipe(nil)
	serve(t, srv, a, b)
	c := link.NewClient(a, &link.ClientOptions{ReplyTimeout: 30 * time.Millisecond})
	loadRoll(t, c)
	if _, err := c.IssueNormal(context.Background(), tenLine()); err != nil {
		t.Fatal(err)
	}
	// The line goes dead after the request is sent: every byte from the
	// register is lost.
	gate := &deafGate{End: a}
	deadClient := link.NewClient(gate, &link.ClientOptions{ReplyTimeout: 30 * time.Millisecond, ReconcileAttempts: 2})
	if _, err := deadClient.IssueNormal(context.Background(), tenLine()); err != nil {
		t.Fatal(err)
	}
	gate.deaf.Store(true)
	req := tenLine()
	req.Items = req.Items[:1] // one packet: the request gets through, only the reply is lost
	req.RequestID = 0xABCDEF
	res, err := deadClient.IssueNormal(context.Background(), req)
	if res.Outcome != link.Unknown || !errors.Is(err, link.ErrOutcomeUnknown) {
		t.Fatalf("dead line: %+v, %v", res, err)
	}
	if n := reg.IssuedFor(req.RequestID); n != 1 {
		t.Fatalf("the request reached the register %d times, want 1", n)
	}
	// Back on a good line: the same request is Done with the same invoice.
	res2, err := c.IssueNormal(context.Background(), req)
	if err != nil || res2.Outcome != link.Done || reg.IssuedFor(req.RequestID) != 1 {
		t.Fatalf("after recovery: %+v, %v", res2, err)
	}
}

// deafGate passes writes through; once deaf, everything read is lost.
type deafGate struct {
	*linktest.End
	deaf atomic.Bool
}

func (g *deafGate) Read(p []byte) (int, error) {
	for {
		n, err := g.End.Read(p)
		if n == 0 || !g.deaf.Load() {
			return n, err
		}
	}
}

// TestExactlyOnceUnderFaults drives thousands of issuing commands (normal
// invoices, returns and voids) through links that drop, duplicate, delay,
// corrupt and cut frames in both directions, and checks: no request issued
// twice, none lost, every Done matches the register's records.
func TestExactlyOnceUnderFaults(t *testing.T) {
	const lanes = 8
	perLane := 300
	if testing.Short() {
		perLane = 60
	}
	seed := faultSeed(t)
	t.Logf("fault seed %d (lanes use seed+lane*2 and seed+lane*2+1); repeat with -faultseed %d", seed, seed)
	faults := link.Faults{Drop: 0.02, Duplicate: 0.03, Corrupt: 0.02, Cut: 0.02, Delay: 0.03, MaxDelay: 5 * time.Millisecond}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var totals [4]int
	var resends, reconciles int64
	for lane := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reg := linktest.NewRegister(&linktest.RegisterOptions{RollSize: 100_000})
			srv := link.NewServer(reg, &link.ServerOptions{InterByteTimeout: 5 * time.Millisecond})
			a, b := linktest.Pipe(nil)
			fa, fb := faults, faults
			fa.Seed, fb.Seed = seed+uint64(lane)*2, seed+uint64(lane)*2+1
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go srv.Serve(ctx, link.NewFaultyLink(b, fb))
			c := link.NewClient(link.NewFaultyLink(a, fa), &link.ClientOptions{
				ReplyTimeout: 40 * time.Millisecond, InterByteTimeout: 5 * time.Millisecond,
				IssueAttempts: 10, ReconcileAttempts: 10, Retries: 10})
			// A clean second line to the same server resolves Unknowns.
			ca, cb := linktest.Pipe(nil)
			go srv.Serve(ctx, cb)
			clean := link.NewClient(ca, nil)
			if _, err := clean.DistributeRoll(ctx); err != nil {
				t.Error(err)
				return
			}
			if _, err := clean.LoadRoll(ctx); err != nil {
				t.Error(err)
				return
			}
			done := map[uint64][]link.Invoice{}
			var returnable []link.Invoice
			var outcomes [4]int
			for i := range perLane {
				// send issues command i on a client, with request id id.
				var send func(cl *link.Client, id uint64) (link.IssueResult, error)
				switch {
				case i%10 == 9:
					send = func(cl *link.Client, id uint64) (link.IssueResult, error) {
						return cl.Void(ctx, link.VoidRequest{RequestID: id, Count: uint16(1 + i%3)})
					}
				case i%7 == 6 && len(returnable) > 0:
					orig := returnable[0]
					returnable = returnable[1:]
					send = func(cl *link.Client, id uint64) (link.IssueResult, error) {
						return cl.IssueReturn(ctx, link.ReturnRequest{RequestID: id, OriginalNo: orig.No})
					}
				default:
					req := tenLine()
					req.Items = req.Items[:1+i%10]
					send = func(cl *link.Client, id uint64) (link.IssueResult, error) {
						req.RequestID = id
						return cl.IssueNormal(ctx, req)
					}
				}
				res, err := send(c, 0)
				outcomes[res.Outcome]++
				if res.Outcome == link.NotDone {
					// Only a definite refusal may say NotDone; there is none here.
					t.Errorf("lane %d command %d: NotDone: %v", lane, i, err)
					continue
				}
				if res.Outcome == link.Unknown {
					if res, err = send(clean, res.RequestID); err != nil || res.Outcome != link.Done {
						t.Errorf("lane %d command %d: resolving Unknown: %+v, %v", lane, i, res, err)
						continue
					}
				}
				if len(res.Invoices) == 0 {
					t.Errorf("lane %d: Done without invoices", lane)
					continue
				}
				done[res.RequestID] = res.Invoices
				if inv := res.Invoice(); inv.Type == link.TypeNormal {
					returnable = append(returnable, inv)
				}
			}
			issued := reg.Issued()
			reported := 0
			for _, invs := range done {
				reported += len(invs)
			}
			if len(issued) != reported {
				t.Errorf("lane %d: register issued %d invoices, Done reported %d", lane, len(issued), reported)
			}
			for _, d := range issued {
				invs, ok := done[d.RequestID]
				if !ok {
					t.Errorf("lane %d: invoice %d (request %x) issued but not reported Done", lane, d.No, d.RequestID)
					continue
				}
				found := false
				for _, inv := range invs {
					found = found || inv == d.Invoice
				}
				if !found {
					t.Errorf("lane %d: register's %+v is not among the Done invoices %+v", lane, d.Invoice, invs)
				}
				if n := reg.IssuedFor(d.RequestID); n != len(invs) {
					t.Errorf("lane %d: request %x issued %d invoices, Done reported %d", lane, d.RequestID, n, len(invs))
				}
			}
			st := c.Stats()
			mu.Lock()
			for i := range totals {
				totals[i] += outcomes[i]
			}
			resends += st.IssueResends
			reconciles += st.Reconciliations
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("%d issuing commands (normal, return, void): %d Done, %d Unknown (resolved on a clean line); %d reconciliations, %d re-sends",
		lanes*perLane, totals[link.Done], totals[link.Unknown], reconciles, resends)
	if reconciles == 0 {
		t.Error("no reconciliation happened: the faults did not bite")
	}
}
