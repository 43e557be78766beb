package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/fiscalkit/gb18240/card"
)

// Kind says which of the three GB 18240.2 cards a Card is.
type Kind uint8

// The three card kinds. The values are the card-type bytes of the cards'
// EF02 (fiscal 0x00, user 0x01, check 0x02).
const (
	KindFiscal Kind = 0x00 // 税控卡, application TSAM01
	KindUser   Kind = 0x01 // 用户卡, application TID01
	KindCheck  Kind = 0x02 // 稽查卡, application CHECK01
)

// String returns "fiscal", "user" or "check".
func (k Kind) String() string {
	switch k {
	case KindFiscal:
		return "fiscal"
	case KindUser:
		return "user"
	case KindCheck:
		return "check"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k <= KindCheck }

// dfName returns the application DF name of the card kind.
func (k Kind) dfName() string {
	switch k {
	case KindFiscal:
		return card.DFNameFiscal
	case KindUser:
		return card.DFNameUser
	}
	return card.DFNameCheck
}

// Errors returned by Transmit instead of a response APDU.
var (
	// ErrCardRemoved means the card was pulled (an injected fault): no
	// response was obtained. The card answers again after Reset.
	ErrCardRemoved = errors.New("emulator: card removed")
	// ErrPoweredOff means the card is not powered; call PowerOn or Reset.
	ErrPoweredOff = errors.New("emulator: card not powered")
)

// Options configures a Card. The zero value means: T=0 behaviour, the TEST
// crypto profile with DefaultSeed, crypto/rand, 3 PIN tries, no logging.
type Options struct {
	// T1 makes the card return response data directly with 9000 ("T=1
	// style") instead of 61xx followed by GET RESPONSE.
	T1 bool
	// Profile is the card cryptography; nil means TestProfileDoNotShip("").
	Profile Profile
	// Rand supplies the card's random numbers (GET_REGISTER_NB random, fresh
	// fiscal PINs, GET CHALLENGE); nil means crypto/rand. Tests may pass a
	// deterministic reader; Issue serialises its use among the set's cards.
	Rand io.Reader
	// PINRetries is the PIN (and EXTERNAL AUTHENTICATE) try limit set when
	// a card is issued; 0 means 3. Range 1..15.
	PINRetries int
	// Logger receives one Debug record per command (INS and SW); nil means
	// no logging.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Profile == nil {
		o.Profile = TestProfileDoNotShip("")
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.PINRetries <= 0 {
		o.PINRetries = 3
	}
	if o.PINRetries > 15 {
		o.PINRetries = 15
	}
	return o
}

// Fault is a fault injected into a Card for tests.
type Fault struct {
	// At is the command it hits, counting Transmit calls from the moment
	// InjectFault is called: 1 is the next command. Values below 1 mean 1.
	At int
	// Pull pulls the card at that command: Transmit returns
	// ErrCardRemoved and the card stays removed until Reset. With Apply
	// the command is executed first (its effect on the card persists, the
	// response is lost); without Apply it has no effect.
	Pull  bool
	Apply bool
	// SW, when Pull is false, is the status word the card answers instead
	// of executing the command (which then has no effect); zero means
	// card.SWEEPROMError (6581).
	SW card.SW
}

// session is the volatile state of one power session.
type session struct {
	selected  bool   // application DF selected
	curEF     uint16 // current EF, 0 = none
	pinOK     bool   // PIN (fiscal PIN, user or check PIN) verified
	pending   []byte // response data waiting for GET RESPONSE (T=0)
	regRandom []byte // fiscal: random of the last GET_REGISTER_NB
	challenge []byte // last GET CHALLENGE
	extAuthOK bool   // check card: EXTERNAL AUTHENTICATE succeeded
}

// Card is one emulated GB 18240.2 card: a fiscal (税控卡), user (用户卡) or
// check (稽查卡) card. It implements card.Transmitter and is safe for use
// from several goroutines.
type Card struct {
	mu      sync.Mutex
	opts    Options
	st      *state
	ses     session
	off     bool
	removed bool
	count   int // Transmit calls so far
	faults  []pendingFault
}

type pendingFault struct {
	at int // absolute command count
	f  Fault
}

var _ card.Transmitter = (*Card)(nil)

func newCard(st *state, opts Options) *Card {
	return &Card{opts: opts.withDefaults(), st: st}
}

// Kind returns the card kind.
func (c *Card) Kind() Kind {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.Kind
}

// ATR returns the answer-to-reset of the card: 3B 7A (the start the
// reference's firmware checks) 13 00 00, then 10 historical bytes, ASCII
// "GB18240" ‖ kind byte ‖ 00 00.
func (c *Card) ATR() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.atr()
}

func (c *Card) atr() []byte {
	// TS=3B, T0=7A: TA1, TB1, TC1 present, 10 historical bytes.
	atr := []byte{0x3B, 0x7A, 0x13, 0x00, 0x00}
	atr = append(atr, "GB18240"...)
	return append(atr, byte(c.st.Kind), 0x00, 0x00)
}

// Reset power-cycles the card (also re-inserting a pulled card) and returns
// the ATR. Everything of the power session is lost: the selected
// application, verified PINs, authentication, a pending GET RESPONSE.
func (c *Card) Reset() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ses = session{}
	c.off, c.removed = false, false
	return c.atr()
}

// PowerOn is Reset.
func (c *Card) PowerOn() []byte { return c.Reset() }

// PowerOff removes power: Transmit fails with ErrPoweredOff until PowerOn or
// Reset, and the power session ends.
func (c *Card) PowerOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ses = session{}
	c.off = true
}

// InjectFault arms a fault; several may be armed at once.
func (c *Card) InjectFault(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.At < 1 {
		f.At = 1
	}
	if !f.Pull && f.SW == 0 {
		f.SW = card.SWEEPROMError
	}
	c.faults = append(c.faults, pendingFault{at: c.count + f.At, f: f})
}

// Commands returns how many times Transmit has been called on the card.
func (c *Card) Commands() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Transmit executes one command APDU and returns the response APDU (data ‖
// SW1 SW2). Malformed APDUs get status words, never errors; an error means
// no response at all (context done, card removed or powered off).
func (c *Card) Transmit(ctx context.Context, command []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off {
		return nil, ErrPoweredOff
	}
	if c.removed {
		return nil, ErrCardRemoved
	}
	c.count++
	f, hit := c.takeFault()
	if hit && !f.Pull {
		c.ses.pending = nil
		return card.Response{SW: f.SW}.Bytes(), nil
	}
	if hit && !f.Apply {
		c.pull()
		return nil, ErrCardRemoved
	}
	resp := c.process(command)
	if hit {
		c.pull()
		return nil, ErrCardRemoved
	}
	if l := c.opts.Logger; l != nil {
		var ins byte
		if len(command) > 1 {
			ins = command[1]
		}
		l.LogAttrs(ctx, slog.LevelDebug, "emulator: APDU", slog.String("card", c.st.Kind.String()),
			slog.String("ins", fmt.Sprintf("%02X", ins)), slog.String("sw", fmt.Sprintf("%02X%02X", resp[len(resp)-2], resp[len(resp)-1])))
	}
	return resp, nil
}

func (c *Card) pull() {
	c.removed = true
	c.ses = session{}
}

func (c *Card) takeFault() (Fault, bool) {
	for i, pf := range c.faults {
		if pf.at == c.count {
			c.faults = append(c.faults[:i], c.faults[i+1:]...)
			return pf.f, true
		}
	}
	return Fault{}, false
}

// process runs one APDU and returns the response bytes (always ≥ 2).
func (c *Card) process(raw []byte) []byte {
	cmd, err := card.ParseCommand(raw)
	if err != nil {
		c.ses.pending = nil
		return swBytes(card.SWWrongLength)
	}
	if cmd.CLA == card.CLAISO && cmd.INS == card.INSGetResponse {
		return c.getResponse(cmd)
	}
	c.ses.pending = nil
	data, sw := c.execute(cmd)
	if sw != card.SWOK || len(data) == 0 {
		return swBytes(sw)
	}
	if c.opts.T1 {
		if cmd.Ne > 0 && cmd.Ne < len(data) {
			return swBytes(card.SWWrongLe(len(data)))
		}
		return card.Response{Data: data, SW: card.SWOK}.Bytes()
	}
	c.ses.pending = data
	return swBytes(card.SWBytesAvailable(len(data)))
}

// getResponse answers GET RESPONSE (00 C0 00 00 Le) from the pending data.
func (c *Card) getResponse(cmd card.Command) []byte {
	p := c.ses.pending
	switch {
	case cmd.P1 != 0 || cmd.P2 != 0:
		return swBytes(card.SWWrongP1P2)
	case len(cmd.Data) != 0 || cmd.Ne == 0:
		return swBytes(card.SWWrongLength)
	case len(p) == 0:
		return swBytes(card.SWConditionsNotSatisfied)
	case cmd.Ne > len(p) && !(cmd.Ne == 256 && len(p) >= 256):
		return swBytes(card.SWWrongLe(len(p)))
	}
	n := min(cmd.Ne, len(p))
	out := append([]byte(nil), p[:n]...)
	if rest := p[n:]; len(rest) > 0 {
		c.ses.pending = rest
		return card.Response{Data: out, SW: card.SWBytesAvailable(len(rest))}.Bytes()
	}
	c.ses.pending = nil
	return card.Response{Data: out, SW: card.SWOK}.Bytes()
}

func swBytes(sw card.SW) []byte { return []byte{sw.SW1(), sw.SW2()} }

// execute dispatches a parsed command (other than GET RESPONSE) and returns
// the response data and status word.
func (c *Card) execute(cmd card.Command) ([]byte, card.SW) {
	switch cmd.CLA {
	case card.CLAISO:
		return c.executeISO(cmd)
	case card.CLAUnblock:
		if c.st.Kind != KindFiscal || cmd.INS != card.INSUnblockPIN {
			return nil, card.SWInsNotSupported
		}
		if !c.ses.selected {
			return nil, card.SWConditionsNotSatisfied
		}
		return c.unblockPIN(cmd)
	case card.CLAProprietary:
		if c.st.Locked {
			return nil, card.SWAppLocked
		}
		if !c.ses.selected {
			return nil, card.SWConditionsNotSatisfied
		}
		switch c.st.Kind {
		case KindFiscal:
			return c.executeFiscal(cmd)
		case KindUser:
			return c.executeUser(cmd)
		}
		return nil, card.SWInsNotSupported
	}
	return nil, card.SWClaNotSupported
}

func (c *Card) executeISO(cmd card.Command) ([]byte, card.SW) {
	switch cmd.INS {
	case card.INSSelect:
		return c.selectFile(cmd)
	case card.INSReadBinary:
		return c.readBinary(cmd)
	case card.INSUpdateBinary:
		return c.updateBinary(cmd)
	case card.INSReadRecord:
		return c.readRecord(cmd)
	case card.INSUpdateRecord:
		return c.updateRecord(cmd)
	case card.INSAppendRecord:
		return c.appendRecord(cmd)
	case card.INSGetChallenge:
		return c.getChallenge(cmd)
	case card.INSVerify:
		if c.st.Kind == KindFiscal {
			return nil, card.SWInsNotSupported
		}
		return c.verify(cmd)
	case card.INSInternalAuth:
		if c.st.Kind != KindFiscal {
			return nil, card.SWInsNotSupported
		}
		return c.internalAuth(cmd)
	case card.INSExternalAuth:
		if c.st.Kind != KindCheck {
			return nil, card.SWInsNotSupported
		}
		return c.externalAuth(cmd)
	}
	return nil, card.SWInsNotSupported
}

// random reads n bytes from the card's random source.
func (c *Card) random(n int) ([]byte, bool) {
	b := make([]byte, n)
	if _, err := io.ReadFull(c.opts.Rand, b); err != nil {
		return nil, false
	}
	return b, true
}

// lockedReader serialises reads from a reader shared by several cards.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
