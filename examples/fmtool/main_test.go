package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	m, err := memory.OpenDir(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := fiscal.ParseInvoiceCode("1440012345")
	d0 := fiscal.MustDate(2026, 3, 1)
	for i := 0; i < 6; i++ {
		v := memory.Invoice{
			Detail:  fiscal.InvoiceDetail{Date: d0.AddDays(i / 3), Type: fiscal.InvoiceNormal, Number: uint32(i + 1), Total: 1000},
			Code:    code,
			Indexes: fiscal.TaxIndexes{1},
			Amounts: fiscal.TaxAmounts{1000},
		}
		if err := m.AddInvoice(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	rec := fiscal.DailyRecord{Date: d0, NormalCount: 3, Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{3000}}
	if err := m.AddDaily(ctx, memory.Daily{Record: rec}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	return dir
}

func runTool(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommands(t *testing.T) {
	dir := build(t)
	if code, out, errs := runTool("verify", dir); code != 0 || !strings.Contains(out, "intact: 1 segments, 7 records") || errs != "" {
		t.Errorf("verify: %d %q, stderr %q (progress must stay off when stderr is not a terminal)", code, out, errs)
	}
	code, out, _ := runTool("export", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 7 {
		t.Fatalf("export: %d, %d lines", code, len(lines))
	}
	var o map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &o); err != nil || o["kind"] != "invoice" || o["code"] != "1440012345" || o["total"] != 1000.0 {
		t.Errorf("export line 0: %v %v", o, err)
	}
	code, out, _ = runTool("report", dir)
	if code != 0 || !strings.Contains(out, "2026-03-01       3          30.00") || !strings.Contains(out, "matches") ||
		!strings.Contains(out, "all              6          60.00") {
		t.Errorf("report: %d\n%s", code, out)
	}
	if code, _, _ := runTool("repair", dir); code != 0 {
		t.Errorf("repair of intact: %d", code)
	}
}

func TestCorruptAndTorn(t *testing.T) {
	dir := build(t)
	seg := filepath.Join(dir, "00000001.seg")
	b, _ := os.ReadFile(seg)

	// A torn tail: verify fails and names it, repair fixes it.
	os.WriteFile(seg, b[:len(b)-3], 0o644)
	code, out, _ := runTool("verify", dir)
	if code != 1 || !strings.Contains(out, "torn tail in segment 00000001.seg") {
		t.Errorf("verify torn: %d %q", code, out)
	}
	if code, out, _ := runTool("repair", dir); code != 0 || !strings.Contains(out, "repaired") {
		t.Errorf("repair: %d %q", code, out)
	}
	if code, out, _ := runTool("verify", dir); code != 0 || !strings.Contains(out, "6 records") {
		t.Errorf("verify after repair: %d %q", code, out)
	}

	// A changed byte: verify names the record, repair refuses.
	b, _ = os.ReadFile(seg)
	b[40] ^= 0x20
	os.WriteFile(seg, b, 0o644)
	code, out, _ = runTool("verify", dir)
	if code != 1 || !strings.Contains(out, "corrupt record in segment 00000001.seg at offset 32 (kind invoice, seq 1)") {
		t.Errorf("verify corrupt: %d %q", code, out)
	}
	if code, out, _ := runTool("repair", dir); code != 1 || !strings.Contains(out, "REFUSED") {
		t.Errorf("repair corrupt: %d %q", code, out)
	}
	if code, out, _ := runTool("export", dir); code != 1 || out != "" {
		t.Errorf("export corrupt: %d %q", code, out)
	}
}

func TestHelpExitsZero(t *testing.T) {
	code, out, errOut := runTool("-h")
	if code != 0 || out != "" || !strings.Contains(errOut, "usage: fmtool") {
		t.Errorf("-h: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestNoFiscalMemory: a directory without a segment file (a wrong path) is
// an error for every command, not an intact empty memory, and stays empty.
func TestNoFiscalMemory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"verify", "repair", "export", "report"} {
		code, out, errOut := runTool(cmd, dir)
		if code != 1 || out != "" || !strings.Contains(errOut, "holds no fiscal memory") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("the directory changed: %d entries", len(ents))
	}
	// The simulator's -data directory keeps its memory in DIR/memory.
	sim := t.TempDir()
	if err := os.Rename(build(t), filepath.Join(sim, "memory")); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runTool("report", sim)
	if want := "fmtool report " + filepath.Join(sim, "memory"); code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("simulator layout: exit %d, stderr %q, want a hint %q", code, errOut, want)
	}
	if code, _, _ := runTool("report", filepath.Join(sim, "memory")); code != 0 {
		t.Errorf("report of the memory subdirectory: exit %d", code)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"verify"}, {"frobnicate", t.TempDir()}, {"verify", "/nonexistent/dir"}} {
		if code, _, _ := runTool(args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// TestRollsAndControls checks that export and report show the waiting
// rolls and the control updates.
func TestRollsAndControls(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	m, err := memory.OpenDir(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	d0 := fiscal.MustDate(2026, 3, 1)
	code, _ := fiscal.ParseInvoiceCode("1440012345")
	ctl := fiscal.ControlData{Deadline: d0.AddDays(30), SingleLimit: 100000, TotalLimit: 1000000, ReturnLimit: 50000, Indexes: fiscal.TaxIndexes{1}}
	when := time.Date(2026, 3, 1, 9, 0, 0, 0, fiscal.Zone())
	r1 := fiscal.SignedRoll{Roll: fiscal.Roll{Code: code, Start: 1, End: 100}}
	r2 := fiscal.SignedRoll{Roll: fiscal.Roll{Code: code, Start: 101, End: 200}}
	ctl2 := ctl
	ctl2.Deadline, ctl2.SingleLimit = d0.AddDays(60), 200000
	b := new(memory.Batch).Initialise(memory.Application{TaxpayerName: "店", InitDate: d0, Control: ctl}).
		AddRollDistribution(memory.RollDistribution{Roll: r1, Time: when}).
		AddRollDistribution(memory.RollDistribution{Roll: r2, Time: when}).
		TakeRoll(memory.RollTaken{Roll: r1.Roll, Time: when, Reason: memory.RollLoaded}).
		AddControlUpdate(memory.ControlUpdate{Time: when, Control: ctl2})
	if err := m.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	m.Close()
	code2, out, _ := runTool("export", dir)
	if code2 != 0 || !strings.Contains(out, `"kind":"roll_taken"`) || !strings.Contains(out, `"reason":"loaded"`) ||
		strings.Count(out, `"kind":"roll_distributed"`) != 2 || !strings.Contains(out, `"deadline":"2026-04-30"`) {
		t.Errorf("export: %d\n%s", code2, out)
	}
	code2, out, _ = runTool("report", dir)
	if code2 != 0 || !strings.Contains(out, "1440012345 101-200 distributed 2026-03-01 09:00:00") || strings.Contains(out, "1440012345 1-100 distributed") ||
		!strings.Contains(out, "controls in force: deadline 2026-04-30, single limit 2000.00") {
		t.Errorf("report: %d\n%s", code2, out)
	}
	_, fill, _ := strings.Cut(out, "Fill level\n")
	checkAligned(t, "report fill level", fill, "roll_distributed")
	code2, out, _ = runTool("verify", dir)
	if code2 != 0 {
		t.Errorf("verify: %d\n%s", code2, out)
	}
	checkAligned(t, "verify", out, "roll_distributed")
}

// checkAligned checks that the indented "kind count" lines of out put their
// counts in one column, and that a line names want.
func checkAligned(t *testing.T, what, out, want string) {
	t.Helper()
	col, seen := -1, false
	for _, line := range strings.Split(out, "\n") {
		name, _, ok := strings.Cut(strings.TrimPrefix(line, "  "), " ")
		if !strings.HasPrefix(line, "  ") || !ok {
			continue
		}
		seen = seen || name == want
		c := len(name) + strings.Index(line[2+len(name):], strings.TrimLeft(line[2+len(name):], " "))
		if col == -1 {
			col = c
		} else if c != col {
			t.Errorf("%s: counts not in one column:\n%s", what, out)
			return
		}
	}
	if !seen {
		t.Errorf("%s: no line for %s:\n%s", what, want, out)
	}
}

// TestReportChangeOfOwner: after a change of owner during a day, that day has
// one signed daily record per owner; the report adds them up and compares the
// sum with the day's invoices.
func TestReportChangeOfOwner(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	m, err := memory.OpenDir(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := fiscal.ParseInvoiceCode("1440012345")
	d0 := fiscal.MustDate(2026, 3, 1)
	app := func(name string) memory.Application {
		return memory.Application{TaxpayerName: name, TaxID: "914403001234", InitDate: d0, AppStart: d0, AppValid: d0.AddDays(3000),
			Control: fiscal.ControlData{Deadline: d0.AddDays(60), SingleLimit: 1000000, TotalLimit: 100000000, ReturnLimit: 1000000, Indexes: fiscal.TaxIndexes{1}}}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sale := func(n uint32) {
		must(m.AddInvoice(ctx, memory.Invoice{Detail: fiscal.InvoiceDetail{Date: d0, Type: fiscal.InvoiceNormal, Number: n, Total: 1000},
			Code: code, Indexes: fiscal.TaxIndexes{1}, Amounts: fiscal.TaxAmounts{1000}}))
	}
	daily := func(n int) {
		must(m.AddDaily(ctx, memory.Daily{Record: fiscal.DailyRecord{Date: d0, NormalCount: n, Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{fiscal.Amount(1000 * n)}}}))
	}
	must(m.Initialise(ctx, app("A")))
	sale(1)
	sale(2)
	sale(3)
	daily(3)
	declare := func(n int) {
		must(m.AddDeclaration(ctx, memory.Declaration{Date: d0, Data: fiscal.Declaration{Start: d0, End: d0, NormalCount: int64(n),
			Indexes: fiscal.TaxIndexes{1}, Normal: fiscal.TaxAmounts{fiscal.Amount(1000 * n)}}}))
	}
	declare(3) // the old owner's stop declaration
	must(m.ChangeOwner(ctx, app("B")))
	sale(4)
	daily(1)
	declare(1)
	m.Close()
	code2, out, _ := runTool("report", dir)
	if code2 != 0 || !strings.Contains(out, "2026-03-01       4          40.00") || !strings.Contains(out, "matches") || strings.Contains(out, "DIFFERS") {
		t.Errorf("report: %d\n%s", code2, out)
	}
	for _, want := range []string{
		"2026-03-01..2026-03-01 declared 2026-03-01: normal 3 / 30.00, return 0 / 0.00; recomputed normal 3 / 30.00, return 0 / 0.00",
		"2026-03-01..2026-03-01 declared 2026-03-01: normal 1 / 10.00, return 0 / 0.00; recomputed normal 1 / 10.00, return 0 / 0.00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
