package emulator

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// benchCmds runs op b.N times and reports emulator commands per second;
// op returns how many Transmit calls it made.
func benchCmds(b *testing.B, op func(i int) int) {
	b.Helper()
	cmds := 0
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		cmds += op(i)
	}
	if s := time.Since(start).Seconds(); s > 0 && cmds > 0 {
		b.ReportMetric(float64(cmds)/s, "cmds/s")
		b.ReportMetric(float64(cmds)/float64(b.N), "cmds/op")
	}
}

// BenchmarkIssueInvoice: ISSUE_INVOICE through the raw Transmitter, T=0
// (command + GET RESPONSE) and T=1 style.
func BenchmarkIssueInvoice(b *testing.B) {
	for _, mode := range []struct {
		name string
		t1   bool
	}{{"T0", false}, {"T1", true}} {
		b.Run(mode.name, func(b *testing.B) {
			cs, _ := initSet(b, func(o *IssueOptions) {
				o.Options.T1 = mode.t1
				o.Rolls = []PurchasedRoll{{Code: [10]byte([]byte("1440000000")), Start: 1, End: 4_000_000_000}}
			})
			f := cs.Fiscal
			ctx := context.Background()
			get := []byte{0x00, 0xC0, 0x00, 0x00, 0x08}
			benchCmds(b, func(i int) int {
				cmd, _ := prop(card.INSIssueInvoice, invoice(d(2026, 11, 26), 1, uint32(i+1), line{1, 100}), 8).Bytes()
				resp, err := f.Transmit(ctx, cmd)
				if err != nil {
					b.Fatal(err)
				}
				if mode.t1 {
					if resp[len(resp)-2] != 0x90 {
						b.Fatalf("% X", resp)
					}
					return 1
				}
				if resp, err = f.Transmit(ctx, get); err != nil || len(resp) != 10 {
					b.Fatalf("% X %v", resp, err)
				}
				return 2
			})
		})
	}
}

// BenchmarkReadBinary: a 76-byte READ BINARY by SFI, T=1 style.
func BenchmarkReadBinary(b *testing.B) {
	cs, _ := initSet(b, func(o *IssueOptions) { o.Options.T1 = true })
	f := cs.Fiscal
	ctx := context.Background()
	cmd := []byte{0x00, 0xB0, 0x83, 0x00, 0x4C}
	benchCmds(b, func(int) int {
		if resp, err := f.Transmit(ctx, cmd); err != nil || len(resp) != 78 {
			b.Fatalf("% X %v", resp, err)
		}
		return 1
	})
}

// BenchmarkDailyCollectSign: the check of a daily record against the
// card's own accumulation (EF03, after one invoice) and its RSA-1024
// signature (TEST profile), T=1 style.
func BenchmarkDailyCollectSign(b *testing.B) {
	cs, _ := initSet(b, func(o *IssueOptions) { o.Options.T1 = true })
	f := cs.Fiscal
	ctx := context.Background()
	if _, sw := do(b, f, prop(card.INSIssueInvoice, invoice(d(2026, 11, 26), 1, 1, line{1, 100}), 8)); sw != card.SWOK {
		b.Fatalf("ISSUE_INVOICE: %v", sw)
	}
	rec := readBinary(b, f, 3, 76)[:64]
	cmd, _ := prop(card.INSDailyCollectSign, fiscal.AppendXOR(bytes.Clone(rec)), 0x81).Bytes()
	benchCmds(b, func(int) int {
		if resp, err := f.Transmit(ctx, cmd); err != nil || len(resp) != 131 {
			b.Fatalf("% X %v", resp, err)
		}
		return 1
	})
}

// BenchmarkSaveFile: SaveFile of an initialised fiscal card (temporary
// file, fsync, rename, directory fsync) on the test's temporary directory.
func BenchmarkSaveFile(b *testing.B) {
	cs, _ := initSet(b, nil)
	path := filepath.Join(b.TempDir(), "fiscal.card")
	for b.Loop() {
		if err := cs.Fiscal.SaveFile(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveLoad: MarshalBinary + Load of an initialised fiscal card.
func BenchmarkSaveLoad(b *testing.B) {
	cs, _ := initSet(b, nil)
	p := cs.Profile
	var size int
	for b.Loop() {
		s, err := cs.Fiscal.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		size = len(s)
		if _, err := Load(s, Options{Profile: p}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "bytes/state")
}
