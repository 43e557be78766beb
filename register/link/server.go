package link

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ServerOptions configure a Server. The zero value means the defaults.
type ServerOptions struct {
	// BusyInterval is how often the server sends WT while a command runs
	// (default 300ms). It must be shorter than the clients' ReplyTimeout.
	BusyInterval time.Duration
	// FrameTimeout is how long the server waits for the next packet of a
	// multi-packet request before abandoning it (default 2s).
	FrameTimeout time.Duration
	// InterByteTimeout is the longest silence inside one frame before the
	// partial frame is treated as garbage (default 100ms).
	InterByteTimeout time.Duration
	// Remember is the number of issuing requests whose replies are kept to
	// answer duplicates (default 4096).
	Remember int
	// MaxTransfer limits the data of one multi-packet transfer (default and
	// maximum MaxTransfer).
	MaxTransfer int
	// QuietOnBadFrame suppresses the ER 0x1F reply to a frame whose CRC is
	// wrong; by default the server answers it.
	QuietOnBadFrame bool
	// Logger receives debug records about dropped frames and handler errors
	// (default: discard).
	Logger *slog.Logger
}

func (o *ServerOptions) withDefaults() ServerOptions {
	var r ServerOptions
	if o != nil {
		r = *o
	}
	if r.BusyInterval <= 0 {
		r.BusyInterval = 300 * time.Millisecond
	}
	if r.FrameTimeout <= 0 {
		r.FrameTimeout = 2 * time.Second
	}
	if r.InterByteTimeout <= 0 {
		r.InterByteTimeout = 100 * time.Millisecond
	}
	if r.Remember <= 0 {
		r.Remember = 4096
	}
	if r.MaxTransfer <= 0 || r.MaxTransfer > MaxTransfer {
		r.MaxTransfer = MaxTransfer
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r
}

// Server serves a Handler over the host link. One Server may serve several
// connections, one after the other or at once; commands reach the handler
// one at a time, and the memory of issuing requests is shared by all
// connections, so a POS that reconnects still gets its duplicate answered
// from memory.
type Server struct {
	h    Handler
	opts ServerOptions

	mu                   sync.Mutex  // serialises handler calls and guards the maps
	pending, prevPending pendingData // see pendingData
	memory               map[uint64]reply
	order                []uint64 // FIFO of remembered ids
	byNo                 map[uint32]uint64
	noOrder              []uint32

	executed, duplicates, repeats, badFrames, bytesIn, bytesOut atomic.Int64
}

// ServerStats counts what a Server did.
type ServerStats struct {
	Executed   int64 // commands passed to the handler
	Duplicates int64 // issuing requests answered from memory
	Repeats    int64 // repeated final packets of multi-packet requests answered again
	BadFrames  int64 // candidate frames dropped (CRC, stalled)
	BytesIn    int64
	BytesOut   int64
}

type reply struct {
	status Status
	data   []byte
}

// NewServer returns a server for h. opts may be nil.
func NewServer(h Handler, opts *ServerOptions) *Server {
	return &Server{
		h: h, opts: opts.withDefaults(),
		memory: make(map[uint64]reply), byNo: make(map[uint32]uint64),
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Executed: s.executed.Load(), Duplicates: s.duplicates.Load(), Repeats: s.repeats.Load(), BadFrames: s.badFrames.Load(),
		BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
	}
}

// conn is the state of one served connection.
type conn struct {
	s  *Server
	w  io.Writer
	fr frameReader

	// request being assembled from several packets
	asm       bool
	asmCmd    Command
	asmNext   uint8
	asmData   []byte
	asmLast   []byte
	lastFrame []byte // the frame that completed the last multi-packet request
	lastCmd   Command
	lastReply [][]byte // encoded reply packets of the last command
	out       []byte
}

// Serve answers requests on rw until ctx is done (it then returns
// ctx.Err()) or rw fails (io.EOF is returned as nil). If rw has no read
// deadline, WithDeadline adds one.
func (s *Server) Serve(ctx context.Context, rw io.ReadWriter) error {
	c := &conn{s: s, w: rw}
	c.fr = frameReader{r: WithDeadline(rw), request: true, interByte: s.opts.InterByteTimeout}
	var seenIn, seenBad int64
	defer func() {
		s.bytesIn.Add(c.fr.bytesIn - seenIn)
		s.badFrames.Add(c.fr.badCRC - seenBad)
	}()
	for {
		var dl time.Time
		if c.asm {
			dl = time.Now().Add(s.opts.FrameTimeout)
		}
		frame, err := c.fr.next(ctx, dl)
		s.bytesIn.Add(c.fr.bytesIn - seenIn)
		s.badFrames.Add(c.fr.badCRC - seenBad)
		seenIn, seenBad = c.fr.bytesIn, c.fr.badCRC
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, ErrBadCRC):
				s.opts.Logger.Debug("link server: dropped frame with bad CRC")
				if !s.opts.QuietOnBadFrame {
					if err := c.send(Response{Status: StatusER, Data: []byte{byte(CodeBadCRC)}}); err != nil {
						return err
					}
				}
				continue
			case errors.Is(err, ErrTimeout):
				s.opts.Logger.Debug("link server: multi-packet request abandoned", "cmd", c.asmCmd)
				c.asm = false
				continue
			case errors.Is(err, io.EOF):
				return nil
			}
			return err
		}
		if err := c.handle(ctx, frame); err != nil {
			if ctx.Err() != nil {
				// Stopped while answering: the line may be closed under
				// the write; report the stop, as a read would.
				return ctx.Err()
			}
			return err
		}
	}
}

func (c *conn) send(r Response) error {
	var err error
	c.out, err = AppendResponse(c.out[:0], r)
	if err != nil {
		return err
	}
	return c.write(c.out)
}

func (c *conn) write(frame []byte) error {
	if wd, ok := c.w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		// A client that stopped reading (net.Pipe is unbuffered) must not
		// block the server for ever.
		_ = wd.SetWriteDeadline(time.Now().Add(c.s.opts.FrameTimeout))
	}
	n, err := c.w.Write(frame)
	c.s.bytesOut.Add(int64(n))
	return err
}

func (c *conn) sendER(code ErrorCode) error {
	return c.send(Response{Status: StatusER, Data: []byte{byte(code)}})
}

func (c *conn) handle(ctx context.Context, frame []byte) error {
	req, _ := ParseRequest(frame) // frameReader only returns good frames
	if !c.asm && c.lastFrame != nil && bytes.Equal(frame, c.lastFrame) {
		// A repeat of the packet that completed the last multi-packet
		// request (no new request started since): answer it again, never
		// execute a fragment.
		c.s.repeats.Add(1)
		return c.sendPacket(1)
	}
	if !req.Command.Known() {
		return c.sendER(CodeUnknownCommand)
	}
	if len(req.Data) == 0 && req.Pack >= 2 && !c.asm {
		// The client asks for packet req.Pack of the last reply.
		if req.Command == c.lastCmd && int(req.Pack) <= len(c.lastReply) {
			return c.sendPacket(int(req.Pack))
		}
		return c.sendER(CodeBadLength)
	}
	multi := false
	data := req.Data
	switch {
	case req.Pack == 1:
		c.asm, c.asmCmd, c.asmNext = true, req.Command, 2
		c.asmData = append(c.asmData[:0], req.Data...)
		c.asmLast = frame
		return c.send(Response{Status: StatusNP, Pack: 2})
	case req.Pack >= 2:
		switch {
		case c.asm && req.Command == c.asmCmd && req.Pack == c.asmNext:
			if len(c.asmData)+len(req.Data) > c.s.opts.MaxTransfer || c.asmNext == 255 {
				c.asm = false
				return c.sendER(CodeBadLength)
			}
			c.asmData = append(c.asmData, req.Data...)
			c.asmNext++
			c.asmLast = frame
			return c.send(Response{Status: StatusNP, Pack: c.asmNext})
		case c.asm && bytes.Equal(frame, c.asmLast):
			return c.send(Response{Status: StatusNP, Pack: c.asmNext})
		}
		c.asm = false
		return c.sendER(CodeBadLength)
	case c.asm && req.Command == c.asmCmd:
		if len(c.asmData)+len(req.Data) > c.s.opts.MaxTransfer {
			c.asm = false
			return c.sendER(CodeBadLength)
		}
		data = append(c.asmData, req.Data...)
		c.asm, multi = false, true
	default:
		c.asm = false
	}

	rep, err := c.execute(ctx, req.Command, data)
	if err != nil {
		return err
	}
	c.lastCmd = req.Command
	c.lastReply = c.lastReply[:0]
	if multi {
		c.lastFrame = frame
	} else {
		c.lastFrame = nil
	}
	// Split the reply into packets: pack i (1-based) while more follow, 0
	// for the last.
	d := rep.data
	for i := 1; ; i++ {
		n := min(len(d), MaxPacketData)
		pack := uint8(i)
		if n == len(d) {
			pack = 0
		}
		f, err := AppendResponse(nil, Response{Status: rep.status, Pack: pack, Data: d[:n]})
		if err != nil {
			return err
		}
		c.lastReply = append(c.lastReply, f)
		d = d[n:]
		if len(d) == 0 {
			break
		}
	}
	return c.sendPacket(1)
}

func (c *conn) sendPacket(i int) error {
	if i < 1 || i > len(c.lastReply) {
		return c.sendER(CodeBadLength)
	}
	return c.write(c.lastReply[i-1])
}

// execute runs one command, sending WT every BusyInterval while the handler
// works, and returns the reply to send.
func (c *conn) execute(ctx context.Context, cmd Command, data []byte) (reply, error) {
	s := c.s
	done := make(chan reply, 1)
	go func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		done <- s.dispatch(ctx, cmd, data)
	}()
	t := time.NewTicker(s.opts.BusyInterval)
	defer t.Stop()
	for {
		select {
		case r := <-done:
			return r, nil
		case <-ctx.Done():
			// The handler finishes on its own (it holds s.mu); its result
			// is remembered, but no reply goes out.
			return reply{}, ctx.Err()
		case <-t.C:
			if err := c.send(Response{Status: StatusWT}); err != nil {
				return reply{}, err
			}
		}
	}
}

// dispatch decodes, calls the handler and encodes. s.mu is held.
func (s *Server) dispatch(ctx context.Context, cmd Command, data []byte) reply {
	r := &reader{cmd: cmd, b: data}
	w := &writer{cmd: cmd}
	var err error
	var id uint64
	// A GET RESPONSE may only follow the 61xx of the command just before.
	s.prevPending, s.pending = s.pending, pendingData{}
	if cmd.Issuing() {
		if len(data) >= 8 {
			id = r.u64("request id")
			r.b = data // decode again from the start below
		}
		if id == 0 {
			return reply{StatusER, encodeIssuingError(CodeBadRequest, 0)}
		}
		if m, ok := s.memory[id]; ok {
			s.duplicates.Add(1)
			return m
		}
	}
	s.executed.Add(1)
	okNoData := func(e error) { err = e }
	switch cmd {
	case CmdConnect:
		if err = r.end(); err == nil {
			var x ConnectInfo
			if x, err = s.h.Connect(ctx); err == nil {
				x.encode(w)
			}
		}
	case CmdStatus:
		if err = r.end(); err == nil {
			var x StatusInfo
			if x, err = s.h.Status(ctx); err == nil {
				x.encode(w)
			}
		}
	case CmdDateTime:
		if err = r.end(); err == nil {
			var t time.Time
			if t, err = s.h.DateTime(ctx); err == nil {
				w.dateTime(t, "time")
			}
		}
	case CmdSetDateTime:
		t := r.dateTime("time")
		if err = r.end(); err == nil {
			okNoData(s.h.SetDateTime(ctx, t))
		}
	case CmdMachineInfo:
		if err = r.end(); err == nil {
			var x MachineInfo
			if x, err = s.h.MachineInfo(ctx); err == nil {
				x.encode(w)
			}
		}
	case CmdUserInfo:
		if err = r.end(); err == nil {
			var x UserInfo
			if x, err = s.h.UserInfo(ctx); err == nil {
				x.encode(w)
			}
		}
	case CmdTaxItems:
		if err = r.end(); err == nil {
			var x []TaxItem
			if x, err = s.h.TaxItems(ctx); err == nil {
				encodeTaxItems(w, x)
			}
		}
	case CmdInitialise:
		if err = r.end(); err == nil {
			okNoData(s.h.Initialise(ctx))
		}
	case CmdDistributeRoll, CmdLoadRoll:
		if err = r.end(); err == nil {
			var x Roll
			if cmd == CmdLoadRoll {
				x, err = s.h.LoadRoll(ctx)
			} else {
				x, err = s.h.DistributeRoll(ctx)
			}
			if err == nil {
				x.encode(w)
			}
		}
	case CmdCurrentInvoice:
		if err = r.end(); err == nil {
			var x CurrentInvoice
			if x, err = s.h.CurrentInvoice(ctx); err == nil {
				x.encode(w)
			}
		}
	case CmdIssueNormal:
		var q IssueRequest
		q.decode(r)
		if err = r.end(); err == nil {
			var x Invoice
			if x, err = s.h.IssueNormal(ctx, q); err == nil {
				x.RequestID = id
				s.noteInvoice(x.No, id)
				x.encode(w)
			}
		}
	case CmdIssueReturn:
		var q ReturnRequest
		q.decode(r)
		if err = r.end(); err == nil {
			var x Invoice
			if x, err = s.h.IssueReturn(ctx, q); err == nil {
				x.RequestID = id
				s.noteInvoice(x.No, id)
				x.encode(w)
			}
		}
	case CmdVoid:
		var q VoidRequest
		q.decode(r)
		if err = r.end(); err == nil {
			var x []Invoice
			if x, err = s.h.Void(ctx, q); err == nil {
				for i := range x {
					x[i].RequestID = id
					s.noteInvoice(x[i].No, id)
				}
				encodeList(w, false, x)
			}
		}
	case CmdInvoices:
		var q NumberRange
		q.decode(r)
		if err = r.end(); err == nil {
			fit := (s.opts.MaxTransfer - 3) / invoiceSize
			var x []Invoice
			if x, err = s.h.Invoices(ctx, q, fit+1); err == nil {
				for i := range x {
					s.fillID(&x[i])
				}
				encodeList(w, len(x) > fit, x[:min(len(x), fit)])
			}
		}
	case CmdInvoiceDetails, CmdInvoiceDetailsByTime:
		fit := (s.opts.MaxTransfer - 3) / maxDetailSize
		var x []InvoiceDetail
		if cmd == CmdInvoiceDetails {
			var q NumberRange
			q.decode(r)
			if err = r.end(); err == nil {
				x, err = s.h.InvoiceDetails(ctx, q, fit+1)
			}
		} else {
			var q TimeRange
			q.decode(r)
			if err = r.end(); err == nil {
				x, err = s.h.InvoiceDetailsByTime(ctx, q, fit+1)
			}
		}
		if err == nil {
			for i := range x {
				s.fillID(&x[i].Invoice)
			}
			encodeList(w, len(x) > fit, x[:min(len(x), fit)])
		}
	case CmdDailyData, CmdDeclarations:
		var q DateRange
		q.decode(r)
		if err = r.end(); err == nil {
			if cmd == CmdDailyData {
				fit := (s.opts.MaxTransfer - 3) / dailySize
				var x []DailyData
				if x, err = s.h.DailyData(ctx, q, fit+1); err == nil {
					encodeList(w, len(x) > fit, x[:min(len(x), fit)])
				}
			} else {
				fit := (s.opts.MaxTransfer - 3) / declarationSize
				var x []Declaration
				if x, err = s.h.Declarations(ctx, q, fit+1); err == nil {
					encodeList(w, len(x) > fit, x[:min(len(x), fit)])
				}
			}
		}
	case CmdDeclare:
		var q DeclareRequest
		q.decode(r)
		if err = r.end(); err == nil {
			var x Declaration
			if x, err = s.h.Declare(ctx, q); err == nil {
				x.encode(w)
			}
		}
	case CmdRollUsage:
		var q RollUsageQuery
		q.decode(r)
		if err = r.end(); err == nil {
			fit := (s.opts.MaxTransfer - 3) / rollUsageSize
			var x []RollUsage
			if x, err = s.h.RollUsage(ctx, q, fit+1); err == nil {
				encodeList(w, len(x) > fit, x[:min(len(x), fit)])
			}
		}
	case CmdInvoicesByRequest:
		err = s.dispatchRequest(ctx, r, w)
	default:
		var handled bool
		if handled, err = s.dispatchService(ctx, cmd, r, w); !handled {
			err = &DeviceError{Command: cmd, Code: CodeUnknownCommand}
		}
	}
	if err == nil && w.err != nil {
		err = w.err // the handler returned values that do not encode
	}
	var rep reply
	if err != nil {
		code := s.errorCode(cmd, err)
		if cmd.Issuing() {
			rep = reply{StatusER, encodeIssuingError(code, id)}
		} else {
			rep = reply{StatusER, []byte{byte(code)}}
		}
	} else {
		rep = reply{StatusOK, w.b}
	}
	// Remember every outcome except a handler stopped by the server's own
	// context (the reply is never sent; a re-send must run the command).
	if cmd.Issuing() && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.remember(id, rep)
	}
	return rep
}

func (s *Server) errorCode(cmd Command, err error) ErrorCode {
	var de *DeviceError
	switch {
	case errors.As(err, &de):
		return de.Code
	case errors.Is(err, ErrUnsupported):
		return CodeUnknownCommand
	case errors.Is(err, ErrMalformed):
		return CodeBadRequest
	}
	s.opts.Logger.Warn("link server: handler failed", "cmd", cmd, "err", err)
	return CodeDeviceFailure
}

func (s *Server) remember(id uint64, rep reply) {
	if _, ok := s.memory[id]; !ok {
		s.order = append(s.order, id)
		if len(s.order) > s.opts.Remember {
			delete(s.memory, s.order[0])
			s.order = s.order[1:]
		}
	}
	s.memory[id] = rep
}

func (s *Server) noteInvoice(no uint32, id uint64) {
	if _, ok := s.byNo[no]; !ok {
		s.noOrder = append(s.noOrder, no)
		if len(s.noOrder) > s.opts.Remember {
			delete(s.byNo, s.noOrder[0])
			s.noOrder = s.noOrder[1:]
		}
	}
	s.byNo[no] = id
}

// fillID supplies the request id of a recent invoice when the handler does
// not store ids itself.
func (s *Server) fillID(inv *Invoice) {
	if inv.RequestID == 0 {
		inv.RequestID = s.byNo[inv.No]
	}
}
