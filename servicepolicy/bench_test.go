package servicepolicy

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchData is a province-sized reference set: 20 units, 4,000 customers in
// every zone, 4,000 machines, 40 technicians.
func benchData() *Dataset {
	d := &Dataset{}
	zones := []Zone{ZoneUrban, ZoneUrban, ZoneSuburban, ZoneCounty, ZoneRemote, ZoneSpecial}
	for u := 0; u < 20; u++ {
		d.Units = append(d.Units, Unit{ID: fmt.Sprint("U", u), Authorised: Date{2020, 1, 1}})
		for k := 0; k < 2; k++ {
			d.Technicians = append(d.Technicians, Technician{ID: fmt.Sprint("T", u, "-", k), Unit: fmt.Sprint("U", u),
				Certificates: []Certificate{{Number: "C", Issued: Date{2024, 1, 1}, Expires: Date{2027, 6, 30}}}})
		}
	}
	for c := 0; c < 4000; c++ {
		id := fmt.Sprint("C", c)
		d.Customers = append(d.Customers, Customer{ID: id, Unit: fmt.Sprint("U", c%20), Zone: zones[c%len(zones)], UserCard: id})
		d.Machines = append(d.Machines, Machine{Serial: "M" + id, Customer: id, Paid: at("2025-03-01 10:00").Add(time.Duration(c) * time.Hour), FiscalCard: "F" + id})
	}
	return d
}

// ticketGen fills tickets in place with a realistic mix of outcomes over
// 2025-2026, across 春节 and 国庆.
type ticketGen struct {
	rng  *rand.Rand
	d    *Dataset
	next int
}

func (g *ticketGen) fill(t *Ticket) {
	r := g.rng
	g.next++
	c := &g.d.Customers[r.IntN(len(g.d.Customers))]
	tech := fmt.Sprint("T", c.Unit[1:], "-", r.IntN(2))
	open := at("2025-01-01 00:00").Add(time.Duration(r.Int64N(int64(680 * 24 * time.Hour))))
	m := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo)) * time.Minute }
	t.ID, t.Unit, t.Customer, t.Machine = "K", c.Unit, c.ID, "M"+c.ID
	t.ProofOfPurchase, t.Charged, t.Damage = r.IntN(10) > 0, r.IntN(20) == 0, ""
	evs := append(t.Events[:0], Event{Kind: EvOpened, At: open})
	switch p := r.IntN(100); {
	case p < 10:
		evs = append(evs, Event{Kind: EvResolvedByPhone, At: open.Add(m(5, 40))})
	default:
		arr := open.Add(m(20, 180))
		evs = append(evs, Event{Kind: EvDispatched, At: open.Add(m(1, 15)), Technician: tech}, Event{Kind: EvArrived, At: arr, Technician: tech})
		switch {
		case p < 20:
			evs = append(evs, Event{Kind: EvPartOrdered, At: arr.Add(m(10, 60))}, Event{Kind: EvPartReplaced, At: arr.Add(m(600, 2400))}, Event{Kind: EvFixed, At: arr.Add(m(620, 2500))})
		case p < 25:
			evs = append(evs, Event{Kind: EvEstimate, At: arr.Add(m(30, 60)), Estimate: DaysSpan(4)}, Event{Kind: EvCarriedIn, At: arr.Add(m(60, 90))},
				Event{Kind: EvLoanerOut, At: arr.Add(m(70, 200))}, Event{Kind: EvFixed, At: arr.Add(m(3000, 6000))})
		case p < 28:
			evs = append(evs, Event{Kind: EvException, At: arr.Add(m(10, 30)), Reason: "board fault", Plan: "escalate"}, Event{Kind: EvEscalated, At: arr.Add(m(60, 900))})
		case p < 95:
			evs = append(evs, Event{Kind: EvFixed, At: arr.Add(m(15, 200))})
		}
	}
	t.Events = evs
}

// BenchmarkEvaluateTickets evaluates tickets against the seed policy (29
// commitments, working-time ones included), one ticket per iteration. Run
// it on one million tickets with
//
//	go test -run='^$' -bench=EvaluateTickets -benchtime=1000000x ./servicepolicy
//
// Tickets are generated in chunks of 10,000 outside the timer.
func BenchmarkEvaluateTickets(b *testing.B) {
	d := benchData()
	ix := NewIndex(d)
	cal := newCal(b)
	if err := cal.Load(2025, 2026, 2027); err != nil {
		b.Fatal(err)
	}
	e, err := NewEvaluator(SeedPolicy(), cal)
	if err != nil {
		b.Fatal(err)
	}
	g := &ticketGen{rng: rand.New(rand.NewPCG(7, 9)), d: d}
	const chunk = 10_000
	tickets := make([]Ticket, chunk)
	now := at("2026-11-20 12:00")
	var dst []Finding
	findings, breaches := 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%chunk == 0 {
			b.StopTimer()
			for j := range tickets {
				g.fill(&tickets[j])
			}
			b.StartTimer()
		}
		dst, err = e.EvaluateTicket(ix, &tickets[i%chunk], now, dst[:0])
		if err != nil {
			b.Fatal(err)
		}
		findings += len(dst)
		for k := range dst {
			if dst[k].State == Breached {
				breaches++
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64(findings)/float64(b.N), "findings/ticket")
	b.ReportMetric(float64(breaches)/float64(b.N), "breaches/ticket")
}

// BenchmarkAddWorkingTime measures one working-time addition on a loaded
// calendar.
func BenchmarkAddWorkingTime(b *testing.B) {
	b.Run("one-window", func(b *testing.B) { benchAdd(b, newCal(b)) })
	b.Run("lunch-break", func(b *testing.B) { benchAdd(b, lunchCal(b)) })
}

func benchAdd(b *testing.B, cal *Calendar) {
	if err := cal.Load(2025, 2026, 2027); err != nil {
		b.Fatal(err)
	}
	start := at("2025-01-20 16:30")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := cal.AddWorkingTime(start.Add(time.Duration(i%500)*time.Hour), 37*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
