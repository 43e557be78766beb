package register

import (
	"context"

	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// CloseDay runs the daily close (日汇总) for every day up to and including
// upTo that has none yet; see closeDays. It normally runs by itself at
// start-up and on the first operation of a new day, for every day before
// today; call it to close today as well (for example at the end of
// business, before the machine is switched off).
func (d *Device) CloseDay(ctx context.Context, upTo fiscal.Date) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "daily close"
	if d.closed {
		return newErr(op, ErrClosed, nil, "")
	}
	if !d.hasApp {
		return newErr(op, ErrNotInitialised, nil, "")
	}
	if d.pinBad != nil {
		return d.pinBad
	}
	today, err := d.today()
	if err != nil {
		return err
	}
	if upTo.After(today) {
		return newErr(op, ErrBadRequest, nil, "cannot close %v before it happened (today is %v)", upTo, today)
	}
	if d.pending {
		if err := d.recover(ctx); err != nil {
			return err
		}
	}
	return d.closeDays(ctx, upTo)
}

// closeDays makes one signed daily record for every calendar day after the
// last one closed (or from the initialisation date) up to upTo, days
// without sales included. One VERIFY_FISCAL_PIN (with the intent) opens
// the run; each day is then one DAILY_COLLECT_SIGN and one fiscal-memory
// batch. The run is idempotent: an interrupted one is simply run again.
func (d *Device) closeDays(ctx context.Context, upTo fiscal.Date) error {
	const op = "daily close"
	from := d.app.InitDate
	if !d.lastDaily.IsZero() && !d.lastDaily.Before(from) {
		from = d.lastDaily.AddDays(1)
	}
	if upTo.Before(from) {
		return nil
	}
	n := from.DaysUntil(upTo) + 1
	if err := d.mem.CheckCapacity(memory.KindDaily, n); err != nil {
		return memErr(op, err)
	}
	byDay := map[fiscal.Date]fiscal.DailyRecord{}
	err := d.mem.EachInvoiceOf(ctx, d.appIdx, from, upTo, func(v Invoice) error {
		r, ok := byDay[v.Detail.Date]
		if !ok {
			r = d.emptyDaily(v.Detail.Date)
		}
		if err := addToDaily(&r, v); err != nil {
			return err
		}
		byDay[v.Detail.Date] = r
		return nil
	})
	if err != nil {
		return memErr(op, err)
	}
	id := d.newID()
	if err := d.verifyPIN(ctx, op, new(memory.Batch).BeginIntent(memory.Intent{ID: id, Op: opDaily})); err != nil {
		return err
	}
	for day := from; !day.After(upTo); day = day.AddDays(1) {
		rec, ok := byDay[day]
		if !ok {
			rec = d.emptyDaily(day)
		}
		sig, err := d.fc.DailyCollectSign(ctx, rec)
		if err != nil {
			e := d.fiscalErr(op, err)
			d.pending = true // the intent stays open; the run is redone
			return e
		}
		b := new(memory.Batch).AddDaily(memory.Daily{Record: rec, Signature: sig})
		if day == upTo {
			b.EndIntent(id)
		}
		if err := d.mem.Commit(ctx, b); err != nil {
			d.pending = true
			return memErr(op, err)
		}
		d.lastDaily = day
		if day.After(d.lastDate) {
			d.lastDate = day
		}
	}
	return nil
}

// emptyDaily returns the daily record of a day without sales.
func (d *Device) emptyDaily(day fiscal.Date) fiscal.DailyRecord {
	return fiscal.DailyRecord{Date: day, Indexes: d.ctl.Indexes}
}

// addToDaily adds one invoice to a daily record. The record starts with the
// machine's current tax indexes; an invoice issued under an index the
// controls no longer list (a control update during the day) gets a free
// slot, so the record carries exactly what the fiscal card accumulated. More
// than six indexes in one day cannot be written: that is ErrBadRequest.
func addToDaily(r *fiscal.DailyRecord, v Invoice) error {
	switch v.Detail.Type {
	case fiscal.InvoiceNormal:
		r.NormalCount++
	case fiscal.InvoiceReturn:
		r.ReturnCount++
	case fiscal.InvoiceVoid:
		r.VoidCount++
		return nil
	}
	for i, x := range v.Indexes {
		n, ret := v.Amounts[i], fiscal.Amount(0)
		if v.Detail.Type == fiscal.InvoiceReturn {
			n, ret = 0, n
		}
		if !addByIndex(&r.Indexes, &r.Normal, &r.Return, x, n, ret) {
			return newErr("daily close", ErrBadRequest, nil, "%v: more than %d tax indexes used in one day", r.Date, fiscal.MaxTaxItems)
		}
	}
	return nil
}

// addByIndex adds the amounts n (normal) and ret (return) of tax index x to
// a record's per-index amounts. Records start with the machine's current
// indexes; an index the controls no longer list (a control update during
// the day or the period) takes a free slot when it carries an amount, so the
// record holds exactly what the fiscal card accumulated. It reports false
// when all fiscal.MaxTaxItems slots hold other indexes.
func addByIndex(idx *fiscal.TaxIndexes, normal, returns *fiscal.TaxAmounts, x fiscal.TaxIndex, n, ret fiscal.Amount) bool {
	if x == 0 || (n == 0 && ret == 0 && idx.Slot(x) < 0) {
		return true
	}
	slot := idx.SlotFor(x)
	if slot < 0 {
		return false
	}
	normal[slot] += n
	returns[slot] += ret
	return true
}

// DailyReport recomputes day's summary from the stored invoices and puts it
// beside the signed daily record of that day, flagging any difference. A
// closed day is recomputed on the tax indexes its signed record lists (the
// controls in force when it was closed); an open day on the current ones.
func (d *Device) DailyReport(ctx context.Context, day fiscal.Date) (DailyReport, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.hasApp {
		return DailyReport{}, newErr("daily report", ErrNotInitialised, nil, "")
	}
	rep := DailyReport{Date: day, Computed: d.emptyDaily(day), Items: append([]fiscal.TaxItem(nil), d.app.TaxItems...)}
	// From the initialisation date on, the current taxpayer's part of the
	// day (a change of owner during the day splits it).
	app := -2
	if !day.Before(d.app.InitDate) {
		app = d.appIdx
	}
	each, dailies := d.mem.EachInvoice, d.mem.Dailies
	if app >= 0 {
		each = func(ctx context.Context, from, to fiscal.Date, fn func(Invoice) error) error {
			return d.mem.EachInvoiceOf(ctx, app, from, to, fn)
		}
		dailies = func(from, to fiscal.Date) []memory.Daily { return d.mem.DailiesOf(app, from, to) }
	}
	if ds := dailies(day, day); len(ds) > 0 {
		rep.Signed, rep.HasSigned = ds[0].Record, true
		// The close built the record on the indexes in force that day; a
		// later control update must not make an intact day look tampered.
		rep.Computed.Indexes = rep.Signed.Indexes
	}
	err := each(ctx, day, day, func(v Invoice) error {
		return addToDaily(&rep.Computed, v)
	})
	if err != nil {
		return rep, memErr("daily report", err)
	}
	rep.Mismatch = rep.HasSigned && rep.Signed != rep.Computed
	return rep, nil
}
