package link

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ClientOptions configure a Client. The zero value means the defaults.
type ClientOptions struct {
	// ReplyTimeout is how long the client waits for each reply frame
	// (default 1s). Every WT from the register starts the wait again.
	ReplyTimeout time.Duration
	// InterByteTimeout is the longest silence inside one frame before the
	// partial frame is treated as garbage (default 100ms).
	InterByteTimeout time.Duration
	// Retries is how often a read-only command is sent again after a
	// timeout or a broken reply (default 3).
	Retries int
	// IssueAttempts is how often one issuing request may be sent in total
	// (default 5). Every send after the first follows a reconciliation that
	// found the request not done.
	IssueAttempts int
	// ReconcileAttempts is how often a reconciliation asks the register
	// before the outcome is reported Unknown (default 5).
	ReconcileAttempts int
	// ClockMargin is subtracted from the register time at which an
	// issuing request was sent, as the client estimates it, before that
	// time is used to rule out invoices in a reconciliation by content
	// (default 2s). It covers clock drift and the second resolution of
	// invoice times; see IssueResult.NotBefore.
	ClockMargin time.Duration
	// RequestID returns a fresh non-zero request id (default: random, from
	// a per-client generator seeded by crypto/rand).
	RequestID func() uint64
	// Logger receives debug records about timeouts, stale replies and
	// reconciliations (default: discard).
	Logger *slog.Logger
}

func (o *ClientOptions) withDefaults() ClientOptions {
	var r ClientOptions
	if o != nil {
		r = *o
	}
	if r.ReplyTimeout <= 0 {
		r.ReplyTimeout = time.Second
	}
	if r.InterByteTimeout <= 0 {
		r.InterByteTimeout = 100 * time.Millisecond
	}
	if r.Retries <= 0 {
		r.Retries = 3
	}
	if r.IssueAttempts <= 0 {
		r.IssueAttempts = 5
	}
	if r.ReconcileAttempts <= 0 {
		r.ReconcileAttempts = 5
	}
	if r.ClockMargin <= 0 {
		r.ClockMargin = 2 * time.Second
	}
	if r.RequestID == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:])
		g := rand.New(rand.NewChaCha8(seed))
		var mu sync.Mutex
		r.RequestID = func() uint64 {
			mu.Lock()
			defer mu.Unlock()
			for {
				if v := g.Uint64(); v != 0 {
					return v
				}
			}
		}
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r
}

// Client is the host side of the link: it speaks to one register over one
// byte stream. Its methods may be called from several goroutines; they run
// one at a time.
type Client struct {
	mu     sync.Mutex
	w      io.Writer
	fr     frameReader
	opts   ClientOptions
	out    []byte
	dirty  bool   // a reply may still be on its way: drain before the next request
	nextNo uint32 // the number the next invoice should get; 0: unknown
	// unknown holds, for requests whose outcome was Unknown, the bounds of
	// what they could have got: calling again with the same id reconciles
	// before anything is sent.
	unknown map[uint64]window
	// clockOff is a lower bound of the register's invoice clock minus the
	// host's, from the newest issued invoice this client received (not 3A
	// or 41: a register may date invoices by another clock than the one it
	// reports, as the engine does after a clock inspection); clockKnown is
	// false until one arrived and after this client set the clock.
	clockOff   time.Duration
	clockKnown bool
	// noByRequest is set once the register answered CmdInvoicesByRequest
	// "unknown command": it does not store request ids, so reconciliation
	// goes by content from then on.
	noByRequest bool
	stats       ClientStats
}

// noteClock records the time of an invoice the register issued just now:
// t is at most the register's time when it answered, which is before now
// on the host, so t - now is at most the true offset.
func (c *Client) noteClock(t time.Time) {
	if t.IsZero() {
		return
	}
	c.clockOff, c.clockKnown = time.Until(t), true
}

// ClientStats counts what a Client did.
type ClientStats struct {
	Exchanges       int64 // request/reply exchanges started
	Resends         int64 // read-only exchanges repeated after a failure
	IssueResends    int64 // issuing requests sent again after reconciliation
	Reconciliations int64
	ReconciledByID  int64 // reconciliations the register answered by request id (CmdInvoicesByRequest)
	Timeouts        int64
	StaleReplies    int64 // well-formed replies that did not fit the exchange
	Waits           int64 // WT frames received
	BytesOut        int64
	BytesIn         int64
}

// NewClient returns a client speaking over rw. If rw has no read deadline,
// WithDeadline adds one. opts may be nil.
func NewClient(rw io.ReadWriter, opts *ClientOptions) *Client {
	o := opts.withDefaults()
	return &Client{w: rw, opts: o, fr: frameReader{r: WithDeadline(rw), interByte: o.InterByteTimeout}}
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() ClientStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.BytesIn = c.fr.bytesIn
	return s
}

func (c *Client) writeFrame(r Request) error {
	var err error
	c.out, err = AppendRequest(c.out[:0], r)
	if err != nil {
		return err
	}
	if wd, ok := c.w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = wd.SetWriteDeadline(time.Now().Add(c.opts.ReplyTimeout))
	}
	n, err := c.w.Write(c.out)
	c.stats.BytesOut += int64(n)
	return err
}

// await reads frames until one is accepted, a WT restarting the wait each
// time. Frames that are not accepted are stale and skipped.
func (c *Client) await(ctx context.Context, accept func(Response) bool) (Response, error) {
	deadline := time.Now().Add(c.opts.ReplyTimeout)
	for {
		frame, err := c.fr.next(ctx, deadline)
		if err != nil {
			if errors.Is(err, ErrBadCRC) {
				continue
			}
			if errors.Is(err, ErrTimeout) {
				c.stats.Timeouts++
			}
			c.dirty = true
			return Response{}, err
		}
		r, _ := ParseResponse(frame)
		if r.Status == StatusWT {
			c.stats.Waits++
			deadline = time.Now().Add(c.opts.ReplyTimeout)
			continue
		}
		if accept(r) {
			return r, nil
		}
		c.stats.StaleReplies++
		c.dirty = true
		c.opts.Logger.Debug("link client: skipped stale reply", "status", r.Status, "pack", r.Pack)
	}
}

// exchange sends one request (in as many packets as it needs) and returns
// the whole reply: status OK with all data, or status ER with its data.
func (c *Client) exchange(ctx context.Context, cmd Command, data []byte) (Response, error) {
	if len(data) > MaxTransfer {
		return Response{}, ErrTransferTooLarge
	}
	c.stats.Exchanges++
	if c.dirty {
		c.fr.drain(time.Millisecond)
		c.dirty = false
	}
	// Request packets: 1, 2, ... while more follow, 0 for the last; after
	// each non-last packet the register answers NP with the next number.
	npk := max(1, (len(data)+MaxPacketData-1)/MaxPacketData)
	for i := 1; i <= npk; i++ {
		chunk := data[(i-1)*MaxPacketData : min(len(data), i*MaxPacketData)]
		pack := uint8(i)
		if i == npk {
			pack = 0
		}
		if err := c.writeFrame(Request{Command: cmd, Pack: pack, Data: chunk}); err != nil {
			c.dirty = true
			return Response{}, err
		}
		if i == npk {
			break
		}
		want := uint8(i + 1)
		r, err := c.await(ctx, func(r Response) bool {
			return r.Status == StatusNP && r.Pack == want || r.Status == StatusER && r.Pack == 0
		})
		if err != nil {
			return Response{}, err
		}
		if r.Status == StatusER {
			return Response{Status: StatusER, Data: append([]byte(nil), r.Data...)}, nil
		}
	}
	// Reply packets: the same numbering; the client asks for packet k by
	// sending the command with pack k and no data.
	r, err := c.await(ctx, func(r Response) bool {
		return (r.Status == StatusOK || r.Status == StatusER) && r.Pack <= 1
	})
	if err != nil {
		return Response{}, err
	}
	if r.Status == StatusER || r.Pack == 0 {
		return Response{Status: r.Status, Data: append([]byte(nil), r.Data...)}, nil
	}
	all := append([]byte(nil), r.Data...)
	for k := 2; ; k++ {
		if k > 255 || len(all) > MaxTransfer {
			c.dirty = true
			return Response{}, ErrTransferTooLarge
		}
		if err := c.writeFrame(Request{Command: cmd, Pack: uint8(k)}); err != nil {
			c.dirty = true
			return Response{}, err
		}
		want := uint8(k)
		r, err := c.await(ctx, func(r Response) bool {
			return r.Status == StatusOK && (r.Pack == want || r.Pack == 0) || r.Status == StatusER && r.Pack == 0
		})
		if err != nil {
			return Response{}, err
		}
		if r.Status == StatusER {
			return Response{Status: StatusER, Data: append([]byte(nil), r.Data...)}, nil
		}
		all = append(all, r.Data...)
		if r.Pack == 0 {
			return Response{Status: StatusOK, Data: all}, nil
		}
	}
}

// retryable reports whether a failed read-only exchange may be repeated.
func retryable(err error) bool {
	if errors.Is(err, ErrTimeout) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrProtocol) {
		return true
	}
	code, ok := DeviceCode(err)
	return ok && (code == CodeBadCRC || code == CodeBadLength)
}

// call runs a command and decodes its OK data with decode. Read-only (and
// other repeatable) commands are re-sent after retryable failures.
func (c *Client) call(ctx context.Context, cmd Command, req func(*writer), decode func(*reader), repeatable bool) error {
	w := &writer{cmd: cmd}
	if req != nil {
		req(w)
	}
	if w.err != nil {
		return w.err
	}
	tries := 1
	if repeatable {
		tries += c.opts.Retries
	}
	var err error
	for i := range tries {
		if i > 0 {
			c.stats.Resends++
		}
		err = c.callOnce(ctx, cmd, w.b, decode)
		if err == nil || ctx.Err() != nil || !retryable(err) {
			break
		}
		c.dirty = true
		c.opts.Logger.Debug("link client: retrying", "cmd", cmd, "err", err)
	}
	if err != nil && !repeatable && !isDefinite(err) {
		return fmt.Errorf("%w: %v: %w", ErrOutcomeUnknown, cmd, err)
	}
	return err
}

// isDefinite reports whether err proves that the register refused the
// command (an ER reply with a business code).
func isDefinite(err error) bool {
	code, ok := DeviceCode(err)
	return ok && code != CodeBadCRC && code != CodeBadLength
}

func (c *Client) callOnce(ctx context.Context, cmd Command, data []byte, decode func(*reader)) error {
	rep, err := c.exchange(ctx, cmd, data)
	if err != nil {
		return err
	}
	if rep.Status == StatusER {
		if len(rep.Data) < 1 {
			return &DataError{Command: cmd, Field: "error code", Reason: "ER reply without a code"}
		}
		return &DeviceError{Command: cmd, Code: ErrorCode(rep.Data[0])}
	}
	r := &reader{cmd: cmd, b: rep.Data}
	if decode != nil {
		decode(r)
	}
	return r.end()
}

// ---- read-only and administrative commands ----

// Connect opens the session (联机) and returns the register's identity.
func (c *Client) Connect(ctx context.Context) (ConnectInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x ConnectInfo
	err := c.call(ctx, CmdConnect, nil, x.decode, true)
	return x, err
}

// Status returns the register's state.
func (c *Client) Status(ctx context.Context) (StatusInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x StatusInfo
	err := c.call(ctx, CmdStatus, nil, x.decode, true)
	return x, err
}

// DateTime returns the register's clock.
func (c *Client) DateTime(ctx context.Context) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t time.Time
	err := c.call(ctx, CmdDateTime, nil, func(r *reader) { t = r.dateTime("time") }, true)
	return t, err
}

// SetDateTime sets the register's clock (to the second, China Standard
// Time). Setting the same time again is harmless, so it is re-sent like a
// read.
func (c *Client) SetDateTime(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clockKnown = false
	return c.call(ctx, CmdSetDateTime, func(w *writer) { w.dateTime(t, "time") }, nil, true)
}

// MachineInfo returns the factory data (机器出厂数据).
func (c *Client) MachineInfo(ctx context.Context) (MachineInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x MachineInfo
	err := c.call(ctx, CmdMachineInfo, nil, x.decode, true)
	return x, err
}

// UserInfo returns the taxpayer information and limits.
func (c *Client) UserInfo(ctx context.Context) (UserInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x UserInfo
	err := c.call(ctx, CmdUserInfo, nil, x.decode, true)
	return x, err
}

// TaxItems returns the taxpayer's tax items.
func (c *Client) TaxItems(ctx context.Context) ([]TaxItem, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x []TaxItem
	err := c.call(ctx, CmdTaxItems, nil, func(r *reader) { x = decodeTaxItems(r) }, true)
	return x, err
}

// Initialise runs the register's fiscal initialisation (税控初始化). It is
// not re-sent; an ambiguous failure returns an error wrapping
// ErrOutcomeUnknown.
func (c *Client) Initialise(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.call(ctx, CmdInitialise, nil, nil, false)
}

// DistributeRoll moves one roll from the user card into the register. It
// is not re-sent (see Initialise).
func (c *Client) DistributeRoll(ctx context.Context) (Roll, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x Roll
	err := c.call(ctx, CmdDistributeRoll, nil, x.decode, false)
	return x, err
}

// LoadRoll loads the next distributed roll into the fiscal card. It is not
// re-sent (see Initialise).
func (c *Client) LoadRoll(ctx context.Context) (Roll, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextNo = 0
	var x Roll
	err := c.call(ctx, CmdLoadRoll, nil, x.decode, false)
	return x, err
}

// CurrentInvoice returns the next invoice number, the numbers left in the
// roll and the last number issued.
func (c *Client) CurrentInvoice(ctx context.Context) (CurrentInvoice, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.currentInvoice(ctx)
}

func (c *Client) currentInvoice(ctx context.Context) (CurrentInvoice, error) {
	var x CurrentInvoice
	err := c.call(ctx, CmdCurrentInvoice, nil, x.decode, true)
	return x, err
}

// Declare writes a declaration to the user card (申报). It is not re-sent
// (see Initialise).
func (c *Client) Declare(ctx context.Context, req DeclareRequest) (Declaration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var x Declaration
	err := c.call(ctx, CmdDeclare, req.encode, x.decode, false)
	return x, err
}

// listAll repeats a list command while the register reports more records.
// Every record must pass valid (it lies inside the requested range): a
// reply that does not is a stale one (for example a duplicate of an earlier
// reply) and the command is sent again.
func listAll[T any, PT interface {
	*T
	decode(*reader)
}](ctx context.Context, c *Client, cmd Command, minSize int, query func(w *writer, got []T), valid func(*T) bool) ([]T, error) {
	var all []T
	for {
		var page []T
		var more bool
		err := c.call(ctx, cmd, func(w *writer) { query(w, all) }, func(r *reader) {
			page, more = decodeList[T, PT](r, minSize)
			for i := range page {
				if valid != nil && !valid(&page[i]) {
					c.stats.StaleReplies++
					r.fail("records", "a record lies outside the requested range (stale reply)")
					return
				}
			}
		}, true)
		if err != nil {
			return all, err
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			return all, nil
		}
	}
}

// Invoices returns the invoice records numbered q.From..q.To (发票数据上传).
func (c *Client) Invoices(ctx context.Context, q NumberRange) ([]Invoice, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.invoices(ctx, q)
}

func (c *Client) invoices(ctx context.Context, q NumberRange) ([]Invoice, error) {
	from := q.From
	return listAll[Invoice](ctx, c, CmdInvoices, invoiceSize, func(w *writer, got []Invoice) {
		r := q
		if len(got) > 0 {
			r.From = got[len(got)-1].No + 1
		}
		from = r.From
		r.encode(w)
	}, func(x *Invoice) bool { return x.No >= from && x.No <= q.To })
}

// InvoiceDetails returns the print data of invoices q.From..q.To.
func (c *Client) InvoiceDetails(ctx context.Context, q NumberRange) ([]InvoiceDetail, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := q.From
	return listAll[InvoiceDetail](ctx, c, CmdInvoiceDetails, invoiceSize+2+PayerLen+1, func(w *writer, got []InvoiceDetail) {
		r := q
		if len(got) > 0 {
			r.From = got[len(got)-1].No + 1
		}
		from = r.From
		r.encode(w)
	}, func(x *InvoiceDetail) bool { return x.No >= from && x.No <= q.To })
}

// InvoiceDetailsByTime returns the print data of invoices issued in the
// time range.
func (c *Client) InvoiceDetailsByTime(ctx context.Context, q TimeRange) ([]InvoiceDetail, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return listAll[InvoiceDetail](ctx, c, CmdInvoiceDetailsByTime, invoiceSize+2+PayerLen+1, func(w *writer, got []InvoiceDetail) {
		r := q
		r.Skip += uint32(len(got))
		r.encode(w)
	}, func(x *InvoiceDetail) bool {
		return !x.Time.Before(q.From.Truncate(time.Second)) && !x.Time.After(q.To)
	})
}

// DailyData returns the daily records (with signatures) of the date range.
func (c *Client) DailyData(ctx context.Context, q DateRange) ([]DailyData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return listAll[DailyData](ctx, c, CmdDailyData, dailySize, func(w *writer, got []DailyData) {
		r := q
		r.Skip += uint32(len(got))
		r.encode(w)
	}, func(x *DailyData) bool { return inDays(x.Date, q) })
}

// Declarations returns the declaration records whose end date is in the
// range.
func (c *Client) Declarations(ctx context.Context, q DateRange) ([]Declaration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return listAll[Declaration](ctx, c, CmdDeclarations, declarationSize, func(w *writer, got []Declaration) {
		r := q
		r.Skip += uint32(len(got))
		r.encode(w)
	}, func(x *Declaration) bool { return inDays(x.End, q) })
}

// RollUsage returns the usage summary of every roll, oldest first.
func (c *Client) RollUsage(ctx context.Context) ([]RollUsage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return listAll[RollUsage](ctx, c, CmdRollUsage, rollUsageSize, func(w *writer, got []RollUsage) {
		RollUsageQuery{Skip: uint32(len(got))}.encode(w)
	}, nil)
}

// inDays reports whether day d lies in the range (compared as dates in
// China Standard Time).
func inDays(d time.Time, q DateRange) bool {
	key := func(t time.Time) int {
		t = t.In(chinaTime)
		return t.Year()*10000 + int(t.Month())*100 + t.Day()
	}
	return key(d) >= key(q.From) && key(d) <= key(q.To)
}
