package cardtest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/cardtest"
	"github.com/fiscalkit/gb18240/card/emulator"
)

// mutant wraps a card and breaks one behaviour, to show the suite notices.
type mutant struct {
	t    card.Transmitter
	mode string
	last byte
}

func (m *mutant) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) > 1 && cmd[1] != card.INSGetResponse {
		m.last = cmd[1]
	}
	resp, err := m.t.Transmit(ctx, cmd)
	if err != nil || len(resp) < 2 {
		return resp, err
	}
	sw := card.SW(uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1]))
	set := func(s card.SW) []byte { return append(resp[:len(resp)-2:len(resp)-2], s.SW1(), s.SW2()) }
	switch m.mode {
	case "9401-as-6A80":
		if sw == card.SWLimitOrNoInvoice {
			return set(card.SWIncorrectData), nil
		}
	case "retries-off-by-one":
		if n, ok := sw.RetriesLeft(); ok && n > 0 {
			return set(card.SWRetriesLeft(n - 1)), nil
		}
	case "no-6C":
		if _, ok := sw.WrongLe(); ok {
			return set(card.SWWrongLength), nil
		}
	case "declare-data-flipped":
		if m.last == card.INSDeclareDuty && len(resp) > 2 {
			resp[0] ^= 1
		}
	case "6985-as-9000":
		if sw == card.SWConditionsNotSatisfied {
			return set(card.SWOK), nil
		}
	case "6982-as-9000":
		if sw == card.SWSecurityStatus {
			return set(card.SWOK), nil
		}
	case "6901-as-9000":
		if sw == card.SWStatusInvalid {
			return set(card.SWOK), nil
		}
	}
	return resp, nil
}

// TestMutantHelper runs the suite against a broken card set when started
// by TestSuiteCatchesMutants; otherwise it does nothing.
func TestMutantHelper(t *testing.T) {
	mode := os.Getenv("CARDTEST_MUTANT")
	if mode == "" {
		return
	}
	base := cardtest.EmulatorCards(emulator.IssueOptions{})
	cardtest.Run(t, func(t *testing.T) cardtest.Cards {
		c := base(t)
		c.Fiscal = &mutant{t: c.Fiscal, mode: mode}
		c.User = &mutant{t: c.User, mode: mode}
		c.Check = &mutant{t: c.Check, mode: mode}
		return c
	})
}

func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the test binary once per mutant")
	}
	for _, tc := range []struct{ mode, failing string }{
		{"9401-as-6A80", "IssueInvoiceErrors"},
		{"retries-off-by-one", "FiscalPINRolls"},
		{"no-6C", "T0Chaining"},
		{"declare-data-flipped", "DeclareAndCollect"},
		{"6901-as-9000", "Registration"},
		{"6985-as-9000", "ControlsReplay"},
		{"6982-as-9000", "PowerCycle"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutantHelper$")
			cmd.Env = append(os.Environ(), "CARDTEST_MUTANT="+tc.mode)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a card set with mutant %q:\n%s", tc.mode, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestMutantHelper/"+tc.failing) {
				t.Fatalf("mutant %q: subtest %s did not fail:\n%s", tc.mode, tc.failing, out)
			}
		})
	}
}
