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
