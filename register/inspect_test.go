package register_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

func checkCard(t *testing.T, mod func(*emulator.IssueOptions)) *emulator.Card {
	t.Helper()
	cs, err := emulator.Issue(issueOpts(mod))
	if err != nil {
		t.Fatal(err)
	}
	return cs.Check
}

func readInspection(t *testing.T, c *emulator.Card) []card.InspectionRecord {
	t.Helper()
	ctx := context.Background()
	ch := card.NewChannel(c, nil)
	if _, err := ch.SelectName(ctx, card.DFNameCheck); err != nil {
		t.Fatal(err)
	}
	var out []card.InspectionRecord
	for i := 1; i < 64; i++ {
		b, err := ch.ReadRecord(ctx, 3, byte(i), card.InspectionRecordLen)
		if err != nil {
			break
		}
		var x card.InspectionRecord
		if err := x.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

func TestInspection(t *testing.T) {
	r := newRig(t, nil)
	r.setup()
	ctx := context.Background()
	r.issueN(9)
	r.clock.AddDays(1)
	r.issueN(1)
	r.clock.AddDays(1)
	_, err := r.dev.Declare(ctx, register.DeclareRequest{})
	r.must(err)

	c0 := checkCard(t, func(o *emulator.IssueOptions) { o.CheckType = card.CheckInvoiceDetails })
	res, err := r.dev.Inspect(ctx, register.InspectRequest{Check: c0, PIN: userPIN})
	r.must(err)
	if res.Items != 10 || res.Records != 2 {
		t.Fatalf("type 0: %+v", res)
	}
	recs := readInspection(t, c0)
	if len(recs) != 2 || len(recs[0].Details) != 7 || len(recs[1].Details) != 3 || recs[1].Details[2].Number != 10 ||
		recs[0].Machine != machineNo {
		t.Fatalf("check card EF03: %+v", recs)
	}
	stored, err := r.dev.InvoiceByNumber(ctx, fiscal.InvoiceCode{}, 4)
	r.must(err)
	if recs[0].Details[3] != stored.Detail {
		t.Fatalf("exported detail %+v, stored %+v", recs[0].Details[3], stored.Detail)
	}

	c1 := checkCard(t, func(o *emulator.IssueOptions) { o.CheckType = card.CheckDailyData })
	res, err = r.dev.Inspect(ctx, register.InspectRequest{Check: c1})
	r.must(err)
	recs = readInspection(t, c1)
	if res.Items != 2 || len(recs) != 2 {
		t.Fatalf("type 1: %+v %d", res, len(recs))
	}
	daily, _ := recs[0].Daily.MarshalBinary()
	if err := r.cs.Verifier().DailySignature(r.cs.Options.FiscalCardNo, daily, recs[0].Signature[:]); err != nil {
		t.Fatalf("exported daily signature: %v", err)
	}

	c2 := checkCard(t, func(o *emulator.IssueOptions) { o.CheckType = card.CheckDeclarations })
	res, err = r.dev.Inspect(ctx, register.InspectRequest{Check: c2})
	r.must(err)
	if recs = readInspection(t, c2); res.Items != 1 || len(recs) != 1 || recs[0].Declarations[0] != r.dev.Declarations()[0].Data {
		t.Fatalf("type 2: %+v %+v", res, recs)
	}

	c3 := checkCard(t, func(o *emulator.IssueOptions) { o.CheckType = card.CheckSetClock })
	before := r.dev.Status().Today
	set := r.clock.Now().Add(36 * time.Hour)
	_, err = r.dev.Inspect(ctx, register.InspectRequest{Check: c3, SetTime: set})
	r.must(err)
	if got := r.dev.Now(); !got.Equal(set.Truncate(time.Second)) {
		t.Fatalf("Now after clock inspection %v, want %v", got, set.Truncate(time.Second))
	}
	if got := r.dev.Status().Today; got != before.AddDays(1) {
		t.Fatalf("today after clock inspection %v, want %v", got, before.AddDays(1))
	}
	r.must(r.reopen())
	if got := r.dev.Status().Today; got != before.AddDays(1) {
		t.Fatalf("clock offset lost on restart: today %v", got)
	}
	n := 0
	for _, e := range r.dev.SecurityLog() {
		if e.Type == memory.SecInspection || e.Type == memory.SecClockChange {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("%d inspection events in the security log, want 4", n)
	}

	// Refusals: another taxpayer's check card, an expired one.
	other := checkCard(t, func(o *emulator.IssueOptions) { o.TaxpayerNo = fiscal.CardNumber{0x33, 0, 0, 0, 0, 0, 0, 0x09} })
	_, err = r.dev.Inspect(ctx, register.InspectRequest{Check: other})
	wantErr(t, err, register.ErrIllegalCheckCard, 0x8C)
	expired := checkCard(t, func(o *emulator.IssueOptions) { o.CheckValid = fiscal.MustDate(2026, 11, 1) })
	_, err = r.dev.Inspect(ctx, register.InspectRequest{Check: expired})
	wantErr(t, err, register.ErrIllegalCheckCard, 0x8C)
	if err == nil || !strings.Contains(err.Error(), "valid until") {
		t.Fatalf("expired card: %v", err)
	}
}
