package cardtest_test

import (
	"testing"

	"github.com/fiscalkit/gb18240/card/cardtest"
	"github.com/fiscalkit/gb18240/card/emulator"
)

func TestEmulatorT0(t *testing.T) {
	cardtest.Run(t, cardtest.EmulatorCards(emulator.IssueOptions{}))
}

func TestEmulatorT1(t *testing.T) {
	cardtest.Run(t, cardtest.EmulatorCards(emulator.IssueOptions{Options: emulator.Options{T1: true}}))
}

func TestEmulatorFivePINTries(t *testing.T) {
	cardtest.Run(t, cardtest.EmulatorCards(emulator.IssueOptions{Options: emulator.Options{PINRetries: 5}}))
}

// TestEmulatorWithoutHooks runs the suite as it runs on card sets that offer
// no hooks (real cards in readers, where nothing can reset or fault a card on
// request): every subtest must pass, none may skip.
func TestEmulatorWithoutHooks(t *testing.T) {
	base := cardtest.EmulatorCards(emulator.IssueOptions{})
	cardtest.Run(t, func(t *testing.T) cardtest.Cards {
		c := base(t)
		c.Reset, c.FailNext, c.Lock, c.UnblockMAC, c.RenewControls = nil, nil, nil, nil, nil
		return c
	})
}
