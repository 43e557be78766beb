package link

import (
	"context"
	"errors"
	"fmt"

	"github.com/fiscalkit/gb18240/register"
)

// CmdInvoicesByRequest (70, this package's command: the reference leaves
// 65-FF unassigned) uploads the invoice records a register stored for one
// request id: request RequestQuery, reply a list of Invoice records (more
// u8 ‖ count u16 ‖ count × 36 bytes), none if nothing was issued for the
// id. A register that does not store request ids answers
// CodeUnknownCommand; the client then reconciles by content.
const CmdInvoicesByRequest Command = 0x70

// RequestQuery is the data of CmdInvoicesByRequest: request id u64 ‖ skip
// u32 (records to skip, for the next page of a long void request).
type RequestQuery struct {
	RequestID uint64
	Skip      uint32
}

func (x RequestQuery) encode(w *writer) { w.u64(x.RequestID); w.u32(x.Skip) }
func (x *RequestQuery) decode(r *reader) {
	x.RequestID = r.u64("request id")
	x.Skip = r.u32("skip")
	if r.err == nil && x.RequestID == 0 {
		r.fail("request id", "zero")
	}
}

// RequestHandler is implemented by handlers whose register stores the
// request id with each invoice (DeviceHandler does): it serves
// CmdInvoicesByRequest. InvoicesByRequest returns at most limit records of
// the invoices issued for id, oldest first, after skipping skip of them;
// none (and no error) if nothing was issued for it. Each record carries id.
type RequestHandler interface {
	InvoicesByRequest(ctx context.Context, id uint64, skip, limit int) ([]Invoice, error)
}

// dispatchRequest serves CmdInvoicesByRequest. s.mu is held.
func (s *Server) dispatchRequest(ctx context.Context, r *reader, w *writer) error {
	h, ok := s.h.(RequestHandler)
	if !ok {
		return ErrUnsupported
	}
	var q RequestQuery
	q.decode(r)
	if err := r.end(); err != nil {
		return err
	}
	fit := (s.opts.MaxTransfer - 3) / invoiceSize
	x, err := h.InvoicesByRequest(ctx, q.RequestID, int(q.Skip), fit+1)
	if err != nil {
		return err
	}
	for _, inv := range x {
		if inv.RequestID != q.RequestID {
			return fmt.Errorf("link: request handler returned invoice %d of request %016x for %016x", inv.No, inv.RequestID, q.RequestID)
		}
	}
	encodeList(w, len(x) > fit, x[:min(len(x), fit)])
	return nil
}

// InvoicesByRequest returns the invoice records the register stored for
// request id (CmdInvoicesByRequest), oldest first; none if nothing was
// issued for it. A register that does not store request ids answers with
// a *DeviceError of CodeUnknownCommand.
func (c *Client) InvoicesByRequest(ctx context.Context, id uint64) ([]Invoice, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.invoicesByRequest(ctx, id)
}

func (c *Client) invoicesByRequest(ctx context.Context, id uint64) ([]Invoice, error) {
	return listAll[Invoice](ctx, c, CmdInvoicesByRequest, invoiceSize, func(w *writer, got []Invoice) {
		RequestQuery{RequestID: id, Skip: uint32(len(got))}.encode(w)
	}, func(x *Invoice) bool { return x.RequestID == id })
}

// unknownCommand reports whether err is the register's "unknown command".
func unknownCommand(err error) bool {
	code, ok := DeviceCode(err)
	return ok && code == CodeUnknownCommand
}

// InvoicesByRequest serves CmdInvoicesByRequest from the invoices fiscal
// memory holds for the request id (register.Device.InvoicesByRequestID).
func (h *deviceHandler) InvoicesByRequest(ctx context.Context, id uint64, skip, limit int) ([]Invoice, error) {
	vs, err := h.dev.InvoicesByRequestID(ctx, id)
	if errors.Is(err, register.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, devErr(CmdInvoicesByRequest, err)
	}
	vs = vs[min(skip, len(vs)):]
	out := make([]Invoice, 0, min(len(vs), limit))
	for _, v := range vs[:min(len(vs), limit)] {
		out = append(out, toInvoice(v))
	}
	return out, nil
}
