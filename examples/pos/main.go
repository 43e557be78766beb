// Command pos is a small point-of-sale program: it connects to a register
// over TCP (-addr) or a serial port (-port, -baud), issues -invoices
// invoices exactly once, optionally over a link with injected faults, checks
// every issued invoice against the register's own upload, and prints a
// summary.
//
//	go run ./examples/simulator -listen 127.0.0.1:7000 &
//	go run ./examples/pos -addr 127.0.0.1:7000 -invoices 100 -faults drop=0.1,dup=0.1,corrupt=0.05 -seed 42
//
// Exit status: 0 every invoice was issued (Done) and matches the register's
// record; 1 otherwise, or the register could not be reached; 2 usage error
// (bad flags or arguments, checked before connecting).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/fiscalkit/gb18240/adapters/serial"
	"github.com/fiscalkit/gb18240/register/link"
)

func main() {
	addr := flag.String("addr", "", "register's TCP address HOST:PORT")
	port := flag.String("port", "", "register's serial device (for example /dev/ttyUSB0 or a pty)")
	baud := flag.Int("baud", serial.DefaultBaud, "serial bit rate")
	n := flag.Int("invoices", 10, "invoices to issue")
	lines := flag.Int("lines", 3, "lines per invoice (1-10)")
	faults := flag.String("faults", "", "inject faults on this end: drop=P,dup=P,corrupt=P,cut=P,delay=P,maxdelay=D")
	seed := flag.Uint64("seed", 0, "seed of the injected faults, with -faults (0: from the clock; printed)")
	timeout := flag.Duration("timeout", 0, "reply timeout per frame (0: 1s, or 200ms with -faults)")
	list := flag.Bool("list", false, "list serial ports and exit")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "pos: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if *list {
		ports, err := serial.List()
		if err != nil {
			fmt.Fprintln(os.Stderr, "pos:", err)
			os.Exit(1)
		}
		for _, p := range ports {
			fmt.Println(p)
		}
		return
	}
	if err := run(*addr, *port, *baud, *n, *lines, *faults, *seed, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "pos:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a flag combination or value that run refuses before it
// connects.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(addr, port string, baud, n, lines int, faultSpec string, seed uint64, timeout time.Duration) error {
	if (addr == "") == (port == "") {
		return usagef("give exactly one of -addr HOST:PORT and -port DEVICE")
	}
	if n < 1 {
		return usagef("-invoices %d: want at least 1", n)
	}
	if lines < 1 || lines > link.MaxItems {
		return usagef("-lines %d: want 1..%d", lines, link.MaxItems)
	}
	var fspec link.Faults
	if faultSpec != "" {
		f, err := link.ParseFaults(faultSpec)
		if err != nil {
			return usagef("-faults: %v", err)
		}
		fspec = f
	} else if seed != 0 {
		return usagef("-seed %d without -faults: the seed is only for injected faults", seed)
	}
	var rw io.ReadWriteCloser
	var err error
	if addr != "" {
		rw, err = net.DialTimeout("tcp", addr, 5*time.Second)
	} else {
		rw, err = serial.Open(port, &serial.Options{Baud: baud})
	}
	if err != nil {
		return err
	}
	defer rw.Close()

	var line io.ReadWriter = rw
	var faulty *link.FaultyLink
	opts := &link.ClientOptions{ReplyTimeout: timeout, IssueAttempts: 10, ReconcileAttempts: 10, Retries: 10}
	if faultSpec != "" {
		f := fspec
		if seed == 0 {
			seed = uint64(time.Now().UnixNano())
		}
		f.Seed = seed
		fmt.Printf("faults %s, seed %d\n", faultSpec, seed)
		faulty = link.NewFaultyLink(rw, f)
		line = faulty
		if opts.ReplyTimeout == 0 {
			opts.ReplyTimeout = 200 * time.Millisecond
		}
	}
	c := link.NewClient(line, opts)
	ctx := context.Background()

	ci, err := c.Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	ui, err := c.UserInfo(ctx)
	if err != nil {
		return fmt.Errorf("user information: %w", err)
	}
	fmt.Printf("register %X, taxpayer %s, single limit %d.%02d yuan\n", ci.MachineNo, ui.TaxpayerID, ui.SingleLimit/100, ui.SingleLimit%100)

	items := make([]link.Item, lines)
	for i := range items {
		items[i] = link.Item{Name: fmt.Appendf(nil, "article %d", i+1), Quantity: 1000, TaxIndex: 1, UnitPrice: uint32(100 + 37*i)}
	}
	var outcomes [4]int
	var issued []link.Invoice
	start := time.Now()
	for i := 0; i < n; i++ {
		req := link.IssueRequest{Payer: []byte("walk-in customer"), Items: items}
		var res link.IssueResult
		for try := 0; ; try++ {
			res, err = c.IssueNormal(ctx, req)
			if res.Outcome == link.NotDone && errors.Is(err, link.ErrNoInvoices) && try == 0 {
				// Refused: the register remembers the refusal of this
				// request id, so after loading a roll it is a new request.
				if err := newRoll(ctx, c); err != nil {
					return err
				}
				req.RequestID = 0
				continue
			}
			var amb *link.AmbiguousError
			if errors.As(err, &amb) {
				// Asking again gives the same answer: an operator has to
				// decide which of these invoices is this sale's.
				for _, inv := range amb.Candidates {
					fmt.Printf("invoice %d: candidate no %d, %v, total %d\n", i+1, inv.No, inv.Time.Format(time.DateTime), inv.Total)
				}
				break
			}
			if res.Outcome == link.Unknown && try < 5 {
				// Safe to send the same request (same id) again: it is
				// answered from memory or reconciled, never issued twice.
				req.RequestID = res.RequestID
				continue
			}
			break
		}
		outcomes[res.Outcome]++
		if res.Outcome != link.Done {
			fmt.Printf("invoice %d: %v: %v\n", i+1, res.Outcome, err)
			continue
		}
		issued = append(issued, res.Invoices...)
	}
	elapsed := time.Since(start)

	// Check every Done invoice against the register's own records.
	mismatches := 0
	for _, inv := range issued {
		got, err := c.Invoices(ctx, link.NumberRange{From: inv.No, To: inv.No})
		if err != nil || len(got) != 1 || got[0].FiscalCode != inv.FiscalCode || got[0].Total != inv.Total {
			mismatches++
			fmt.Printf("invoice %d does not match the register: %+v, %v\n", inv.No, got, err)
		}
	}
	st := c.Stats()
	fmt.Printf("invoices: %d Done, %d NotDone, %d Unknown; %d checked against the register, %d mismatches\n",
		outcomes[link.Done], outcomes[link.NotDone], outcomes[link.Unknown], len(issued), mismatches)
	if len(issued) > 0 {
		first, last := issued[0], issued[len(issued)-1]
		fmt.Printf("numbers %d..%d, last 税控码 %s\n", first.No, last.No, last.FiscalCodeString())
	}
	fmt.Printf("link: %d exchanges, %d reconciliations, %d issuing re-sends, %d read re-sends, %d timeouts, %d stale replies skipped\n",
		st.Exchanges, st.Reconciliations, st.IssueResends, st.Resends, st.Timeouts, st.StaleReplies)
	fmt.Printf("bytes: %d out, %d in; %v in all, %v per invoice\n", st.BytesOut, st.BytesIn,
		elapsed.Round(time.Millisecond), (elapsed / time.Duration(max(n, 1))).Round(time.Microsecond))
	if faulty != nil {
		fs := faulty.Stats()
		fmt.Printf("faults injected: %d dropped, %d duplicated, %d corrupted, %d cut, %d delayed (of %d chunks)\n",
			fs.Dropped, fs.Duplicated, fs.Corrupted, fs.Cut, fs.Delayed, fs.Frames)
	}
	if mismatches > 0 || outcomes[link.Done] != n {
		return fmt.Errorf("%d of %d invoices done, %d mismatches", outcomes[link.Done], n, mismatches)
	}
	return nil
}

func newRoll(ctx context.Context, c *link.Client) error {
	if _, err := c.LoadRoll(ctx); err == nil {
		return nil
	}
	if _, err := c.DistributeRoll(ctx); err != nil {
		return fmt.Errorf("distribute roll: %w", err)
	}
	if _, err := c.LoadRoll(ctx); err != nil {
		return fmt.Errorf("load roll: %w", err)
	}
	return nil
}
