package link

import (
	"context"
	"time"
)

// Handler is what the register side must do for each command. Server
// decodes each request into the typed struct, calls one method, and encodes
// the result. Methods are called one at a time.
//
// Errors: return a *DeviceError to send its code in the ER reply,
// ErrUnsupported for a command the register does not implement, an error
// wrapping ErrMalformed for request values that are out of range; any other
// error is answered with CodeDeviceFailure.
//
// List methods return at most limit records, oldest first; returning exactly
// limit records tells the server that more may remain.
type Handler interface {
	Connect(ctx context.Context) (ConnectInfo, error)
	Status(ctx context.Context) (StatusInfo, error)
	DateTime(ctx context.Context) (time.Time, error)
	SetDateTime(ctx context.Context, t time.Time) error
	MachineInfo(ctx context.Context) (MachineInfo, error)
	UserInfo(ctx context.Context) (UserInfo, error)
	TaxItems(ctx context.Context) ([]TaxItem, error)
	Initialise(ctx context.Context) error
	DistributeRoll(ctx context.Context) (Roll, error)
	LoadRoll(ctx context.Context) (Roll, error)
	CurrentInvoice(ctx context.Context) (CurrentInvoice, error)

	// IssueNormal, IssueReturn and Void issue invoices. req.RequestID is
	// never zero; a register that stores it with the invoice, answers a
	// repeated id from its records, returns it in Invoices and implements
	// RequestHandler lets clients reconcile exactly even after the server
	// restarted (DeviceHandler does all of this).
	IssueNormal(ctx context.Context, req IssueRequest) (Invoice, error)
	IssueReturn(ctx context.Context, req ReturnRequest) (Invoice, error)
	Void(ctx context.Context, req VoidRequest) ([]Invoice, error)

	Invoices(ctx context.Context, q NumberRange, limit int) ([]Invoice, error)
	InvoiceDetails(ctx context.Context, q NumberRange, limit int) ([]InvoiceDetail, error)
	InvoiceDetailsByTime(ctx context.Context, q TimeRange, limit int) ([]InvoiceDetail, error)
	DailyData(ctx context.Context, q DateRange, limit int) ([]DailyData, error)
	Declare(ctx context.Context, req DeclareRequest) (Declaration, error)
	Declarations(ctx context.Context, q DateRange, limit int) ([]Declaration, error)
	RollUsage(ctx context.Context, q RollUsageQuery, limit int) ([]RollUsage, error)
}
