package link

import (
	"context"
	"fmt"
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
	// establish the outcome. Send the same request (same RequestID) again
	// once the register is back: it is answered from the register's memory
	// or reconciled, never issued twice.
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
	return c.issue(ctx, CmdIssueNormal, req.RequestID, req.encode)
}

// IssueReturn issues a return (退票) of invoice req.OriginalNo exactly once;
// see IssueNormal.
func (c *Client) IssueReturn(ctx context.Context, req ReturnRequest) (IssueResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.RequestID == 0 {
		req.RequestID = c.opts.RequestID()
	}
	return c.issue(ctx, CmdIssueReturn, req.RequestID, req.encode)
}

// Void voids the next req.Count blank invoices exactly once; see
// IssueNormal.
func (c *Client) Void(ctx context.Context, req VoidRequest) (IssueResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.RequestID == 0 {
		req.RequestID = c.opts.RequestID()
	}
	return c.issue(ctx, CmdVoid, req.RequestID, req.encode)
}

// reconcileWindow bounds how many invoice records a reconciliation fetches.
const reconcileWindow = 64

func (c *Client) issue(ctx context.Context, cmd Command, id uint64, enc func(*writer)) (IssueResult, error) {
	res := IssueResult{RequestID: id}
	w := &writer{cmd: cmd}
	enc(w)
	if w.err != nil {
		res.Outcome = NotDone
		return res, w.err
	}
	// The first number this request could get. Everything issued from here
	// on is searched for the request id if the reply gets lost.
	from := c.nextNo
	if from == 0 {
		cur, err := c.currentInvoice(ctx)
		if err != nil {
			// Nothing has been sent for this request yet.
			res.Outcome = NotDone
			return res, fmt.Errorf("link: cannot read the current invoice number before issuing: %w", err)
		}
		from = cur.Next
		if from == 0 {
			from = cur.LastIssued + 1
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
				res.Outcome, res.Invoices = Done, invs
				c.nextNo = invs[len(invs)-1].No + 1
				return res, nil
			case definite:
				res.Outcome = NotDone
				return res, derr
			default:
				err = derr
			}
		}
		lastErr = err
		c.dirty = true
		c.nextNo = 0
		if ctx.Err() != nil {
			res.Outcome = Unknown
			return res, fmt.Errorf("%w: %v: %w", ErrOutcomeUnknown, cmd, ctx.Err())
		}
		c.opts.Logger.Debug("link client: reconciling", "cmd", cmd, "id", id, "err", err)
		res.Reconciled = true
		outcome, invs, rerr := c.reconcile(ctx, id, from)
		switch outcome {
		case Done:
			res.Outcome, res.Invoices = Done, invs
			return res, nil
		case Unknown:
			res.Outcome = Unknown
			return res, fmt.Errorf("%w: %v: %w", ErrOutcomeUnknown, cmd, rerr)
		}
		// NotDone: nothing was issued for this id; send it again.
	}
	res.Outcome = Unknown
	return res, fmt.Errorf("%w: %v: gave up after %d sends: %w", ErrOutcomeUnknown, cmd, res.Sends, lastErr)
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

// reconcile asks the register what became of request id: it reads the last
// issued number (33) and, if anything was issued from `from` on, the
// invoice records (3F), looking for the request id.
func (c *Client) reconcile(ctx context.Context, id uint64, from uint32) (Outcome, []Invoice, error) {
	c.stats.Reconciliations++
	var err error
	for range c.opts.ReconcileAttempts {
		if ctx.Err() != nil {
			return Unknown, nil, ctx.Err()
		}
		var cur CurrentInvoice
		if cur, err = c.currentInvoice(ctx); err != nil {
			continue
		}
		if cur.LastIssued == 0 || cur.LastIssued < from {
			c.nextNo = cur.Next
			return NotDone, nil, nil
		}
		lo := from
		if cur.LastIssued-lo >= reconcileWindow {
			lo = cur.LastIssued - reconcileWindow + 1
		}
		var invs []Invoice
		if invs, err = c.invoices(ctx, NumberRange{From: lo, To: cur.LastIssued}); err != nil {
			continue
		}
		var mine []Invoice
		for _, inv := range invs {
			if inv.RequestID == id {
				mine = append(mine, inv)
			}
		}
		c.nextNo = cur.Next
		if len(mine) > 0 {
			return Done, mine, nil
		}
		return NotDone, nil, nil
	}
	return Unknown, nil, err
}
