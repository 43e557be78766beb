package register

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// InspectRequest describes an inspection (稽查) with a check card (稽查卡).
type InspectRequest struct {
	// Check is the check card's reader.
	Check card.Transmitter
	// PIN is the check card's 8-byte PIN; nil: none is presented.
	PIN []byte
	// From and To bound the records exported by types 0-2 (zero: open).
	From, To fiscal.Date
	// SetTime is the new register time for type 3 (修改时钟).
	SetTime time.Time
}

// InspectResult says what an inspection did.
type InspectResult struct {
	Type card.CheckType
	// Items is the number of invoice details, daily records or
	// declarations exported; Records the number of 233-byte EF03 records
	// written to the check card.
	Items, Records int
	// Truncated is set when the check card ran out of room (6A84) before
	// every item was written.
	Truncated bool
}

// Inspect runs an inspection. The check card is checked first: its EF02
// card type (02) and valid-until date, the taxpayer number in its EF01
// (this machine's taxpayer) and the authentication exchange (GET CHALLENGE
// on the check card, INTERNAL AUTHENTICATE on the fiscal card with the key
// id of check EF01, EXTERNAL AUTHENTICATE on the check card). Then, by the
// check type in EF01: 0 invoice details, 1 daily records with their
// signatures, 2 declarations, each appended to check EF03 as 233-byte
// records; 3 authorises setting the register's clock to req.SetTime (kept
// as an offset to Config.Clock, durable in the security log). Every
// inspection is written to the security log.
func (d *Device) Inspect(ctx context.Context, req InspectRequest) (InspectResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	const op = "inspect"
	var res InspectResult
	switch {
	case d.closed:
		return res, newErr(op, ErrClosed, nil, "")
	case !d.hasApp:
		return res, newErr(op, ErrNotInitialised, nil, "")
	case req.Check == nil:
		return res, newErr(op, ErrIllegalCheckCard, nil, "no check card")
	}
	today, err := d.today()
	if err != nil && req.SetTime.IsZero() {
		return res, err
	}
	cc := card.NewCheckCard(card.NewChannel(req.Check, &card.ChannelOptions{Observer: d.obs}))
	checkErr := func(err error) error {
		var te *card.TransportError
		if errors.As(err, &te) {
			return newErr(op, ErrIllegalCheckCard, err, "check card does not answer")
		}
		return newErr(op, ErrIllegalCheckCard, err, "")
	}
	pin, hasPIN, err := userPIN(op, req.PIN)
	if err != nil {
		return res, err
	}
	if err := cc.Select(ctx); err != nil {
		return res, checkErr(err)
	}
	if hasPIN {
		if err := cc.Verify(ctx, pin); err != nil {
			return res, checkErr(err)
		}
	}
	info, err := cc.ReadInfo(ctx)
	if err != nil {
		return res, checkErr(err)
	}
	auth, err := cc.ReadAuth(ctx)
	if err != nil {
		return res, checkErr(err)
	}
	res.Type = info.Type
	switch {
	case auth.Valid.Before(today):
		return res, newErr(op, ErrIllegalCheckCard, nil, "check card valid until %v", auth.Valid)
	case info.TaxpayerNo != fiscal.CardNumber(d.app.TaxpayerNumber):
		return res, newErr(op, ErrIllegalCheckCard, nil, "check card is for taxpayer %v", info.TaxpayerNo)
	}
	if err := d.ensureSelected(ctx); err != nil {
		return res, err
	}
	chal, err := cc.GetChallenge(ctx)
	if err != nil {
		return res, checkErr(err)
	}
	crypt, err := d.fc.InternalAuthenticate(ctx, info.KeyID, chal)
	if err != nil {
		return res, d.fiscalErr(op, err)
	}
	if err := cc.ExternalAuthenticate(ctx, info.KeyID, crypt); err != nil {
		return res, newErr(op, ErrIllegalCheckCard, err, "authentication with the fiscal card failed")
	}

	rec := card.InspectionRecord{Date: today, TaxpayerNo: info.TaxpayerNo, Machine: d.machine.Number, Type: info.Type}
	var recs []card.InspectionRecord
	switch info.Type {
	case card.CheckInvoiceDetails:
		invs, err := d.mem.Invoices(ctx, req.From, req.To)
		if err != nil {
			return res, memErr(op, err)
		}
		res.Items = len(invs)
		for i := 0; i < len(invs); i += card.MaxInspectionDetails {
			r := rec
			for _, v := range invs[i:min(i+card.MaxInspectionDetails, len(invs))] {
				r.Details = append(r.Details, v.Detail)
			}
			recs = append(recs, r)
		}
	case card.CheckDailyData:
		for _, dl := range d.mem.Dailies(req.From, req.To) {
			r := rec
			r.Daily, r.Signature = dl.Record, dl.Signature
			recs = append(recs, r)
		}
		res.Items = len(recs)
	case card.CheckDeclarations:
		decls := d.mem.Declarations(req.From, req.To)
		res.Items = len(decls)
		for i := 0; i < len(decls); i += card.MaxInspectionDeclarations {
			r := rec
			for _, dc := range decls[i:min(i+card.MaxInspectionDeclarations, len(decls))] {
				r.Declarations = append(r.Declarations, dc.Data)
			}
			recs = append(recs, r)
		}
	case card.CheckSetClock:
		if req.SetTime.IsZero() {
			return res, newErr(op, ErrBadRequest, nil, "a clock inspection needs SetTime")
		}
		if nd := fiscal.DateOf(req.SetTime); !d.lastDate.IsZero() && nd.Before(d.lastDate) {
			return res, newErr(op, ErrClockBackwards, nil, "%v is before the last fiscal record (%v)", nd, d.lastDate)
		}
		adj := req.SetTime.Sub(d.clock())
		ev := memory.SecurityEvent{Time: req.SetTime.Truncate(time.Second), Type: memory.SecClockChange,
			Text: fmt.Sprintf("clock set from %s to %s by check card of taxpayer %v; %s%d",
				d.now().In(fiscal.Zone()).Format(time.DateTime), req.SetTime.In(fiscal.Zone()).Format(time.DateTime), info.TaxpayerNo, clockTag, int64(adj/time.Second))}
		if err := d.mem.LogSecurity(ctx, ev); err != nil {
			return res, memErr(op, err)
		}
		d.clockAdj = adj.Truncate(time.Second)
		return res, nil
	}
	for _, r := range recs {
		if err := cc.AppendRecord(ctx, r); err != nil {
			if errors.Is(err, card.ErrBadArgument) {
				return res, newErr(op, ErrBadRequest, err, "")
			}
			if errors.Is(err, card.ErrNotEnoughSpace) {
				res.Truncated = true
				break
			}
			d.security(ctx, memory.SecInspection, fmt.Sprintf("inspection type %d by taxpayer %v failed after %d records: %v", info.Type, info.TaxpayerNo, res.Records, err))
			return res, checkErr(err)
		}
		res.Records++
	}
	text := fmt.Sprintf("inspection type %d by check card of taxpayer %v: %d items in %d records", info.Type, info.TaxpayerNo, res.Items, res.Records)
	if res.Truncated {
		text += " (check card full: truncated)"
	}
	d.security(ctx, memory.SecInspection, text)
	return res, nil
}

// clockTag marks the clock offset in a clock-change security event.
const clockTag = "offset_seconds="

// clockOffset returns the register clock's offset to Config.Clock from the
// newest clock-change event of the security log.
func clockOffset(evs []memory.SecurityEvent) time.Duration {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type != memory.SecClockChange {
			continue
		}
		_, s, ok := strings.Cut(evs[i].Text, clockTag)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			continue
		}
		return time.Duration(n) * time.Second
	}
	return 0
}

// now is the register's time: Config.Clock plus the offset set by a clock
// inspection.
func (d *Device) now() time.Time { return d.clock().Add(d.clockAdj) }
