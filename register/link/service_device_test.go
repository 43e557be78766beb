package link_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
)

func serviceClient(t *testing.T, opts *linktest.DeviceOptions) (*linktest.Device, *link.Client) {
	t.Helper()
	d, err := linktest.NewDevice(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	a, b := linktest.Pipe(nil)
	serve(t, link.NewServer(d.Handler(), nil), a, b)
	return d, link.NewClient(a, nil)
}

func wantCode(t *testing.T, err error, code link.ErrorCode, what string) {
	t.Helper()
	if got, ok := link.DeviceCode(err); !ok || got != code {
		t.Fatalf("%s: %v, want register code %02X", what, err, uint8(code))
	}
}

// The card pass-through is off unless the register is in service mode.
func TestCardCommandsNeedServiceMode(t *testing.T) {
	_, c := serviceClient(t, &linktest.DeviceOptions{Rolls: 2})
	ctx := context.Background()
	_, err := c.CardPowerOn(ctx, link.SlotFiscal)
	wantCode(t, err, link.CodeUnknownCommand, "power on")
	_, err = c.CardAPDU(ctx, link.SlotFiscal, []byte{0x00, 0x84, 0x00, 0x00, 0x08})
	wantCode(t, err, link.CodeUnknownCommand, "GET CHALLENGE")
}

// In service mode a harness reads the fiscal card, power-cycles it and
// selects other files; the register still issues afterwards, and nothing
// that could change fiscal data reaches the card.
func TestCardPassThroughOnEngine(t *testing.T) {
	d, c := serviceClient(t, &linktest.DeviceOptions{Rolls: 2, ServiceMode: true})
	ctx := context.Background()
	res, err := c.IssueNormal(ctx, tenLine())
	if err != nil {
		t.Fatal(err)
	}
	// Fiscal EF03 by SFI: the card's own record of the last invoice.
	r, err := c.CardAPDU(ctx, link.SlotFiscal, []byte{0x00, 0xB0, 0x83, 0x00, card.DayAccumulationLen})
	if err == nil && len(r) == 2 && r[0] == 0x61 {
		// T=0: the harness fetches the data itself.
		r, err = c.CardAPDU(ctx, link.SlotFiscal, []byte{0x00, 0xC0, 0x00, 0x00, r[1]})
	}
	if err != nil || len(r) != card.DayAccumulationLen+2 || !bytes.Equal(r[len(r)-2:], []byte{0x90, 0x00}) {
		t.Fatalf("READ BINARY EF03: % X, %v", r, err)
	}
	var acc card.DayAccumulation
	if err := acc.UnmarshalBinary(r[:len(r)-2]); err != nil || acc.PrevInvoice != res.Invoice().No {
		t.Fatalf("EF03 %+v (%v): last invoice, want %d", acc, err, res.Invoice().No)
	}
	// What the card may still hold for the register's own commands is out
	// of reach: GET RESPONSE right after an invoice is refused.
	if _, err := c.IssueNormal(ctx, tenLine()); err != nil {
		t.Fatal(err)
	}
	_, err = c.CardAPDU(ctx, link.SlotFiscal, []byte{0x00, 0xC0, 0x00, 0x00, 0x08})
	wantCode(t, err, link.CodeCardCommandRefused, "GET RESPONSE after an invoice")
	r, err = c.CardAPDU(ctx, link.SlotFiscal, []byte{0x00, 0x84, 0x00, 0x00, 0x08})
	if err != nil || len(r) != 10 && !(len(r) == 2 && r[0] == 0x61) {
		t.Fatalf("GET CHALLENGE: % X, %v", r, err)
	}
	// SELECT of another application: the answer travels back unchanged,
	// and the register selects its fiscal application again.
	r, err = c.CardAPDU(ctx, link.SlotFiscal, []byte{0x00, 0xA4, 0x04, 0x00, 0x05, 'T', 'I', 'D', '0', '1'})
	if err != nil || len(r) < 2 {
		t.Fatalf("SELECT TID01: % X, %v", r, err)
	}
	if _, err := c.IssueNormal(ctx, tenLine()); err != nil {
		t.Fatalf("issue after a raw SELECT: %v", err)
	}
	// Forbidden commands are refused on both sides, and none reaches the card.
	before := d.Dev.Status().Issued
	for _, capdu := range [][]byte{
		{0xC0, 0xF2, 0x00, 0x00, 0x2C},
		{0xC0, 0xF9, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8},
		{0x00, 0xD6, 0x83, 0x00, 0x01, 0x00},
	} {
		if _, err := c.CardAPDU(ctx, link.SlotFiscal, capdu); !errors.Is(err, link.ErrCardCommandRefused) {
			t.Fatalf("% X: %v, want ErrCardCommandRefused", capdu, err)
		}
		ch := d.Handler().(link.CardHandler)
		_, err := ch.CardAPDU(ctx, link.SlotFiscal, capdu)
		wantCode(t, err, link.CodeCardCommandRefused, "handler")
	}
	// Power off: the register cannot issue (no fiscal card); power on: it can.
	if err := c.CardPowerOff(ctx, link.SlotFiscal); err != nil {
		t.Fatal(err)
	}
	res, err = c.IssueNormal(ctx, tenLine())
	if res.Outcome != link.NotDone {
		t.Fatalf("issue with the card off: %+v, %v", res, err)
	}
	wantCode(t, err, link.CodeNoFiscalCard, "issue with the card off")
	atr, err := c.CardPowerOn(ctx, link.SlotFiscal)
	if err != nil || len(atr) < 2 || atr[0] != 0x3B || atr[1] != 0x7A {
		t.Fatalf("power on: ATR % X, %v", atr, err)
	}
	if res, err := c.IssueNormal(ctx, tenLine()); err != nil || res.Outcome != link.Done {
		t.Fatalf("issue after power on: %+v, %v", res, err)
	}
	if got := d.Dev.Status().Issued; got != before+1 {
		t.Fatalf("%d invoices, want %d", got, before+1)
	}
	// The user card slot reads the user application.
	r, err = c.CardAPDU(ctx, link.SlotUser, []byte{0x00, 0xA4, 0x04, 0x00, 0x05, 'T', 'I', 'D', '0', '1'})
	if err != nil || !bytes.Equal(r[len(r)-2:], []byte{0x90, 0x00}) {
		t.Fatalf("SELECT TID01 on the user card: % X, %v", r, err)
	}
}

func TestSelfTestsOnEngine(t *testing.T) {
	dir := t.TempDir()
	d, c := serviceClient(t, &linktest.DeviceOptions{Dir: dir, Rolls: 2})
	ctx := context.Background()
	inv, err := c.IssueNormal(ctx, tenLine())
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []link.Command{link.CmdSelfTestMemory, link.CmdSelfTestFiscal, link.CmdSelfTestUser, link.CmdSelfTestClock} {
		r, err := c.SelfTest(ctx, test)
		if err != nil || !r.Passed || r.Code != 0 {
			t.Fatalf("%v: %+v, %v", test, r, err)
		}
	}
	if r, _ := c.SelfTest(ctx, link.CmdSelfTestMemory); r.Value < 5 {
		t.Fatalf("memory self-test verified %d records", r.Value)
	}
	if _, err := c.SelfTest(ctx, link.CmdStatus); !errors.Is(err, link.ErrMalformed) {
		t.Fatalf("status as self-test: %v", err)
	}

	// The clock set before the newest invoice's day fails the clock test.
	if err := c.SetDateTime(ctx, inv.Invoice().Time.AddDate(0, 0, -2)); err != nil {
		t.Fatal(err)
	}
	r, err := c.SelfTest(ctx, link.CmdSelfTestClock)
	if err != nil || r.Passed || r.Code != link.CodeClockBackwards {
		t.Fatalf("clock two days back: %+v, %v", r, err)
	}
	if err := c.SetDateTime(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}

	// The fiscal card powered off fails the fiscal card test.
	d.Cards.Fiscal.PowerOff()
	r, err = c.SelfTest(ctx, link.CmdSelfTestFiscal)
	if err != nil || r.Passed || r.Code != link.CodeNoFiscalCard {
		t.Fatalf("fiscal card off: %+v, %v", r, err)
	}
	d.Cards.Fiscal.PowerOn()

	// A flipped byte in fiscal memory fails the memory test.
	segs, err := filepath.Glob(filepath.Join(dir, "memory", "*"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("segments: %v %v", segs, err)
	}
	var seg string
	for _, s := range segs {
		if fi, err := os.Stat(s); err == nil && fi.Mode().IsRegular() && fi.Size() > 64 {
			seg = s
			break
		}
	}
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x40
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = c.SelfTest(ctx, link.CmdSelfTestMemory)
	if err != nil || r.Passed || r.Code != link.CodeMemoryFault || r.Detail == "" {
		t.Fatalf("corrupted memory: %+v, %v", r, err)
	}
}

// 45 through the engine: the check card of the issued set (type 0,
// invoice details) receives the invoices; a wrong PIN is refused with the
// check-card code.
func TestInspectOnEngine(t *testing.T) {
	d, c := serviceClient(t, &linktest.DeviceOptions{Rolls: 2})
	ctx := context.Background()
	for range 3 {
		if _, err := c.IssueNormal(ctx, tenLine()); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Inspect(ctx, link.InspectRequest{PIN: []byte("87654321")})
	wantCode(t, err, link.CodeIllegalCheckCard, "wrong check PIN")
	if !errors.Is(err, link.ErrIllegalCheckCard) {
		t.Fatalf("wrong check PIN: %v does not match ErrIllegalCheckCard", err)
	}
	res, err := c.Inspect(ctx, link.InspectRequest{PIN: []byte("12345678")})
	if err != nil || res.Type != 0 || res.Items != uint32(d.Dev.Status().Issued) || res.Records < 1 || res.Truncated {
		t.Fatalf("inspection: %+v, %v (register has %d invoices)", res, err, d.Dev.Status().Issued)
	}
	log := d.Dev.SecurityLog()
	if len(log) == 0 || !bytes.Contains([]byte(log[len(log)-1].Text), []byte("inspection type 0")) {
		t.Fatalf("security log does not end with the inspection: %+v", log)
	}
}
