// Command servicedesk evaluates a month of a small service point's records
// (bundled, made up for the example) against the seed's service commitments
// and prints the compliance summary, the callback schedule, the monthly
// maintenance report for the local tax office (A11) and the complaint
// archive (A3).
//
//	go run ./examples/servicedesk          # text
//	go run ./examples/servicedesk -csv     # the two reports as CSV
//	go run ./examples/servicedesk -policy examples/servicedesk/data/stricter-policy.json
//	go run ./examples/servicedesk -data records.json -policy policy.json -now 2026-11-30T20:00:00+08:00
//
// The output is deterministic: "now" is fixed at 30 November 2026, 20:00 CST
// unless -now is given; the reports cover the calendar month that contains
// "now" (in China time), judging only what happened by then.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fiscalkit/gb18240/servicepolicy"
)

//go:embed data/november-2026.json
var sample []byte

type options struct {
	data, policy string
	now          string
	csv          bool
}

func main() {
	var o options
	flag.StringVar(&o.data, "data", "", "service records (JSON); default: the bundled November 2026 sample")
	flag.StringVar(&o.policy, "policy", "", "policy file (JSON); default: the seed policy")
	flag.StringVar(&o.now, "now", "2026-11-30T20:00:00+08:00", "evaluation time (RFC 3339); the reports cover the calendar month (China time) that contains it")
	flag.BoolVar(&o.csv, "csv", false, "print the reports as CSV")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "servicedesk: unexpected argument %q (records are given with -data FILE)\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := run(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "servicedesk:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, o options) error {
	data := sample
	if o.data != "" {
		b, err := os.ReadFile(o.data)
		if err != nil {
			return err
		}
		data = b
	}
	d, err := servicepolicy.ParseDataset(data)
	if err != nil {
		return err
	}
	policy := servicepolicy.SeedPolicy()
	if o.policy != "" {
		b, err := os.ReadFile(o.policy)
		if err != nil {
			return err
		}
		if policy, err = servicepolicy.ParsePolicy(b); err != nil {
			return err
		}
	}
	now, err := time.Parse(time.RFC3339, o.now)
	if err != nil {
		return fmt.Errorf("-now: %w", err)
	}
	now = now.In(servicepolicy.CST())
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, servicepolicy.CST())
	to := from.AddDate(0, 1, 0)

	e, err := servicepolicy.NewEvaluator(policy, nil)
	if err != nil {
		return err
	}
	ev, err := e.Evaluate(d, now)
	if err != nil {
		return err
	}
	ix := servicepolicy.NewIndex(d)
	summary := e.Summarize(ev, "", from, to)

	if o.csv {
		if err := summary.WriteCSV(w); err != nil {
			return err
		}
		fmt.Fprintln(w)
		for _, u := range d.Units {
			r, err := e.MaintenanceReport(ix, ev, u.ID, from, to)
			if err != nil {
				return err
			}
			if len(r.Rows) == 0 {
				continue
			}
			if err := r.WriteCSV(w); err != nil {
				return err
			}
		}
		return nil
	}

	if err := summary.WriteText(w); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nCallback schedule (A6/A7) at %s:\n", now.Format("2006-01-02 15:04"))
	for _, c := range d.Customers {
		p, err := e.CallbackPlan(ix, c.ID, now)
		if err != nil {
			return err
		}
		state := "ok"
		if p.Overdue {
			state = "OVERDUE"
		}
		fmt.Fprintf(w, "  %s %-8s %d phone, %d on site; next due %s %s", c.ID, c.Zone, len(p.Phone), len(p.OnSite), p.NextDue.Format(time.DateOnly), state)
		for _, g := range p.Gaps {
			end := g.To.Format(time.DateOnly)
			if g.Open {
				end = "now"
			}
			fmt.Fprintf(w, "; gap %s..%s (allowed %s)", g.From.Format(time.DateOnly), end, g.Allowed)
		}
		fmt.Fprintln(w)
	}

	for _, u := range d.Units {
		r, err := e.MaintenanceReport(ix, ev, u.ID, from, to)
		if err != nil {
			return err
		}
		if len(r.Rows) == 0 {
			continue
		}
		fmt.Fprintln(w)
		if err := r.WriteText(w); err != nil {
			return err
		}
	}

	for _, u := range d.Units {
		a := e.Complaints(ix, ev, u.ID)
		if len(a.Entries) == 0 {
			continue
		}
		fmt.Fprintln(w)
		if err := a.WriteText(w); err != nil {
			return err
		}
	}
	return nil
}
