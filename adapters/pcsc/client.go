//go:build pcsc

package pcsc

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// pnpNotification is the pseudo reader whose state changes when a reader
// is plugged in or out (PC/SC part 5; supported by pcsc-lite).
const pnpNotification = `\\?PnP?\Notification`

// DefaultPollInterval bounds each PC/SC wait, so that a wait also notices
// its context ending when SCardCancel raced with the start of the wait.
const DefaultPollInterval = time.Second

// Options configure a Client. The zero value means defaults.
type Options struct {
	// PollInterval bounds each blocking PC/SC status wait; default
	// DefaultPollInterval. Waits end at once when their context is done
	// (through SCardCancel); this is the fallback.
	PollInterval time.Duration
	// Logger receives debug records (connects, reconnects, transactions);
	// default none.
	Logger *slog.Logger
}

func (o *Options) poll() time.Duration {
	if o == nil || o.PollInterval <= 0 {
		return DefaultPollInterval
	}
	return o.PollInterval
}

func (o *Options) logger() *slog.Logger {
	if o == nil || o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Client is a connection to the PC/SC service. It lists readers, watches
// them for cards and connects to cards. Its methods are safe for
// concurrent use: quick queries share one PC/SC context under a lock, and
// every wait and every Card gets a PC/SC context of its own (pcsc-lite
// serialises the calls made on one context, so a wait would otherwise
// block a transmit).
type Client struct {
	opts Options

	mu   sync.Mutex
	sctx *scard.Context // nil after Close
}

// Open connects to the PC/SC service. It fails with an *Error wrapping
// ErrNoService when pcscd is not running. opts may be nil.
func Open(ctx context.Context, opts *Options) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sctx, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establish context", "", err)
	}
	c := &Client{sctx: sctx}
	if opts != nil {
		c.opts = *opts
	}
	return c, nil
}

// Close releases the client's PC/SC context. Cards connected through it
// stay usable until their own Close.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sctx == nil {
		return nil
	}
	err := c.sctx.Release()
	c.sctx = nil
	return wrap("release context", "", err)
}

func (c *Client) locked(fn func(*scard.Context) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sctx == nil {
		return ErrClosed
	}
	return fn(c.sctx)
}

// Readers lists the readers known to the PC/SC service. No reader is an
// empty list, not an error.
func (c *Client) Readers(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var readers []string
	err := c.locked(func(s *scard.Context) error {
		var err error
		readers, err = s.ListReaders()
		return err
	})
	if isCode(err, scard.ErrNoReadersAvailable) {
		return []string{}, nil
	}
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, err
		}
		return nil, wrap("list readers", "", err)
	}
	return readers, nil
}

// ReaderStatus is the state of one reader.
type ReaderStatus struct {
	// Reader is the reader name.
	Reader string
	// Present: a card is in the reader.
	Present bool
	// Mute: the card did not answer its reset.
	Mute bool
	// InUse: some process is connected to the card.
	InUse bool
	// Exclusive: some process is connected to the card exclusively.
	Exclusive bool
	// ATR is the card's Answer To Reset, when a card is present.
	ATR []byte
}

func statusOf(rs scard.ReaderState) ReaderStatus {
	st := ReaderStatus{
		Reader:    rs.Reader,
		Present:   rs.EventState&scard.StatePresent != 0,
		Mute:      rs.EventState&scard.StateMute != 0,
		InUse:     rs.EventState&scard.StateInuse != 0,
		Exclusive: rs.EventState&scard.StateExclusive != 0,
	}
	if st.Present && len(rs.Atr) > 0 {
		st.ATR = slices.Clone(rs.Atr)
	}
	return st
}

// Status returns the current state of a reader. It fails with an *Error
// wrapping ErrReaderUnavailable for a reader PC/SC does not know.
func (c *Client) Status(ctx context.Context, reader string) (ReaderStatus, error) {
	if err := ctx.Err(); err != nil {
		return ReaderStatus{}, err
	}
	states := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	err := c.locked(func(s *scard.Context) error { return s.GetStatusChange(states, 0) })
	if err != nil && !isCode(err, scard.ErrTimeout) {
		if errors.Is(err, ErrClosed) {
			return ReaderStatus{}, err
		}
		return ReaderStatus{}, wrap("status", reader, err)
	}
	if states[0].EventState&(scard.StateUnknown|scard.StateUnavailable) != 0 {
		return ReaderStatus{}, &Error{Op: "status", Reader: reader, Code: scard.ErrUnknownReader, Err: ErrReaderUnavailable}
	}
	return statusOf(states[0]), nil
}

// WaitForCard waits until a card that answered its reset is in reader
// and returns the reader's state. With reader "" it waits for a card in
// any reader (readers plugged in meanwhile included) and the status names
// the reader. It returns ctx.Err() when ctx ends first, and an *Error
// wrapping ErrReaderUnavailable when the named reader is unknown or goes
// away.
func (c *Client) WaitForCard(ctx context.Context, reader string) (ReaderStatus, error) {
	var found ReaderStatus
	err := c.wait(ctx, reader, "wait for card", func(rs scard.ReaderState) bool {
		if rs.EventState&scard.StatePresent != 0 && rs.EventState&scard.StateMute == 0 {
			found = statusOf(rs)
			return true
		}
		return false
	})
	return found, err
}

// WaitForRemoval waits until reader holds no card. It returns ctx.Err()
// when ctx ends first, and an *Error wrapping ErrReaderUnavailable when the
// reader is unknown or goes away.
func (c *Client) WaitForRemoval(ctx context.Context, reader string) error {
	if reader == "" {
		return &Error{Op: "wait for removal", Code: scard.ErrUnknownReader, Err: ErrReaderUnavailable}
	}
	return c.wait(ctx, reader, "wait for removal", func(rs scard.ReaderState) bool {
		return rs.EventState&scard.StateEmpty != 0
	})
}

// wait runs SCardGetStatusChange on a context of its own until done
// accepts a reader's state. reader "" watches every reader and the
// plug-and-play pseudo reader.
func (c *Client) wait(ctx context.Context, reader, op string, done func(scard.ReaderState) bool) error {
	if err := c.locked(func(*scard.Context) error { return nil }); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sctx, err := scard.EstablishContext()
	if err != nil {
		return wrap("establish context", "", err)
	}
	defer sctx.Release()
	stop := context.AfterFunc(ctx, func() { _ = sctx.Cancel() })
	defer stop()

	poll := c.opts.poll()
	var states []scard.ReaderState
	relist := true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if relist {
			relist = false
			names := []string{reader}
			if reader == "" {
				names, err = sctx.ListReaders()
				if err != nil && !isCode(err, scard.ErrNoReadersAvailable) {
					return wrap("list readers", "", err)
				}
				names = append(names, pnpNotification)
			}
			states = states[:0]
			for _, n := range names {
				states = append(states, scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware})
			}
		}
		err := sctx.GetStatusChange(states, poll)
		switch {
		case err == nil:
		case isCode(err, scard.ErrTimeout):
			continue
		case isCode(err, scard.ErrCancelled) && ctx.Err() != nil:
			return ctx.Err()
		case reader == "" && (isCode(err, scard.ErrUnknownReader) || isCode(err, scard.ErrReaderUnavailable)):
			relist = true // a reader went away between listing and waiting
			continue
		default:
			return wrap(op, reader, err)
		}
		for i := range states {
			rs := &states[i]
			if rs.Reader == pnpNotification {
				if rs.EventState&scard.StateChanged != 0 {
					relist = true
				}
				rs.CurrentState = rs.EventState &^ scard.StateChanged
				continue
			}
			if rs.EventState&(scard.StateUnknown|scard.StateUnavailable) != 0 {
				if reader != "" {
					return &Error{Op: op, Reader: reader, Code: scard.ErrReaderUnavailable, Err: ErrReaderUnavailable}
				}
				relist = true
				continue
			}
			if done(*rs) {
				return nil
			}
			rs.CurrentState = rs.EventState &^ scard.StateChanged
		}
	}
}
