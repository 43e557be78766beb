package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

var ctx = context.Background()

var testCode = fiscal.InvoiceCode{'1', '4', '4', '0', '0', '1', '2', '3', '4', '5'}

func day(n int) fiscal.Date { return fiscal.MustDate(2026, 3, 1).AddDays(n) }

func testInvoice(number uint32, d fiscal.Date, typ fiscal.InvoiceType, total fiscal.Amount) Invoice {
	v := Invoice{
		Detail:  fiscal.InvoiceDetail{Date: d, Type: typ, Number: number, Total: total, FiscalCode: fiscal.FiscalCode{7, 7, 7, 7, 0, 0, 0, byte(number)}},
		Code:    testCode,
		Time:    Clock{10, 0, 0},
		Indexes: fiscal.TaxIndexes{1, 2},
		Payer:   "客户",
		Drawer:  "张三",
	}
	switch typ {
	case fiscal.InvoiceVoid:
		v.Detail.Total = 0
	case fiscal.InvoiceReturn:
		v.Detail.Original = number - 1
		v.OriginalCode = testCode
		fallthrough
	default:
		a := total / 3
		v.Amounts = fiscal.TaxAmounts{total - a, a}
		v.Lines = []Line{
			{Name: "咖啡", Quantity: 1000, UnitPrice: total - a, Amount: total - a, TaxIndex: 1},
			{Name: "Tea", Quantity: 2000, UnitPrice: a / 2, Amount: a, TaxIndex: 2},
		}
	}
	return v
}

func testDaily(d fiscal.Date) Daily {
	var sig [128]byte
	sig[0] = byte(d.Day)
	return Daily{Record: fiscal.DailyRecord{Date: d, NormalCount: 2, Indexes: fiscal.TaxIndexes{1, 2}, Normal: fiscal.TaxAmounts{100, 50}}, Signature: sig}
}

func testApp(name string) Application {
	return Application{TaxpayerName: name, TaxID: "914403001234", InitDate: day(0), AppStart: day(0), AppValid: day(3000),
		Control:  fiscal.ControlData{Deadline: day(60), SingleLimit: 1000000, TotalLimit: 100000000, ReturnLimit: 1000000, Indexes: fiscal.TaxIndexes{1, 2}},
		TaxItems: []fiscal.TaxItem{{Index: 1, Rate: 300, NameCN: "餐饮"}, {Index: 2, Rate: 500, NameCN: "零售"}}}
}

func mustOpen(t testing.TB, fsys FS, o *Options) *Memory {
	t.Helper()
	m, err := Open(ctx, fsys, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fillSmall writes a small memory holding every record kind.
func fillSmall(t testing.TB, m *Memory) {
	t.Helper()
	mn, _ := fiscal.ParseMachineNumber("8800000000000001")
	must(t, m.SetMachine(ctx, Machine{Number: mn, Produced: day(-30), HardwareVersion: "A1", SoftwareVersion: "1.0"}))
	must(t, m.Initialise(ctx, testApp("小店")))
	must(t, m.SetPIN(ctx, PIN{1}))
	must(t, m.AddRollLoad(ctx, RollLoad{Roll: fiscal.Roll{Code: testCode, Start: 1, End: 50}, Loaded: time.Unix(1772409600, 0)}))
	n := uint32(1)
	for d := 0; d < 3; d++ {
		must(t, m.BeginIntent(ctx, Intent{ID: uint64(n), Op: "issue", Payload: []byte{byte(n)}}))
		inv := testInvoice(n, day(d), fiscal.InvoiceNormal, 300)
		inv.RequestID = 1000 + uint64(n) // a KindRequest record after the invoice
		b := new(Batch).SetPIN(PIN{byte(n + 1)}).AddInvoice(inv).EndIntent(uint64(n))
		must(t, m.Commit(ctx, b))
		n++
		must(t, m.AddInvoice(ctx, testInvoice(n, day(d), fiscal.InvoiceReturn, 300)))
		n++
		must(t, m.AddInvoice(ctx, testInvoice(n, day(d), fiscal.InvoiceVoid, 0)))
		n++
		must(t, m.AddDaily(ctx, testDaily(day(d))))
	}
	must(t, m.AddDeclaration(ctx, Declaration{Date: day(3), Data: fiscal.Declaration{Start: day(0), End: day(2), NormalCount: 3}}))
	must(t, m.AddRollUsage(ctx, RollUsage{Roll: fiscal.Roll{Code: testCode, Start: 1, End: 50}, NormalCount: 3, ReturnCount: 3, VoidCount: 3, First: day(0), Last: day(2)}))
	must(t, m.LogSecurity(ctx, SecurityEvent{Time: time.Unix(1772409600, 0), Type: SecClockChange, Text: "时钟调整"}))
	r2 := fiscal.SignedRoll{Roll: fiscal.Roll{Code: testCode, Start: 51, End: 100}, MAC: [4]byte{1, 2, 3, 4}}
	must(t, m.Commit(ctx, new(Batch).AddRollDistribution(RollDistribution{Roll: r2, Time: time.Unix(1772409600, 0)})))
	must(t, m.Commit(ctx, new(Batch).TakeRoll(RollTaken{Roll: r2.Roll, Time: time.Unix(1772409700, 0), Reason: RollLoaded}).
		AddControlUpdate(ControlUpdate{Time: time.Unix(1772409800, 0), Control: testApp("x").Control})))
}

func TestRoundTripAndQueries(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	fillSmall(t, m)
	must(t, m.Close())

	m = mustOpen(t, fsys, nil)
	defer m.Close()
	if mc, ok := m.Machine(); !ok || mc.Number.String() != "8800000000000001" || mc.SoftwareVersion != "1.0" {
		t.Errorf("machine %+v %v", mc, ok)
	}
	if a, ok := m.Application(); !ok || a.TaxpayerName != "小店" || len(a.TaxItems) != 2 || a.TaxItems[1].NameCN != "零售" {
		t.Errorf("application %+v", a)
	}
	if p, ok := m.PIN(); !ok || p != (PIN{8}) {
		t.Errorf("PIN %v", p)
	}
	if n := len(m.OpenIntents()); n != 0 {
		t.Errorf("%d open intents", n)
	}
	if m.InvoiceCount() != 9 {
		t.Errorf("invoices %d", m.InvoiceCount())
	}
	v, err := m.Invoice(ctx, testCode, 2)
	must(t, err)
	if v.Detail.Type != fiscal.InvoiceReturn || v.Detail.Original != 1 || len(v.Lines) != 2 || v.Lines[0].Name != "咖啡" || v.Payer != "客户" {
		t.Errorf("invoice 2: %+v", v)
	}
	if _, err := m.Invoice(ctx, testCode, 99); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing invoice: %v", err)
	}
	last, err := m.LastInvoice(ctx)
	must(t, err)
	if last.Detail.Number != 9 {
		t.Errorf("last invoice %d", last.Detail.Number)
	}
	invs, err := m.Invoices(ctx, day(1), day(1))
	must(t, err)
	if len(invs) != 3 || invs[0].Detail.Number != 4 {
		t.Errorf("invoices of day 1: %d", len(invs))
	}
	tot, err := m.Totals(ctx, day(0), day(2))
	must(t, err)
	if tot.NormalCount != 3 || tot.ReturnCount != 3 || tot.VoidCount != 3 || tot.Normal != 900 || tot.Return != 900 ||
		tot.ByIndex[1].Normal != 600 || tot.ByIndex[2].Return != 300 {
		t.Errorf("totals %+v", tot)
	}
	byDay, err := m.TotalsByDay(ctx, fiscal.Date{}, fiscal.Date{})
	must(t, err)
	if len(byDay) != 3 || byDay[2].From != day(2) || byDay[2].Normal != 300 {
		t.Errorf("by day %+v", byDay)
	}
	if ds := m.Dailies(day(1), fiscal.Date{}); len(ds) != 2 || ds[0].Record.Date != day(1) || ds[0].Signature[0] != byte(day(1).Day) {
		t.Errorf("dailies %+v", ds)
	}
	if ld, ok := m.LastDaily(); !ok || ld.Record.Date != day(2) {
		t.Errorf("last daily %v", ld.Record.Date)
	}
	if ds := m.Declarations(day(2), day(2)); len(ds) != 1 {
		t.Errorf("declarations %d", len(ds))
	}
	if ds := m.Declarations(day(3), fiscal.Date{}); len(ds) != 0 {
		t.Errorf("declarations after %d", len(ds))
	}
	if r, ok := m.LastRollLoad(); !ok || r.Roll.End != 50 || len(m.RollLoads()) != 1 {
		t.Errorf("roll loads")
	}
	if r, ok := m.LastRollUsage(); !ok || r.VoidCount != 3 || len(m.RollUsages()) != 1 {
		t.Errorf("roll usages")
	}
	if ev := m.SecurityEvents(); len(ev) != 1 || ev[0].Text != "时钟调整" || ev[0].Type != SecClockChange {
		t.Errorf("security %+v", ev)
	}
	rep, err := m.Verify(ctx)
	must(t, err)
	if !rep.OK() || rep.ByKind[KindInvoice] != 9 || rep.ByKind[KindDaily] != 3 {
		t.Errorf("report %+v", rep)
	}
}

func TestMutabilityRules(t *testing.T) {
	m := mustOpen(t, NewMemFS(), nil)
	defer m.Close()
	if err := m.ChangeOwner(ctx, testApp("B")); !errors.Is(err, ErrNotInitialised) {
		t.Errorf("change owner before init: %v", err)
	}
	fillSmall(t, m)
	if err := m.SetMachine(ctx, Machine{}); !errors.Is(err, ErrWriteOnce) {
		t.Errorf("second machine: %v", err)
	}
	if err := m.Initialise(ctx, testApp("again")); !errors.Is(err, ErrWriteOnce) {
		t.Errorf("second init: %v", err)
	}
	must(t, m.ChangeOwner(ctx, testApp("新店")))
	if a, _ := m.Application(); a.TaxpayerName != "新店" {
		t.Errorf("current app %q", a.TaxpayerName)
	}
	if h := m.ApplicationHistory(); len(h) != 2 || h[0].TaxpayerName != "小店" {
		t.Errorf("history %d", len(h))
	}
	// The new owner's first daily record may share the date of the old
	// owner's last one (change of owner on that day); nothing else may.
	must(t, m.AddDaily(ctx, testDaily(day(2))))
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate invoice", m.AddInvoice(ctx, testInvoice(1, day(5), fiscal.InvoiceNormal, 10)), ErrDuplicate},
		{"invoice date backwards", m.AddInvoice(ctx, testInvoice(100, day(1), fiscal.InvoiceNormal, 10)), ErrOrder},
		{"daily same date", m.AddDaily(ctx, testDaily(day(2))), ErrDuplicate},
		{"daily backwards", m.AddDaily(ctx, testDaily(day(1))), ErrOrder},
		{"declaration overlapping", m.AddDeclaration(ctx, Declaration{Date: day(9), Data: fiscal.Declaration{Start: day(1), End: day(8)}}), ErrOrder},
		{"roll overlapping", m.AddRollLoad(ctx, RollLoad{Roll: fiscal.Roll{Code: testCode, Start: 40, End: 90}}), ErrDuplicate},
		{"end unknown intent", m.EndIntent(ctx, 999), ErrUnknownIntent},
		{"bad total", m.AddInvoice(ctx, func() Invoice { v := testInvoice(200, day(5), fiscal.InvoiceNormal, 10); v.Detail.Total = 11; return v }()), ErrInvalid},
		{"void with amount", m.AddInvoice(ctx, func() Invoice {
			v := testInvoice(201, day(5), fiscal.InvoiceNormal, 10)
			v.Detail.Type = fiscal.InvoiceVoid
			return v
		}()), ErrInvalid},
		{"return without original", m.AddInvoice(ctx, func() Invoice {
			v := testInvoice(202, day(5), fiscal.InvoiceNormal, 10)
			v.Detail.Type = fiscal.InvoiceReturn
			return v
		}()), ErrInvalid},
		{"line on unknown index", m.AddInvoice(ctx, func() Invoice {
			v := testInvoice(203, day(5), fiscal.InvoiceNormal, 10)
			v.Lines[0].TaxIndex = 5
			return v
		}()), ErrInvalid},
		{"payer too long", m.AddInvoice(ctx, func() Invoice {
			v := testInvoice(204, day(5), fiscal.InvoiceNormal, 10)
			v.Payer = strings.Repeat("长", 21)
			return v
		}()), fiscal.ErrTextTooLong},
		{"bad code", m.AddInvoice(ctx, func() Invoice { v := testInvoice(205, day(5), fiscal.InvoiceNormal, 10); v.Code[0] = 'x'; return v }()), ErrInvalid},
		{"bad security type", m.LogSecurity(ctx, SecurityEvent{Type: 99}), ErrInvalid},
		{"intent op empty", m.BeginIntent(ctx, Intent{ID: 5}), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.err, c.want)
		}
	}
	must(t, m.BeginIntent(ctx, Intent{ID: 5, Op: "daily"}))
	if err := m.BeginIntent(ctx, Intent{ID: 5, Op: "daily"}); !errors.Is(err, ErrUnknownIntent) {
		t.Errorf("intent opened twice: %v", err)
	}
	// A batch with one bad record writes nothing.
	before := m.Stats().Records
	b := new(Batch).SetPIN(PIN{9}).AddInvoice(testInvoice(300, day(5), fiscal.InvoiceNormal, 10)).AddDaily(testDaily(day(1)))
	if err := m.Commit(ctx, b); !errors.Is(err, ErrOrder) {
		t.Errorf("bad batch: %v", err)
	}
	if m.Stats().Records != before {
		t.Errorf("bad batch wrote records")
	}
	if p, _ := m.PIN(); p == (PIN{9}) {
		t.Errorf("bad batch changed the PIN")
	}
	if _, err := m.Invoice(ctx, testCode, 300); !errors.Is(err, ErrNotFound) {
		t.Errorf("bad batch left invoice 300: %v", err)
	}
	// Records inside one batch are checked against each other.
	b = new(Batch).AddDaily(testDaily(day(10))).AddDaily(testDaily(day(10)))
	if err := m.Commit(ctx, b); !errors.Is(err, ErrDuplicate) {
		t.Errorf("batch with duplicate dailies: %v", err)
	}
	if ints := m.OpenIntents(); len(ints) != 1 || ints[0].Op != "daily" {
		t.Errorf("open intents %+v", ints)
	}
	rep, err := m.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after refused writes: %v", err)
	}
}

func TestSyncsPerCommit(t *testing.T) {
	m := mustOpen(t, NewMemFS(), nil)
	defer m.Close()
	fillSmall(t, m)
	s0 := m.Stats()
	b := new(Batch)
	for i := 0; i < 10; i++ {
		b.AddInvoice(testInvoice(uint32(100+i), day(5), fiscal.InvoiceNormal, 10))
	}
	must(t, m.Commit(ctx, b))
	s1 := m.Stats()
	if s1.Syncs-s0.Syncs != 1 || s1.RecordsWritten-s0.RecordsWritten != 10 {
		t.Errorf("batch of 10: %d syncs, %d records", s1.Syncs-s0.Syncs, s1.RecordsWritten-s0.RecordsWritten)
	}
}

func TestCapacity(t *testing.T) {
	o := &Options{Capacity: Capacity{Daily: 5, Invoices: 4, Security: 3}, AlmostFullPercent: 80}
	fsys := NewMemFS()
	counter := &FaultFS{FS: fsys} // never cuts; counts the writes
	m := mustOpen(t, counter, o)
	for i := 0; i < 4; i++ {
		must(t, m.AddDaily(ctx, testDaily(day(i))))
	}
	st := m.Stats()
	if len(st.Warnings) != 1 || st.Warnings[0].Kind != KindDaily || st.Warnings[0].Counted != 4 {
		t.Errorf("warnings %v", st.Warnings)
	}
	if err := m.CheckCapacity(KindDaily, 2); !errors.Is(err, ErrFull) {
		t.Errorf("check 2 more: %v", err)
	}
	must(t, m.CheckCapacity(KindDaily, 1))
	must(t, m.AddDaily(ctx, testDaily(day(4))))
	ops := counter.Ops()
	err := m.AddDaily(ctx, testDaily(day(5)))
	if counter.Ops() != ops {
		t.Errorf("a refused commit wrote to storage")
	}
	var fe *FullError
	if !errors.As(err, &fe) || fe.Kind != KindDaily || fe.Capacity != 5 || fe.Count != 5 {
		t.Fatalf("full: %v", err)
	}
	// A batch that would overflow is refused whole.
	b := new(Batch).SetPIN(PIN{1}).AddInvoice(testInvoice(1, day(5), fiscal.InvoiceNormal, 1))
	must(t, m.Commit(ctx, b))
	b = new(Batch)
	for i := 2; i <= 5; i++ {
		b.AddInvoice(testInvoice(uint32(i), day(5), fiscal.InvoiceNormal, 1))
	}
	if err := m.Commit(ctx, b); !errors.Is(err, ErrFull) {
		t.Errorf("overflowing batch: %v", err)
	}
	recs := m.Stats().Records
	m.Close()
	m = mustOpen(t, fsys, o)
	defer m.Close()
	if m.Stats().Records != recs || m.InvoiceCount() != 1 || len(m.Dailies(fiscal.Date{}, fiscal.Date{})) != 5 {
		t.Errorf("after full: %d records, %d invoices", m.Stats().Records, m.InvoiceCount())
	}
	if rep, err := Verify(ctx, fsys, o); err != nil || !rep.OK() {
		t.Errorf("verify after full: %v", err)
	}
}

func TestInvoiceRetention(t *testing.T) {
	o := &Options{Capacity: Capacity{Invoices: 3}, InvoiceRetentionDays: 10}
	m := mustOpen(t, NewMemFS(), o)
	defer m.Close()
	for i := 1; i <= 3; i++ {
		must(t, m.AddInvoice(ctx, testInvoice(uint32(i), day(0), fiscal.InvoiceNormal, 5)))
	}
	if err := m.AddInvoice(ctx, testInvoice(4, day(5), fiscal.InvoiceNormal, 5)); !errors.Is(err, ErrFull) {
		t.Fatalf("inside retention: %v", err)
	}
	// Eleven days later the first three are beyond retention: kept, not counted.
	must(t, m.AddInvoice(ctx, testInvoice(4, day(11), fiscal.InvoiceNormal, 5)))
	if m.InvoiceCount() != 4 {
		t.Errorf("count %d", m.InvoiceCount())
	}
	if _, err := m.Invoice(ctx, testCode, 1); err != nil {
		t.Errorf("retired invoice no longer readable: %v", err)
	}
	for _, k := range m.Stats().Kinds {
		if k.Kind == KindInvoice && (k.Count != 4 || k.Counted != 1) {
			t.Errorf("invoice stats %+v", k)
		}
	}
}

func TestSegmentsAndDirFS(t *testing.T) {
	dir := t.TempDir()
	o := &Options{SegmentBytes: 2048}
	m, err := OpenDir(ctx, dir, o)
	must(t, err)
	fillSmall(t, m)
	for i := 0; i < 40; i++ {
		must(t, m.AddInvoice(ctx, testInvoice(uint32(100+i), day(5+i/10), fiscal.InvoiceNormal, fiscal.Amount(100+i))))
	}
	segs := m.Stats().Segments
	must(t, m.Close())
	if segs < 5 {
		t.Fatalf("only %d segments", segs)
	}
	fsys, _ := NewDirFS(dir)
	rep, err := Verify(ctx, fsys, o)
	if err != nil || rep.Segments != segs {
		t.Fatalf("verify: %v, %d segments", err, rep.Segments)
	}
	m, err = OpenDir(ctx, dir, o)
	must(t, err)
	defer m.Close()
	tot, err := m.Totals(ctx, day(5), fiscal.Date{})
	must(t, err)
	want := fiscal.Amount(0)
	for i := 0; i < 40; i++ {
		want += fiscal.Amount(100 + i)
	}
	if tot.NormalCount != 40 || tot.Normal != want {
		t.Errorf("totals across segments: %+v", tot)
	}
	must(t, m.AddInvoice(ctx, testInvoice(999, day(20), fiscal.InvoiceNormal, 1)))
}

func TestExportJSONLines(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	fillSmall(t, m)
	m.Close()
	var buf bytes.Buffer
	must(t, Export(ctx, fsys, &buf, nil))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	kinds := map[string]int{}
	var inv map[string]any
	types := map[string]string{} // invoice type → its original_code
	for _, l := range lines {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		k := o["kind"].(string)
		kinds[k]++
		if k == "invoice" && inv == nil {
			inv = o
		}
		if k == "invoice" {
			typ, _ := o["type"].(string)
			types[typ], _ = o["original_code"].(string)
		}
		if k == "pin" && len(o) != 2 {
			t.Errorf("pin line exports more than kind and seq: %s", l)
		}
	}
	for _, k := range []string{"machine", "init", "invoice", "daily", "declaration", "roll", "roll_usage", "pin", "intent", "intent_done", "security"} {
		if kinds[k] == 0 {
			t.Errorf("no %q line", k)
		}
	}
	if kinds["invoice"] != 9 {
		t.Errorf("%d invoice lines", kinds["invoice"])
	}
	if want := map[string]string{"normal": "", "return": "1440012345", "void": ""}; !maps.Equal(types, want) {
		t.Errorf("invoice types and original codes %v, want %v", types, want)
	}
	want := map[string]any{"code": "1440012345", "number": 1.0, "type": "normal", "date": "2026-03-01", "total": 300.0,
		"fiscal_code": "01179010630000000001", "payer": "客户", "drawer": "张三", "time": "10:00:00"}
	for k, v := range want {
		if inv[k] != v {
			t.Errorf("invoice %s = %v, want %v", k, inv[k], v)
		}
	}
	if l := inv["lines"].([]any); len(l) != 2 || l[0].(map[string]any)["name"] != "咖啡" {
		t.Errorf("lines %v", inv["lines"])
	}
}

func TestExportRefusesCorrupt(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	fillSmall(t, m)
	m.Close()
	b := fsys.Bytes(segmentName(1))
	b[100] ^= 1
	fsys.SetBytes(segmentName(1), b)
	var buf bytes.Buffer
	if err := Export(ctx, fsys, &buf, nil); !errors.Is(err, ErrCorrupt) || buf.Len() != 0 {
		t.Errorf("export of corrupt store: %v, %d bytes", err, buf.Len())
	}
}

func TestTamperAfterOpenDetectedOnRead(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	defer m.Close()
	fillSmall(t, m)
	b := fsys.Bytes(segmentName(1))
	// Change a byte of the payload of invoice 2 in place.
	e := m.st.invoices[1]
	b[e.off+frameHeaderLen+9] ^= 0x01
	fsys.SetBytes(segmentName(1), b)
	if _, err := m.Invoice(ctx, testCode, 2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("tampered invoice read: %v", err)
	}
	if _, err := m.Verify(ctx); !errors.Is(err, ErrCorrupt) {
		t.Errorf("verify after tamper: %v", err)
	}
}

// TestFlipEveryByte flips every byte of a small memory, one at a time, in
// two ways, and requires Verify to report corruption (never a torn tail,
// which Repair would truncate) for every one of them.
func TestFlipEveryByte(t *testing.T) {
	base := NewMemFS()
	m := mustOpen(t, base, &Options{SegmentBytes: 1500})
	fillSmall(t, m)
	m.Close()
	names, _ := base.List()
	if len(names) < 2 {
		t.Fatalf("want several segments, have %v", names)
	}
	// Where each frame lies, to check that the report names the record
	// that holds the changed byte.
	type span struct {
		seg      string
		off, end int64
		seq      uint64
	}
	var spans []span
	_, err := scanLog(ctx, base, func(seg string, batch []frame) (int, error) {
		for _, f := range batch {
			spans = append(spans, span{seg, f.Off, f.Off + int64(frameLen(len(f.Payload))), f.Seq})
		}
		return 0, nil
	}, nil)
	must(t, err)
	owner := func(seg string, i int64) (int64, uint64) {
		for _, s := range spans {
			if s.seg == seg && i >= s.off && i < s.end {
				return s.off, s.seq
			}
		}
		return 0, 0 // segment header
	}
	total, detected := 0, 0
	for _, name := range names {
		orig := base.Bytes(name)
		for i := range orig {
			wantOff, wantSeq := owner(name, int64(i))
			for _, mask := range []byte{0x01, 0xFF} {
				total++
				b := slices.Clone(orig)
				b[i] ^= mask
				fsys := base.Clone()
				fsys.SetBytes(name, b)
				rep, err := Verify(ctx, fsys, nil)
				switch {
				case errors.Is(err, ErrCorrupt) && rep.Bad != nil && !rep.Bad.Torn:
					detected++
					if rep.Bad.Segment != name || rep.Bad.Offset != wantOff || rep.Bad.Seq != wantSeq {
						t.Errorf("%s byte %d: report names %s@%d seq %d, want %s@%d seq %d", name, i,
							rep.Bad.Segment, rep.Bad.Offset, rep.Bad.Seq, name, wantOff, wantSeq)
					}
				default:
					t.Errorf("%s byte %d ^%02x: verify says %v", name, i, mask, err)
				}
			}
		}
	}
	if detected != total {
		t.Fatalf("detected %d of %d flips", detected, total)
	}
	t.Logf("%d of %d single-byte changes detected as corruption", detected, total)
}

// crashOp is a multi-record operation run against a memory for the power
// cut test, with a check of its all-or-nothing outcome.
func crashBatch() *Batch {
	return new(Batch).
		SetPIN(PIN{0xEE}).
		AddInvoice(testInvoice(500, day(4), fiscal.InvoiceNormal, 4200)).
		AddInvoice(testInvoice(501, day(4), fiscal.InvoiceVoid, 0)).
		AddDaily(testDaily(day(4))).
		EndIntent(77)
}

// outcome reports whether all (true) or none (false) of crashBatch is in m,
// and fails on anything in between.
func outcome(t *testing.T, m *Memory, label string) bool {
	t.Helper()
	p, _ := m.PIN()
	_, e1 := m.Invoice(ctx, testCode, 500)
	_, e2 := m.Invoice(ctx, testCode, 501)
	ld, _ := m.LastDaily()
	open := len(m.OpenIntents()) == 1
	all := p == (PIN{0xEE}) && e1 == nil && e2 == nil && ld.Record.Date == day(4) && !open
	none := p != (PIN{0xEE}) && errors.Is(e1, ErrNotFound) && errors.Is(e2, ErrNotFound) && ld.Record.Date == day(2) && open
	if all == none {
		t.Fatalf("%s: partial commit: pin %v, inv500 %v, inv501 %v, last daily %v, intent open %v", label, p, e1, e2, ld.Record.Date, open)
	}
	return all
}

// reopen opens fsys after a crash, repairing a torn tail if there is one.
func reopen(t *testing.T, fsys FS, o *Options, label string) *Memory {
	t.Helper()
	m, err := Open(ctx, fsys, o)
	if errors.Is(err, ErrTornTail) {
		if _, err := Repair(ctx, fsys, o); err != nil {
			t.Fatalf("%s: repair: %v", label, err)
		}
		m, err = Open(ctx, fsys, o)
	}
	if err != nil {
		t.Fatalf("%s: reopen: %v", label, err)
	}
	return m
}

func TestPowerCutAtEveryWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    *Options
	}{
		{"same segment", nil},
		{"new segment", &Options{SegmentBytes: 1}}, // every commit starts a segment
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := NewMemFS()
			m := mustOpen(t, base, tc.o)
			fillSmall(t, m)
			must(t, m.BeginIntent(ctx, Intent{ID: 77, Op: "issue"}))
			m.Close()
			points, alls := 0, 0
			for n := 1; ; n++ {
				done := false
				for k := 0; ; k++ {
					fsys := base.Clone()
					ff := &FaultFS{FS: fsys, CutAt: n, Keep: k}
					m, err := Open(ctx, ff, tc.o)
					must(t, err)
					err = m.Commit(ctx, crashBatch())
					m.Close()
					if !ff.IsCut() {
						must(t, err)
						done = true
						break
					}
					if err == nil {
						t.Fatalf("n=%d k=%d: commit reported success through a power cut", n, k)
					}
					label := fmt.Sprintf("n=%d k=%d", n, k)
					points++
					m2 := reopen(t, fsys, tc.o, label)
					if outcome(t, m2, label) {
						alls++
					}
					if rep, err := m2.Verify(ctx); err != nil || !rep.OK() {
						t.Fatalf("%s: verify after reopen: %v", label, err)
					}
					// The memory keeps working: the operation can be redone or continued.
					must(t, m2.LogSecurity(ctx, SecurityEvent{Type: SecPowerLoss, Time: time.Unix(1772409600, 0)}))
					m2.Close()
					if _, err := Verify(ctx, fsys, tc.o); err != nil {
						t.Fatalf("%s: verify after append: %v", label, err)
					}
					if k >= ff.CutWriteLen() {
						break
					}
				}
				if done {
					break
				}
			}
			if points < 100 || alls == 0 {
				t.Fatalf("only %d crash points (%d complete)", points, alls)
			}
			t.Logf("%d crash points, %d with the whole batch, %d with none", points, alls, points-alls)
		})
	}
}

func TestTruncateLastRecordAtEveryOffset(t *testing.T) {
	base := NewMemFS()
	m := mustOpen(t, base, nil)
	fillSmall(t, m)
	before := m.Stats().Records
	must(t, m.AddInvoice(ctx, testInvoice(600, day(5), fiscal.InvoiceNormal, 777)))
	last := m.st.invoices[len(m.st.invoices)-1]
	m.Close()
	name := segmentName(last.seg)
	full := base.Bytes(name)
	if int64(len(full)) != last.off+int64(frameLen(int(last.n))) {
		t.Fatalf("invoice 600 is not the last frame")
	}
	for off := last.off; off < int64(len(full)); off++ {
		fsys := base.Clone()
		fsys.SetBytes(name, full[:off])
		label := fmt.Sprintf("cut at %d", off)
		_, err := Open(ctx, fsys, nil)
		if off == last.off {
			must(t, err) // a clean record boundary: nothing torn
		} else {
			var ce *CorruptionError
			if !errors.As(err, &ce) || !ce.Torn || ce.Offset != last.off || !errors.Is(err, ErrTornTail) || ce.Seq != last.seq ||
				(off-last.off >= frameHeaderLen && ce.Kind != KindInvoice) {
				t.Fatalf("%s: open: %v", label, err)
			}
			rr, err := Repair(ctx, fsys, nil)
			if err != nil || rr.Torn == nil || rr.CopiedTo == "" {
				t.Fatalf("%s: repair: %v %+v", label, err, rr)
			}
			if !bytes.Equal(fsys.Bytes(rr.CopiedTo), full[:off]) {
				t.Fatalf("%s: the copy kept aside differs", label)
			}
		}
		m := mustOpen(t, fsys, nil)
		if m.Stats().Records != before {
			t.Fatalf("%s: %d records after repair, want %d", label, m.Stats().Records, before)
		}
		if _, err := m.Invoice(ctx, testCode, 600); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: torn invoice visible: %v", label, err)
		}
		must(t, m.AddInvoice(ctx, testInvoice(600, day(5), fiscal.InvoiceNormal, 777)))
		m.Close()
		if rep, err := Verify(ctx, fsys, nil); err != nil || rep.Records != int64(before)+1 {
			t.Fatalf("%s: verify after re-append: %v", label, err)
		}
	}
}

func TestRepairRefusesOtherDamage(t *testing.T) {
	base := NewMemFS()
	m := mustOpen(t, base, nil)
	fillSmall(t, m)
	m.Close()
	orig := base.Bytes(segmentName(1))
	b := slices.Clone(orig)
	b[segHeaderLen+20] ^= 0x10 // first record's payload
	fsys := base.Clone()
	fsys.SetBytes(segmentName(1), b)
	rr, err := Repair(ctx, fsys, nil)
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Offset != segHeaderLen || ce.Seq != 1 || ce.Kind != KindMachine || rr != nil {
		t.Fatalf("repair of a damaged record: %v", err)
	}
	if got := fsys.Bytes(segmentName(1)); !bytes.Equal(got, b) {
		t.Fatalf("repair changed a damaged segment")
	}
	if names, _ := fsys.List(); len(names) != 1 {
		t.Fatalf("repair left files: %v", names)
	}
	// A missing middle segment is refused too.
	multi := NewMemFS()
	m = mustOpen(t, multi, &Options{SegmentBytes: 1})
	fillSmall(t, m)
	m.Close()
	multi.Rename(segmentName(3), "gone")
	if _, err := Repair(ctx, multi, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("missing segment: %v", err)
	}
	// An intact memory is left alone.
	rr, err = Repair(ctx, base, nil)
	if err != nil || rr.Torn != nil {
		t.Fatalf("repair of intact memory: %v %+v", err, rr)
	}
}

func TestClosed(t *testing.T) {
	m := mustOpen(t, NewMemFS(), nil)
	must(t, m.Close())
	if err := m.SetPIN(ctx, PIN{}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if _, err := m.Invoice(ctx, testCode, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
}

func TestWriteFailureStopsWrites(t *testing.T) {
	base := NewMemFS()
	ff := &FaultFS{FS: base, CutAt: 0}
	m := mustOpen(t, ff, nil)
	fillSmall(t, m)
	ff.CutAt = ff.Ops() + 1
	if err := m.SetPIN(ctx, PIN{5}); !errors.Is(err, ErrPowerCut) {
		t.Fatalf("cut write: %v", err)
	}
	if err := m.SetPIN(ctx, PIN{6}); err == nil {
		t.Fatalf("write after a failed write succeeded")
	}
}

func TestInvoiceKeysOutOfOrder(t *testing.T) {
	m := mustOpen(t, NewMemFS(), nil)
	defer m.Close()
	other := testCode
	other[9] = '9'
	order := []struct {
		code fiscal.InvoiceCode
		n    uint32
	}{{testCode, 10}, {testCode, 5}, {other, 1}, {testCode, 7}, {other, 3}, {testCode, 11}}
	for _, o := range order {
		v := testInvoice(o.n, day(0), fiscal.InvoiceNormal, 10)
		v.Code = o.code
		must(t, m.AddInvoice(ctx, v))
	}
	for _, o := range order {
		v := testInvoice(o.n, day(0), fiscal.InvoiceNormal, 10)
		v.Code = o.code
		if err := m.AddInvoice(ctx, v); !errors.Is(err, ErrDuplicate) {
			t.Errorf("%s/%d again: %v", o.code, o.n, err)
		}
		got, err := m.Invoice(ctx, o.code, o.n)
		if err != nil || got.Code != o.code || got.Detail.Number != o.n {
			t.Errorf("%s/%d: %v %v/%d", o.code, o.n, err, got.Code, got.Detail.Number)
		}
	}
	if _, err := m.Invoice(ctx, other, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("other/10: %v", err)
	}
}

// TestDeepVerify writes, behind the API's back, an invoice whose CRC is
// right but whose payer text is not GB18030: the default checks accept it
// (it has the right shape, date, key and amounts), DeepVerify and reading
// the invoice reject it.
func TestDeepVerify(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	fillSmall(t, m)
	v := testInvoice(700, day(5), fiscal.InvoiceNormal, 90)
	p, err := v.appendPayload(nil)
	must(t, err)
	payer := fiscal.InvoiceDetailLen + fiscal.InvoiceCodeLen + 3 + 30
	p[payer], p[payer+1] = 0xFF, 0xFF
	locs, err := m.w.write([]pending{{Kind: KindInvoice, Payload: p}})
	must(t, err)
	m.Close()
	if _, err := Verify(ctx, fsys, nil); err != nil {
		t.Fatalf("quick verify: %v", err)
	}
	rep, err := Verify(ctx, fsys, &Options{DeepVerify: true})
	if !errors.Is(err, ErrCorrupt) || rep.Bad.Seq != locs[0].Seq || rep.Bad.Kind != KindInvoice || !errors.Is(err, fiscal.ErrBadText) {
		t.Fatalf("deep verify: %v", err)
	}
	m = mustOpen(t, fsys, nil)
	defer m.Close()
	if _, err := m.Invoice(ctx, testCode, 700); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reading the bad invoice: %v", err)
	}
}

// TestPowerCutDuringRepair cuts the power at every write of Repair itself:
// the memory stays repairable, and once repaired holds everything before the
// torn record.
func TestPowerCutDuringRepair(t *testing.T) {
	base := NewMemFS()
	m := mustOpen(t, base, nil)
	fillSmall(t, m)
	before := m.Stats().Records
	must(t, m.AddInvoice(ctx, testInvoice(600, day(5), fiscal.InvoiceNormal, 777)))
	m.Close()
	seg := base.Bytes(segmentName(1))
	base.SetBytes(segmentName(1), seg[:len(seg)-7])
	for n := 1; ; n++ {
		fsys := base.Clone()
		ff := &FaultFS{FS: fsys, CutAt: n, Keep: 5}
		_, err := Repair(ctx, ff, nil)
		if !ff.IsCut() {
			must(t, err)
			break
		}
		m := reopen(t, fsys, nil, fmt.Sprintf("repair cut at op %d", n))
		if m.Stats().Records != before {
			t.Fatalf("op %d: %d records, want %d", n, m.Stats().Records, before)
		}
		m.Close()
	}
}

func TestEachInvoiceCallbackMayWrite(t *testing.T) {
	m := mustOpen(t, NewMemFS(), nil)
	defer m.Close()
	fillSmall(t, m)
	seen := 0
	err := m.EachInvoice(ctx, fiscal.Date{}, fiscal.Date{}, func(v Invoice) error {
		seen++
		return m.AddInvoice(ctx, testInvoice(1000+v.Detail.Number, day(6), fiscal.InvoiceNormal, 1))
	})
	must(t, err)
	if seen != 9 || m.InvoiceCount() != 18 {
		t.Errorf("seen %d, stored %d", seen, m.InvoiceCount())
	}
}

// TestExportFieldNames pins the field names of every kind of export line to
// the list documented in doc.go.
func TestExportFieldNames(t *testing.T) {
	want := map[string]string{
		"machine":     "hardware kind number produced seq software",
		"init":        "app_start app_valid deadline detail_mode fiscal_card init_date kind return_limit seq single_limit tax_id tax_items taxpayer_name taxpayer_number total_limit user_card",
		"invoice":     "code date drawer fiscal_code kind lines number original original_code payer seq tax time total type",
		"daily":       "date kind normal_count return_count seq signature tax void_count",
		"declaration": "card_total_return card_total_valid date end kind mac1 normal_count return_count seq signature start status tax void_count",
		"roll":        "code end kind loaded seq start",
		"roll_usage":  "code end first kind last normal normal_count return return_count seq start void_count",
		"pin":         "kind seq",
		"intent":      "id kind op payload seq",
		"intent_done": "id kind seq",
		"security":    "event kind seq text time",

		"roll_distributed": "code end kind mac seq start time",
		"roll_taken":       "code end kind reason seq start time",
		"control_update":   "deadline detail_mode kind return_limit seq single_limit tax_indexes time total_limit",
		"request":          "code kind number request_id seq",
	}
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	fillSmall(t, m)
	var buf bytes.Buffer
	must(t, m.Export(ctx, &buf))
	m.Close()
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var o map[string]any
		must(t, json.Unmarshal([]byte(l), &o))
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		k := o["kind"].(string)
		seen[k] = true
		if got := strings.Join(keys, " "); got != want[k] {
			t.Errorf("%s fields:\n got %s\nwant %s", k, got, want[k])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("kinds exported: %v", seen)
	}
}

func TestConcurrentUse(t *testing.T) {
	m := mustOpen(t, NewMemFS(), nil)
	defer m.Close()
	fillSmall(t, m)
	done := make(chan error, 4)
	go func() {
		var err error
		for i := 0; i < 50 && err == nil; i++ {
			err = m.AddInvoice(ctx, testInvoice(uint32(2000+i), day(7), fiscal.InvoiceNormal, 10))
		}
		done <- err
	}()
	go func() {
		var err error
		for i := 0; i < 50 && err == nil; i++ {
			err = m.LogSecurity(ctx, SecurityEvent{Type: SecOther, Text: "x"})
		}
		done <- err
	}()
	for r := 0; r < 2; r++ {
		go func() {
			for i := 0; i < 30; i++ {
				if _, err := m.Totals(ctx, fiscal.Date{}, fiscal.Date{}); err != nil {
					done <- err
					return
				}
				m.Stats()
				m.OpenIntents()
			}
			done <- nil
		}()
	}
	for i := 0; i < 4; i++ {
		must(t, <-done)
	}
	if m.InvoiceCount() != 59 || len(m.SecurityEvents()) != 51 {
		t.Errorf("%d invoices, %d events", m.InvoiceCount(), len(m.SecurityEvents()))
	}
	if _, err := m.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestUnsupportedVersion(t *testing.T) {
	fsys := NewMemFS()
	m := mustOpen(t, fsys, nil)
	fillSmall(t, m)
	m.Close()
	b := fsys.Bytes(segmentName(1))
	h := segHeader{Version: 2, Index: 1, FirstSeq: 1}.append(nil)
	copy(b, h)
	fsys.SetBytes(segmentName(1), b)
	_, err := Open(ctx, fsys, nil)
	var ce *CorruptionError
	if !errors.Is(err, ErrVersion) || !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Offset != 0 {
		t.Fatalf("version 2: %v", err)
	}
}
