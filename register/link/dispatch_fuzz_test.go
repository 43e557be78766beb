package link

import (
	"context"
	"errors"
	"testing"
	"time"
)

// stubHandler answers every command with fixed, valid values.
type stubHandler struct{}

func (stubHandler) Connect(context.Context) (ConnectInfo, error) {
	return ConnectInfo{ProtocolVersion: 1}, nil
}
func (stubHandler) Status(context.Context) (StatusInfo, error) { return StatusInfo{}, nil }
func (stubHandler) DateTime(context.Context) (time.Time, error) {
	return cst(2026, 11, 27, 1, 2, 3), nil
}
func (stubHandler) SetDateTime(context.Context, time.Time) error     { return nil }
func (stubHandler) MachineInfo(context.Context) (MachineInfo, error) { return MachineInfo{}, nil }
func (stubHandler) UserInfo(context.Context) (UserInfo, error)       { return UserInfo{}, nil }
func (stubHandler) TaxItems(context.Context) ([]TaxItem, error)      { return []TaxItem{{Index: 1}}, nil }
func (stubHandler) Initialise(context.Context) error                 { return ErrUnsupported }
func (stubHandler) DistributeRoll(context.Context) (Roll, error)     { return Roll{Start: 1, End: 2}, nil }
func (stubHandler) LoadRoll(context.Context) (Roll, error) {
	return Roll{}, &DeviceError{Code: CodeNoInvoices}
}
func (stubHandler) CurrentInvoice(context.Context) (CurrentInvoice, error) {
	return CurrentInvoice{}, nil
}
func (stubHandler) IssueNormal(_ context.Context, q IssueRequest) (Invoice, error) {
	return Invoice{No: 1, Type: TypeNormal, Time: cst(2026, 1, 1, 0, 0, 0)}, nil
}
func (stubHandler) IssueReturn(context.Context, ReturnRequest) (Invoice, error) {
	return Invoice{}, errors.New("boom")
}
func (stubHandler) Void(_ context.Context, q VoidRequest) ([]Invoice, error) {
	return []Invoice{{No: 2, Type: TypeVoid}}, nil
}
func (stubHandler) Invoices(_ context.Context, q NumberRange, limit int) ([]Invoice, error) {
	return make([]Invoice, min(limit, 3)), nil
}
func (stubHandler) InvoiceDetails(context.Context, NumberRange, int) ([]InvoiceDetail, error) {
	return nil, nil
}
func (stubHandler) InvoiceDetailsByTime(context.Context, TimeRange, int) ([]InvoiceDetail, error) {
	return nil, nil
}
func (stubHandler) DailyData(context.Context, DateRange, int) ([]DailyData, error) { return nil, nil }
func (stubHandler) Declare(context.Context, DeclareRequest) (Declaration, error) {
	return Declaration{}, nil
}
func (stubHandler) Declarations(context.Context, DateRange, int) ([]Declaration, error) {
	return nil, nil
}
func (stubHandler) RollUsage(context.Context, RollUsageQuery, int) ([]RollUsage, error) {
	return nil, nil
}

// FuzzDispatch gives the server arbitrary command data: it never panics,
// and always answers OK or ER with a code (issuing commands: code ‖ id).
func FuzzDispatch(f *testing.F) {
	w := &writer{}
	IssueRequest{RequestID: 7, Items: []Item{{Quantity: 1}}}.encode(w)
	f.Add(uint8(CmdIssueNormal), w.b)
	f.Add(uint8(CmdVoid), []byte{0, 0, 0, 0, 0, 0, 0, 9, 0, 1})
	f.Add(uint8(CmdInvoices), []byte{0, 0, 0, 1, 0, 0, 0, 9})
	f.Add(uint8(CmdSetDateTime), []byte{0x20, 0x26, 0x11, 0x27, 0x08, 0x30, 0x05})
	f.Add(uint8(CmdInspect), append([]byte{1, '1', '2', '3', '4', '5', '6', '7', '8'}, make([]byte, 15)...))
	f.Add(uint8(CmdCardAPDU), []byte{1, 0x00, 0xB0, 0x83, 0x00, 0x4C})
	f.Add(uint8(CmdCardAPDU), []byte{2, 0xC0, 0xF2, 0x00, 0x00})
	f.Add(uint8(CmdCardPowerOn), []byte{1})
	f.Add(uint8(CmdSelfTestClock), []byte{})
	f.Add(uint8(CmdInvoicesByRequest), []byte{0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, cmd uint8, data []byte) {
		s := NewServer(&serviceStub{}, nil)
		c := Command(cmd)
		rep := s.dispatch(context.Background(), c, data)
		switch rep.status {
		case StatusOK:
		case StatusER:
			if len(rep.data) < 1 || c.Issuing() && len(rep.data) != 9 {
				t.Fatalf("ER data %x for %v", rep.data, c)
			}
		default:
			t.Fatalf("status %v", rep.status)
		}
		if len(rep.data) > MaxTransfer {
			t.Fatalf("reply of %d bytes", len(rep.data))
		}
		if c.Issuing() {
			again := s.dispatch(context.Background(), c, data)
			if again.status != rep.status || string(again.data) != string(rep.data) {
				t.Fatalf("repeat of %v answered differently", c)
			}
		}
	})
}
