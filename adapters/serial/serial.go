package serial

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	bug "go.bug.st/serial"
)

// Options configure Open. The zero value means 9600 8N1.
type Options struct {
	// Baud is the bit rate (default 9600).
	Baud int
	// DataBits is 5..8 (default 8).
	DataBits int
	// Parity is go.bug.st/serial's parity (default NoParity).
	Parity bug.Parity
	// StopBits is go.bug.st/serial's stop bits (default OneStopBit).
	StopBits bug.StopBits
	// PollInterval is the longest single wait in the driver (default
	// 50ms): the resolution of deadlines.
	PollInterval time.Duration
}

// DefaultBaud is the register link's default rate.
const DefaultBaud = 9600

// Mode returns the go.bug.st/serial mode for the options.
func (o *Options) Mode() *bug.Mode {
	m := &bug.Mode{BaudRate: DefaultBaud, DataBits: 8, Parity: bug.NoParity, StopBits: bug.OneStopBit}
	if o != nil {
		if o.Baud > 0 {
			m.BaudRate = o.Baud
		}
		if o.DataBits > 0 {
			m.DataBits = o.DataBits
		}
		m.Parity, m.StopBits = o.Parity, o.StopBits
	}
	return m
}

// ErrClosed reports use of a closed Port.
var ErrClosed = errors.New("serial: port closed")

// raw is what Port needs from go.bug.st/serial (tests substitute a fake).
type raw interface {
	io.ReadWriteCloser
	SetReadTimeout(t time.Duration) error
}

// Port is an open serial port with read deadlines.
type Port struct {
	raw  raw
	poll time.Duration
	name string

	mu       sync.Mutex
	deadline time.Time
	closed   bool
}

// Open opens the named port (for example /dev/ttyUSB0, COM3 or a pty).
func Open(name string, opts *Options) (*Port, error) {
	p, err := bug.Open(name, opts.Mode())
	if err != nil {
		return nil, fmt.Errorf("serial: open %s: %w", name, err)
	}
	return newPort(p, name, opts), nil
}

func newPort(r raw, name string, opts *Options) *Port {
	poll := 50 * time.Millisecond
	if opts != nil && opts.PollInterval > 0 {
		poll = opts.PollInterval
	}
	return &Port{raw: r, poll: poll, name: name}
}

// Name returns the port's name.
func (p *Port) Name() string { return p.name }

// List returns the names of the serial ports present.
func List() ([]string, error) { return bug.GetPortsList() }

// SetReadDeadline sets the deadline for Read; the zero time means none.
func (p *Port) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.deadline = t
	return nil
}

// Read reads at least one byte, or fails with os.ErrDeadlineExceeded when
// the deadline passes first.
func (p *Port) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		p.mu.Lock()
		dl, closed := p.deadline, p.closed
		p.mu.Unlock()
		if closed {
			return 0, ErrClosed
		}
		wait := p.poll
		if !dl.IsZero() {
			left := time.Until(dl)
			if left <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			wait = min(wait, left)
		}
		if err := p.raw.SetReadTimeout(max(wait, time.Millisecond)); err != nil {
			return 0, err
		}
		n, err := p.raw.Read(b)
		if n > 0 || err != nil {
			if err != nil && p.isClosed() {
				err = ErrClosed
			}
			return n, err
		}
		// 0 bytes, no error: the driver's timeout. Poll again.
	}
}

func (p *Port) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Write writes all of b.
func (p *Port) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := p.raw.Write(b[done:])
		done += n
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, io.ErrShortWrite
		}
	}
	return done, nil
}

// Close closes the port; a blocked Read returns.
func (p *Port) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	return p.raw.Close()
}
