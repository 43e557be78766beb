package memory

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

// The JSON Lines export: one object per record, in log order. The field
// names are stable; doc.go lists them.

type jsonTax struct {
	Index  fiscal.TaxIndex `json:"index"`
	Amount *fiscal.Amount  `json:"amount,omitempty"`
	Normal *fiscal.Amount  `json:"normal,omitempty"`
	Return *fiscal.Amount  `json:"return,omitempty"`
}

type jsonLine struct {
	Name      string          `json:"name"`
	Quantity  uint32          `json:"quantity"`
	UnitPrice int64           `json:"unit_price"`
	Amount    int64           `json:"amount"`
	TaxIndex  fiscal.TaxIndex `json:"tax_index"`
}

type jsonTaxItem struct {
	Index  fiscal.TaxIndex `json:"index"`
	Code   string          `json:"code"`
	Rate   int             `json:"rate"`
	Name   string          `json:"name"`
	NameEN string          `json:"name_en"`
}

func amountPtr(a fiscal.Amount) *fiscal.Amount { return &a }

func dateStr(d fiscal.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func timeStr(t time.Time) string { return t.In(fiscal.Zone()).Format(time.RFC3339) }

func taxAmounts(idx fiscal.TaxIndexes, a fiscal.TaxAmounts) []jsonTax {
	out := []jsonTax{}
	for i, x := range idx {
		if x != 0 {
			out = append(out, jsonTax{Index: x, Amount: amountPtr(a[i])})
		}
	}
	return out
}

func taxNormalReturn(idx fiscal.TaxIndexes, n, r fiscal.TaxAmounts) []jsonTax {
	out := []jsonTax{}
	for i, x := range idx {
		if x != 0 {
			out = append(out, jsonTax{Index: x, Normal: amountPtr(n[i]), Return: amountPtr(r[i])})
		}
	}
	return out
}

// exportObject returns the JSON object of one record.
func exportObject(seq uint64, r record) any {
	type m = map[string]any
	o := m{"kind": r.kind.String(), "seq": seq}
	switch v := r.value.(type) {
	case Machine:
		o["number"] = v.Number.String()
		o["produced"] = dateStr(v.Produced)
		o["hardware"] = v.HardwareVersion
		o["software"] = v.SoftwareVersion
	case Application:
		o["taxpayer_number"] = hex.EncodeToString(v.TaxpayerNumber[:])
		o["taxpayer_name"] = v.TaxpayerName
		o["tax_id"] = v.TaxID
		o["fiscal_card"] = v.FiscalCard.String()
		o["user_card"] = v.UserCard.String()
		o["init_date"] = dateStr(v.InitDate)
		o["app_start"] = dateStr(v.AppStart)
		o["app_valid"] = dateStr(v.AppValid)
		o["deadline"] = dateStr(v.Control.Deadline)
		o["single_limit"] = int64(v.Control.SingleLimit)
		o["total_limit"] = int64(v.Control.TotalLimit)
		o["return_limit"] = int64(v.Control.ReturnLimit)
		o["detail_mode"] = v.Control.DetailMode
		items := []jsonTaxItem{}
		for _, t := range v.TaxItems {
			items = append(items, jsonTaxItem{Index: t.Index, Code: hex.EncodeToString(t.Code[:]), Rate: t.Rate, Name: t.NameCN, NameEN: t.NameEN})
		}
		o["tax_items"] = items
	case Invoice:
		d := v.Detail
		o["code"] = v.Code.String()
		o["number"] = d.Number
		o["type"] = d.Type.String() // "normal", "return", "void": fiscal keeps these names for the export
		o["date"] = dateStr(d.Date)
		o["time"] = v.Time.String()
		o["total"] = int64(d.Total)
		o["fiscal_code"] = d.FiscalCode.String()
		o["original"] = d.Original
		o["original_code"] = ""
		if d.Type == fiscal.InvoiceReturn {
			oc, _ := v.OriginalKey()
			o["original_code"] = oc.String()
		}
		o["tax"] = taxAmounts(v.Indexes, v.Amounts)
		lines := []jsonLine{}
		for _, l := range v.Lines {
			lines = append(lines, jsonLine{Name: l.Name, Quantity: l.Quantity, UnitPrice: int64(l.UnitPrice), Amount: int64(l.Amount), TaxIndex: l.TaxIndex})
		}
		o["lines"] = lines
		o["payer"] = v.Payer
		o["drawer"] = v.Drawer
	case Daily:
		d := v.Record
		o["date"] = dateStr(d.Date)
		o["normal_count"] = d.NormalCount
		o["return_count"] = d.ReturnCount
		o["void_count"] = d.VoidCount
		o["tax"] = taxNormalReturn(d.Indexes, d.Normal, d.Return)
		o["signature"] = hex.EncodeToString(v.Signature[:])
	case Declaration:
		d := v.Data
		o["date"] = dateStr(v.Date)
		o["start"] = dateStr(d.Start)
		o["end"] = dateStr(d.End)
		o["normal_count"] = d.NormalCount
		o["return_count"] = d.ReturnCount
		o["void_count"] = d.VoidCount
		o["tax"] = taxNormalReturn(d.Indexes, d.Normal, d.Return)
		o["card_total_valid"] = int64(v.Response.TotalValid)
		o["card_total_return"] = int64(v.Response.TotalReturn)
		o["status"] = v.Response.Status
		o["mac1"] = hex.EncodeToString(v.Response.MAC1[:])
		o["signature"] = hex.EncodeToString(v.Response.Signature[:])
	case RollLoad:
		o["code"] = v.Roll.Code.String()
		o["start"] = v.Roll.Start
		o["end"] = v.Roll.End
		o["loaded"] = timeStr(v.Loaded)
	case RollUsage:
		o["code"] = v.Roll.Code.String()
		o["start"] = v.Roll.Start
		o["end"] = v.Roll.End
		o["normal_count"] = v.NormalCount
		o["return_count"] = v.ReturnCount
		o["void_count"] = v.VoidCount
		o["normal"] = int64(v.Normal)
		o["return"] = int64(v.Return)
		o["first"] = dateStr(v.First)
		o["last"] = dateStr(v.Last)
	case PIN:
		// The PIN itself is a secret and is never exported.
	case Intent:
		o["id"] = v.ID
		o["op"] = v.Op
		o["payload"] = hex.EncodeToString(v.Payload)
	case uint64:
		o["id"] = v
	case RollDistribution:
		o["code"] = v.Roll.Code.String()
		o["start"] = v.Roll.Start
		o["end"] = v.Roll.End
		o["mac"] = hex.EncodeToString(v.Roll.MAC[:])
		o["time"] = timeStr(v.Time)
	case RollTaken:
		o["code"] = v.Roll.Code.String()
		o["start"] = v.Roll.Start
		o["end"] = v.Roll.End
		o["time"] = timeStr(v.Time)
		o["reason"] = v.Reason.String()
	case ControlUpdate:
		o["time"] = timeStr(v.Time)
		o["deadline"] = dateStr(v.Control.Deadline)
		o["single_limit"] = int64(v.Control.SingleLimit)
		o["total_limit"] = int64(v.Control.TotalLimit)
		o["return_limit"] = int64(v.Control.ReturnLimit)
		o["detail_mode"] = v.Control.DetailMode
		idx := []fiscal.TaxIndex{}
		for _, x := range v.Control.Indexes {
			if x != 0 {
				idx = append(idx, x)
			}
		}
		o["tax_indexes"] = idx
	case RequestRecord:
		o["code"] = v.Code.String()
		o["number"] = v.Number
		o["request_id"] = v.ID
	case SecurityEvent:
		o["time"] = timeStr(v.Time)
		o["event"] = v.Type.String()
		o["text"] = v.Text
	}
	return o
}

// Export reads the whole memory in fsys, checking it as Verify does, and
// writes every record as one JSON object per line to w, in log order. It
// writes nothing and returns the *CorruptionError if the memory is damaged.
func Export(ctx context.Context, fsys FS, w io.Writer, opts *Options) error {
	o := opts.withDefaults()
	if _, err := Verify(ctx, fsys, o); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var werr error
	_, err := scanLog(ctx, fsys, func(seg string, batch []frame) (int, error) {
		for i, f := range batch {
			r, err := decodeRecord(f.Kind, f.Payload)
			if err != nil {
				return i, err
			}
			if werr = enc.Encode(exportObject(f.Seq, r)); werr != nil {
				return i, werr
			}
		}
		return 0, nil
	}, o.Progress)
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// Export writes the open memory as JSON Lines, as the package-level Export
// does.
func (m *Memory) Export(ctx context.Context, w io.Writer) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	return Export(ctx, m.fs, w, m.opts)
}
