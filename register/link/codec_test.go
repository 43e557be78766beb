package link

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func cst(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, ChinaTime())
}

func roundTrip[T any, PT interface {
	*T
	decode(*reader)
	encode(*writer)
}](t *testing.T, v T, size int) {
	t.Helper()
	w := &writer{}
	PT(&v).encode(w)
	if w.err != nil {
		t.Fatalf("%T encode: %v", v, w.err)
	}
	if size >= 0 && len(w.b) != size {
		t.Errorf("%T: %d bytes, want %d", v, len(w.b), size)
	}
	var back T
	r := &reader{b: w.b}
	PT(&back).decode(r)
	if err := r.end(); err != nil {
		t.Fatalf("%T decode: %v", v, err)
	}
	if !reflect.DeepEqual(v, back) {
		t.Errorf("%T round trip:\n got %+v\nwant %+v", v, back, v)
	}
}

func tenItems() []Item {
	items := make([]Item, 10)
	for i := range items {
		items[i] = Item{Name: []byte("商品"), Quantity: uint32(1000 * (i + 1)), TaxIndex: 1, UnitPrice: 1250}
	}
	return items
}

func TestRoundTrips(t *testing.T) {
	now := cst(2026, 11, 27, 8, 30, 5)
	today := cst(2026, 11, 27, 0, 0, 0)
	var sig [SignatureLen]byte
	sig[0], sig[127] = 1, 2
	roundTrip(t, ConnectInfo{MachineNo: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, ProtocolVersion: 1, MaxPacketData: 250}, 10)
	roundTrip(t, StatusInfo{Flags: FlagInitialised | FlagUserCard, Time: now, NextInvoice: 9, Remaining: 3, RollsWaiting: 2, IssueDeadline: today}, 21)
	roundTrip(t, MachineInfo{MachineNo: [8]byte{9}, ProductionDate: today, HardwareVersion: "HW1", SoftwareVersion: "SW2.01"}, 28)
	roundTrip(t, UserInfo{FiscalCardNo: [8]byte{7}, TaxpayerID: "91110000X", TaxpayerName: []byte("某某公司"), InitDate: today,
		IssueDeadline: today.AddDate(0, 1, 0), SingleLimit: 1, CumulativeLimit: 2, ReturnLimit: 3}, 88)
	roundTrip(t, Roll{Code: [10]byte{'1', '4', '4', '0'}, Start: 1001, End: 2000}, 18)
	roundTrip(t, CurrentInvoice{Next: 1, Remaining: 2, LastIssued: 3}, 12)
	// A 10-line invoice: 8 + 2 + 40 + 1 + 10×29 = 341 bytes, two packets.
	roundTrip(t, IssueRequest{RequestID: 0xDEADBEEF, Branch: 3, Payer: []byte("payer"), Items: tenItems()}, 341)
	roundTrip(t, ReturnRequest{RequestID: 5, OriginalNo: 77}, 12)
	roundTrip(t, VoidRequest{RequestID: 5, Count: 2}, 10)
	inv := Invoice{No: 42, Type: TypeReturn, Time: now, Total: 12345, FiscalCode: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, OriginalNo: 41, RequestID: 99}
	roundTrip(t, inv, invoiceSize)
	roundTrip(t, InvoiceDetail{Invoice: inv, Branch: 1, Payer: []byte("p"), Items: tenItems()}, maxDetailSize)
	roundTrip(t, NumberRange{From: 1, To: 9}, 8)
	roundTrip(t, TimeRange{From: now, To: now.Add(time.Hour), Skip: 3}, 18)
	roundTrip(t, DateRange{From: today, To: today.AddDate(0, 0, 3), Skip: 1}, 12)
	roundTrip(t, DailyData{Date: today, NormalCount: 1, ReturnCount: 2, VoidCount: 3, TaxIndex: [6]uint8{1, 2},
		Normal: [6]uint32{100}, Return: [6]uint32{0, 50}, Signature: sig}, dailySize)
	roundTrip(t, DeclareRequest{Mode: DeclareMonth, EndDate: today}, 5)
	roundTrip(t, Declaration{Start: today.AddDate(0, -1, 0), End: today, NormalCount: 9, ReturnCount: 1, VoidCount: 2,
		TaxIndex: [6]uint8{1}, Normal: [6]uint32{5}, Return: [6]uint32{6}, MAC: [4]byte{1, 2, 3, 4}, Signature: sig}, declarationSize)
	roundTrip(t, RollUsageQuery{Skip: 4}, 4)
	roundTrip(t, RollUsage{Code: [10]byte{'1'}, Start: 1, End: 1000, NormalCount: 3, ReturnCount: 1, VoidCount: 1,
		NormalTotal: 300, ReturnTotal: 100, First: today, Last: today}, rollUsageSize)
}

func TestInvoiceFiscalCodeString(t *testing.T) {
	inv := Invoice{FiscalCode: [8]byte{0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}}
	if got := inv.FiscalCodeString(); got != "00000000014294967295" {
		t.Fatalf("got %s", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		dec  func(*reader)
	}{
		{"short", []byte{1, 2, 3}, new(CurrentInvoice).decode},
		{"bad BCD", []byte{0x20, 0x26, 0x1A, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}, new(DateRange).decode},
		{"bad date", []byte{0x20, 0x26, 0x02, 0x30, 0x20, 0x26, 0x03, 0x01, 0, 0, 0, 0}, new(DateRange).decode},
		{"hour 24", []byte{0x20, 0x26, 0x01, 0x01, 0x24, 0, 0}, func(r *reader) { r.dateTime("t") }},
		{"invoice type", append([]byte{0, 0, 0, 1, 0x07}, make([]byte, 31)...), new(Invoice).decode},
		{"no items", append(make([]byte, 50), 0), new(IssueRequest).decode},
		{"11 items", append(make([]byte, 50), 11), new(IssueRequest).decode},
		{"void count 0", make([]byte, 10), new(VoidRequest).decode},
		{"declare mode", []byte{4, 0, 0, 0, 0}, new(DeclareRequest).decode},
		{"list count", []byte{0, 0xFF, 0xFF}, func(r *reader) { decodeList[Invoice](r, invoiceSize) }},
		{"list more", []byte{2, 0, 0}, func(r *reader) { decodeList[Invoice](r, invoiceSize) }},
	}
	for _, tt := range tests {
		r := &reader{cmd: CmdStatus, b: tt.data}
		tt.dec(r)
		err := r.end()
		var de *DataError
		if !errors.Is(err, ErrMalformed) || !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want a *DataError", tt.name, err)
		}
	}
	// Trailing bytes are an error too.
	r := &reader{b: make([]byte, 13)}
	new(CurrentInvoice).decode(r)
	if !errors.Is(r.end(), ErrMalformed) {
		t.Error("trailing byte accepted")
	}
}

func TestEncodeRejects(t *testing.T) {
	for name, enc := range map[string]func(*writer){
		"long payer":  IssueRequest{RequestID: 1, Payer: make([]byte, 41), Items: tenItems()[:1]}.encode,
		"no items":    IssueRequest{RequestID: 1}.encode,
		"11 items":    IssueRequest{RequestID: 1, Items: append(tenItems(), Item{})}.encode,
		"void 0":      VoidRequest{RequestID: 1}.encode,
		"7 tax items": func(w *writer) { encodeTaxItems(w, make([]TaxItem, 7)) },
		"year 10000":  func(w *writer) { w.date(cst(10000, 1, 1, 0, 0, 0), "d") },
	} {
		w := &writer{}
		enc(w)
		if !errors.Is(w.err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, w.err)
		}
	}
}

func TestDeviceErrorIs(t *testing.T) {
	err := error(&DeviceError{Command: CmdIssueNormal, Code: CodeSingleLimit})
	if !errors.Is(err, ErrSingleLimit) || errors.Is(err, ErrCumulativeLimit) {
		t.Fatal("sentinel mapping")
	}
	if code, ok := DeviceCode(err); !ok || code != 0x12 {
		t.Fatalf("code %v %v", code, ok)
	}
	if !errors.Is(&DeviceError{Code: CodeBadCRC}, ErrRejectedFrame) {
		t.Fatal("framing codes")
	}
	if s := (&DeviceError{Command: CmdStatus, Code: 0x77}).Error(); !bytes.Contains([]byte(s), []byte("0x77")) {
		t.Fatalf("unknown code text %q", s)
	}
}

// The pump wrapper gives deadlines to a plain io.ReadWriter and keeps the
// bytes that arrive after a deadline passed.
func TestWithDeadlinePump(t *testing.T) {
	pr, pw := ioPipe()
	d := WithDeadline(struct {
		readerOnly
		writerOnly
	}{readerOnly{pr}, writerOnly{pw}})
	if err := d.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := d.Read(buf); !isTimeout(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	go pw.Write([]byte("late"))
	_ = d.SetReadDeadline(time.Now().Add(time.Second))
	n, err := d.Read(buf)
	if err != nil || string(buf[:n]) != "late" {
		t.Fatalf("got %q, %v", buf[:n], err)
	}
	fr := &frameReader{r: d, interByte: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := fr.next(ctx, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}
