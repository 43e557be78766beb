package cardtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
)

// Which names one card of a set, for the hooks of Cards.
type Which int

// The three cards of a set.
const (
	FiscalCard Which = iota // 税控卡
	UserCard                // 用户卡
	CheckCard               // 稽查卡
)

// String returns "fiscal", "user" or "check".
func (w Which) String() string {
	switch w {
	case FiscalCard:
		return "fiscal"
	case UserCard:
		return "user"
	case CheckCard:
		return "check"
	}
	return fmt.Sprintf("Which(%d)", int(w))
}

// Cards is one personalised card set under test.
//
// The hooks are optional: they reach what APDUs cannot (the power line,
// the card's memory, the tax office's keys). A subtest, or the part of
// one, that needs a nil hook is not run; it says so with t.Log (not
// t.Skip, so a run through a real stack that lacks the hook stays free of
// skips) and checks what it can without it.
type Cards struct {
	// Fiscal, User and Check reach the three cards.
	Fiscal, User, Check card.Transmitter
	// UserPIN and CheckPIN are the PINs of the user and check cards.
	UserPIN, CheckPIN card.PIN
	// PINRetries is the try limit of every PIN; 0 means 3.
	PINRetries int

	// Reset power-cycles one card (cold or warm reset): the card must then
	// forget its power session (selected application, verified PIN,
	// authentication, pending GET RESPONSE data) and keep everything else.
	Reset func(which Which) error
	// FailNext makes the next command sent to the card answer sw without
	// executing it (used with 6581, a memory failure).
	FailNext func(which Which, sw card.SW) error
	// Lock locks the card's application, so that its proprietary commands
	// answer 9303.
	Lock func(which Which) error
	// UnblockMAC is the tax office's MAC for PIN_UNBLOCK of the fiscal card
	// with newPIN.
	UnblockMAC func(newPIN card.PIN) ([card.MACLen]byte, error)
	// RenewControls has the tax office write a newer control record for
	// the fiscal card, carrying next, into the user card's EF01.
	RenewControls func(next fiscal.ControlData) error
}

// EmulatorCards returns a factory of emulated card sets issued with opts,
// with every hook set.
func EmulatorCards(opts emulator.IssueOptions) func(t *testing.T) Cards {
	return func(t *testing.T) Cards {
		t.Helper()
		cs, err := emulator.Issue(opts)
		if err != nil {
			t.Fatalf("issue emulated card set: %v", err)
		}
		return EmulatorSet(cs)
	}
}

// EmulatorSet returns Cards for an emulated set, with every hook set.
func EmulatorSet(cs *emulator.CardSet) Cards {
	pick := func(w Which) (*emulator.Card, error) {
		switch w {
		case FiscalCard:
			return cs.Fiscal, nil
		case UserCard:
			return cs.User, nil
		case CheckCard:
			return cs.Check, nil
		}
		return nil, fmt.Errorf("cardtest: no card %v", w)
	}
	return Cards{
		Fiscal: cs.Fiscal, User: cs.User, Check: cs.Check,
		UserPIN: card.PIN(cs.Options.UserPIN), CheckPIN: card.PIN(cs.Options.CheckPIN),
		PINRetries: cs.Options.Options.PINRetries,
		Reset: func(w Which) error {
			c, err := pick(w)
			if err == nil {
				c.Reset()
			}
			return err
		},
		FailNext: func(w Which, sw card.SW) error {
			c, err := pick(w)
			if err == nil {
				c.InjectFault(emulator.Fault{SW: sw})
			}
			return err
		},
		Lock: func(w Which) error {
			c, err := pick(w)
			if err == nil {
				c.LockApplication()
			}
			return err
		},
		UnblockMAC: func(p card.PIN) ([card.MACLen]byte, error) { return cs.UnblockMAC(p) },
		RenewControls: func(next fiscal.ControlData) error {
			_, err := cs.ProcessDeclarations(next)
			return err
		},
	}
}

// Run runs the conformance suite; each subtest calls newCards for a fresh set.
func Run(t *testing.T, newCards func(t *testing.T) Cards) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *session)
	}{
		{"Select", testSelect},
		{"ISOErrors", testISOErrors},
		{"T0Chaining", testT0Chaining},
		{"Registration", testRegistration},
		{"RegistrationErrors", testRegistrationErrors},
		{"FiscalPINRolls", testFiscalPINRolls},
		{"FiscalPINBlocks", testFiscalPINBlocks},
		{"NeedsPIN", testNeedsPIN},
		{"UpdateControls", testUpdateControls},
		{"Rolls", testRolls},
		{"IssueInvoice", testIssueInvoice},
		{"IssueInvoiceErrors", testIssueInvoiceErrors},
		{"ExchangesPerInvoice", testExchangesPerInvoice},
		{"DailyCollectSign", testDailyCollectSign},
		{"DeclareAndCollect", testDeclareAndCollect},
		{"UserFiles", testUserFiles},
		{"UserPINBlocks", testUserPINBlocks},
		{"CheckCard", testCheckCard},
		{"ControlsReplay", testControlsReplay},
		{"PINUnblock", testPINUnblock},
		{"PowerCycle", testPowerCycle},
		{"CardFaults", testCardFaults},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCards(t)
			if c.PINRetries == 0 {
				c.PINRetries = 3
			}
			s := newSession(t, c)
			tc.fn(t, s)
		})
	}
}

// session holds the clients of one set plus an exchange log.
type session struct {
	cards       Cards
	ctx         context.Context
	fiscal      *card.FiscalCard
	user        *card.UserCard
	check       *card.CheckCard
	fiscalLog   []card.Exchange
	fiscalCount int
}

func newSession(t *testing.T, c Cards) *session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	s := &session{cards: c, ctx: ctx}
	obs := func(e card.Exchange) {
		s.fiscalCount++
		s.fiscalLog = append(s.fiscalLog, card.Exchange{Command: bytes.Clone(e.Command), Response: bytes.Clone(e.Response), Err: e.Err})
	}
	var err error
	if s.fiscal, err = card.OpenFiscalCard(ctx, c.Fiscal, &card.ChannelOptions{Observer: obs}); err != nil {
		t.Fatalf("select fiscal application: %v", err)
	}
	if s.user, err = card.OpenUserCard(ctx, c.User, nil); err != nil {
		t.Fatalf("select user application: %v", err)
	}
	if s.check, err = card.OpenCheckCard(ctx, c.Check, nil); err != nil {
		t.Fatalf("select check application: %v", err)
	}
	return s
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, err error, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
	var se *card.StatusError
	if errors.As(err, &se) && se.SW == card.SWOK {
		t.Fatalf("%s: StatusError with SW 9000", what)
	}
}

func wantSW(t *testing.T, err error, sw card.SW, what string) {
	t.Helper()
	var se *card.StatusError
	if !errors.As(err, &se) || se.SW != sw {
		t.Fatalf("%s: err = %v, want SW %s", what, err, sw)
	}
}

// register runs GET_REGISTER_NB → REGISTER_SIGN → TERMINAL_REGISTER and
// returns the first fiscal PIN.
func (s *session) register(t *testing.T) card.PIN {
	t.Helper()
	nb, err := s.fiscal.GetRegisterNB(s.ctx)
	must(t, err, "GET_REGISTER_NB")
	mac2, err := s.user.RegisterSign(s.ctx, nb)
	must(t, err, "REGISTER_SIGN")
	pin, err := s.fiscal.TerminalRegister(s.ctx, mac2)
	must(t, err, "TERMINAL_REGISTER")
	return pin
}

// verify presents pin and returns the next one.
func (s *session) verify(t *testing.T, pin card.PIN) card.PIN {
	t.Helper()
	next, err := s.fiscal.VerifyPIN(s.ctx, pin)
	must(t, err, "VERIFY_FISCAL_PIN")
	return next
}

// ready registers, verifies, loads controls and a roll. It returns the
// current PIN, the controls, the loaded roll and the app info.
type ready struct {
	pin      card.PIN
	controls fiscal.ControlData
	roll     fiscal.Roll
	info     card.AppInfo
}

func (s *session) makeReady(t *testing.T) ready {
	t.Helper()
	var r ready
	r.pin = s.verify(t, s.register(t))
	var err error
	r.info, err = s.fiscal.ReadAppInfo(s.ctx)
	must(t, err, "read fiscal EF02")
	rec, err := s.user.ControlRecordFor(s.ctx, r.info.CardNumber)
	must(t, err, "find control record in user EF01")
	must(t, s.fiscal.UpdateControls(s.ctx, rec), "UPDATE_CONTROLS")
	r.controls, err = s.fiscal.ReadControls(s.ctx)
	must(t, err, "read fiscal EF01")
	sr, err := s.user.DistributeInvoiceNB(s.ctx)
	must(t, err, "DISTRIBUTE_INVOICE_NB")
	must(t, s.fiscal.InputInvoiceNB(s.ctx, sr), "INPUT_INVOICE_NB")
	r.roll = sr.Roll
	return r
}

// invoice builds a valid normal invoice of amount on the first tax index.
func (r ready) invoice(no uint32, amount fiscal.Amount) fiscal.IssueInvoiceBlock {
	b := fiscal.IssueInvoiceBlock{Date: r.date(), Type: fiscal.InvoiceNormal, Number: no, Total: amount}
	b.Indexes[0] = r.controls.Indexes[0]
	b.Amounts[0] = amount
	return b
}

// date is the invoice date the suite uses: the application start date.
func (r ready) date() fiscal.Date { return r.info.Start }
