package memory

import (
	"fmt"
	"slices"
	"sort"

	"github.com/fiscalkit/gb18240/fiscal"
)

// record is one record on its way to or from the log, with its decoded value.
type record struct {
	kind    Kind
	payload []byte
	value   any // Machine, Application, Invoice, Daily, Declaration, RollLoad, RollUsage, PIN, Intent, uint64 (done), SecurityEvent
	mode    appMode
}

// appMode says which API wrote an Application record; replay accepts both.
type appMode uint8

const (
	appAny appMode = iota
	appInitialise
	appChangeOwner
)

// decodeRecord decodes a payload read from the log.
func decodeRecord(k Kind, p []byte) (record, error) {
	r := record{kind: k}
	var err error
	switch k {
	case KindMachine:
		r.value, err = decodeMachine(p)
	case KindApplication:
		var a Application
		if a, err = decodeApplication(p); err == nil {
			err = a.validate()
		}
		r.value = a
	case KindInvoice:
		var v Invoice
		if v, err = decodeInvoice(p); err == nil {
			err = v.validate()
		}
		r.value = v
	case KindDaily:
		var v Daily
		if v, err = decodeDaily(p); err == nil {
			err = v.validate()
		}
		r.value = v
	case KindDeclaration:
		var v Declaration
		if v, err = decodeDeclaration(p); err == nil {
			err = v.validate()
		}
		r.value = v
	case KindRollLoad:
		r.value, err = decodeRollLoad(p)
	case KindRollUsage:
		var v RollUsage
		if v, err = decodeRollUsage(p); err == nil {
			err = v.validate()
		}
		r.value = v
	case KindPIN:
		r.value, err = decodePIN(p)
	case KindIntent:
		r.value, err = decodeIntent(p)
	case KindIntentDone:
		r.value, err = decodeIntentDone(p)
	case KindSecurity:
		r.value, err = decodeSecurity(p)
	default:
		err = fmt.Errorf("unknown record kind %d", uint8(k))
	}
	if err != nil {
		return r, fmt.Errorf("decoding %s: %w", k, err)
	}
	return r, nil
}

// invEntry indexes one stored invoice; the invoice itself stays on storage.
type invEntry struct {
	seq    uint64
	off    int64  // frame offset in its segment
	seg    uint32 // segment index
	n      uint32 // payload length
	prev   uint32 // chain value before the frame, to check its CRC on read
	number uint32
	date   fiscal.Date
	code   fiscal.InvoiceCode
}

type invKey struct {
	code   fiscal.InvoiceCode
	number uint32
}

// state is what the log says, kept in memory (invoices only as an index).
type state struct {
	opts       *Options
	machine    *Machine
	apps       []Application
	pin        *PIN
	intents    map[uint64]Intent
	intentSeq  []uint64 // open intent ids in the order they were opened
	invoices   []invEntry
	invByKey   map[invKey]int
	dailies    []Daily
	decls      []Declaration
	rollLoads  []RollLoad
	rollUsages []RollUsage
	security   []SecurityEvent
	counts     [KindSecurity + 1]int
}

func newState(o *Options) *state {
	return &state{opts: o, intents: map[uint64]Intent{}, invByKey: map[invKey]int{}}
}

// capacity returns the configured capacity of kind (0: unlimited).
func (s *state) capacity(k Kind) int {
	c := s.opts.Capacity
	switch k {
	case KindMachine:
		return 1
	case KindApplication:
		return c.Applications
	case KindInvoice:
		return c.Invoices
	case KindDaily:
		return c.Daily
	case KindDeclaration:
		return c.Declarations
	case KindRollLoad:
		return c.RollLoads
	case KindRollUsage:
		return c.RollUsages
	case KindSecurity:
		return c.Security
	}
	return 0
}

// counted returns the number of records of kind that count against its
// capacity: for invoices only those inside the retention window.
func (s *state) counted(k Kind) int {
	if k != KindInvoice {
		return s.counts[k]
	}
	return s.retainedInvoices(fiscal.Date{})
}

// retainedInvoices counts the invoices dated inside the retention window
// that ends at the newest invoice or daily date (or at extra, if later).
func (s *state) retainedInvoices(extra fiscal.Date) int {
	newest := extra
	if n := len(s.invoices); n > 0 && s.invoices[n-1].date.After(newest) {
		newest = s.invoices[n-1].date
	}
	if n := len(s.dailies); n > 0 && s.dailies[n-1].Record.Date.After(newest) {
		newest = s.dailies[n-1].Record.Date
	}
	if newest.IsZero() {
		return len(s.invoices)
	}
	cutoff := newest.AddDays(-s.opts.InvoiceRetentionDays)
	i := sort.Search(len(s.invoices), func(i int) bool { return s.invoices[i].date.After(cutoff) })
	return len(s.invoices) - i
}

func (s *state) checkCapacity(k Kind, n int, extra fiscal.Date) error {
	c := s.capacity(k)
	if c <= 0 {
		return nil
	}
	have := s.counts[k]
	if k == KindInvoice {
		have = s.retainedInvoices(extra)
	}
	if have+n > c {
		return &FullError{Kind: k, Capacity: c, Count: have, Requested: n}
	}
	return nil
}

// apply checks r against the rules of its kind and adds it to the state.
// It returns a function that undoes the change. With replay set (records
// read back from the log) capacity and the Initialise / ChangeOwner
// distinction are not checked.
func (s *state) apply(r record, loc location, replay bool) (func(), error) {
	if !replay && r.kind != KindMachine && r.kind != KindApplication {
		var d fiscal.Date
		if v, ok := r.value.(Invoice); ok {
			d = v.Detail.Date
		}
		if err := s.checkCapacity(r.kind, 1, d); err != nil {
			return nil, err
		}
	}
	k := r.kind
	s.counts[k]++
	undoCount := func() { s.counts[k]-- }
	switch v := r.value.(type) {
	case Machine:
		if s.machine != nil {
			s.counts[k]--
			return nil, fmt.Errorf("%w: machine identity", ErrWriteOnce)
		}
		s.machine = &v
		return func() { s.machine = nil; undoCount() }, nil
	case Application:
		if !replay {
			if r.mode == appInitialise && len(s.apps) > 0 {
				s.counts[k]--
				return nil, fmt.Errorf("%w: already initialised; use ChangeOwner", ErrWriteOnce)
			}
			if r.mode == appChangeOwner && len(s.apps) == 0 {
				s.counts[k]--
				return nil, ErrNotInitialised
			}
			if err := s.checkCapacity(k, 0, fiscal.Date{}); err != nil {
				s.counts[k]--
				return nil, err
			}
		}
		s.apps = append(s.apps, v)
		return func() { s.apps = s.apps[:len(s.apps)-1]; undoCount() }, nil
	case Invoice:
		d := v.Detail
		if n := len(s.invoices); n > 0 && d.Date.Before(s.invoices[n-1].date) {
			s.counts[k]--
			return nil, fmt.Errorf("%w: invoice dated %v after one dated %v", ErrOrder, d.Date, s.invoices[n-1].date)
		}
		key := invKey{v.Code, d.Number}
		if _, ok := s.invByKey[key]; ok {
			s.counts[k]--
			return nil, fmt.Errorf("%w: invoice %s/%d", ErrDuplicate, v.Code, d.Number)
		}
		s.invByKey[key] = len(s.invoices)
		s.invoices = append(s.invoices, invEntry{seq: loc.Seq, off: loc.Off, seg: loc.Seg, n: uint32(len(r.payload)),
			prev: loc.Prev, number: d.Number, date: d.Date, code: v.Code})
		return func() {
			s.invoices = s.invoices[:len(s.invoices)-1]
			delete(s.invByKey, key)
			undoCount()
		}, nil
	case Daily:
		if n := len(s.dailies); n > 0 {
			last := s.dailies[n-1].Record.Date
			switch c := v.Record.Date.Compare(last); {
			case c == 0:
				s.counts[k]--
				return nil, fmt.Errorf("%w: daily record for %v", ErrDuplicate, last)
			case c < 0:
				s.counts[k]--
				return nil, fmt.Errorf("%w: daily record for %v after the one for %v", ErrOrder, v.Record.Date, last)
			}
		}
		s.dailies = append(s.dailies, v)
		return func() { s.dailies = s.dailies[:len(s.dailies)-1]; undoCount() }, nil
	case Declaration:
		if n := len(s.decls); n > 0 {
			last := s.decls[n-1]
			if !v.Data.Start.After(last.Data.End) {
				s.counts[k]--
				return nil, fmt.Errorf("%w: declaration period starting %v overlaps the previous one ending %v", ErrOrder, v.Data.Start, last.Data.End)
			}
			if v.Date.Before(last.Date) {
				s.counts[k]--
				return nil, fmt.Errorf("%w: declaration dated %v after one dated %v", ErrOrder, v.Date, last.Date)
			}
		}
		s.decls = append(s.decls, v)
		return func() { s.decls = s.decls[:len(s.decls)-1]; undoCount() }, nil
	case RollLoad:
		for _, l := range s.rollLoads {
			if l.Roll.Code == v.Roll.Code && l.Roll.Start <= v.Roll.End && v.Roll.Start <= l.Roll.End {
				s.counts[k]--
				return nil, fmt.Errorf("%w: roll %s %d..%d overlaps a loaded roll", ErrDuplicate, v.Roll.Code, v.Roll.Start, v.Roll.End)
			}
		}
		s.rollLoads = append(s.rollLoads, v)
		return func() { s.rollLoads = s.rollLoads[:len(s.rollLoads)-1]; undoCount() }, nil
	case RollUsage:
		s.rollUsages = append(s.rollUsages, v)
		return func() { s.rollUsages = s.rollUsages[:len(s.rollUsages)-1]; undoCount() }, nil
	case PIN:
		old := s.pin
		s.pin = &v
		return func() { s.pin = old; undoCount() }, nil
	case Intent:
		if _, ok := s.intents[v.ID]; ok {
			s.counts[k]--
			return nil, fmt.Errorf("%w: intent %d is already open", ErrUnknownIntent, v.ID)
		}
		s.intents[v.ID] = v
		s.intentSeq = append(s.intentSeq, v.ID)
		return func() {
			delete(s.intents, v.ID)
			s.intentSeq = s.intentSeq[:len(s.intentSeq)-1]
			undoCount()
		}, nil
	case uint64:
		in, ok := s.intents[v]
		if !ok {
			s.counts[k]--
			return nil, fmt.Errorf("%w: intent %d is not open", ErrUnknownIntent, v)
		}
		i := slices.Index(s.intentSeq, v)
		delete(s.intents, v)
		s.intentSeq = slices.Delete(s.intentSeq, i, i+1)
		return func() {
			s.intents[v] = in
			s.intentSeq = slices.Insert(s.intentSeq, i, v)
			undoCount()
		}, nil
	case SecurityEvent:
		s.security = append(s.security, v)
		return func() { s.security = s.security[:len(s.security)-1]; undoCount() }, nil
	}
	s.counts[k]--
	return nil, fmt.Errorf("memory: internal error: record value %T", r.value)
}
