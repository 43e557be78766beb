//go:build pcsc

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/ebfe/scard"

	"github.com/fiscalkit/gb18240/card"
)

// Protocol is a set of transmission protocols.
type Protocol uint32

// Protocols. GB 18240.2 cards use T=0.
const (
	// ProtocolT0 is ISO 7816-3 T=0 (character protocol).
	ProtocolT0 = Protocol(scard.ProtocolT0)
	// ProtocolT1 is ISO 7816-3 T=1 (block protocol).
	ProtocolT1 = Protocol(scard.ProtocolT1)
	// ProtocolAny lets the reader pick T=0 or T=1 from the ATR.
	ProtocolAny = ProtocolT0 | ProtocolT1
)

func (p Protocol) String() string {
	switch p {
	case ProtocolT0:
		return "T=0"
	case ProtocolT1:
		return "T=1"
	case ProtocolAny:
		return "T=0|T=1"
	}
	return fmt.Sprintf("Protocol(0x%X)", uint32(p))
}

// ConnectOptions configure Connect. The zero value means: shared access,
// T=0 or T=1 as the card offers, leave the card as it is on Close.
type ConnectOptions struct {
	// Exclusive opens the card so that no other process can connect
	// (SCARD_SHARE_EXCLUSIVE). The default is shared access; multi-command
	// operations then keep others out with Transaction.
	Exclusive bool
	// Protocol restricts the protocols to accept; 0 means ProtocolAny.
	Protocol Protocol
	// ResetOnClose resets the card when the Card is closed (ending its
	// session state) instead of leaving it as it is.
	ResetOnClose bool
}

// Card is a connected card. It implements card.Transmitter and is safe
// for concurrent use; see Transaction for keeping other goroutines and
// processes out during a multi-command operation.
//
// A blocking PC/SC call (SCardTransmit, SCardBeginTransaction) cannot be
// interrupted; the context is checked before each one.
type Card struct {
	reader string
	share  scard.ShareMode
	proto  scard.Protocol
	disp   scard.Disposition
	log    *slog.Logger

	// sem is held by an active Transaction and, outside transactions, by
	// each Transmit; it orders the goroutines of this process.
	sem chan struct{}

	mu     sync.Mutex // guards the fields below and every call on h
	sctx   *scard.Context
	h      *scard.Card
	atr    []byte
	active scard.Protocol
	txID   uint64 // id of the active transaction, 0 when none
	nextTx uint64
}

var _ card.Transmitter = (*Card)(nil)

// Connect connects to the card in reader. It fails with an *Error
// wrapping ErrNoCard (empty reader), ErrReaderUnavailable, ErrSharingViolation
// or ErrUnresponsiveCard, among others. opts may be nil.
func (c *Client) Connect(ctx context.Context, reader string, opts *ConnectOptions) (*Card, error) {
	if err := c.locked(func(*scard.Context) error { return nil }); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var o ConnectOptions
	if opts != nil {
		o = *opts
	}
	k := &Card{
		reader: reader,
		share:  scard.ShareShared,
		proto:  scard.Protocol(o.Protocol),
		disp:   scard.LeaveCard,
		log:    c.opts.logger(),
		sem:    make(chan struct{}, 1),
	}
	if o.Exclusive {
		k.share = scard.ShareExclusive
	}
	if k.proto == 0 {
		k.proto = scard.ProtocolAny
	}
	if o.ResetOnClose {
		k.disp = scard.ResetCard
	}
	sctx, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establish context", "", err)
	}
	h, err := sctx.Connect(reader, k.share, k.proto)
	if err != nil {
		sctx.Release()
		return nil, wrap("connect", reader, err)
	}
	k.sctx, k.h, k.active = sctx, h, h.ActiveProtocol()
	if st, err := h.Status(); err == nil {
		k.atr = slices.Clone(st.Atr)
	}
	k.log.Debug("pcsc: connected", "reader", reader, "protocol", Protocol(k.active).String())
	return k, nil
}

// Reader returns the reader name.
func (k *Card) Reader() string { return k.reader }

// ATR returns the card's Answer To Reset as read at connect (or the last
// reconnect).
func (k *Card) ATR() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.atr)
}

// Protocol returns the protocol in use (T=0 or T=1).
func (k *Card) Protocol() Protocol {
	k.mu.Lock()
	defer k.mu.Unlock()
	return Protocol(k.active)
}

// txKey marks a context as running inside a Transaction of one Card.
type txKey struct{ card *Card }

// inTx reports whether ctx belongs to the active transaction of k.
func (k *Card) inTx(ctx context.Context) bool {
	id, ok := ctx.Value(txKey{k}).(uint64)
	if !ok {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return id != 0 && id == k.txID
}

func (k *Card) acquire(ctx context.Context) error {
	select {
	case k.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (k *Card) release() { <-k.sem }

// Transmit sends one command APDU and returns the response APDU (status
// word included) as the card gave it. Outside a Transaction it waits for
// any running transaction of this Card to end.
//
// When another process reset the card since the last command, the command
// is not sent: Transmit reconnects the handle and returns an *Error
// wrapping ErrCardReset, after which the caller restarts its operation.
// A removed card gives ErrCardRemoved, a vanished reader ErrReaderUnavailable.
func (k *Card) Transmit(ctx context.Context, command []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !k.inTx(ctx) {
		if err := k.acquire(ctx); err != nil {
			return nil, err
		}
		defer k.release()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.h == nil {
		return nil, ErrClosed
	}
	rsp, err := k.h.Transmit(command)
	if err == nil {
		return rsp, nil
	}
	if isCode(err, scard.ErrResetCard) {
		if rerr := k.reconnectLocked(scard.LeaveCard); rerr != nil {
			return nil, errors.Join(wrap("transmit", k.reader, err), rerr)
		}
	}
	return nil, wrap("transmit", k.reader, err)
}

// Reconnect reconnects the handle (SCardReconnect) with the same share mode
// and protocols; with reset it also resets the card, ending its session
// state for everybody. It waits for a running Transaction of this Card to
// end, unless ctx is that transaction's.
func (k *Card) Reconnect(ctx context.Context, reset bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !k.inTx(ctx) {
		if err := k.acquire(ctx); err != nil {
			return err
		}
		defer k.release()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.h == nil {
		return ErrClosed
	}
	disp := scard.LeaveCard
	if reset {
		disp = scard.ResetCard
	}
	return k.reconnectLocked(disp)
}

func (k *Card) reconnectLocked(disp scard.Disposition) error {
	if err := k.h.Reconnect(k.share, k.proto, disp); err != nil {
		return wrap("reconnect", k.reader, err)
	}
	k.active = k.h.ActiveProtocol()
	if st, err := k.h.Status(); err == nil {
		k.atr = slices.Clone(st.Atr)
	}
	k.log.Debug("pcsc: reconnected", "reader", k.reader, "reset", disp == scard.ResetCard)
	return nil
}

// Transaction runs fn while holding the card: other processes cannot send
// commands to it (SCardBeginTransaction / SCardEndTransaction) and other
// goroutines using this Card wait. fn must use the context it is given for
// its commands; commands sent with another context wait for the
// transaction to end. A register holds the fiscal card this way for a
// whole flow (verify the fiscal PIN, issue, read back).
//
// If another process reset the card before the transaction began, the
// handle is reconnected and the transaction begins on the fresh session,
// as fn starts from the first command anyway. A reset or removal during fn
// makes fn's commands fail with ErrCardReset or ErrCardRemoved. A nested
// call with fn's context runs inside the same transaction.
//
// The result is fn's error or, when fn succeeded, the error of ending the
// transaction.
func (k *Card) Transaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if k.inTx(ctx) {
		return fn(ctx)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := k.acquire(ctx); err != nil {
		return err
	}
	defer k.release()

	k.mu.Lock()
	if k.h == nil {
		k.mu.Unlock()
		return ErrClosed
	}
	err := k.h.BeginTransaction()
	if isCode(err, scard.ErrResetCard) {
		if err = k.reconnectLocked(scard.LeaveCard); err == nil {
			err = k.h.BeginTransaction()
		}
	}
	if err != nil {
		k.mu.Unlock()
		var pe *Error
		if errors.As(err, &pe) {
			return err
		}
		return wrap("begin transaction", k.reader, err)
	}
	k.nextTx++
	id := k.nextTx
	k.txID = id
	k.mu.Unlock()
	k.log.Debug("pcsc: transaction begun", "reader", k.reader)

	fnErr := fn(context.WithValue(ctx, txKey{k}, id))

	k.mu.Lock()
	k.txID = 0
	var endErr error
	if k.h != nil {
		endErr = k.h.EndTransaction(scard.LeaveCard)
	}
	k.mu.Unlock()
	k.log.Debug("pcsc: transaction ended", "reader", k.reader, "err", endErr)
	if fnErr != nil {
		return fnErr
	}
	return wrap("end transaction", k.reader, endErr)
}

// Close disconnects from the card (leaving it as it is, or resetting it
// with ConnectOptions.ResetOnClose) and releases the card's PC/SC
// context. It waits for a running Transaction to end.
func (k *Card) Close() error {
	k.sem <- struct{}{}
	defer k.release()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.h == nil {
		return nil
	}
	err := k.h.Disconnect(k.disp)
	if err != nil && (isCode(err, scard.ErrRemovedCard) || isCode(err, scard.ErrReaderUnavailable) || isCode(err, scard.ErrInvalidHandle)) {
		err = nil // nothing left to disconnect from
	}
	rerr := k.sctx.Release()
	k.h, k.sctx = nil, nil
	return errors.Join(wrap("disconnect", k.reader, err), wrap("release context", "", rerr))
}
