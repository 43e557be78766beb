package vpcd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/fiscalkit/gb18240/card"
)

// DefaultATR is the Answer To Reset sent for a card that has no ATR of its
// own (see ATRer). Byte by byte:
//
//	3B        TS: direct convention
//	7A        T0: TA1, TB1, TC1 follow; 10 historical bytes; no TD1, so T=0 only
//	11        TA1: Fi=372, Di=1 (the default rate, nothing to negotiate)
//	00        TB1: no programming voltage
//	00        TC1: no extra guard time
//	46 4B 2D 47 42 31 38 32 34 30   historical bytes: "FK-GB18240"
//
// It starts with 3B 7A as the GB 18240 fiscal cards do. With T=0 only,
// ISO 7816-3 has no TCK byte.
var DefaultATR = [15]byte{0x3B, 0x7A, 0x11, 0x00, 0x00, 'F', 'K', '-', 'G', 'B', '1', '8', '2', '4', '0'}

// ATRer is implemented by a served card that has its own Answer To Reset.
type ATRer interface {
	ATR() []byte
}

// PowerController is implemented by a served card that models power:
// Serve calls PowerOff, PowerOn and Reset for vpcd's control codes 00, 01
// and 02. Power-on and reset are expected to drop the card's volatile
// state (selected file, verified PINs, a pending GET RESPONSE); their ATR
// result is not used (vpcd asks for it with code 04). The card emulator
// (card/emulator.Card) implements it.
type PowerController interface {
	PowerOn() []byte
	PowerOff()
	Reset() []byte
}

// Default values of Options fields.
const (
	// DefaultAddr is where pcscd's vpcd driver listens for the card of its
	// first reader, "Virtual PCD 00 00". The reader of slot n listens on
	// port 35963+n (see SlotAddr).
	DefaultAddr = "127.0.0.1:35963"
	// DefaultRetryInterval is the wait between connection attempts.
	DefaultRetryInterval = 250 * time.Millisecond
)

// SlotAddr is the address of the n-th vpcd reader on the local host,
// port 35963+n: Debian's vsmartcard-vpcd configures two, "Virtual PCD 00
// 00" on port 35963 and "Virtual PCD 00 01" on 35964; a second driver
// instance at DEVICENAME /dev/null:0x8C7D adds 35965 and 35966 (see the
// package documentation).
func SlotAddr(n int) string {
	return fmt.Sprintf("127.0.0.1:%d", 35963+n)
}

// Options configure Serve, Run and Slot. The zero value means defaults.
type Options struct {
	// Addr is the vpcd address to dial; default DefaultAddr.
	Addr string
	// ATR overrides the card's Answer To Reset. When empty, a card that
	// implements ATRer gives its own, and DefaultATR is used otherwise.
	ATR []byte
	// RetryInterval is the pause between attempts to reach vpcd, and after
	// vpcd dropped the connection; default DefaultRetryInterval.
	RetryInterval time.Duration
	// Dial opens the connection; default a net.Dialer's DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives debug and warning records; default none.
	Logger *slog.Logger
	// OnEvent, if set, is called (from the serving goroutine, so it must
	// not block) for every connection and power event.
	OnEvent func(Event)
}

// EventKind says what happened on a slot.
type EventKind int

// Event kinds.
const (
	// Connected: the connection to vpcd is up; pcscd sees a card.
	Connected EventKind = iota + 1
	// Disconnected: the connection is gone; pcscd sees the card removed.
	// Event.Err says why (nil after Remove, Insert or the end of Run).
	Disconnected
	// PowerOn: vpcd powered the card up.
	PowerOn
	// PowerOff: vpcd powered the card down.
	PowerOff
	// Reset: vpcd reset the card.
	Reset
	// DialFailed: vpcd could not be reached; Event.Err says why.
	DialFailed
)

func (k EventKind) String() string {
	switch k {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case PowerOn:
		return "power on"
	case PowerOff:
		return "power off"
	case Reset:
		return "reset"
	case DialFailed:
		return "dial failed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one thing that happened on a slot.
type Event struct {
	Kind EventKind
	Addr string
	Err  error
}

func (o *Options) addr() string {
	if o == nil || o.Addr == "" {
		return DefaultAddr
	}
	return o.Addr
}

func (o *Options) retry() time.Duration {
	if o == nil || o.RetryInterval <= 0 {
		return DefaultRetryInterval
	}
	return o.RetryInterval
}

func (o *Options) logger() *slog.Logger {
	if o == nil || o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o *Options) emit(ev Event) {
	if o != nil && o.OnEvent != nil {
		o.OnEvent(ev)
	}
}

func (o *Options) dial(ctx context.Context, addr string) (net.Conn, error) {
	if o != nil && o.Dial != nil {
		return o.Dial(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func atrOf(c card.Transmitter, o *Options) []byte {
	if o != nil && len(o.ATR) > 0 {
		return o.ATR
	}
	if a, ok := c.(ATRer); ok {
		if atr := a.ATR(); len(atr) > 0 {
			return atr
		}
	}
	return DefaultATR[:]
}

// CardError reports that the served card gave no usable answer to an APDU
// (its Transmit failed, or the answer lacked SW1 SW2). Serve then drops
// the connection, which pcscd sees as the card being removed.
type CardError struct {
	// Command is the command APDU that failed.
	Command []byte
	// Err is the card's error (or ErrShortResponse).
	Err error
}

func (e *CardError) Error() string {
	return fmt.Sprintf("vpcd: card gave no answer to % X: %v", e.Command, e.Err)
}

// Unwrap returns the card's error.
func (e *CardError) Unwrap() error { return e.Err }

// Serve answers vpcd's messages on conn with card c until the connection
// ends, ctx is done, or a message breaks the protocol. It closes conn
// before it returns. It returns nil when vpcd closed the connection,
// ctx.Err() when ctx ended it, and otherwise a *ProtocolError, a
// *CardError or the I/O error.
func Serve(ctx context.Context, conn net.Conn, c card.Transmitter, opts *Options) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	err := serveStream(ctx, conn, conn, c, opts, func() { quickAck(conn) })
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// serveStream is the protocol loop, separate from the connection so that
// it can be driven from memory (fuzzing).
// beforeRead, if not nil, runs before each message is read.
func serveStream(ctx context.Context, r io.Reader, w io.Writer, c card.Transmitter, opts *Options, beforeRead func()) error {
	log := opts.logger()
	var in, out []byte
	for {
		if beforeRead != nil {
			beforeRead()
		}
		msg, err := ReadMessage(r, in)
		if err != nil {
			return err
		}
		in = msg[:0]
		var reply []byte
		if len(msg) == 1 {
			reply, err = control(msg[0], c, opts)
			if err != nil {
				return err
			}
			if reply == nil {
				continue
			}
		} else {
			reply, err = c.Transmit(ctx, msg)
			if err == nil && len(reply) < 2 {
				err = ErrShortResponse
			}
			if err != nil {
				log.Warn("vpcd: card failed", "err", err)
				return &CardError{Command: append([]byte(nil), msg...), Err: err}
			}
		}
		out, err = AppendMessage(out[:0], reply)
		if err != nil {
			return err
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
}

// control handles a 1-byte message; a nil reply means no answer is sent.
func control(code byte, c card.Transmitter, opts *Options) ([]byte, error) {
	pc, _ := c.(PowerController)
	switch code {
	case CtrlGetATR:
		return atrOf(c, opts), nil
	case CtrlPowerOff:
		opts.emit(Event{Kind: PowerOff, Addr: opts.addr()})
		if pc != nil {
			pc.PowerOff()
		}
		return nil, nil
	case CtrlPowerOn:
		opts.emit(Event{Kind: PowerOn, Addr: opts.addr()})
		if pc != nil {
			pc.PowerOn()
		}
		return nil, nil
	case CtrlReset:
		opts.emit(Event{Kind: Reset, Addr: opts.addr()})
		if pc != nil {
			pc.Reset()
		}
		return nil, nil
	}
	return nil, &ProtocolError{Op: "read", Length: 1, Code: code, Err: ErrUnknownControl}
}
