package servicepolicy

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"time"
)

// ArchiveEntry is one complaint in a unit's complaint archive (A3).
type ArchiveEntry struct {
	Contact Contact
	// Reply is the state of the reply deadline (G2), 0 if the policy has none.
	Reply State
	// Closure is the state of the archive check (A3), 0 if the policy has none.
	Closure State
}

// ComplaintArchive is the complaint archive (投诉档案) of a unit: every
// complaint ever received, oldest first, with its reply and closure state.
type ComplaintArchive struct {
	Unit    string
	Now     time.Time
	Entries []ArchiveEntry
}

// Complaints builds the complaint archive of unit from the records and the
// findings of ev.
func (e *Evaluator) Complaints(ix *Index, ev *Evaluation, unit string) *ComplaintArchive {
	a := &ComplaintArchive{Unit: unit, Now: ev.Now}
	kind := make(map[string]Kind)
	for _, c := range e.p.Commitments {
		kind[c.ID] = c.Kind
	}
	reply := make(map[string]State)
	closure := make(map[string]State)
	for i := range ev.Findings {
		f := &ev.Findings[i]
		if f.Subject != SubjectContact || f.Unit != unit {
			continue
		}
		switch kind[f.Commitment] {
		case Deadline:
			reply[f.Record] = f.State
		case Check:
			closure[f.Record] = f.State
		}
	}
	for _, c := range ix.D.Contacts {
		if c.Unit == unit && c.Topic == TopicComplaint {
			a.Entries = append(a.Entries, ArchiveEntry{Contact: c, Reply: reply[c.ID], Closure: closure[c.ID]})
		}
	}
	sort.SliceStable(a.Entries, func(i, j int) bool { return a.Entries[i].Contact.Received.Before(a.Entries[j].Contact.Received) })
	return a
}

func stateText(s State) string {
	if s == 0 {
		return "-"
	}
	return s.String()
}

// WriteText writes the archive as text, one complaint per line.
func (a *ComplaintArchive) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "投诉档案 / Complaint archive of %s at %s: %d complaints\n", a.Unit, stamp(a.Now), len(a.Entries))
	for _, x := range a.Entries {
		c := x.Contact
		fmt.Fprintf(ew, "  %s %s received %s, replied %s (%s), closed %s (%s): %s -> %s\n", c.ID, dash(c.Customer),
			clock(c.Received), clock(c.Replied), stateText(x.Reply), clock(c.Closed), stateText(x.Closure), dash(c.Summary), dash(c.Resolution))
	}
	return ew.err
}

// WriteCSV writes the archive as CSV with a header line.
func (a *ComplaintArchive) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(cst).Format(time.RFC3339)
	}
	cw.Write([]string{"unit", "complaint", "customer", "received", "replied", "reply_state", "closed", "closure_state", "summary", "resolution"})
	for _, x := range a.Entries {
		c := x.Contact
		cw.Write([]string{a.Unit, c.ID, c.Customer, ts(c.Received), ts(c.Replied), stateText(x.Reply), ts(c.Closed), stateText(x.Closure), c.Summary, c.Resolution})
	}
	cw.Flush()
	return cw.Error()
}
