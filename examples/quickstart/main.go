// Command quickstart runs a full register lifecycle on emulated cards with an
// on-disk fiscal memory:
//
//	go run ./examples/quickstart            # in a temporary directory, removed at the end
//	go run ./examples/quickstart -data DIR  # keep (and continue) the state in DIR
//
// The first run personalises an emulated card set (fiscal, user and check
// card, TEST crypto profile), writes the machine's factory data, runs the
// fiscal initialisation, distributes and loads an invoice roll, then
// simulates two business days: normal invoices, a return (退票) and a void
// (废票) on the first, more sales on the second, with the daily closes; on
// the third morning it declares the two days to the user card, lets the
// (emulated) tax office process the declaration and runs the control
// update. It prints every invoice, the daily reports and the period report. Run it again on the same DIR
// and it recovers the state and continues on the following days; the fiscal
// memory in DIR can be inspected with `go run ./examples/fmtool export DIR`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
	"github.com/fiscalkit/gb18240/register/print"
)

// userPIN is the user card's PIN (the emulator issuer's default).
const userPIN = "12345678"

func main() {
	data := flag.String("data", "", "directory for the fiscal memory and the emulated cards' state, kept for the next run (default: a temporary directory, removed at the end)")
	width := flag.Int("paper", 57, "paper width in mm: 57 (32 columns) or 76 (48 columns)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "quickstart: unexpected argument %q (the data directory is given with -data DIR)\n", flag.Arg(0))
		os.Exit(2)
	}
	var cols int
	switch *width {
	case 57:
		cols = print.Columns57mm
	case 76:
		cols = print.Columns76mm
	default:
		fmt.Fprintf(os.Stderr, "quickstart: -paper %d: want 57 or 76\n", *width)
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, *data, cols); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// simClock is the simulated register clock: a date and a time of day that
// advances a few minutes per reading.
type simClock struct{ t time.Time }

func (c *simClock) now() time.Time {
	c.t = c.t.Add(7 * time.Minute)
	return c.t
}

func (c *simClock) startDay(d fiscal.Date) { c.t = d.Time().Add(9 * time.Hour) }

// cardFiles are the emulated cards' state files under DIR/cards.
type cardFiles struct{ dir string }

func (f cardFiles) path(name string) string { return filepath.Join(f.dir, name+".card") }

func (f cardFiles) save(cs *emulator.CardSet) error {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	for name, c := range map[string]*emulator.Card{"fiscal": cs.Fiscal, "user": cs.User, "check": cs.Check} {
		if err := c.SaveFile(f.path(name)); err != nil {
			return err
		}
	}
	return nil
}

func (f cardFiles) load(opts emulator.Options) (*emulator.CardSet, error) {
	cs := &emulator.CardSet{Profile: opts.Profile}
	var err error
	if cs.Fiscal, err = emulator.LoadFile(f.path("fiscal"), opts); err != nil {
		return nil, err
	}
	if cs.User, err = emulator.LoadFile(f.path("user"), opts); err != nil {
		return nil, err
	}
	if cs.Check, err = emulator.LoadFile(f.path("check"), opts); err != nil {
		return nil, err
	}
	return cs, nil
}

// persistent is an emulated card whose state file is rewritten after every
// command, as a real card's EEPROM keeps its state: a run killed at any
// point leaves the card file in step with what the card did.
type persistent struct {
	c    *emulator.Card
	path string
}

func (p persistent) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	resp, err := p.c.Transmit(ctx, apdu)
	if serr := p.c.SaveFile(p.path); serr != nil && err == nil {
		return nil, serr
	}
	return resp, err
}

func run(ctx context.Context, out io.Writer, dir string, cols int) (err error) {
	keep := dir != ""
	if !keep {
		tmp, err := os.MkdirTemp("", "gb18240-quickstart-")
		if err != nil {
			return err
		}
		dir = tmp
		// Registered first, so it runs after the fiscal memory is closed.
		defer func() {
			if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
				err = fmt.Errorf("removing the temporary data directory: %w", rerr)
			}
		}()
		fmt.Fprintf(out, "data directory: %s (temporary, removed at the end; -data DIR keeps the state)\n", dir)
	} else {
		fmt.Fprintf(out, "data directory: %s\n", dir)
	}
	cards := cardFiles{dir: filepath.Join(dir, "cards")}
	profile := emulator.TestProfileDoNotShip("")
	opts := emulator.Options{Profile: profile}
	clock := &simClock{}
	today := fiscal.DateOf(time.Now())

	// The cards: personalised on the first run, reloaded afterwards.
	cs, err := cards.load(opts)
	fresh := errors.Is(err, os.ErrNotExist)
	switch {
	case fresh:
		cs, err = emulator.Issue(emulator.IssueOptions{
			Options:  opts,
			AppStart: today, AppValid: today.AddDays(5*366 + 30),
			Controls: fiscal.ControlData{Deadline: today.AddDays(366)},
		})
		if err != nil {
			return err
		}
		if err := cards.save(cs); err != nil {
			return err
		}
		fmt.Fprintln(out, "personalised an emulated card set (TEST crypto profile, not for production)")
	case err != nil:
		return fmt.Errorf("loading the emulated cards from %s: %w", cards.dir, err)
	}

	fsys, err := memory.NewDirFS(dir)
	if err != nil {
		return err
	}
	clock.startDay(today)
	mem, err := register.OpenMemory(ctx, fsys, nil, time.Now())
	if err != nil {
		return err
	}
	defer mem.Close()
	// Continue after the last fiscal record: each run simulates new days.
	start := today
	if last, ok := mem.LastDaily(); ok && !last.Record.Date.Before(start) {
		start = last.Record.Date.AddDays(1)
	}
	if inv, err := mem.LastInvoice(ctx); err == nil && !inv.Detail.Date.Before(start) {
		start = inv.Detail.Date.AddDays(1)
	}
	clock.startDay(start)
	dev, err := register.Open(ctx, register.Config{
		Memory: mem, Fiscal: persistent{cs.Fiscal, cards.path("fiscal")}, User: persistent{cs.User, cards.path("user")}, UserPIN: []byte(userPIN), Clock: clock.now,
	})
	if err != nil {
		return fmt.Errorf("starting the register: %w", err)
	}

	st := dev.Status()
	if !st.Initialised {
		if err := dev.WriteFactoryData(ctx, register.Factory{
			Number: fiscal.MachineNumber{0x22, 0, 0, 0, 0, 0, 0, 0x01}, Produced: today,
			HardwareVersion: "QS-HW 1.0", SoftwareVersion: "gb18240 QS 1.0",
		}); err != nil && !errors.Is(err, register.ErrAlreadyInitialised) {
			return err
		}
		if err := dev.Initialise(ctx); err != nil {
			return fmt.Errorf("fiscal initialisation: %w", err)
		}
		st = dev.Status()
		fmt.Fprintf(out, "initialised machine %v for %s on %v (deadline %v, limits: single %s, period %s, returns %s yuan)\n",
			st.Machine, st.Taxpayer, st.InitDate, st.Controls.Deadline, st.Controls.SingleLimit, st.Controls.TotalLimit, st.Controls.ReturnLimit)
	} else {
		fmt.Fprintf(out, "recovered register %v of %s: %d invoices in fiscal memory, last daily close %v\n",
			st.Machine, st.Taxpayer, st.Issued, st.LastDaily)
	}
	if st.Next == 0 {
		if st.Waiting == 0 {
			r, err := dev.Distribute(ctx)
			if err != nil {
				return fmt.Errorf("distributing a roll: %w", err)
			}
			fmt.Fprintf(out, "distributed roll %v %08d-%08d from the user card\n", r.Code, r.Start, r.End)
		}
		r, err := dev.LoadRoll(ctx)
		if err != nil {
			return fmt.Errorf("loading a roll: %w", err)
		}
		fmt.Fprintf(out, "loaded roll %v %08d-%08d into the fiscal card\n", r.Code, r.Start, r.End)
	}

	printInv := func(inv register.Invoice) error {
		doc, err := dev.PrintInvoice(inv, cols)
		if err != nil {
			return err
		}
		fmt.Fprintln(out)
		fmt.Fprint(out, doc.Preview())
		return nil
	}
	sales := []register.InvoiceRequest{
		{Payer: "个人", Drawer: "王芳", Lines: []register.Line{
			{Name: "牛肉面", Quantity: 2000, UnitPrice: 1800, TaxIndex: 1},
			{Name: "凉拌黄瓜", Quantity: 1000, UnitPrice: 800, TaxIndex: 1}}},
		{Payer: "深圳市某科技有限公司", Drawer: "王芳", Lines: []register.Line{
			{Name: "商务套餐", Quantity: 6000, UnitPrice: 16800, TaxIndex: 1}}},
		{Drawer: "李强", Lines: []register.Line{{Name: "矿泉水", Quantity: 3000, UnitPrice: 150, TaxIndex: 1}}},
	}

	// Day 1: sales, a return of the first sale, a void.
	fmt.Fprintf(out, "\n===== %v: business day =====\n", start)
	var first register.Invoice
	for i, req := range sales {
		inv, err := dev.Issue(ctx, req)
		if err != nil {
			return fmt.Errorf("issuing: %w", err)
		}
		if i == 0 {
			first = inv
		}
		if err := printInv(inv); err != nil {
			return err
		}
	}
	ret, err := dev.Return(ctx, register.ReturnRequest{Code: first.Code, Number: first.Detail.Number, Drawer: "王芳"})
	if err != nil {
		return fmt.Errorf("return: %w", err)
	}
	if err := printInv(ret); err != nil {
		return err
	}
	voids, err := dev.Void(ctx, register.VoidRequest{Drawer: "王芳"})
	if err != nil {
		return fmt.Errorf("void: %w", err)
	}
	if err := printInv(voids[0]); err != nil {
		return err
	}

	// Day 2: the daily close of day 1 runs by itself on the first sale.
	day2 := start.AddDays(1)
	clock.startDay(day2)
	fmt.Fprintf(out, "\n===== %v: business day =====\n", day2)
	for _, req := range sales[1:] {
		inv, err := dev.Issue(ctx, req)
		if err != nil {
			return fmt.Errorf("issuing: %w", err)
		}
		if err := printInv(inv); err != nil {
			return err
		}
	}
	// End of day 2: close it as well.
	if err := dev.CloseDay(ctx, day2); err != nil {
		return fmt.Errorf("daily close: %w", err)
	}
	for _, day := range []fiscal.Date{start, day2} {
		doc, err := dev.PrintDailyReport(ctx, day, cols)
		if err != nil {
			return err
		}
		fmt.Fprintln(out)
		fmt.Fprint(out, doc.Preview())
	}

	// Day 3, morning: declare days 1-2 (申报) to the user card, have the
	// tax office process it (what the taxpayer does at the office), and
	// load the new controls (税控更新).
	day3 := day2.AddDays(1)
	clock.startDay(day3)
	fmt.Fprintf(out, "\n===== %v: declaration and control update =====\n", day3)
	decl, err := dev.Declare(ctx, register.DeclareRequest{Mode: register.DeclareNormal})
	if err != nil {
		return fmt.Errorf("declaration: %w", err)
	}
	fmt.Fprintf(out, "declared %v..%v: %d normal (%s yuan), %d returns (%s yuan), %d voids; fiscal card status %02X\n",
		decl.Data.Start, decl.Data.End, decl.Data.NormalCount, decl.Data.Normal.Sum(), decl.Data.ReturnCount,
		decl.Data.Return.Sum(), decl.Data.VoidCount, decl.Response.Status)
	ctl := dev.Status().Controls
	ctl.Deadline = ctl.Deadline.AddDays(31)
	if _, err := cs.ProcessDeclarations(ctl); err != nil {
		return fmt.Errorf("tax office: %w", err)
	}
	if err := cs.User.SaveFile(cards.path("user")); err != nil {
		return err
	}
	fmt.Fprintln(out, "tax office: declaration processed, new controls written to the user card")
	newCtl, err := dev.UpdateControls(ctx)
	if err != nil {
		return fmt.Errorf("control update: %w", err)
	}
	fmt.Fprintf(out, "control update: deadline now %v\n", newCtl.Deadline)
	doc, err := dev.PrintPeriodReport(ctx, decl.Data.Start, decl.Data.End, cols)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	fmt.Fprint(out, doc.Preview())

	st = dev.Status()
	rep, err := mem.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nfiscal memory: %d invoices, last daily close %v, verify: ok=%v\n", st.Issued, st.LastDaily, rep.OK())
	fmt.Fprintf(out, "next invoice: %v/%08d, %d left in the roll, %d rolls waiting\n", st.Roll.Code, st.Next, st.Remaining, st.Waiting)
	if keep {
		fmt.Fprintf(out, "run again with -data %s to continue; inspect with: go run ./examples/fmtool export %s\n", dir, dir)
	} else {
		fmt.Fprintln(out, "removed the temporary data directory; with -data DIR the state stays for a second run and for: go run ./examples/fmtool export DIR")
	}
	return nil
}
