package link

import (
	"context"
	"fmt"
	"time"
)

// Outcome is the result of an issuing command as far as the client knows.
type Outcome uint8

// Outcomes of an issuing command (design decision 6).
const (
	// Done: the register issued the invoice(s); IssueResult.Invoices holds
	// them with their 税控码.
	Done Outcome = iota + 1
	// NotDone: the register did not issue anything for this request. With
	// a *DeviceError the register refused it. The register remembers the
	// refusal of this RequestID, so once the cause is removed (a roll
	// loaded, the amount changed) send it as a new request: RequestID zero.
	NotDone
	// Unknown: the register stayed unreachable, so the client could not
	// establish the outcome. Call the same method on the same Client with
	// the same request (same RequestID) once the register is back: the
	// client reconciles first (from IssueResult.From) and sends only if
	// nothing was issued for it. From another process, reconcile by hand:
	// InvoicesByRequest (a register that stores request ids), or else
	// Invoices from From on, looking for the request id or the content.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Done:
		return "Done"
	case NotDone:
		return "NotDone"
	case Unknown:
		return "Unknown"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// IssueResult is the outcome of IssueNormal, IssueReturn or Void.
type IssueResult struct {
	Outcome   Outcome
	RequestID uint64
	// Invoices are the issued invoices when Outcome is Done: one for a
	// normal invoice or a return, Count for a void.
	Invoices []Invoice
	// Sends is how many times the request went on the line.
	Sends int
	// Reconciled reports that a timeout or a broken reply was resolved by
	// asking the register (33 current invoice number, 3F invoice upload).
	Reconciled bool
	// From is the first invoice number this request could have got.
	From uint32
	// NotBefore is the earliest register time the request's invoices can
	// carry, as the client estimated it when it first sent the request:
	// its own clock at that moment, plus the offset to the register's
	// clock learned from the newest invoice this client got issued, minus
	// ClientOptions.ClockMargin. Zero when the client has not learned the
	// offset yet (or set the clock itself since). It only narrows
	// reconciliation by content.
	NotBefore time.Time
}

// Invoice returns the first issued invoice (the zero Invoice if none).
func (r IssueResult) Invoice() Invoice {
	if len(r.Invoices) == 0 {
		return Invoice{}
	}
	return r.Invoices[0]
}

// IssueNormal issues a normal invoice exactly once. If req.RequestID is zero
// a fresh id is chosen (and returned in the result). The error is nil only
// for Done; for NotDone it is the register's *DeviceError (or the reason
// nothing was sent), for Unknown it wraps ErrOutcomeUnknown.
func (c *Client) IssueNormal(ctx context.Context, req IssueRequest) (IssueResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.RequestID == 0 {
		req.RequestID = c.opts.RequestID()
	}
	var total uint64
	for _, it := range req.Items {
		a, _ := it.Amount()
		total += uint64(a)
	}
	return c.issue(ctx, CmdIssueNormal, req.RequestID, req.encode, func(inv Invoice) bool {
		return inv.Type == TypeNormal && uint64(inv.Total) == total
	}, 1)
}

// IssueReturn issues a return (退票) of invoice req.OriginalNo exactly once;
// see IssueNormal.
func (c *Client) IssueReturn(ctx context.Context, req ReturnRequest) (IssueResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.RequestID == 0 {
		req.RequestID = c.opts.RequestID()
	}
	return c.issue(ctx, CmdIssueReturn, req.RequestID, req.encode, func(inv Invoice) bool {
		return inv.Type == TypeReturn && inv.OriginalNo == req.OriginalNo
	}, 1)
}

// Void voids the next req.Count blank invoices exactly once; see
// IssueNormal.
func (c *Client) Void(ctx context.Context, req VoidRequest) (IssueResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.RequestID == 0 {
		req.RequestID = c.opts.RequestID()
	}
	return c.issue(ctx, CmdVoid, req.RequestID, req.encode, func(inv Invoice) bool {
		return inv.Type == TypeVoid
	}, int(req.Count))
}

// reconcileSpan bounds how many invoice numbers a reconciliation reads:
// if more than this were issued since the request's first possible number,
// the outcome is reported Unknown rather than searched for.
const reconcileSpan = 512

// window is what a request could have got: invoices numbered From on, and
// (for records without request id) dated NotBefore or later.
type window struct {
	From      uint32
	NotBefore time.Time // zero: no time bound
}

// AmbiguousError reports a reconciliation by content that found more
// invoices (or fewer, for a void) without request id than the request
// makes, each of which could be the request's: the client cannot tell which
// one, so it reports Unknown instead of guessing. It unwraps to
// ErrOutcomeUnknown.
type AmbiguousError struct {
	RequestID  uint64
	Want       int       // invoices the request makes
	Candidates []Invoice // the records that match the request's content
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("link: request %016x: %d invoices without request id match its content, it makes %d: ambiguous",
		e.RequestID, len(e.Candidates), e.Want)
}

// Unwrap returns ErrOutcomeUnknown.
func (e *AmbiguousError) Unwrap() error { return ErrOutcomeUnknown }

// issue sends an issuing command exactly once. match recognises, by
// content, an invoice of this request among records that carry no request
// id (a register restarted since and not storing ids); want is how many
// invoices the request makes.
func (c *Client) issue(ctx context.Context, cmd Command, id uint64, enc func(*writer), match func(Invoice) bool, want int) (IssueResult, error) {
	res := IssueResult{RequestID: id}
	w := &writer{cmd: cmd}
	enc(w)
	if w.err != nil {
		res.Outcome = NotDone
		return res, w.err
	}
	// The first number this request could get. Everything issued from here
	// on is searched for the request id if the reply gets lost.
	win, pending := c.unknown[id]
	if !pending {
		win.From = c.nextNo
	}
	if win.From == 0 {
		cur, err := c.currentInvoice(ctx)
		if err != nil {
			// Nothing has been sent for this request yet.
			res.Outcome = NotDone
			return res, fmt.Errorf("link: cannot read the current invoice number before issuing: %w", err)
		}
		win.From = cur.Next
		if win.From == 0 {
			win.From = cur.LastIssued + 1
		}
	}
	if !pending && c.clockKnown {
		// The register's time when the request is sent, at the earliest:
		// the request cannot be dated before it.
		win.NotBefore = time.Now().Add(c.clockOff - c.opts.ClockMargin).Truncate(time.Second)
	}
	res.From, res.NotBefore = win.From, win.NotBefore
	finish := func(o Outcome, err error) (IssueResult, error) {
		res.Outcome = o
		if o == Unknown {
			if c.unknown == nil {
				c.unknown = make(map[uint64]window)
			}
			if len(c.unknown) >= 1024 {
				clear(c.unknown)
			}
			c.unknown[id] = win
		} else {
			delete(c.unknown, id)
		}
		return res, err
	}
	if pending {
		// An earlier call ended Unknown: find out before sending again.
		res.Reconciled = true
		outcome, invs, rerr := c.reconcile(ctx, id, win, match, want)
		switch outcome {
		case Done:
			res.Invoices = invs
			return finish(Done, nil)
		case Unknown:
			return finish(Unknown, fmt.Errorf("%w: %v: %w", ErrOutcomeUnknown, cmd, rerr))
		}
	}
	var lastErr error
	for res.Sends < c.opts.IssueAttempts {
		if res.Sends > 0 {
			c.stats.IssueResends++
		}
		res.Sends++
		rep, err := c.exchange(ctx, cmd, w.b)
		if err == nil {
			switch invs, definite, derr := c.issuingReply(cmd, id, rep); {
			case derr == nil:
				res.Invoices = invs
				c.nextNo = invs[len(invs)-1].No + 1
				c.noteClock(invs[len(invs)-1].Time)
				return finish(Done, nil)
			case definite:
				return finish(NotDone, derr)
			default:
				err = derr
			}
		}
		lastErr = err
		c.dirty = true
		c.nextNo = 0
		if ctx.Err() != nil {
			return finish(Unknown, fmt.Errorf("%w: %v: %w", ErrOutcomeUnknown, cmd, ctx.Err()))
		}
		c.opts.Logger.Debug("link client: reconciling", "cmd", cmd, "id", id, "err", err)
		res.Reconciled = true
		outcome, invs, rerr := c.reconcile(ctx, id, win, match, want)
		switch outcome {
		case Done:
			res.Invoices = invs
			return finish(Done, nil)
		case Unknown:
			return finish(Unknown, fmt.Errorf("%w: %v: %w", ErrOutcomeUnknown, cmd, rerr))
		}
		// NotDone: nothing was issued for this id; send it again.
	}
	return finish(Unknown, fmt.Errorf("%w: %v: gave up after %d sends: %w", ErrOutcomeUnknown, cmd, res.Sends, lastErr))
}

// issuingReply checks the reply to an issuing command. definite reports an
// ER reply that carries this request's id: the register refused it.
func (c *Client) issuingReply(cmd Command, id uint64, rep Response) (invs []Invoice, definite bool, err error) {
	r := &reader{cmd: cmd, b: rep.Data}
	if rep.Status == StatusER {
		code := ErrorCode(r.u8("error code"))
		echo := r.u64("request id")
		if r.end() == nil && echo == id {
			return nil, true, &DeviceError{Command: cmd, Code: code}
		}
		if len(rep.Data) >= 1 {
			return nil, false, &DeviceError{Command: cmd, Code: ErrorCode(rep.Data[0])}
		}
		return nil, false, &DataError{Command: cmd, Field: "error code", Reason: "ER reply without a code"}
	}
	if cmd == CmdVoid {
		invs, _ = decodeList[Invoice](r, invoiceSize)
	} else {
		var inv Invoice
		inv.decode(r)
		invs = []Invoice{inv}
	}
	if err := r.end(); err != nil {
		return nil, false, err
	}
	if len(invs) == 0 {
		return nil, false, &DataError{Command: cmd, Field: "invoices", Reason: "empty reply"}
	}
	for _, inv := range invs {
		if inv.RequestID != id {
			c.stats.StaleReplies++
			return nil, false, &DataError{Command: cmd, Field: "request id",
				Reason: fmt.Sprintf("reply for %016x, expected %016x", inv.RequestID, id)}
		}
	}
	return invs, false, nil
}

// reconcile asks the register what became of request id. First by id
// (CmdInvoicesByRequest): the invoices the register stored for it are
// Done, none is NotDone; this is exact, and a register that stores ids
// also answers a re-sent request from its records, never issuing twice.
// A register that answers "unknown command" does not store ids: then it
// reads the last issued number (33) and, if anything was issued from
// win.From on, all those invoice records (3F). Records carrying the
// request id are this request's: Done. Otherwise the records without any
// id (the server restarted since) that match the request's content and
// are dated win.NotBefore or later are its candidates: none is NotDone,
// exactly want is Done with them, any other number is Unknown with an
// *AmbiguousError.
func (c *Client) reconcile(ctx context.Context, id uint64, win window, match func(Invoice) bool, want int) (Outcome, []Invoice, error) {
	c.stats.Reconciliations++
	var err error
	for range c.opts.ReconcileAttempts {
		if ctx.Err() != nil {
			return Unknown, nil, ctx.Err()
		}
		if !c.noByRequest {
			var invs []Invoice
			invs, err = c.invoicesByRequest(ctx, id)
			switch {
			case err == nil:
				c.stats.ReconciledByID++
				c.nextNo = 0 // ask (33) before the next request
				if len(invs) > 0 {
					return Done, invs, nil
				}
				return NotDone, nil, nil
			case unknownCommand(err):
				c.noByRequest = true
				c.opts.Logger.Debug("link client: register does not store request ids; reconciling by content")
			default:
				continue
			}
		}
		var cur CurrentInvoice
		if cur, err = c.currentInvoice(ctx); err != nil {
			continue
		}
		if cur.LastIssued == 0 || cur.LastIssued < win.From {
			c.nextNo = cur.Next
			return NotDone, nil, nil
		}
		if cur.LastIssued-win.From >= reconcileSpan {
			return Unknown, nil, fmt.Errorf("link: %d invoices issued since number %d; not searched (more than %d)",
				cur.LastIssued-win.From+1, win.From, reconcileSpan)
		}
		var invs []Invoice
		if invs, err = c.invoices(ctx, NumberRange{From: win.From, To: cur.LastIssued}); err != nil {
			continue
		}
		var mine, candidates []Invoice
		for _, inv := range invs {
			switch {
			case inv.RequestID == id:
				mine = append(mine, inv)
			case inv.RequestID == 0 && match != nil && match(inv) &&
				(win.NotBefore.IsZero() || !inv.Time.Before(win.NotBefore)):
				candidates = append(candidates, inv)
			}
		}
		c.nextNo = cur.Next
		switch {
		case len(mine) > 0:
			return Done, mine, nil
		case len(candidates) == 0:
			return NotDone, nil, nil
		case len(candidates) == want:
			return Done, candidates, nil
		}
		return Unknown, nil, &AmbiguousError{RequestID: id, Want: want, Candidates: candidates}
	}
	return Unknown, nil, err
}
