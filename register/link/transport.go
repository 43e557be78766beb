package link

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// DeadlineReadWriter is the transport the link runs on: a byte stream whose
// reads can be given a deadline. net.Conn, pollable *os.File values (a pty
// master), adapters/serial.Port and linktest.Pipe implement it; WithDeadline
// adds it to any other io.ReadWriter.
//
// A read that passes its deadline returns an error for which
// errors.Is(err, os.ErrDeadlineExceeded) holds (or a net.Error whose
// Timeout method reports true). Setting the deadline from another goroutine
// must wake a blocked Read.
type DeadlineReadWriter interface {
	io.ReadWriter
	SetReadDeadline(t time.Time) error
}

// WithDeadline returns rw itself if it already implements
// DeadlineReadWriter. Otherwise it returns a wrapper whose Read honours
// deadlines; a goroutine reads rw in the background until rw's Read returns
// an error (close rw to stop it). Bytes read after a deadline passed are
// kept for the next Read, never lost.
func WithDeadline(rw io.ReadWriter) DeadlineReadWriter {
	if d, ok := rw.(DeadlineReadWriter); ok {
		return d
	}
	p := &pump{Writer: rw, data: make(chan []byte, 16), wake: make(chan struct{}, 1)}
	go p.run(rw)
	return p
}

type pump struct {
	io.Writer
	data chan []byte
	wake chan struct{}

	mu       sync.Mutex
	deadline time.Time
	err      error

	pending []byte // only touched by Read (callers do not read concurrently)
}

func (p *pump) run(r io.Reader) {
	for {
		buf := make([]byte, 512)
		n, err := r.Read(buf)
		if n > 0 {
			p.data <- buf[:n]
		}
		if err != nil {
			p.mu.Lock()
			p.err = err
			p.mu.Unlock()
			close(p.data)
			return
		}
	}
}

func (p *pump) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	p.deadline = t
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

func (p *pump) Read(b []byte) (int, error) {
	for len(p.pending) == 0 {
		p.mu.Lock()
		dl := p.deadline
		p.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				// Still hand out data that is already there.
				select {
				case buf, ok := <-p.data:
					if !ok {
						return 0, p.closedErr()
					}
					p.pending = buf
					continue
				default:
					return 0, os.ErrDeadlineExceeded
				}
			}
			t := time.NewTimer(d)
			timeout = t.C
			defer t.Stop() // at most one timer per wake-up; Read returns soon
		}
		select {
		case buf, ok := <-p.data:
			if !ok {
				return 0, p.closedErr()
			}
			p.pending = buf
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		case <-p.wake:
		}
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

func (p *pump) closedErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// isTimeout reports whether err is a read deadline error.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// frameReader reads frames from a byte stream, resynchronising after garbage:
// bytes that cannot start a frame are skipped, and a candidate frame whose
// length or CRC is wrong, or that stalls for longer than the inter-byte
// timeout, is abandoned one byte at a time so that a real frame hidden inside
// it is still found.
type frameReader struct {
	r         DeadlineReadWriter
	request   bool // true: request frames (server side); false: replies
	interByte time.Duration

	buf     []byte
	scratch [512]byte

	bytesIn   int64 // all bytes read from the line
	discarded int64 // bytes skipped while resynchronising
	badCRC    int64 // candidate frames dropped for a CRC mismatch
}

func (fr *frameReader) hdrLen() int {
	if fr.request {
		return RequestHeaderLen
	}
	return ResponseHeaderLen
}

// isStart reports whether a frame can start at buf[i] (-1: cannot, 0: only
// with more bytes, 1: yes).
func (fr *frameReader) isStart(i int) int {
	b := fr.buf
	if i+1 >= len(b) {
		if fr.request {
			if b[i] == SyncByte {
				return 0
			}
			return -1
		}
		switch b[i] {
		case 'O', 'E', 'W', 'N':
			return 0
		}
		return -1
	}
	if fr.request {
		if b[i] == SyncByte && b[i+1] == TypeCommand {
			return 1
		}
		return -1
	}
	if statusFromMarker(b[i], b[i+1]) != 0 {
		return 1
	}
	return -1
}

func (fr *frameReader) drop(n int) {
	fr.discarded += int64(n)
	fr.buf = append(fr.buf[:0], fr.buf[n:]...)
}

// scan looks for a complete frame in the buffer. It returns the frame (a
// copy), or partial=true when a candidate frame is waiting for more bytes,
// or crcErr=true when a candidate was dropped for its CRC.
func (fr *frameReader) scan() (frame []byte, partial, crcErr bool) {
	hdr := fr.hdrLen()
	for {
		i, st := 0, -1
		for ; i < len(fr.buf); i++ {
			if st = fr.isStart(i); st >= 0 {
				break
			}
		}
		if i > 0 {
			fr.drop(i)
		}
		if st < 0 {
			return nil, false, false
		}
		if len(fr.buf) < hdr {
			return nil, true, false
		}
		n := int(fr.buf[hdr-1])
		if n < hdr {
			fr.drop(1)
			continue
		}
		if len(fr.buf) < n+2 {
			return nil, true, false
		}
		if CRC16(fr.buf[:n]) == uint16(fr.buf[n])<<8|uint16(fr.buf[n+1]) {
			frame = append([]byte(nil), fr.buf[:n+2]...)
			fr.buf = append(fr.buf[:0], fr.buf[n+2:]...)
			return frame, false, false
		}
		fr.badCRC++
		fr.drop(1)
		return nil, false, true
	}
}

// next returns the next good frame, or ErrTimeout when none completes by
// deadline (zero: no deadline), or the context's error, or a read error.
// A candidate dropped for a bad CRC is reported as a *FrameError wrapping
// ErrBadCRC so that a server can answer it; the caller may just call next
// again.
func (fr *frameReader) next(ctx context.Context, deadline time.Time) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = fr.r.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		frame, partial, crcErr := fr.scan()
		if frame != nil {
			return frame, nil
		}
		if crcErr {
			return nil, &FrameError{Offset: 0, Err: ErrBadCRC}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dl := deadline
		interByte := false
		if partial {
			if t := time.Now().Add(fr.interByte); dl.IsZero() || t.Before(dl) {
				dl, interByte = t, true
			}
		}
		if err := fr.r.SetReadDeadline(dl); err != nil {
			return nil, err
		}
		n, err := fr.r.Read(fr.scratch[:])
		if n > 0 {
			fr.bytesIn += int64(n)
			fr.buf = append(fr.buf, fr.scratch[:n]...)
			continue
		}
		if err == nil {
			continue
		}
		if isTimeout(err) {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			if interByte {
				// The candidate stalled: give it up and rescan.
				fr.drop(1)
				continue
			}
			return nil, ErrTimeout
		}
		return nil, err
	}
}

// drain discards everything buffered and the bytes that arrive on the line
// within a short grace period, so that stale replies are not mistaken for
// the answer to the next request.
func (fr *frameReader) drain(grace time.Duration) {
	fr.discarded += int64(len(fr.buf))
	fr.buf = fr.buf[:0]
	for {
		if err := fr.r.SetReadDeadline(time.Now().Add(grace)); err != nil {
			return
		}
		n, err := fr.r.Read(fr.scratch[:])
		fr.bytesIn += int64(n)
		fr.discarded += int64(n)
		if n == 0 || err != nil {
			return
		}
	}
}
