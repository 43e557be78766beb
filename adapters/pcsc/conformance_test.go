//go:build pcsc

package pcsc_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/pcsc"
	"github.com/fiscalkit/gb18240/adapters/vpcd"
	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/cardtest"
	"github.com/fiscalkit/gb18240/card/emulator"
)

// stack is the three vpcd readers with a slot each, kept running for one
// test; put swaps the cards in them.
type stack struct {
	pc    *pcsc.Client
	slots [3]*vpcd.Slot
	// power[n] counts the power messages vpcd sent to the card in slot n
	// (reset, power on, power off), as Serve reports them.
	power [3]powerCount
}

// powerCount counts vpcd's power messages to one slot's card.
type powerCount struct{ resets, ons, offs atomic.Int64 }

func (p *powerCount) count(ev vpcd.Event) {
	switch ev.Kind {
	case vpcd.Reset:
		p.resets.Add(1)
	case vpcd.PowerOn:
		p.ons.Add(1)
	case vpcd.PowerOff:
		p.offs.Add(1)
	}
}

func newStack(t *testing.T) *stack {
	t.Helper()
	st := &stack{pc: openClient(t)}
	ctx, cancel := context.WithCancel(context.Background())
	var done [3]chan error
	for n := range st.slots {
		st.slots[n] = vpcd.NewSlot(&vpcd.Options{Addr: vpcdAddrs[n], RetryInterval: 50 * time.Millisecond, OnEvent: st.power[n].count})
		done[n] = make(chan error, 1)
		go func() { done[n] <- st.slots[n].Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for n := range done {
			<-done[n]
		}
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer wcancel()
		for _, r := range vpcdReaders {
			if err := st.pc.WaitForRemoval(wctx, r); err != nil {
				t.Errorf("%q not empty after the test: %v", r, err)
			}
		}
	})
	return st
}

// put takes out whatever is in reader n, inserts c, waits until pcscd
// shows it and connects to it through PC/SC; the connection is closed
// when t ends.
func (st *stack) put(t *testing.T, n int, c card.Transmitter) *pcsc.Card {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	st.slots[n].Remove()
	if err := st.pc.WaitForRemoval(ctx, vpcdReaders[n]); err != nil {
		t.Fatalf("taking the card out of %q: %v", vpcdReaders[n], err)
	}
	st.slots[n].Insert(c)
	waitCard(t, st.pc, vpcdReaders[n])
	return connect(t, st.pc, vpcdReaders[n], nil)
}

// reset resets the card behind k, which sits in reader n, through PC/SC:
// SCardReconnect with SCARD_RESET_CARD, which pcscd passes to the vpcd
// driver as a reset, and vpcd to the card as its reset control message
// (or power off and on). It fails unless that message reached the card in
// slot n, so a reset that stopped short of the emulator (pcscd answering
// from its cached ATR, say) does not pass for one.
func (st *stack) reset(t *testing.T, n int, k *pcsc.Card) error {
	t.Helper()
	p := &st.power[n]
	resets, ons, offs := p.resets.Load(), p.ons.Load(), p.offs.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := k.Reconnect(ctx, true); err != nil {
		return err
	}
	// vpcd asks for the ATR after the reset and waits for the answer, so
	// the reset message was served before Reconnect returned.
	dr, don, doff := p.resets.Load()-resets, p.ons.Load()-ons, p.offs.Load()-offs
	if dr == 0 && don == 0 {
		return fmt.Errorf("SCardReconnect(SCARD_RESET_CARD) on %q returned, but vpcd sent the card no reset or power on", k.Reader())
	}
	t.Logf("reset %q through PC/SC: vpcd sent the card %d reset, %d power off, %d power on message(s)", k.Reader(), dr, doff, don)
	return nil
}

// TestConformanceThroughPCSC runs the card conformance suite with all
// three cards of a set reached through ebfe/scard -> pcscd -> vpcd ->
// emulator: the fiscal card in the reader fed on vpcdAddrs[0], the user
// card on vpcdAddrs[1] and the check card on vpcdAddrs[2] (the second vpcd
// instance). The check card's authentication with the fiscal card (GET
// CHALLENGE on one, INTERNAL AUTHENTICATE on the other) crosses PC/SC on
// both sides.
//
// Every hook of cardtest.Cards is set, so every subtest runs whole:
//   - Reset is a real reset through PC/SC (SCardReconnect with
//     SCARD_RESET_CARD, turned by vpcd into its reset message to the
//     emulator), checked to have reached the card (stack.reset).
//   - FailNext, Lock, UnblockMAC and RenewControls act on the emulated
//     cards or the tax office's side directly, as nothing but the card's
//     memory or the issuer's keys can (the emulator runs in this process,
//     behind vpcd); the commands that observe their effect go through
//     PC/SC like every other.
func TestConformanceThroughPCSC(t *testing.T) {
	st := newStack(t)
	cardtest.Run(t, func(t *testing.T) cardtest.Cards {
		set, err := emulator.Issue(emulator.IssueOptions{})
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		ks := [3]*pcsc.Card{st.put(t, 0, set.Fiscal), st.put(t, 1, set.User), st.put(t, 2, set.Check)}
		// The emulator's hooks, less its Reset, which would skip PC/SC.
		c := cardtest.EmulatorSet(set)
		c.Fiscal, c.User, c.Check = ks[0], ks[1], ks[2]
		c.Reset = func(w cardtest.Which) error {
			switch w {
			case cardtest.FiscalCard:
				return st.reset(t, 0, ks[0])
			case cardtest.UserCard:
				return st.reset(t, 1, ks[1])
			case cardtest.CheckCard:
				return st.reset(t, 2, ks[2])
			}
			return fmt.Errorf("no card %v", w)
		}
		return c
	})
}
