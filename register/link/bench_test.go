package link_test

import (
	"context"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
)

// benchLine runs a server for h on a pipe and returns a client with one
// invoice already issued (so the client knows the next number).
func benchLine(b *testing.B, h link.Handler, opts *linktest.PipeOptions) (*link.Client, *linktest.End) {
	b.Helper()
	a, d := linktest.Pipe(opts)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(func() { cancel(); a.Close() })
	go link.NewServer(h, nil).Serve(ctx, d)
	c := link.NewClient(a, &link.ClientOptions{ReplyTimeout: 5 * time.Second})
	if _, err := c.CurrentInvoice(ctx); err != nil {
		b.Fatal(err)
	}
	if cur, _ := c.CurrentInvoice(ctx); cur.Next == 0 {
		if _, err := c.DistributeRoll(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := c.LoadRoll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if res, err := c.IssueNormal(ctx, tenLine()); err != nil || res.Outcome != link.Done {
		b.Fatal(res, err)
	}
	return c, a
}

func issueLoop(b *testing.B, c *link.Client) {
	ctx := context.Background()
	for b.Loop() {
		res, err := c.IssueNormal(ctx, tenLine())
		if err != nil || res.Outcome != link.Done || res.Sends != 1 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkInvoice9600 issues 10-line invoices over a line that enforces
// 9600 baud 8N1 (10 bits a byte) in each direction, and compares the time
// per invoice with the pure wire time of the bytes exchanged: once to the
// in-memory register, once to the register engine on emulated cards and an
// in-memory fiscal memory (linktest.Device).
func BenchmarkInvoice9600(b *testing.B) {
	const baud = 9600
	b.Run("register", func(b *testing.B) {
		c, _ := benchLine(b, linktest.NewRegister(&linktest.RegisterOptions{RollSize: 1 << 20}), &linktest.PipeOptions{Baud: baud})
		measure9600(b, c, baud, nil)
	})
	b.Run("engine", func(b *testing.B) {
		d, err := linktest.NewDevice(context.Background(), &linktest.DeviceOptions{Rolls: 100})
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		c, _ := benchLine(b, d.Handler(), &linktest.PipeOptions{Baud: baud})
		measure9600(b, c, baud, func() {
			// roll used up: load the next one, outside the measurement
			ctx := context.Background()
			b.StopTimer()
			c.DistributeRoll(ctx)
			c.LoadRoll(ctx)
			b.StartTimer()
		})
	})
}

// measure9600 issues invoices and reports bytes, exchanges, wire time and
// time per invoice. refill, if set, is called once when an invoice fails
// (a used-up roll) before it is tried again.
func measure9600(b *testing.B, c *link.Client, baud float64, refill func()) {
	ctx := context.Background()
	req := tenLine()
	for i := range req.Items {
		req.Items[i].UnitPrice = 1 // stay far below the engine's cumulative limit
	}
	s0 := c.Stats()
	var elapsed time.Duration
	start := time.Now()
	for b.Loop() {
		res, err := c.IssueNormal(ctx, req)
		if err != nil && refill != nil {
			elapsed += time.Since(start)
			refill()
			start = time.Now()
			res, err = c.IssueNormal(ctx, req)
		}
		if err != nil || res.Outcome != link.Done || res.Sends != 1 {
			b.Fatal(res, err)
		}
	}
	elapsed += time.Since(start)
	s1 := c.Stats()
	n := float64(b.N)
	bytes := float64(s1.BytesOut-s0.BytesOut+s1.BytesIn-s0.BytesIn) / n
	wire := bytes * 10 / baud // seconds
	per := elapsed.Seconds() / n
	b.ReportMetric(bytes, "bytes/invoice")
	b.ReportMetric(float64(s1.Exchanges-s0.Exchanges)/n, "exchanges/invoice")
	b.ReportMetric(wire*1000, "wire-ms/invoice")
	b.ReportMetric(per*1000, "ms/invoice")
	b.ReportMetric(per/wire, "x-wire")
}

// BenchmarkInvoiceCPU issues 10-line invoices on an unthrottled in-memory
// line to the in-memory register: the client's and the server's CPU per
// invoice (both run in this process; cpu-us/invoice is user+system time).
func BenchmarkInvoiceCPU(b *testing.B) {
	c, _ := benchLine(b, linktest.NewRegister(&linktest.RegisterOptions{RollSize: 1 << 24}), nil)
	cpu0, ok := cpuTime()
	issueLoop(b, c)
	if cpu1, ok2 := cpuTime(); ok && ok2 {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-us/invoice")
	}
}

// BenchmarkInvoiceDevice is BenchmarkInvoiceCPU against the register
// engine on emulated cards and an in-memory fiscal memory (the engine's and
// the card emulator's work included).
func BenchmarkInvoiceDevice(b *testing.B) {
	d, err := linktest.NewDevice(context.Background(), &linktest.DeviceOptions{Rolls: 100})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	c, _ := benchLine(b, d.Handler(), nil)
	cpu0, ok := cpuTime()
	n := 0
	ctx := context.Background()
	req := tenLine()
	for i := range req.Items {
		req.Items[i].UnitPrice = 1 // stay far below the cumulative limit
	}
	for b.Loop() {
		res, err := c.IssueNormal(ctx, req)
		if err != nil && n > 0 {
			// roll used up: load the next one outside the measurement
			b.StopTimer()
			c.DistributeRoll(ctx)
			c.LoadRoll(ctx)
			b.StartTimer()
			res, err = c.IssueNormal(ctx, req)
		}
		if err != nil || res.Outcome != link.Done {
			b.Fatal(res, err)
		}
		n++
	}
	if cpu1, ok2 := cpuTime(); ok && ok2 {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-us/invoice")
	}
}
