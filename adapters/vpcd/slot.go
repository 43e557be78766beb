package vpcd

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/fiscalkit/gb18240/card"
)

// ErrAlreadyRunning is returned by Slot.Run when another Run of the same
// slot is active.
var ErrAlreadyRunning = errors.New("vpcd: slot already running")

// Slot is the card side of one vpcd reader: a place a card can be put in
// (Insert) and taken out of (Remove), kept connected to vpcd by Run.
//
// While a card is inserted, Run keeps a connection to vpcd open and serves
// the card on it; when pcscd drops the connection (pcscd restarted, the
// reader was reset) Run dials again every RetryInterval. Taking the card
// out or putting another one in closes the connection, which pcscd sees as
// a removal (and then an insertion). All methods are safe for concurrent
// use.
type Slot struct {
	opts Options

	mu      sync.Mutex
	card    card.Transmitter
	gen     uint64             // bumped by every Insert and Remove
	cancel  context.CancelFunc // ends the current connection, if any
	changed chan struct{}      // signalled (non-blocking) on Insert/Remove
	running bool
}

// NewSlot returns an empty slot. opts may be nil.
func NewSlot(opts *Options) *Slot {
	s := &Slot{changed: make(chan struct{}, 1)}
	if opts != nil {
		s.opts = *opts
	}
	return s
}

// Addr is the vpcd address the slot dials.
func (s *Slot) Addr() string { return s.opts.addr() }

// Insert puts c in the slot, taking out the card that was there. pcscd
// notices a removal only when it next polls the reader, so a swap that
// PC/SC clients must see as a removal is best done as Remove, a wait until
// the reader shows empty, then Insert.
func (s *Slot) Insert(c card.Transmitter) { s.set(c) }

// Remove takes the card out of the slot; pcscd sees the reader empty.
func (s *Slot) Remove() { s.set(nil) }

func (s *Slot) set(c card.Transmitter) {
	s.mu.Lock()
	s.card = c
	s.gen++
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// current returns the card to serve and its generation.
func (s *Slot) current() (card.Transmitter, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.card, s.gen
}

// Run keeps the slot connected to vpcd until ctx is done, then returns
// ctx.Err(). Errors on the way (vpcd unreachable, dropped connections,
// protocol errors) are reported through Options.OnEvent and the logger and
// are followed by a new attempt. Only one Run may be active at a time; a
// second one returns ErrAlreadyRunning.
func (s *Slot) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrAlreadyRunning
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	o := &s.opts
	log := o.logger()
	addr := o.addr()
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c, gen := s.current()
		if c == nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.changed:
			}
			continue
		}
		conn, err := o.dial(ctx, addr)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Debug("vpcd: dial failed", "addr", addr, "err", err)
			o.emit(Event{Kind: DialFailed, Addr: addr, Err: err})
			if !s.pause(ctx, o.retry()) {
				return ctx.Err()
			}
			continue
		}

		connCtx, cancel := context.WithCancel(ctx)
		s.mu.Lock()
		if s.gen != gen { // the card changed while dialling
			s.mu.Unlock()
			cancel()
			conn.Close()
			continue
		}
		s.cancel = cancel
		s.mu.Unlock()

		log.Debug("vpcd: connected", "addr", addr)
		o.emit(Event{Kind: Connected, Addr: addr})
		err = Serve(connCtx, conn, c, o)
		cancel()

		s.mu.Lock()
		s.cancel = nil
		swapped := s.gen != gen
		s.mu.Unlock()

		if ctx.Err() != nil {
			o.emit(Event{Kind: Disconnected, Addr: addr})
			return ctx.Err()
		}
		if swapped {
			o.emit(Event{Kind: Disconnected, Addr: addr})
			continue
		}
		if err != nil {
			log.Warn("vpcd: connection ended", "addr", addr, "err", err)
		} else {
			log.Debug("vpcd: connection closed by vpcd", "addr", addr)
		}
		o.emit(Event{Kind: Disconnected, Addr: addr, Err: err})
		if !s.pause(ctx, o.retry()) {
			return ctx.Err()
		}
	}
}

// pause waits d, or less if the card changes; false means ctx is done.
func (s *Slot) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-s.changed:
	}
	return true
}

// Run serves card c to vpcd until ctx is done (see Slot.Run); opts may be
// nil.
func Run(ctx context.Context, c card.Transmitter, opts *Options) error {
	s := NewSlot(opts)
	s.Insert(c)
	return s.Run(ctx)
}
