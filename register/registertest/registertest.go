package registertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/register/link"
)

// Options adjust the suite. The zero value runs everything.
type Options struct {
	// SkipDeclare leaves out the declaration to card (3D), for registers
	// whose user card must not be written.
	SkipDeclare bool
	// SkipSetTime leaves out setting the clock (3B).
	SkipSetTime bool
	// OpenDay says the register makes a daily record only once a day is
	// over (or closed): no record for today is expected.
	OpenDay bool
	// Timeout bounds the whole suite (default 2 minutes).
	Timeout time.Duration
	// SelfTests requires the self-tests 5C-5F to be served and to pass;
	// without it a register may answer them "unknown command".
	SelfTests bool
	// CardPassThrough requires the card commands 59, 5A, 5B (a register in
	// service mode): the suite reads the fiscal card, power-cycles it and
	// checks that the register still issues.
	CardPassThrough bool
	// CheckPIN, if set, is the PIN of the check card in the register's
	// slot: the suite runs an inspection (45) and checks what it wrote.
	CheckPIN []byte
	// RequestIDs requires the lookup by request id (70, a register that
	// stores request ids with its invoices); without it a register may
	// answer it "unknown command", but one that serves it must be right.
	RequestIDs bool
}

// TenItems returns a 10-line invoice body used by the suite and benchmarks.
func TenItems() []link.Item {
	items := make([]link.Item, 10)
	for i := range items {
		items[i] = link.Item{Name: fmt.Appendf(nil, "item %02d", i+1), Quantity: uint32(1000 + 250*i),
			TaxIndex: 1, UnitPrice: uint32(199 + 100*i)}
	}
	return items
}

func total(items []link.Item) uint32 {
	var s uint32
	for _, it := range items {
		a, _ := it.Amount()
		s += a
	}
	return s
}

// Run drives c through the command set. The register must be initialised;
// the suite distributes and loads rolls itself when no invoice number is
// left.
func Run(t *testing.T, c *link.Client, opts *Options) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	must := func(t *testing.T, err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	t.Run("identity", func(t *testing.T) {
		ci, err := c.Connect(ctx)
		must(t, err, "connect")
		if ci.MaxPacketData == 0 {
			t.Errorf("connect: max packet data 0")
		}
		mi, err := c.MachineInfo(ctx)
		must(t, err, "machine info")
		if mi.MachineNo != ci.MachineNo {
			t.Errorf("machine no %X from 37, %X from 00", mi.MachineNo, ci.MachineNo)
		}
		ui, err := c.UserInfo(ctx)
		must(t, err, "user info")
		if ui.SingleLimit == 0 || ui.IssueDeadline.IsZero() {
			t.Errorf("user info without limits or deadline: %+v", ui)
		}
		items, err := c.TaxItems(ctx)
		must(t, err, "tax items")
		if len(items) == 0 || len(items) > link.MaxTaxItems {
			t.Errorf("%d tax items", len(items))
		}
		st, err := c.Status(ctx)
		must(t, err, "status")
		if st.Flags&link.FlagInitialised == 0 {
			t.Fatalf("register not initialised: flags %08b", st.Flags)
		}
	})

	t.Run("clock", func(t *testing.T) {
		if !o.SkipSetTime {
			want := time.Now().In(link.ChinaTime()).Truncate(time.Second)
			must(t, c.SetDateTime(ctx, want), "set time")
		}
		got, err := c.DateTime(ctx)
		must(t, err, "read time")
		if d := time.Since(got); d < -5*time.Second || d > 5*time.Second {
			t.Errorf("register clock %v is %v away from the host's", got, d)
		}
		if got.Location().String() != "CST" {
			t.Errorf("time zone %v", got.Location())
		}
	})

	// ensure makes sure at least n invoice numbers are left in the roll.
	ensure := func(t *testing.T, n uint32) link.CurrentInvoice {
		t.Helper()
		cur, err := c.CurrentInvoice(ctx)
		must(t, err, "current invoice")
		if cur.Remaining >= n {
			return cur
		}
		if cur.Remaining > 0 {
			r, err := c.Void(ctx, link.VoidRequest{Count: uint16(cur.Remaining)})
			must(t, err, "void rest of roll")
			if r.Outcome != link.Done || len(r.Invoices) != int(cur.Remaining) {
				t.Fatalf("void rest of roll: %v, %d invoices", r.Outcome, len(r.Invoices))
			}
		}
		roll, err := c.DistributeRoll(ctx)
		must(t, err, "distribute roll")
		loaded, err := c.LoadRoll(ctx)
		must(t, err, "load roll")
		if loaded.End < loaded.Start || loaded.End-loaded.Start+1 < n {
			t.Fatalf("loaded roll %+v (distributed %+v) too small", loaded, roll)
		}
		cur, err = c.CurrentInvoice(ctx)
		must(t, err, "current invoice")
		if cur.Next != loaded.Start || cur.Remaining != loaded.End-loaded.Start+1 {
			t.Fatalf("after loading %+v: current %+v", loaded, cur)
		}
		return cur
	}

	var normal link.Invoice
	items := TenItems()
	payer := []byte("registertest payer")
	t.Run("issue normal", func(t *testing.T) {
		cur := ensure(t, 5)
		res, err := c.IssueNormal(ctx, link.IssueRequest{Branch: 1, Payer: payer, Items: items})
		must(t, err, "issue")
		if res.Outcome != link.Done || len(res.Invoices) != 1 {
			t.Fatalf("outcome %v with %d invoices", res.Outcome, len(res.Invoices))
		}
		normal = res.Invoice()
		if normal.No != cur.Next || normal.Type != link.TypeNormal || normal.Total != total(items) {
			t.Errorf("invoice %+v; want no %d, normal, total %d", normal, cur.Next, total(items))
		}
		if normal.FiscalCode == ([8]byte{}) || normal.RequestID != res.RequestID {
			t.Errorf("fiscal code %X, request id %x (sent %x)", normal.FiscalCode, normal.RequestID, res.RequestID)
		}
		after, err := c.CurrentInvoice(ctx)
		must(t, err, "current invoice")
		if after.Next != cur.Next+1 || after.LastIssued != normal.No || after.Remaining != cur.Remaining-1 {
			t.Errorf("after issuing %d: %+v (before %+v)", normal.No, after, cur)
		}

		// The same request again is answered from memory, not issued again.
		again, err := c.IssueNormal(ctx, link.IssueRequest{RequestID: res.RequestID, Branch: 1, Payer: payer, Items: items})
		must(t, err, "repeat")
		if again.Outcome != link.Done || again.Invoice() != normal {
			t.Errorf("repeat gave %v %+v, want the first invoice", again.Outcome, again.Invoice())
		}
		if cur2, _ := c.CurrentInvoice(ctx); cur2 != after {
			t.Errorf("repeat changed the register: %+v -> %+v", after, cur2)
		}
	})
	if normal.No == 0 {
		t.Fatal("no invoice issued; stopping")
	}

	t.Run("uploads", func(t *testing.T) {
		invs, err := c.Invoices(ctx, link.NumberRange{From: normal.No, To: normal.No})
		must(t, err, "invoice upload")
		if len(invs) != 1 || invs[0] != normal {
			t.Errorf("3F gave %+v, want %+v", invs, normal)
		}
		det, err := c.InvoiceDetails(ctx, link.NumberRange{From: normal.No, To: normal.No})
		must(t, err, "print data by number")
		if len(det) != 1 || det[0].Invoice != normal || !bytes.Equal(det[0].Payer, payer) || len(det[0].Items) != len(items) {
			t.Fatalf("42 gave %+v", det)
		}
		for i := range items {
			if !bytes.Equal(det[0].Items[i].Name, items[i].Name) || det[0].Items[i].UnitPrice != items[i].UnitPrice ||
				det[0].Items[i].Quantity != items[i].Quantity {
				t.Errorf("item %d: %+v, want %+v", i, det[0].Items[i], items[i])
			}
		}
		byTime, err := c.InvoiceDetailsByTime(ctx, link.TimeRange{From: normal.Time.Add(-time.Second), To: normal.Time.Add(time.Second)})
		must(t, err, "print data by time")
		found := false
		for _, d := range byTime {
			found = found || d.Invoice == normal
		}
		if !found {
			t.Errorf("43 around %v did not return invoice %d (%d records)", normal.Time, normal.No, len(byTime))
		}
	})

	t.Run("lookup by request id", func(t *testing.T) {
		invs, err := c.InvoicesByRequest(ctx, normal.RequestID)
		if code, ok := link.DeviceCode(err); ok && code == link.CodeUnknownCommand && !o.RequestIDs {
			t.Skip("the register does not store request ids (70 unknown)")
		}
		must(t, err, "invoices by request id")
		if len(invs) != 1 || invs[0] != normal {
			t.Errorf("70 for %x gave %+v, want %+v", normal.RequestID, invs, normal)
		}
		none, err := c.InvoicesByRequest(ctx, normal.RequestID^0x5A5A5A5A5A5A5A5A)
		must(t, err, "invoices by an unused request id")
		if len(none) != 0 {
			t.Errorf("70 for an unused id gave %+v", none)
		}
	})

	var ret link.Invoice
	t.Run("return and void", func(t *testing.T) {
		ensure(t, 3)
		res, err := c.IssueReturn(ctx, link.ReturnRequest{OriginalNo: normal.No})
		must(t, err, "return")
		ret = res.Invoice()
		if res.Outcome != link.Done || ret.Type != link.TypeReturn || ret.OriginalNo != normal.No || ret.Total != normal.Total {
			t.Errorf("return: %v %+v", res.Outcome, ret)
		}
		res2, err := c.IssueReturn(ctx, link.ReturnRequest{OriginalNo: normal.No})
		var de *link.DeviceError
		if res2.Outcome != link.NotDone || !errors.As(err, &de) {
			t.Errorf("second return of %d: %v, %v; want NotDone with a *DeviceError", normal.No, res2.Outcome, err)
		}
		v, err := c.Void(ctx, link.VoidRequest{Count: 1})
		must(t, err, "void")
		if v.Outcome != link.Done || len(v.Invoices) != 1 || v.Invoices[0].Type != link.TypeVoid || v.Invoices[0].Total != 0 ||
			v.Invoices[0].No != ret.No+1 {
			t.Errorf("void: %v %+v", v.Outcome, v.Invoices)
		}
	})

	t.Run("limits", func(t *testing.T) {
		ui, err := c.UserInfo(ctx)
		must(t, err, "user info")
		if ui.SingleLimit == 0xFFFFFFFF {
			t.Skip("no single-invoice limit to exceed")
		}
		ensure(t, 1)
		before, _ := c.CurrentInvoice(ctx)
		res, err := c.IssueNormal(ctx, link.IssueRequest{Items: []link.Item{{Name: []byte("big"), Quantity: 1000, TaxIndex: 1, UnitPrice: ui.SingleLimit + 1}}})
		if res.Outcome != link.NotDone || !errors.Is(err, link.ErrSingleLimit) {
			t.Errorf("over the single limit: %v, %v; want NotDone, ErrSingleLimit", res.Outcome, err)
		}
		if after, _ := c.CurrentInvoice(ctx); after != before {
			t.Errorf("a refused invoice changed the register: %+v -> %+v", before, after)
		}
	})

	t.Run("daily data and rolls", func(t *testing.T) {
		today := normal.Time
		days, err := c.DailyData(ctx, link.DateRange{From: today, To: today})
		must(t, err, "daily data")
		if o.OpenDay && len(days) == 0 {
			t.Log("no daily record for today yet (the day is open)")
		} else if len(days) != 1 {
			t.Fatalf("%d daily records for %v", len(days), today.Format(time.DateOnly))
		}
		for _, d := range days {
			checkDaily(t, d, normal)
		}
		rolls, err := c.RollUsage(ctx)
		must(t, err, "roll usage")
		found := false
		for _, r := range rolls {
			if r.Start <= normal.No && normal.No <= r.End {
				found = true
				if r.NormalCount < 1 || r.NormalTotal < normal.Total {
					t.Errorf("roll %+v does not count invoice %d", r, normal.No)
				}
			}
		}
		if !found {
			t.Errorf("no roll contains invoice %d: %+v", normal.No, rolls)
		}
	})

	t.Run("self-tests", func(t *testing.T) {
		for _, test := range []link.Command{link.CmdSelfTestMemory, link.CmdSelfTestFiscal, link.CmdSelfTestUser, link.CmdSelfTestClock} {
			r, err := c.SelfTest(ctx, test)
			if code, ok := link.DeviceCode(err); ok && code == link.CodeUnknownCommand && !o.SelfTests {
				continue
			}
			if err != nil || !r.Passed || r.Code != 0 {
				t.Errorf("%v: %+v, %v", test, r, err)
			}
		}
	})

	t.Run("card pass-through", func(t *testing.T) {
		// Commands that could change fiscal data never leave the client.
		for _, capdu := range [][]byte{{0xC0, 0xF2, 0x00, 0x00, 0x2C}, {0x84, 0x24, 0x01, 0x01, 0x0C}, {0x00, 0xD6, 0x83, 0x00, 0x01, 0x00}} {
			if _, err := c.CardAPDU(ctx, link.SlotFiscal, capdu); !errors.Is(err, link.ErrCardCommandRefused) {
				t.Errorf("% X: %v, want ErrCardCommandRefused", capdu, err)
			}
		}
		sel := []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'}
		r, err := c.CardAPDU(ctx, link.SlotFiscal, sel)
		if code, ok := link.DeviceCode(err); ok && code == link.CodeUnknownCommand && !o.CardPassThrough {
			return
		}
		must(t, err, "SELECT of the fiscal application")
		if sw := r[len(r)-2:]; !(sw[0] == 0x90 && sw[1] == 0x00) && sw[0] != 0x61 {
			t.Errorf("SELECT of the fiscal application: % X", r)
		}
		must(t, c.CardPowerOff(ctx, link.SlotFiscal), "fiscal card power off")
		atr, err := c.CardPowerOn(ctx, link.SlotFiscal)
		must(t, err, "fiscal card power on")
		if len(atr) < 2 || atr[0] != 0x3B && atr[0] != 0x3F {
			t.Errorf("ATR % X does not start with TS 3B or 3F", atr)
		}
		res, err := c.IssueNormal(ctx, link.IssueRequest{Items: TenItems()[:1]})
		if err != nil || res.Outcome != link.Done {
			t.Fatalf("issuing after a power cycle of the fiscal card: %+v, %v", res, err)
		}
	})

	if o.CheckPIN != nil {
		t.Run("inspection", func(t *testing.T) {
			res, err := c.Inspect(ctx, link.InspectRequest{PIN: o.CheckPIN})
			must(t, err, "inspection")
			switch res.Type {
			case 0, 1, 2:
				if res.Type == 0 && res.Items < 1 || res.Items > 0 && res.Records < 1 && !res.Truncated {
					t.Errorf("inspection type %d: %d items in %d records", res.Type, res.Items, res.Records)
				}
			case 3:
				t.Errorf("a type-3 (clock) check card needs SetTime; the suite does not move the clock")
			}
			// (No wrong-PIN case here: it would spend one of a real check
			// card's PIN tries.)
		})
	}

	if o.SkipDeclare {
		return
	}
	t.Run("declaration", func(t *testing.T) {
		decl, err := c.Declare(ctx, link.DeclareRequest{Mode: link.DeclareStop})
		must(t, err, "declare")
		if decl.End.Before(decl.Start) || decl.NormalCount < 1 || decl.Signature == ([link.SignatureLen]byte{}) {
			t.Errorf("declaration %+v", decl)
		}
		list, err := c.Declarations(ctx, link.DateRange{From: decl.End, To: decl.End})
		must(t, err, "declaration upload")
		if len(list) == 0 || list[len(list)-1] != decl {
			t.Errorf("3E gave %d records; want the new declaration last", len(list))
		}
		// A declaration closes the days it covers: the last one now has
		// its signed daily record.
		days, err := c.DailyData(ctx, link.DateRange{From: decl.End, To: decl.End})
		must(t, err, "daily data after declaring")
		if len(days) != 1 {
			t.Fatalf("%d daily records for %v after declaring it", len(days), decl.End.Format(time.DateOnly))
		}
		if sameDay(decl.End, normal.Time) {
			checkDaily(t, days[0], normal)
		}
	})
}

func checkDaily(t *testing.T, d link.DailyData, normal link.Invoice) {
	t.Helper()
	if d.NormalCount < 1 || d.ReturnCount < 1 || d.VoidCount < 1 || d.Signature == ([link.SignatureLen]byte{}) {
		t.Errorf("daily record %+v", d)
	}
	var sum uint32
	for _, a := range d.Normal {
		sum += a
	}
	if sum < normal.Total {
		t.Errorf("daily normal amounts %d < invoice total %d", sum, normal.Total)
	}
}

func sameDay(a, b time.Time) bool {
	a, b = a.In(link.ChinaTime()), b.In(link.ChinaTime())
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}
