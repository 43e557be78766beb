package register

import (
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// Invoice is an issued invoice as fiscal memory keeps it: the 27-byte GB
// detail (date, type, number, total, 税控码, original number), the invoice
// code of its roll, the time of day, per-tax-item amounts, lines, payer and
// drawer.
type Invoice = memory.Invoice

// Line is one goods line of an invoice (项目 / 数量 / 单价 / 金额, tax item).
// Quantity is in thousandths of a unit. In a request, an Amount of 0 means
// Quantity × UnitPrice / 1000, rounded half up to the fen.
type Line = memory.Line

// InvoiceRequest asks for a normal invoice (正常发票).
type InvoiceRequest struct {
	// Payer is the 付款单位, at most 40 bytes of GB18030 (may be empty).
	Payer string
	// Drawer is the 开票人, at most 20 bytes of GB18030.
	Drawer string
	// Lines are the goods lines, 1 to 10, each with a tax index the
	// machine holds and a positive amount.
	Lines []Line
	// RequestID is the caller's id of this request (0: none). Fiscal
	// memory stores it with the invoice (Invoice.RequestID), and a
	// request whose id is stored already is not issued again: the stored
	// invoice is returned. See Device.Issue.
	RequestID uint64
}

// ReturnRequest asks for a return invoice (退票) of an earlier normal invoice.
type ReturnRequest struct {
	// Code and Number identify the original invoice. A zero Code means the
	// code of the currently loaded roll.
	Code   fiscal.InvoiceCode
	Number uint32
	// Drawer is the 开票人 of the return.
	Drawer string
	// RequestID is the caller's id of this request (0: none); as for
	// InvoiceRequest.RequestID.
	RequestID uint64
}

// VoidRequest asks for void invoices (废票) on the blank invoices starting at
// the current invoice number.
type VoidRequest struct {
	// Count is the number of invoices to void, starting at the current
	// one; 0 means 1. RestOfRoll overrides it.
	Count int
	// RestOfRoll voids every invoice left in the loaded roll.
	RestOfRoll bool
	// Drawer is the 开票人.
	Drawer string
	// RequestID is the caller's id of this request (0: none); every void
	// invoice of the request carries it. A request whose id is stored
	// already returns the void invoices stored for it: fewer than Count
	// if the first attempt stopped early (an error after some voids), and
	// nothing more is voided.
	RequestID uint64
}

// Factory is the machine identity written once at the factory.
type Factory struct {
	Number          fiscal.MachineNumber
	Produced        fiscal.Date
	HardwareVersion string
	SoftwareVersion string
}

// Status is a snapshot of the register's state.
type Status struct {
	Machine     fiscal.MachineNumber
	HasFactory  bool
	Initialised bool
	// Taxpayer is the taxpayer's name once initialised.
	Taxpayer string
	// InitDate is the date of fiscal initialisation.
	InitDate fiscal.Date
	// Today is the register clock's date.
	Today fiscal.Date
	// Controls are the limits and deadline in force.
	Controls fiscal.ControlData
	// DeadlinePassed is set when Today is after Controls.Deadline.
	DeadlinePassed bool
	// LockDate is the five-year lock date; Locked is set once reached.
	LockDate fiscal.Date
	Locked   bool
	// Roll is the loaded roll (zero if none); Next the next invoice
	// number (0 when the roll is used up or none is loaded); Remaining the
	// invoices left in it.
	Roll      fiscal.Roll
	Next      uint32
	Remaining int
	// Waiting is the number of distributed rolls not yet loaded.
	Waiting int
	// LastDaily is the date of the last daily close (zero if none).
	LastDaily fiscal.Date
	// PeriodStart is the first day of the current declaration period;
	// PeriodNormal and PeriodReturn its cumulative totals.
	PeriodStart  fiscal.Date
	PeriodNormal fiscal.Amount
	PeriodReturn fiscal.Amount
	// PINOutOfStep is set once the fiscal card rejected the stored PIN.
	PINOutOfStep bool
	// RecoveryPending is set while an interrupted operation waits for a
	// card to complete it.
	RecoveryPending bool
	// Issued is the number of invoices in fiscal memory.
	Issued int
}

// DailyReport is one day's summary (日汇总) recomputed from the stored
// invoices, beside the signed daily record of that day if one exists.
type DailyReport struct {
	Date     fiscal.Date
	Computed fiscal.DailyRecord
	// Signed is the signed daily record; HasSigned is false for a day not
	// closed yet. Mismatch is set when both exist and differ.
	Signed    fiscal.DailyRecord
	HasSigned bool
	Mismatch  bool
	// Items names the tax items by index.
	Items []fiscal.TaxItem
}

// clockFunc returns the current time.
type clockFunc func() time.Time
