package card

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Exchange is one raw command/response pair as it crossed the Transmitter,
// reported to ChannelOptions.Observer.
type Exchange struct {
	// Command is the encoded command APDU.
	Command []byte
	// Response is the response APDU, SW included; nil when Err is set.
	Response []byte
	// Duration is the time the Transmitter took.
	Duration time.Duration
	// Err is the transport error, if any.
	Err error
}

// ChannelOptions configures a Channel. The zero value means the defaults.
type ChannelOptions struct {
	// Observer, if set, sees every raw exchange (including the GET RESPONSE
	// and re-sent commands of T=0 handling), synchronously, in order. It
	// must not keep the byte slices beyond the call or modify them.
	Observer func(Exchange)
	// MaxGetResponse bounds the GET RESPONSE commands chained for one
	// command (a card that keeps answering 61xx); 0 means 64.
	MaxGetResponse int
	// Logger, if set, gets one Debug record per raw exchange (command
	// name, SW, duration; no data bytes, which may hold PINs).
	Logger *slog.Logger
}

// ErrTooManyGetResponse means a card kept answering 61xx beyond
// ChannelOptions.MaxGetResponse GET RESPONSE commands.
var ErrTooManyGetResponse = errors.New("card: card keeps announcing more response data")

// ErrWrongLeLoop means a card answered 6Cxx again to a command already
// re-sent with the Le it asked for.
var ErrWrongLeLoop = errors.New("card: card rejected the Le it asked for")

// TransportError wraps an error from the Transmitter (no response APDU was
// obtained) or a response APDU too short to hold a status word. It names
// the command that was being sent.
type TransportError struct {
	Command string // command name, e.g. "GET RESPONSE"
	// For names the command whose response data a failed GET RESPONSE was
	// fetching (T=0 chaining, e.g. "ISSUE_INVOICE"); empty when Command is
	// the command itself.
	For string
	Err error
}

func (e *TransportError) Error() string {
	if e.For != "" {
		return fmt.Sprintf("card: %s (fetching the response of %s): transport: %v", e.Command, e.For, e.Err)
	}
	return fmt.Sprintf("card: %s: transport: %v", e.Command, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Channel runs commands over a Transmitter and hides the T=0 transport
// rules (reference §2.1):
//
//   - 61xx: xx more response bytes are waiting; the channel sends GET
//     RESPONSE 00 C0 00 00 xx, repeatedly while the card answers 61xx, and
//     concatenates the data (9Fxx, the PBOC form, is treated the same);
//   - 6Cxx: the Le was wrong; the channel re-sends the same command (or GET
//     RESPONSE) once with Le = xx.
//
// A card driven "T=1 style", answering data with 9000 directly, passes
// through unchanged. A Channel serialises its callers, so a command and its
// GET RESPONSE are never interleaved with another goroutine's command.
type Channel struct {
	t    Transmitter
	opts ChannelOptions
	mu   sync.Mutex
}

// NewChannel returns a Channel over t. opts may be nil.
func NewChannel(t Transmitter, opts *ChannelOptions) *Channel {
	c := &Channel{t: t}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.MaxGetResponse <= 0 {
		c.opts.MaxGetResponse = 64
	}
	return c
}

// Transmitter returns the transmitter the channel sends on.
func (c *Channel) Transmitter() Transmitter { return c.t }

// Transmit sends cmd, completes the T=0 exchange and returns the card's
// final response. A status word other than 9000 is not an error here;
// errors are transport failures, encoding errors and T=0 protocol faults.
func (c *Channel) Transmit(ctx context.Context, cmd Command) (Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, _, err := c.transmit(ctx, cmd)
	return r, err
}

// Do sends cmd like Transmit and turns a status word other than 9000 into
// the error CheckStatus gives for it. On success it returns the response data.
//
// When the card accepted cmd (61xx) but then refused the GET RESPONSE that
// fetches its data, the *StatusError still names cmd (CLA, INS, Command),
// has GetResponse set, carries the GET RESPONSE's SW, and unwraps to what
// that SW means for GET RESPONSE (6F00 ErrNoDiagnosis, 6985
// ErrConditionsNotSatisfied, ...), not to cmd's own meaning of the code.
// The card has then executed cmd: its result is lost, not refused.
func (c *Channel) Do(ctx context.Context, cmd Command) ([]byte, error) {
	c.mu.Lock()
	r, viaGR, err := c.transmit(ctx, cmd)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if r.SW == SWOK {
		return r.Data, nil
	}
	if !viaGR {
		return nil, CheckStatus(cmd.CLA, cmd.INS, r.SW)
	}
	e := CheckStatus(CLAISO, INSGetResponse, r.SW).(*StatusError)
	e.CLA, e.INS, e.Command, e.GetResponse = cmd.CLA, cmd.INS, InsName(cmd.CLA, cmd.INS), true
	return nil, e
}

// transmit runs cmd and its T=0 chaining. viaGR reports that the final
// status word is a GET RESPONSE's, not cmd's own answer.
func (c *Channel) transmit(ctx context.Context, cmd Command) (r Response, viaGR bool, err error) {
	r, err = c.exchangeLe(ctx, cmd)
	if err != nil {
		return Response{}, false, err
	}
	n, more := moreData(r.SW)
	if !more {
		return r, false, nil
	}
	name := InsName(cmd.CLA, cmd.INS)
	data := append([]byte(nil), r.Data...)
	for i := 0; more; i++ {
		if i == c.opts.MaxGetResponse {
			return Response{}, false, &TransportError{Command: name, Err: ErrTooManyGetResponse}
		}
		r, err = c.exchangeLe(ctx, Command{CLA: CLAISO, INS: INSGetResponse, Ne: n})
		if err != nil {
			var te *TransportError
			if errors.As(err, &te) && te.For == "" {
				te.For = name
			}
			return Response{}, false, err
		}
		data = append(data, r.Data...)
		n, more = moreData(r.SW)
	}
	r.Data = data
	if len(r.Data) == 0 {
		r.Data = nil
	}
	return r, true, nil
}

// moreData reports whether sw announces response data for GET RESPONSE:
// 61xx (ISO 7816-4), or 9Fxx, which PBOC-style cards use the same way (the
// reference's [PB] layer treats both alike).
func moreData(sw SW) (int, bool) {
	if n, ok := sw.BytesAvailable(); ok {
		return n, true
	}
	if sw.SW1() == 0x9F {
		if sw.SW2() == 0 {
			return 256, true
		}
		return int(sw.SW2()), true
	}
	return 0, false
}

// exchangeLe sends cmd and, on 6Cxx, re-sends it once with Ne = xx.
func (c *Channel) exchangeLe(ctx context.Context, cmd Command) (Response, error) {
	r, err := c.exchange(ctx, cmd)
	if err != nil {
		return r, err
	}
	if n, ok := r.SW.WrongLe(); ok {
		cmd.Ne = n
		r, err = c.exchange(ctx, cmd)
		if err != nil {
			return r, err
		}
		if _, again := r.SW.WrongLe(); again {
			return Response{}, &TransportError{Command: InsName(cmd.CLA, cmd.INS), Err: fmt.Errorf("%w: 6C%02X after re-send", ErrWrongLeLoop, r.SW.SW2())}
		}
	}
	return r, nil
}

func (c *Channel) exchange(ctx context.Context, cmd Command) (Response, error) {
	raw, err := cmd.Bytes()
	if err != nil {
		return Response{}, err
	}
	if err := ctx.Err(); err != nil {
		return Response{}, &TransportError{Command: InsName(cmd.CLA, cmd.INS), Err: err}
	}
	start := time.Now()
	resp, err := c.t.Transmit(ctx, raw)
	dur := time.Since(start)
	if c.opts.Observer != nil {
		c.opts.Observer(Exchange{Command: raw, Response: resp, Duration: dur, Err: err})
	}
	if l := c.opts.Logger; l != nil {
		sw := "none"
		if len(resp) >= 2 {
			sw = fmt.Sprintf("%02X%02X", resp[len(resp)-2], resp[len(resp)-1])
		}
		l.LogAttrs(ctx, slog.LevelDebug, "card: APDU", slog.String("cmd", InsName(cmd.CLA, cmd.INS)),
			slog.String("sw", sw), slog.Duration("took", dur), slog.Any("err", err))
	}
	if err != nil {
		return Response{}, &TransportError{Command: InsName(cmd.CLA, cmd.INS), Err: err}
	}
	r, err := ParseResponse(resp)
	if err != nil {
		return Response{}, &TransportError{Command: InsName(cmd.CLA, cmd.INS), Err: err}
	}
	// Keep our own copy: a Transmitter may reuse its buffer.
	r.Data = append([]byte(nil), r.Data...)
	if len(r.Data) == 0 {
		r.Data = nil
	}
	return r, nil
}
