// Command fmtool checks, repairs, exports and reports a fiscal memory
// directory (package fiscal/memory).
//
//	go run ./examples/fmtool verify DIR   # check everything (every field decoded); names the first bad record
//	go run ./examples/fmtool repair DIR   # truncate a torn tail (after copying the segment aside)
//	go run ./examples/fmtool export DIR   # JSON Lines on stdout, one record per line
//	go run ./examples/fmtool report DIR   # daily and period totals, human-readable
//
// Exit status: 0 the memory is intact (or was repaired, or the export or
// report was written); 1 the memory is damaged, repair was refused, or
// reading failed, or DIR holds no fiscal memory; 2 usage error. -h prints the usage and exits 0.
//
// Long reads show progress on stderr when stderr is a terminal, and are
// quiet otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	usageString = `usage: fmtool verify|repair|export|report DIR

  verify DIR   check every record, CRC, chain and order; exit 1 naming the first bad record
  repair DIR   truncate a torn tail after copying the segment aside; other damage is refused
  export DIR   write every record as JSON Lines on stdout
  report DIR   print daily and period totals recomputed from the stored invoices
`
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("fmtool", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, usageString) }
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK // -h asked for the usage
		}
		return exitUsage
	}
	if fl.NArg() != 2 {
		fl.Usage()
		return exitUsage
	}
	cmd, dir := fl.Arg(0), fl.Arg(1)
	switch cmd {
	case "verify", "repair", "export", "report":
	default:
		fl.Usage()
		return exitUsage
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "fmtool: %s is not a directory\n", dir)
		return exitUsage
	}
	fsys := &memory.DirFS{Dir: dir}
	if ok, err := hasSegments(fsys); err != nil {
		fmt.Fprintf(stderr, "fmtool: %v\n", err)
		return exitFailed
	} else if !ok {
		// Most likely the wrong directory: say so rather than report an
		// "intact" empty memory.
		fmt.Fprintf(stderr, "fmtool: %s holds no fiscal memory (no NNNNNNNN.seg segment file)\n", dir)
		sub := filepath.Join(dir, "memory")
		if ok, _ := hasSegments(&memory.DirFS{Dir: sub}); ok {
			fmt.Fprintf(stderr, "fmtool: %s does (the simulator's -data layout): fmtool %s %s\n", sub, cmd, sub)
		}
		return exitFailed
	}
	opts := &memory.Options{Progress: progress(stderr)}
	switch cmd {
	case "verify":
		opts.DeepVerify = true // an audit: decode every field of every record
		return verify(ctx, fsys, opts, stdout, stderr)
	case "repair":
		return repair(ctx, fsys, opts, stdout, stderr)
	case "export":
		if err := memory.Export(ctx, fsys, stdout, opts); err != nil {
			fmt.Fprintf(stderr, "fmtool: export: %v\n", err)
			return exitFailed
		}
		return exitOK
	case "report":
		return report(ctx, fsys, opts, stdout, stderr)
	}
	fl.Usage()
	return exitUsage
}

// progress returns a progress callback that draws on w if w is a terminal,
// and nil (no progress) otherwise.
func progress(w io.Writer) func(done, total int64) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var last time.Time
	return func(done, total int64) {
		if now := time.Now(); done < total && now.Sub(last) < 200*time.Millisecond {
			return
		} else {
			last = now
		}
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(done) / float64(total)
		}
		fmt.Fprintf(f, "\rreading %.1f of %.1f MB (%3.0f%%)", float64(done)/1e6, float64(total)/1e6, pct)
		if done >= total {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

func verify(ctx context.Context, fsys memory.FS, opts *memory.Options, stdout, stderr io.Writer) int {
	rep, err := memory.Verify(ctx, fsys, opts)
	if err != nil {
		var ce *memory.CorruptionError
		if errors.As(err, &ce) {
			fmt.Fprintf(stdout, "NOT INTACT: %v\n", ce)
			if ce.Torn {
				fmt.Fprintln(stdout, "the damage is a torn tail (an interrupted write): `fmtool repair` fixes it")
			}
			return exitFailed
		}
		fmt.Fprintf(stderr, "fmtool: verify: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "intact: %d segments, %d records, %d bytes\n", rep.Segments, rep.Records, rep.Bytes)
	kinds := make([]memory.Kind, 0, len(rep.ByKind))
	for k := range rep.ByKind {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	width := 0
	for _, k := range kinds {
		width = max(width, len(k.String()))
	}
	for _, k := range kinds {
		fmt.Fprintf(stdout, "  %-*s %d\n", width, k, rep.ByKind[k])
	}
	return exitOK
}

func repair(ctx context.Context, fsys memory.FS, opts *memory.Options, stdout, stderr io.Writer) int {
	rr, err := memory.Repair(ctx, fsys, opts)
	if err != nil {
		var ce *memory.CorruptionError
		if errors.As(err, &ce) {
			fmt.Fprintf(stdout, "REFUSED: the damage is not a torn tail: %v\n", ce)
		} else {
			fmt.Fprintf(stderr, "fmtool: repair: %v\n", err)
		}
		return exitFailed
	}
	if rr.Torn == nil {
		fmt.Fprintln(stdout, "intact: nothing to repair")
		return exitOK
	}
	fmt.Fprintf(stdout, "repaired: %s truncated at offset %d (%s); the original is kept as %s\n",
		rr.Torn.Segment, rr.Torn.Offset, rr.Torn.Reason, rr.CopiedTo)
	return exitOK
}

func yuan(a fiscal.Amount) string { return a.String() }

// addTotals adds the counts and amounts of t to dst (not the per-index ones).
func addTotals(dst *memory.Totals, t memory.Totals) {
	dst.NormalCount += t.NormalCount
	dst.ReturnCount += t.ReturnCount
	dst.VoidCount += t.VoidCount
	dst.Normal += t.Normal
	dst.Return += t.Return
}

func report(ctx context.Context, fsys memory.FS, opts *memory.Options, stdout, stderr io.Writer) int {
	m, err := memory.Open(ctx, fsys, opts)
	if err != nil {
		fmt.Fprintf(stderr, "fmtool: report: %v\n", err)
		return exitFailed
	}
	defer m.Close()
	w := stdout
	if mc, ok := m.Machine(); ok {
		fmt.Fprintf(w, "machine %s (produced %v, hw %s, sw %s)\n", mc.Number, mc.Produced, mc.HardwareVersion, mc.SoftwareVersion)
	}
	if a, ok := m.Application(); ok {
		fmt.Fprintf(w, "taxpayer %s (%s), initialised %v, issuing deadline %v\n", a.TaxpayerName, a.TaxID, a.InitDate, a.Control.Deadline)
	}
	days, err := m.TotalsByDay(ctx, fiscal.Date{}, fiscal.Date{})
	if err != nil {
		fmt.Fprintf(stderr, "fmtool: report: %v\n", err)
		return exitFailed
	}
	// A change of owner during a day leaves one signed record per owner for
	// that day: they add up.
	signed := map[fiscal.Date]*memory.Totals{}
	for _, d := range m.Dailies(fiscal.Date{}, fiscal.Date{}) {
		r := d.Record
		s := signed[r.Date]
		if s == nil {
			s = &memory.Totals{From: r.Date, To: r.Date}
			signed[r.Date] = s
		}
		addTotals(s, memory.Totals{NormalCount: r.NormalCount, ReturnCount: r.ReturnCount, VoidCount: r.VoidCount,
			Normal: r.Normal.Sum(), Return: r.Return.Sum()})
	}
	fmt.Fprintln(w, "\nDaily totals (recomputed from invoices; 'signed' compares with the stored daily record)")
	fmt.Fprintf(w, "%-10s %7s %14s %7s %14s %5s  %s\n", "date", "normal", "amount", "return", "amount", "void", "signed")
	var all memory.Totals
	for _, t := range days {
		mark := "-"
		if r, ok := signed[t.From]; ok {
			if r.NormalCount == t.NormalCount && r.ReturnCount == t.ReturnCount && r.VoidCount == t.VoidCount &&
				r.Normal == t.Normal && r.Return == t.Return {
				mark = "matches"
			} else {
				mark = "DIFFERS"
			}
		}
		fmt.Fprintf(w, "%-10v %7d %14s %7d %14s %5d  %s\n", t.From, t.NormalCount, yuan(t.Normal), t.ReturnCount, yuan(t.Return), t.VoidCount, mark)
		addTotals(&all, t)
	}
	fmt.Fprintf(w, "%-10s %7d %14s %7d %14s %5d\n", "all", all.NormalCount, yuan(all.Normal), all.ReturnCount, yuan(all.Return), all.VoidCount)

	if len(m.Declarations(fiscal.Date{}, fiscal.Date{})) > 0 {
		fmt.Fprintln(w, "\nDeclaration periods (declared vs recomputed)")
	}
	// Each owner declares its own invoices: after a change of owner during a
	// day, the new owner's first period starts on that day without the old
	// owner's invoices of it.
	for app := 0; app <= m.CurrentApplication(); app++ {
		for _, d := range m.DeclarationsOf(app, fiscal.Date{}, fiscal.Date{}) {
			var t memory.Totals
			err := m.EachInvoiceOf(ctx, app, d.Data.Start, d.Data.End, func(v memory.Invoice) error { t.Add(v); return nil })
			if err != nil {
				fmt.Fprintf(stderr, "fmtool: report: %v\n", err)
				return exitFailed
			}
			fmt.Fprintf(w, "%v..%v declared %v: normal %d / %s, return %d / %s; recomputed normal %d / %s, return %d / %s\n",
				d.Data.Start, d.Data.End, d.Date,
				d.Data.NormalCount, yuan(d.Data.Normal.Sum()), d.Data.ReturnCount, yuan(d.Data.Return.Sum()),
				t.NormalCount, yuan(t.Normal), t.ReturnCount, yuan(t.Return))
		}
	}
	if ups := m.ControlUpdates(); len(ups) > 0 {
		fmt.Fprintln(w, "\nControl updates")
		for _, u := range ups {
			c := u.Control
			fmt.Fprintf(w, "%s deadline %v, single limit %s, cumulative limit %s, return limit %s\n",
				u.Time.In(fiscal.Zone()).Format(time.DateTime), c.Deadline, yuan(c.SingleLimit), yuan(c.TotalLimit), yuan(c.ReturnLimit))
		}
	}
	if c, ok := m.Controls(); ok {
		fmt.Fprintf(w, "controls in force: deadline %v, single limit %s, cumulative limit %s, return limit %s\n",
			c.Deadline, yuan(c.SingleLimit), yuan(c.TotalLimit), yuan(c.ReturnLimit))
	}
	if ws := m.WaitingRolls(); len(ws) > 0 {
		fmt.Fprintln(w, "\nDistributed rolls waiting to be loaded")
		for _, r := range ws {
			fmt.Fprintf(w, "%s %d-%d distributed %s\n", r.Roll.Code, r.Roll.Start, r.Roll.End, r.Time.In(fiscal.Zone()).Format(time.DateTime))
		}
	}
	st := m.Stats()
	fmt.Fprintln(w, "\nFill level")
	width := 0
	for _, k := range st.Kinds {
		if k.Capacity > 0 && k.Count > 0 {
			width = max(width, len(k.Kind.String()))
		}
	}
	for _, k := range st.Kinds {
		if k.Capacity > 0 && k.Count > 0 {
			fmt.Fprintf(w, "  %-*s %d of %d\n", width, k.Kind, k.Counted, k.Capacity)
		}
	}
	for _, wr := range st.Warnings {
		fmt.Fprintf(w, "WARNING: %v\n", wr)
	}
	if ins := m.OpenIntents(); len(ins) > 0 {
		ops := make([]string, len(ins))
		for i, in := range ins {
			ops[i] = fmt.Sprintf("%s#%d", in.Op, in.ID)
		}
		fmt.Fprintf(w, "open intents (recovery pending): %s\n", strings.Join(ops, ", "))
	}
	return exitOK
}

// hasSegments reports whether fsys holds at least one segment file
// (NNNNNNNN.seg, see fiscal/memory's format).
func hasSegments(fsys memory.FS) (bool, error) {
	names, err := fsys.List()
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if base, ok := strings.CutSuffix(n, ".seg"); ok && len(base) == 8 && strings.Trim(base, "0123456789") == "" {
			return true, nil
		}
	}
	return false, nil
}
