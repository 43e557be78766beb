package linktest

import (
	"io"
	"os"
	"sync"
	"time"
)

// PipeOptions configure Pipe. The zero value is an unthrottled pipe.
type PipeOptions struct {
	// Baud, when positive, makes the pipe enforce a serial line rate: the
	// bytes of one Write become readable only when a line of this rate
	// would have finished sending them (each direction is one line, busy
	// while it sends). The writer does not block, like a UART with a large
	// buffer.
	Baud int
	// BitsPerByte on the line (default 10: start bit, 8 data bits, stop bit).
	BitsPerByte int
}

// Pipe returns the two ends of an in-memory full-duplex byte stream with
// read deadlines. Unlike net.Pipe, writes are buffered, so both ends may
// write at once.
func Pipe(opts *PipeOptions) (*End, *End) {
	var o PipeOptions
	if opts != nil {
		o = *opts
	}
	if o.BitsPerByte <= 0 {
		o.BitsPerByte = 10
	}
	ab, ba := newHalf(o), newHalf(o)
	return &End{rd: ba, wr: ab}, &End{rd: ab, wr: ba}
}

// End is one end of a Pipe.
type End struct {
	rd, wr *half
}

type chunk struct {
	at   time.Time
	data []byte
}

type half struct {
	opts PipeOptions

	mu       sync.Mutex
	notify   chan struct{}
	chunks   []chunk
	busy     time.Time
	closed   bool
	deadline time.Time
	written  int64
}

func newHalf(o PipeOptions) *half { return &half{opts: o, notify: make(chan struct{})} }

func (h *half) broadcast() {
	close(h.notify)
	h.notify = make(chan struct{})
}

// Read reads bytes that have arrived, waiting for them until the read
// deadline (os.ErrDeadlineExceeded) or until the other end is closed and
// everything was read (io.EOF).
func (e *End) Read(p []byte) (int, error) {
	h := e.rd
	for {
		h.mu.Lock()
		now := time.Now()
		if len(h.chunks) > 0 && !h.chunks[0].at.After(now) {
			n := 0
			for n < len(p) && len(h.chunks) > 0 && !h.chunks[0].at.After(now) {
				c := &h.chunks[0]
				k := copy(p[n:], c.data)
				n += k
				c.data = c.data[k:]
				if len(c.data) == 0 {
					h.chunks = h.chunks[1:]
				}
			}
			h.mu.Unlock()
			return n, nil
		}
		if h.closed && len(h.chunks) == 0 {
			h.mu.Unlock()
			return 0, io.EOF
		}
		if !h.deadline.IsZero() && !now.Before(h.deadline) {
			h.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		wake := time.Time{}
		if len(h.chunks) > 0 {
			wake = h.chunks[0].at
		}
		if !h.deadline.IsZero() && (wake.IsZero() || h.deadline.Before(wake)) {
			wake = h.deadline
		}
		ch := h.notify
		h.mu.Unlock()
		if wake.IsZero() {
			<-ch
			continue
		}
		t := time.NewTimer(time.Until(wake))
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// Write queues p for the other end.
func (e *End) Write(p []byte) (int, error) {
	h := e.wr
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, io.ErrClosedPipe
	}
	at := time.Now()
	if h.opts.Baud > 0 {
		if h.busy.After(at) {
			at = h.busy
		}
		at = at.Add(time.Duration(len(p)*h.opts.BitsPerByte) * time.Second / time.Duration(h.opts.Baud))
		h.busy = at
	}
	h.chunks = append(h.chunks, chunk{at: at, data: append([]byte(nil), p...)})
	h.written += int64(len(p))
	h.broadcast()
	return len(p), nil
}

// SetReadDeadline sets the deadline of Read; the zero time means none.
func (e *End) SetReadDeadline(t time.Time) error {
	h := e.rd
	h.mu.Lock()
	h.deadline = t
	h.broadcast()
	h.mu.Unlock()
	return nil
}

// Close closes both directions: the other end reads what was written and
// then io.EOF; writes on either end fail.
func (e *End) Close() error {
	for _, h := range []*half{e.rd, e.wr} {
		h.mu.Lock()
		if !h.closed {
			h.closed = true
			h.broadcast()
		}
		h.mu.Unlock()
	}
	return nil
}

// Written returns the number of bytes written on this end.
func (e *End) Written() int64 {
	e.wr.mu.Lock()
	defer e.wr.mu.Unlock()
	return e.wr.written
}
