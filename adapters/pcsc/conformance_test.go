//go:build pcsc

package pcsc_test

import (
	"context"
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
}

func newStack(t *testing.T) *stack {
	t.Helper()
	st := &stack{pc: openClient(t)}
	ctx, cancel := context.WithCancel(context.Background())
	var done [3]chan error
	for n := range st.slots {
		st.slots[n] = vpcd.NewSlot(&vpcd.Options{Addr: vpcdAddrs[n], RetryInterval: 50 * time.Millisecond})
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

// TestConformanceThroughPCSC runs the card conformance suite with all
// three cards of a set reached through ebfe/scard -> pcscd -> vpcd ->
// emulator: the fiscal card in the reader fed on vpcdAddrs[0], the user
// card on vpcdAddrs[1] and the check card on vpcdAddrs[2] (the second vpcd
// instance). The check card's authentication with the fiscal card (GET
// CHALLENGE on one, INTERNAL AUTHENTICATE on the other) crosses PC/SC on
// both sides.
func TestConformanceThroughPCSC(t *testing.T) {
	st := newStack(t)
	cardtest.Run(t, func(t *testing.T) cardtest.Cards {
		set, err := emulator.Issue(emulator.IssueOptions{})
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		f := st.put(t, 0, set.Fiscal)
		u := st.put(t, 1, set.User)
		c := st.put(t, 2, set.Check)
		return cardtest.Cards{
			Fiscal: f, User: u, Check: c,
			UserPIN: card.PIN(set.Options.UserPIN), CheckPIN: card.PIN(set.Options.CheckPIN),
			PINRetries: set.Options.Options.PINRetries,
		}
	})
}
