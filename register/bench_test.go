package register_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

func bigRoll(o *emulator.IssueOptions) {
	o.Rolls = []emulator.PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 5_000_000, Rolls: 1}}
	o.Controls.TotalLimit = fiscal.MaxCardAmount
}

// benchRig sets up a register with one large roll on fsys.
func benchRig(b *testing.B, fsys memory.FS, t1 bool) *rig {
	cs, err := emulator.Issue(issueOpts(func(o *emulator.IssueOptions) { bigRoll(o); o.Options.T1 = t1 }))
	if err != nil {
		b.Fatal(err)
	}
	r := &rig{t: b, cs: cs, fs: fsys, clock: &fakeClock{t: day0}}
	r.open(fsys)
	r.setup()
	return r
}

// BenchmarkIssue measures in-process invoices per second with the
// emulated fiscal card, APDU exchanges and fiscal-memory syncs per invoice,
// on an in-memory store and on a durable store in a temporary directory.
func BenchmarkIssue(b *testing.B) {
	for _, tc := range []struct {
		name    string
		durable bool
		t1      bool
		reqID   bool // each invoice with its own request id
	}{{"mem/T0", false, false, false}, {"mem/T1", false, true, false}, {"disk/T0", true, false, false},
		{"disk/T0/request-id", true, false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			var fsys memory.FS = memory.NewMemFS()
			dir := ""
			if tc.durable {
				dir = b.TempDir()
				d, err := memory.NewDirFS(dir)
				if err != nil {
					b.Fatal(err)
				}
				fsys = d
			}
			r := benchRig(b, fsys, tc.t1)
			ctx := context.Background()
			req := sale(100)
			apdus0, syncs0, bytes0 := r.apdus, r.mem.Stats().Syncs, segBytes(b, dir)
			// On a durable store the machine's sync rate is probed in
			// slices interleaved with the invoices, so both see the same
			// disk conditions (a shared machine's disk is noisy).
			var probe *syncProbe
			if tc.durable {
				probe = newSyncProbe(b)
				defer probe.close()
			}
			var issueTime time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; {
				n := min(50, b.N-i)
				start := time.Now()
				for j := 0; j < n; j++ {
					if tc.reqID {
						req.RequestID = uint64(i + j + 1)
					}
					if _, err := r.dev.Issue(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
				issueTime += time.Since(start)
				i += n
				if probe != nil {
					b.StopTimer()
					probe.run(b, 2*n)
					b.StartTimer()
				}
			}
			b.StopTimer()
			syncs := float64(r.mem.Stats().Syncs-syncs0) / float64(b.N)
			b.ReportMetric(float64(r.apdus-apdus0)/float64(b.N), "apdus/invoice")
			b.ReportMetric(syncs, "syncs/invoice")
			rate := float64(b.N) / issueTime.Seconds()
			b.ReportMetric(rate, "invoices/s")
			if dir != "" {
				b.ReportMetric(float64(segBytes(b, dir)-bytes0)/float64(b.N), "storage-bytes/invoice")
			}
			if probe != nil {
				fr := probe.rate()
				b.ReportMetric(fr, "fdatasync/s")
				b.ReportMetric(rate/(fr/syncs), "ratio-to-sync-bound")
			}
		})
	}
}

// segBytes returns the size of the fiscal memory's segment files in dir
// ("" for none).
func segBytes(b *testing.B, dir string) int64 {
	if dir == "" {
		return 0
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".seg" {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			b.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// syncProbe measures the machine's rate of small appends each followed by
// fdatasync(2), in the benchmark's temporary directory.
type syncProbe struct {
	f    *os.File
	buf  []byte
	n    int
	took time.Duration
}

func newSyncProbe(b *testing.B) *syncProbe {
	f, err := os.Create(filepath.Join(b.TempDir(), "sync-probe"))
	if err != nil {
		b.Fatal(err)
	}
	return &syncProbe{f: f, buf: make([]byte, 256)}
}

func (p *syncProbe) run(b *testing.B, n int) {
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := p.f.Write(p.buf); err != nil {
			b.Fatal(err)
		}
		if err := datasync(p.f); err != nil {
			b.Fatal(err)
		}
	}
	p.took += time.Since(start)
	p.n += n
}

func (p *syncProbe) rate() float64 { return float64(p.n) / p.took.Seconds() }

func (p *syncProbe) close() { p.f.Close() }

// BenchmarkDailyClose measures a daily close of an empty day (one
// VERIFY_FISCAL_PIN + DAILY_COLLECT_SIGN, RSA-1024 in the emulator).
func BenchmarkDailyClose(b *testing.B) {
	r := benchRig(b, memory.NewMemFS(), false)
	ctx := context.Background()
	if b.N > 1500 {
		b.Fatalf("b.N %d: more days than the daily capacity; use -benchtime 1000x", b.N)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.clock.AddDays(1)
		if err := r.dev.CloseDay(ctx, fiscal.DateOf(r.clock.Now())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeriodReport measures a period report over 30 closed days of 100
// invoices each (3 000 invoices), recomputed from fiscal memory and
// cross-checked against the 30 signed daily records.
func BenchmarkPeriodReport(b *testing.B) {
	r := benchRig(b, memory.NewMemFS(), true)
	ctx := context.Background()
	from := fiscal.DateOf(r.clock.Now())
	const days, perDay = 30, 100
	for d := 0; d < days; d++ {
		for i := 0; i < perDay; i++ {
			if _, err := r.dev.Issue(ctx, sale(fiscal.Amount(100+i))); err != nil {
				b.Fatal(err)
			}
		}
		r.clock.AddDays(1)
	}
	to := from.AddDays(days - 1)
	r.must(r.dev.CloseDay(ctx, to))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := r.dev.PeriodReport(ctx, from, to)
		if err != nil || rep.Mismatch || rep.ClosedDays != days || rep.Computed.NormalCount != days*perDay {
			b.Fatalf("%v %+v", err, rep)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(days*perDay)*1000, "ns/invoice")
}
