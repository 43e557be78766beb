package memory

import (
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

var fullStore struct {
	once  sync.Once
	dir   string
	bytes int64
	recs  int
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fullStore.dir != "" {
		os.RemoveAll(fullStore.dir)
	}
	os.Exit(code)
}

// buildFull fills a directory to the default capacity of every kind, with
// batch commits (1000 records, one sync each), once per test binary.
func buildFull(b *testing.B) (string, int64, int) {
	fullStore.once.Do(func() {
		dir, err := os.MkdirTemp("", "fiscal-memory-bench-")
		if err != nil {
			fullStore.err = err
			return
		}
		fullStore.dir = dir
		m, err := OpenDir(ctx, dir, nil)
		if err != nil {
			fullStore.err = err
			return
		}
		defer m.Close()
		c := DefaultCapacity()
		start := fiscal.MustDate(2026, 1, 1)
		batch := new(Batch)
		n := 0
		flush := func(force bool) {
			if fullStore.err != nil || (batch.Len() < 1000 && !force) {
				return
			}
			fullStore.err = m.Commit(ctx, batch)
			batch = new(Batch)
		}
		add := func(f func(*Batch)) {
			f(batch)
			n++
			flush(false)
		}
		batch.Initialise(testApp("满"))
		n++
		perDay := c.Invoices / c.Daily
		num := uint32(0)
		for d := 0; d < c.Daily; d++ {
			dt := start.AddDays(d)
			for i := 0; i <= perDay && int(num) < c.Invoices; i++ {
				num++
				add(func(b *Batch) { b.AddInvoice(testInvoice(num, dt, fiscal.InvoiceNormal, fiscal.Amount(100+i))) })
			}
			add(func(b *Batch) { b.AddDaily(testDaily(dt)) })
		}
		for i := 0; i < c.Declarations; i++ {
			add(func(b *Batch) {
				b.AddDeclaration(Declaration{Date: start.AddDays(6*i + 6), Data: fiscal.Declaration{Start: start.AddDays(6 * i), End: start.AddDays(6*i + 5)}})
			})
		}
		for i := 0; i < c.RollLoads; i++ {
			r := fiscal.Roll{Code: testCode, Start: uint32(1000*i + 1), End: uint32(1000*i + 1000)}
			add(func(b *Batch) { b.AddRollLoad(RollLoad{Roll: r, Loaded: start.Time()}) })
			add(func(b *Batch) { b.AddRollUsage(RollUsage{Roll: r, NormalCount: 300, First: start, Last: start}) })
		}
		for i := 0; i < c.Security; i++ {
			add(func(b *Batch) {
				b.LogSecurity(SecurityEvent{Time: start.Time(), Type: SecInspection, Text: "inspection by check card"})
			})
		}
		flush(true)
		fullStore.recs = n
		names, _ := os.ReadDir(dir)
		for _, e := range names {
			if fi, err := e.Info(); err == nil {
				fullStore.bytes += fi.Size()
			}
		}
	})
	if fullStore.err != nil {
		b.Fatal(fullStore.err)
	}
	return fullStore.dir, fullStore.bytes, fullStore.recs
}

// plainReadCRC reads every file of dir sequentially and computes its
// CRC32-C: the floor any verification of the same bytes has to pay.
func plainReadCRC(dir string) (uint32, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var crc uint32
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, err
		}
		crc = crc32.Update(crc, castagnoli, b)
	}
	return crc, nil
}

// BenchmarkOpenVerifyFull times Open and Verify of a memory filled to the
// default capacity of every kind, and a plain sequential read + CRC32-C of
// the same files in the same loop, and reports their throughput and ratio.
// It also times Verify with DeepVerify (every text field decoded).
func BenchmarkOpenVerifyFull(b *testing.B) {
	dir, size, recs := buildFull(b)
	fsys := &DirFS{Dir: dir}
	var tPlain, tOpen, tVerify, tDeep time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := plainReadCRC(dir); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		m, err := Open(ctx, fsys, nil)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := m.Verify(ctx); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		m.Close()
		if _, err := Verify(ctx, fsys, &Options{DeepVerify: true}); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		tPlain += t1.Sub(t0)
		tOpen += t2.Sub(t1)
		tVerify += t3.Sub(t2)
		tDeep += t4.Sub(t3)
	}
	mb := float64(size) / 1e6 * float64(b.N)
	b.ReportMetric(float64(size)/1e6, "store-MB")
	b.ReportMetric(float64(recs), "records")
	b.ReportMetric(mb/tPlain.Seconds(), "plain-MB/s")
	b.ReportMetric(mb/tOpen.Seconds(), "open-MB/s")
	b.ReportMetric(mb/tVerify.Seconds(), "verify-MB/s")
	b.ReportMetric(tOpen.Seconds()/tPlain.Seconds(), "open/plain")
	b.ReportMetric(tVerify.Seconds()/tPlain.Seconds(), "verify/plain")
	b.ReportMetric(mb/tDeep.Seconds(), "deep-verify-MB/s")
}

// BenchmarkAppendDurable appends invoices to a directory with a sync per
// commit: one invoice per commit, and batches of 10.
func BenchmarkAppendDurable(b *testing.B) {
	for _, per := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", per), func(b *testing.B) {
			m, err := OpenDir(ctx, b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			s0 := m.Stats()
			num := uint32(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch := new(Batch)
				for j := 0; j < per; j++ {
					num++
					batch.AddInvoice(testInvoice(num, day(0), fiscal.InvoiceNormal, 500))
				}
				if err := m.Commit(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			s := m.Stats()
			recs := float64(s.RecordsWritten - s0.RecordsWritten)
			b.ReportMetric(float64(s.Syncs-s0.Syncs)/recs, "syncs/record")
			b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkOpenOnlyFull times Open alone on the full memory of buildFull.
func BenchmarkOpenOnlyFull(b *testing.B) {
	dir, size, _ := buildFull(b)
	fsys := &DirFS{Dir: dir}
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := Open(ctx, fsys, nil)
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}

// BenchmarkPlainFull is the plain read + CRC32-C floor for the same files.
func BenchmarkPlainFull(b *testing.B) {
	dir, size, _ := buildFull(b)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plainReadCRC(dir)
	}
}

// BenchmarkOpenRequests times Open of a memory of invoices each stored with
// a request id (an invoice record and a request record per invoice, as
// register writes them), and reports the time per request record.
func BenchmarkOpenRequests(b *testing.B) {
	const n = 20000
	fsys := NewMemFS()
	m, err := Open(ctx, fsys, nil)
	if err != nil {
		b.Fatal(err)
	}
	batch := new(Batch)
	for i := 1; i <= n; i++ {
		v := testInvoice(uint32(i), fiscal.MustDate(2026, 1, 1), fiscal.InvoiceNormal, 100)
		v.RequestID = uint64(i)<<8 | 1
		batch.AddInvoice(v)
		if batch.Len() >= 1000 || i == n {
			if err := m.Commit(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = new(Batch)
		}
	}
	m.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := Open(ctx, fsys, nil)
		if err != nil {
			b.Fatal(err)
		}
		if m.InvoiceCount() != n {
			b.Fatalf("%d invoices", m.InvoiceCount())
		}
		m.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/invoice+request")
}

// BenchmarkPeekInvoice times the replay's check of one invoice payload with
// two lines (peekInvoiceInto: shape, date, fields and the content rules
// that need no text).
func BenchmarkPeekInvoice(b *testing.B) {
	p, err := testInvoice(7, fiscal.MustDate(2026, 1, 1), fiscal.InvoiceNormal, 100).appendPayload(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var v invoicePeek
		if err := peekInvoiceInto(&v, p); err != nil {
			b.Fatal(err)
		}
	}
}
