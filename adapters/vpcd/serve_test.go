package vpcd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/vpcd"
)

// toyCard answers every APDU with its header and 9000, 61xx for INS B0,
// and fails for CLA FF; it counts resets.
type toyCard struct {
	mu     sync.Mutex
	name   byte
	resets int
	atr    []byte
}

var errToyBroken = errors.New("toy card broken")

func (c *toyCard) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	switch {
	case cmd[0] == 0xFF:
		return nil, errToyBroken
	case cmd[0] == 0xFE:
		return []byte{0x90}, nil
	case cmd[1] == 0xB0:
		return []byte{0x61, 0x08}, nil
	}
	return []byte{c.name, cmd[1], 0x90, 0x00}, nil
}

func (c *toyCard) Reset() []byte {
	c.mu.Lock()
	c.resets++
	c.mu.Unlock()
	return c.atr
}

func (c *toyCard) PowerOn() []byte { return c.Reset() }

func (c *toyCard) PowerOff() {}

func (c *toyCard) ATR() []byte { return c.atr }

func (c *toyCard) resetCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

// events collects slot events for assertions.
type events struct {
	mu sync.Mutex
	ev []vpcd.Event
	ch chan vpcd.Event
}

func newEvents() *events { return &events{ch: make(chan vpcd.Event, 100)} }

func (e *events) add(ev vpcd.Event) {
	e.mu.Lock()
	e.ev = append(e.ev, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

// waitFor waits for an event of kind k and returns it.
func (e *events) waitFor(t *testing.T, k vpcd.EventKind) vpcd.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-e.ch:
			if ev.Kind == k {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %v event within 5s", k)
		}
	}
}

func TestServeAnswersATRAndAPDUs(t *testing.T) {
	f := newFakeVPCD(t)
	c := &toyCard{name: 0xF1}
	s := vpcd.NewSlot(&vpcd.Options{Addr: f.addr()})
	s.Insert(c)
	startSlot(t, s)
	conn := f.accept()

	if got := conn.call(vpcd.CtrlGetATR); !bytes.Equal(got, vpcd.DefaultATR[:]) {
		t.Errorf("ATR % X, want DefaultATR % X", got, vpcd.DefaultATR)
	}
	conn.send(vpcd.CtrlPowerOff)
	conn.send(vpcd.CtrlPowerOn)
	conn.send(vpcd.CtrlReset)
	if got := conn.call(0x00, 0xA4, 0x04, 0x00); !bytes.Equal(got, []byte{0xF1, 0xA4, 0x90, 0x00}) {
		t.Errorf("SELECT answered % X", got)
	}
	if got := conn.call(0x00, 0xB0, 0x00, 0x00, 0x08); !bytes.Equal(got, []byte{0x61, 0x08}) {
		t.Errorf("61xx must pass unchanged, got % X", got)
	}
	if n := c.resetCount(); n != 2 {
		t.Errorf("card reset %d times, want 2 (power on, reset)", n)
	}
}

func TestServeATRSources(t *testing.T) {
	own := []byte{0x3B, 0x7A, 0x94, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	override := []byte{0x3B, 0x00}
	for _, tt := range []struct {
		name string
		opt  []byte
		card []byte
		want []byte
	}{
		{"default", nil, nil, vpcd.DefaultATR[:]},
		{"card's own", nil, own, own},
		{"option wins", override, own, override},
	} {
		f := newFakeVPCD(t)
		s := vpcd.NewSlot(&vpcd.Options{Addr: f.addr(), ATR: tt.opt})
		s.Insert(&toyCard{atr: tt.card})
		startSlot(t, s)
		if got := f.accept().call(vpcd.CtrlGetATR); !bytes.Equal(got, tt.want) {
			t.Errorf("%s: ATR % X, want % X", tt.name, got, tt.want)
		}
	}
}

func TestProtocolErrorsDropTheConnectionAndRedial(t *testing.T) {
	for _, tt := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"unknown control", []byte{0x03}, vpcd.ErrUnknownControl},
		{"card error", []byte{0xFF, 0xA4, 0x00, 0x00}, errToyBroken},
		{"short card answer", []byte{0xFE, 0xA4, 0x00, 0x00}, vpcd.ErrShortResponse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeVPCD(t)
			ev := newEvents()
			s := vpcd.NewSlot(&vpcd.Options{Addr: f.addr(), OnEvent: ev.add, RetryInterval: 10 * time.Millisecond})
			s.Insert(&toyCard{name: 1})
			startSlot(t, s)
			conn := f.accept()
			conn.send(tt.msg...)
			conn.expectClosed()
			d := ev.waitFor(t, vpcd.Disconnected)
			if !errors.Is(d.Err, tt.want) {
				t.Errorf("Disconnected.Err = %v, want %v", d.Err, tt.want)
			}
			// It comes back and works.
			if got := f.accept().call(0x00, 0xA4, 0x00, 0x00); !bytes.Equal(got, []byte{1, 0xA4, 0x90, 0x00}) {
				t.Errorf("after redial: % X", got)
			}
		})
	}
}

func TestRedialsWhenVPCDDropsOrIsAway(t *testing.T) {
	f := newFakeVPCD(t)
	addr := f.addr()
	ev := newEvents()
	s := vpcd.NewSlot(&vpcd.Options{Addr: addr, OnEvent: ev.add, RetryInterval: 10 * time.Millisecond})
	s.Insert(&toyCard{name: 2})
	startSlot(t, s)

	conn := f.accept()
	conn.c.Close() // pcscd drops the card
	d := ev.waitFor(t, vpcd.Disconnected)
	if d.Err != nil {
		t.Errorf("a clean close by vpcd should end the connection without error, got %v", d.Err)
	}
	f.ln.Close() // pcscd is gone for a while
	ev.waitFor(t, vpcd.DialFailed)

	f2 := newFakeVPCDAt(t, addr) // and back on the same port
	if got := f2.accept().call(0x00, 0x84, 0x00, 0x00, 0x08); !bytes.Equal(got, []byte{2, 0x84, 0x90, 0x00}) {
		t.Errorf("after pcscd came back: % X", got)
	}
}

func TestInsertSwapsAndRemoveEmpties(t *testing.T) {
	f := newFakeVPCD(t)
	ev := newEvents()
	s := vpcd.NewSlot(&vpcd.Options{Addr: f.addr(), OnEvent: ev.add, RetryInterval: 10 * time.Millisecond})
	startSlot(t, s)

	s.Insert(&toyCard{name: 0xA})
	conn := f.accept()
	if got := conn.call(0, 1, 0, 0); got[0] != 0xA {
		t.Fatalf("first card answered % X", got)
	}
	s.Insert(&toyCard{name: 0xB})
	conn.expectClosed()
	conn = f.accept()
	if got := conn.call(0, 1, 0, 0); got[0] != 0xB {
		t.Fatalf("after the swap the old card answered: % X", got)
	}
	s.Remove()
	conn.expectClosed()
	// No card: no connection attempt may arrive.
	acc := make(chan struct{})
	go func() {
		c, err := f.ln.Accept()
		if err == nil {
			c.Close()
			close(acc)
		}
	}()
	select {
	case <-acc:
		t.Fatal("an empty slot connected to vpcd")
	case <-time.After(100 * time.Millisecond):
	}
	s.Insert(&toyCard{name: 0xC})
	select {
	case <-acc:
	case <-time.After(5 * time.Second):
		t.Fatal("slot did not connect after Insert")
	}
}

func TestRunTwiceAndCancel(t *testing.T) {
	s := vpcd.NewSlot(&vpcd.Options{Addr: "127.0.0.1:1", RetryInterval: time.Hour})
	s.Insert(&toyCard{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(20 * time.Millisecond)
	if err := s.Run(ctx); !errors.Is(err, vpcd.ErrAlreadyRunning) {
		t.Errorf("second Run: %v, want ErrAlreadyRunning", err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
}

func TestServeReturnsNilOnCleanClose(t *testing.T) {
	f := newFakeVPCD(t)
	done := make(chan error, 1)
	go func() {
		conn, err := (&vpcdDialer{}).dial(f.addr())
		if err != nil {
			done <- err
			return
		}
		done <- vpcd.Serve(context.Background(), conn, &toyCard{}, nil)
	}()
	c := f.accept()
	c.call(vpcd.CtrlGetATR)
	c.c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after vpcd closed: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func FuzzServeStream(f *testing.F) {
	msg := func(p ...byte) []byte { b, _ := vpcd.AppendMessage(nil, p); return b }
	f.Add(msg(vpcd.CtrlGetATR))
	f.Add(append(msg(vpcd.CtrlPowerOn), msg(0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00)...))
	f.Add(msg(0x03))
	f.Add([]byte{0x00, 0x00})
	f.Add(msg(0xFF, 0, 0, 0))
	f.Fuzz(func(t *testing.T, stream []byte) {
		var out bytes.Buffer
		err := vpcd.ServeStream(context.Background(), bytes.NewReader(stream), &out, &toyCard{name: 7}, nil, nil)
		var pe *vpcd.ProtocolError
		var ce *vpcd.CardError
		if err != io.EOF && !errors.As(err, &pe) && !errors.As(err, &ce) {
			t.Fatalf("untyped error %v", err)
		}
		// Every answer is a well-formed message.
		r := bytes.NewReader(out.Bytes())
		for {
			if _, err := vpcd.ReadMessage(r, nil); err != nil {
				if err != io.EOF {
					t.Fatalf("malformed answer stream: %v", err)
				}
				break
			}
		}
	})
}
