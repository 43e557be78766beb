package card_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
)

// corrupter passes exchanges to a card and lets a test alter the response
// data of one command (including data that arrives by GET RESPONSE).
type corrupter struct {
	t       card.Transmitter
	ins     byte // command whose response data is altered
	last    byte // last INS other than GET RESPONSE
	mutate  func([]byte) []byte
	enabled bool
}

func (c *corrupter) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) > 1 && cmd[1] != card.INSGetResponse {
		c.last = cmd[1]
	}
	resp, err := c.t.Transmit(ctx, cmd)
	if err != nil || !c.enabled || c.last != c.ins || len(resp) <= 2 {
		return resp, err
	}
	data := c.mutate(bytes.Clone(resp[:len(resp)-2]))
	return append(data, resp[len(resp)-2:]...), nil
}

// readySet registers an emulated set through the clients and loads controls
// and a roll; the fiscal card sends through the returned corrupter.
func readySet(t testing.TB, opts emulator.IssueOptions) (*card.FiscalCard, *card.UserCard, *corrupter, card.PIN, fiscal.Roll, fiscal.ControlData, card.AppInfo) {
	t.Helper()
	ctx := context.Background()
	cs, err := emulator.Issue(opts)
	if err != nil {
		t.Fatal(err)
	}
	cor := &corrupter{t: cs.Fiscal}
	fc, err := card.OpenFiscalCard(ctx, cor, nil)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := card.OpenUserCard(ctx, cs.User, nil)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := fc.GetRegisterNB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mac2, err := uc.RegisterSign(ctx, nb)
	if err != nil {
		t.Fatal(err)
	}
	pin, err := fc.TerminalRegister(ctx, mac2)
	if err != nil {
		t.Fatal(err)
	}
	if pin, err = fc.VerifyPIN(ctx, pin); err != nil {
		t.Fatal(err)
	}
	info, err := fc.ReadAppInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := uc.ControlRecordFor(ctx, info.CardNumber)
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.UpdateControls(ctx, rec); err != nil {
		t.Fatal(err)
	}
	controls, err := fc.ReadControls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := uc.DistributeInvoiceNB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.InputInvoiceNB(ctx, sr); err != nil {
		t.Fatal(err)
	}
	return fc, uc, cor, pin, sr.Roll, controls, info
}

func TestResponseXORChecked(t *testing.T) {
	ctx := context.Background()
	fc, _, cor, _, _, _, info := readySet(t, emulator.IssueOptions{})
	cor.ins, cor.enabled = card.INSDeclareDuty, true
	cor.mutate = func(b []byte) []byte { b[0] ^= 0x01; return b }
	_, err := fc.DeclareDuty(ctx, fiscal.Declaration{Start: info.Start, End: info.Start})
	var fe *card.FormatError
	if !errors.Is(err, card.ErrChecksum) || !errors.Is(err, fiscal.ErrChecksum) || !errors.As(err, &fe) {
		t.Fatalf("DECLARE_DUTY with a corrupted response: %v", err)
	}
	cor.ins = card.INSDailyCollectSign
	// The day after the declared one: nothing coded, an empty record signs.
	_, err = fc.DailyCollectSign(ctx, fiscal.DailyRecord{Date: info.Start.AddDays(1)})
	if !errors.Is(err, card.ErrChecksum) {
		t.Fatalf("DAILY_COLLECT_SIGN with a corrupted response: %v", err)
	}
	// A truncated response is a typed format error too.
	cor.ins = card.INSDailyCollectSign
	cor.mutate = func(b []byte) []byte { return b[:len(b)-1] }
	_, err = fc.DailyCollectSign(ctx, fiscal.DailyRecord{Date: info.Start.AddDays(1)})
	if !errors.Is(err, card.ErrMalformedRecord) {
		t.Fatalf("DAILY_COLLECT_SIGN with a short response: %v", err)
	}
}

func TestBadInputNeverSent(t *testing.T) {
	ctx := context.Background()
	fc, uc, _, _, roll, controls, info := readySet(t, emulator.IssueOptions{})
	var sent int
	count := func(card.Exchange) { sent++ }
	fcc := card.NewFiscalCard(card.NewChannel(fc.Channel().Transmitter(), &card.ChannelOptions{Observer: count}))
	ucc := card.NewUserCard(card.NewChannel(uc.Channel().Transmitter(), &card.ChannelOptions{Observer: count}))
	good := fiscal.IssueInvoiceBlock{Date: info.Start, Type: fiscal.InvoiceNormal, Number: roll.Start, Total: 100}
	good.Indexes[0], good.Amounts[0] = controls.Indexes[0], 100
	badSum, badType, badVoid, badAmount := good, good, good, good
	badSum.Total = 101
	badType.Type = 9
	badVoid.Type = fiscal.InvoiceVoid
	badAmount.Amounts[0], badAmount.Total = fiscal.MaxCardAmount+1, fiscal.MaxCardAmount+1
	for i, b := range []fiscal.IssueInvoiceBlock{badSum, badType, badVoid, badAmount, {}} {
		if _, err := fcc.IssueInvoice(ctx, b); !errors.Is(err, card.ErrBadArgument) {
			t.Errorf("invoice %d: %v", i, err)
		}
	}
	errs := []error{
		func() error { _, err := fcc.DeclareDuty(ctx, fiscal.Declaration{}); return err }(),
		func() error {
			_, err := fcc.DeclareDuty(ctx, fiscal.Declaration{Start: info.Start.AddDays(1), End: info.Start})
			return err
		}(),
		func() error {
			_, err := fcc.DeclareDuty(ctx, fiscal.Declaration{Start: info.Start, End: info.Start, NormalCount: -1})
			return err
		}(),
		func() error { _, err := fcc.DailyCollectSign(ctx, fiscal.DailyRecord{}); return err }(),
		func() error {
			_, err := fcc.DailyCollectSign(ctx, fiscal.DailyRecord{Date: info.Start, VoidCount: 1 << 16})
			return err
		}(),
		fcc.InputInvoiceNB(ctx, fiscal.SignedRoll{}),
		ucc.DataCollect(ctx, card.DataCollect{Declaration: fiscal.Declaration{ReturnCount: -1}}),
		ucc.WriteInfo(ctx, card.UserInfo{Machines: 300}),
		ucc.WriteTaxItem(ctx, 0, fiscal.TaxItem{NameCN: "一二三四五六七八九十一"}),
		ucc.WriteTaxItem(ctx, 255, fiscal.TaxItem{}),
	}
	for i, err := range errs {
		if !errors.Is(err, card.ErrBadArgument) {
			t.Errorf("case %d: %v", i, err)
		}
	}
	if sent != 0 {
		t.Fatalf("%d exchanges for invalid input", sent)
	}
	// The good invoice still goes through: nothing above touched the card.
	if _, err := fcc.IssueInvoice(ctx, good); err != nil {
		t.Fatal(err)
	}
}

func TestTransportErrorsSurface(t *testing.T) {
	ctx := context.Background()
	cs, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fc, err := card.OpenFiscalCard(ctx, cs.Fiscal, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs.Fiscal.InjectFault(emulator.Fault{Pull: true})
	_, err = fc.GetRegisterNB(ctx)
	var te *card.TransportError
	if !errors.Is(err, emulator.ErrCardRemoved) || !errors.As(err, &te) {
		t.Fatalf("pulled card: %v", err)
	}
	cs.Fiscal.Reset()
	// After a reset the application must be selected again.
	_, err = fc.GetRegisterNB(ctx)
	if err == nil {
		t.Fatal("GET_REGISTER_NB without SELECT after reset succeeded")
	}
	if err := fc.Select(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.GetRegisterNB(ctx); err != nil {
		t.Fatal(err)
	}
	// An injected status word reaches the caller as a StatusError.
	cs.Fiscal.InjectFault(emulator.Fault{SW: card.SWEEPROMError})
	_, err = fc.ReadAppInfo(ctx)
	var se *card.StatusError
	if !errors.Is(err, card.ErrMemory) || !errors.As(err, &se) || se.SW != card.SWEEPROMError || se.Command != "READ BINARY" {
		t.Fatalf("injected 6581: %v", err)
	}
}

// TestChannelConcurrentUse checks that goroutines sharing one Channel never
// interleave a command with another's GET RESPONSE (T=0).
func TestChannelConcurrentUse(t *testing.T) {
	ctx := context.Background()
	cs, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fc, err := card.OpenFiscalCard(ctx, cs.Fiscal, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fc.ReadAppInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				got, err := fc.ReadAppInfo(ctx)
				if err == nil && got != want {
					err = errors.New("EF02 read back different")
				}
				if err == nil {
					_, err = fc.ReadLoadedRoll(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
