package memory

import (
	"fmt"

	"github.com/fiscalkit/gb18240/fiscal"
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// validate checks the content rules of an invoice that the byte codec does
// not: a number, a code, amounts that add up, lines that match them.
func (v Invoice) validate() error {
	d := v.Detail
	if !d.Type.Valid() {
		return invalid("invoice type 0x%02X", uint8(d.Type))
	}
	if !d.Date.Valid() {
		return invalid("invoice date %v", d.Date)
	}
	if d.Number == 0 {
		return invalid("invoice number 0")
	}
	if !v.Code.Valid() {
		return invalid("invoice code % X is not 10 digits", string(v.Code[:]))
	}
	if !v.Time.valid() {
		return invalid("time of day %v", v.Time)
	}
	for i, x := range v.Indexes {
		if x == 0 {
			if v.Amounts[i] != 0 {
				return invalid("amount %s in unused tax slot %d", v.Amounts[i], i)
			}
			continue
		}
		for _, y := range v.Indexes[:i] {
			if y == x {
				return invalid("tax index %d used twice", x)
			}
		}
	}
	if v.Amounts.Sum() != d.Total {
		return invalid("total %s is not the sum %s of the tax amounts", d.Total, v.Amounts.Sum())
	}
	if d.Type == fiscal.InvoiceVoid && d.Total != 0 {
		return invalid("a void invoice carries no amount")
	}
	if d.Type == fiscal.InvoiceReturn && d.Original == 0 {
		return invalid("a return invoice names its original invoice")
	}
	if v.OriginalCode != (fiscal.InvoiceCode{}) {
		if d.Type != fiscal.InvoiceReturn {
			return invalid("a %v invoice has no original invoice code", d.Type)
		}
		if !v.OriginalCode.Valid() {
			return invalid("original invoice code % X is not 10 digits", string(v.OriginalCode[:]))
		}
	}
	if len(v.Lines) > fiscal.MaxInvoiceLines {
		return invalid("%d lines, at most %d", len(v.Lines), fiscal.MaxInvoiceLines)
	}
	if len(v.Lines) > 0 && d.Type != fiscal.InvoiceVoid {
		var sums fiscal.TaxAmounts
		for i, l := range v.Lines {
			slot := v.Indexes.Slot(l.TaxIndex)
			if slot < 0 {
				return invalid("line %d: tax index %d not among the invoice's", i, l.TaxIndex)
			}
			sums[slot] += l.Amount
		}
		if sums != v.Amounts {
			return invalid("line amounts %v do not add up to the tax amounts %v", sums, v.Amounts)
		}
	}
	return nil
}

func (r Daily) validate() error {
	if !r.Record.Date.Valid() {
		return invalid("daily record date %v", r.Record.Date)
	}
	return nil
}

func (r Declaration) validate() error {
	if !r.Date.Valid() || !r.Data.Start.Valid() || !r.Data.End.Valid() {
		return invalid("declaration dates %v, %v..%v", r.Date, r.Data.Start, r.Data.End)
	}
	if r.Data.End.Before(r.Data.Start) {
		return invalid("declaration period %v..%v ends before it starts", r.Data.Start, r.Data.End)
	}
	return nil
}

func (r RollUsage) validate() error {
	if err := r.Roll.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !r.First.IsZero() && !r.Last.IsZero() && r.Last.Before(r.First) {
		return invalid("roll usage last date %v before first %v", r.Last, r.First)
	}
	if n := r.NormalCount + r.ReturnCount + r.VoidCount; n > r.Roll.Count() {
		return invalid("roll usage counts %d invoices, the roll has %d", n, r.Roll.Count())
	}
	return nil
}

func (r RollLoad) validate() error {
	if err := r.Roll.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func (r RollDistribution) validate() error {
	if err := r.Roll.Roll.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func (r RollTaken) validate() error {
	if err := r.Roll.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !r.Reason.valid() {
		return invalid("roll taken with reason %d", r.Reason)
	}
	return nil
}

func (c ControlUpdate) validate() error {
	if !c.Control.Deadline.Valid() {
		return invalid("control update without a valid deadline (%v)", c.Control.Deadline)
	}
	return nil
}

func (a Application) validate() error {
	if !a.InitDate.Valid() {
		return invalid("init date %v", a.InitDate)
	}
	if !a.AppStart.IsZero() && !a.AppValid.IsZero() && a.AppValid.Before(a.AppStart) {
		return invalid("application valid date %v before start %v", a.AppValid, a.AppStart)
	}
	return nil
}
