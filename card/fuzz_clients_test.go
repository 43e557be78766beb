package card

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

// fuzzCard answers every command with the next chunk of the fuzz input: a
// length byte then that many response bytes (the last two act as SW).
type fuzzCard struct{ in []byte }

var errFuzzEOF = errors.New("fuzz input exhausted")

func (f *fuzzCard) Transmit(_ context.Context, _ []byte) ([]byte, error) {
	if len(f.in) == 0 {
		return nil, errFuzzEOF
	}
	n := int(f.in[0])
	f.in = f.in[1:]
	n = min(n, len(f.in))
	out := bytes.Clone(f.in[:n])
	f.in = f.in[n:]
	return out, nil
}

// FuzzClients drives every client call against a card that answers
// arbitrary bytes: nothing panics, and every error is one of the package's
// typed errors.
func FuzzClients(f *testing.F) {
	f.Add([]byte{2, 0x90, 0x00})
	f.Add([]byte{2, 0x61, 0x10, 18, 1, 2, 3, 4, 0x11, 0, 0, 0, 0, 0, 0, 1, 5, 6, 7, 8, 0x90, 0x00})
	f.Add([]byte{2, 0x6C, 0x08, 2, 0x61, 0x08, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00})
	f.Add([]byte{2, 0x63, 0xC1, 2, 0x69, 0x83, 2, 0x94, 0x01, 1, 0x90})
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, in []byte) {
	{
		ctx := context.Background()
		ch := NewChannel(&fuzzCard{in: in}, &ChannelOptions{MaxGetResponse: 4, Logger: slog.New(slog.DiscardHandler)})
		fc, uc, cc := NewFiscalCard(ch), NewUserCard(ch), NewCheckCard(ch)
		d := fiscal.MustDate(2026, 1, 1)
		inv := fiscal.IssueInvoiceBlock{Date: d, Type: fiscal.InvoiceVoid, Number: 1}
		calls := []func() error{
			func() error { return fc.Select(ctx) },
			func() error { _, err := fc.GetRegisterNB(ctx); return err },
			func() error { _, err := fc.TerminalRegister(ctx, [4]byte{}); return err },
			func() error { _, err := fc.VerifyPIN(ctx, PIN{}); return err },
			func() error { _, err := fc.UnblockPIN(ctx, PIN{}, [4]byte{}); return err },
			func() error { _, err := fc.IssueInvoice(ctx, inv); return err },
			func() error { _, err := fc.DeclareDuty(ctx, fiscal.Declaration{Start: d, End: d}); return err },
			func() error { _, err := fc.DailyCollectSign(ctx, fiscal.DailyRecord{Date: d}); return err },
			func() error { _, err := fc.ReadControls(ctx); return err },
			func() error { _, err := fc.ReadAppInfo(ctx); return err },
			func() error { _, err := fc.ReadDayAccumulation(ctx); return err },
			func() error { _, err := fc.ReadLastDeclaration(ctx); return err },
			func() error { _, err := fc.ReadLoadedRoll(ctx); return err },
			func() error { _, err := uc.RegisterSign(ctx, RegisterNB{}); return err },
			func() error { _, err := uc.DistributeInvoiceNB(ctx); return err },
			func() error { _, err := uc.ReadControlRecords(ctx); return err },
			func() error { _, err := uc.ReadInfo(ctx); return err },
			func() error { _, err := uc.ReadTaxItems(ctx); return err },
			func() error { _, err := uc.ReadDeclarations(ctx); return err },
			func() error { _, err := uc.ReadPurchases(ctx); return err },
			func() error { _, err := uc.ReadMachines(ctx); return err },
			func() error { _, err := uc.ReadPendingRoll(ctx); return err },
			func() error { _, _, err := uc.PINStatus(ctx); return err },
			func() error { return uc.Verify(ctx, PIN{}) },
			func() error { _, err := cc.ReadInfo(ctx); return err },
			func() error { _, err := cc.ReadAuth(ctx); return err },
			func() error { _, err := cc.ReadRecords(ctx); return err },
			func() error { _, err := cc.GetChallenge(ctx); return err },
			func() error { return cc.AuthenticateFiscal(ctx, fc) },
		}
		for i, call := range calls {
			err := call()
			if err == nil {
				continue
			}
			var se *StatusError
			var fe *FormatError
			var te *TransportError
			if !errors.As(err, &se) && !errors.As(err, &fe) && !errors.As(err, &te) {
				t.Fatalf("call %d: untyped error %v", i, err)
			}
			if errors.As(err, &se) && se.SW == SWOK {
				t.Fatalf("call %d: StatusError for 9000", i)
			}
		}
	}
}
