package memory

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/fiscalkit/gb18240/fiscal"
)

// record is one record on its way to or from the log, with its decoded value.
type record struct {
	kind    Kind
	payload []byte
	value   any // Machine, Application, Invoice, Daily, Declaration, RollLoad, RollUsage, PIN, Intent, uint64 (done), SecurityEvent
	mode    appMode
	head    invoiceHead // an invoice read back by Open (value is nil then)
}

// appMode says which API wrote an Application record; replay accepts both.
type appMode uint8

const (
	appAny appMode = iota
	appInitialise
	appChangeOwner
)

// replayRecord decodes a payload read from the log for Open: like
// decodeRecord, except that unless deep is set invoices are only peeked at
// (see peekInvoice), which is what makes Open fast.
func replayRecord(k Kind, p []byte, deep bool) (record, error) {
	if k != KindInvoice || deep {
		return decodeRecord(k, p)
	}
	v, err := peekInvoice(p)
	if err != nil {
		return record{kind: k}, fmt.Errorf("decoding %s: %w", k, err)
	}
	return record{kind: k, head: invoiceHead{date: v.Detail.Date, number: v.Detail.Number, code: v.Code}}, nil
}

// replayInvoice is replayRecord and apply for an invoice read back from the
// log without DeepVerify: the same checks (peekInvoice, then the order and
// duplicate rules of applyInvoice) without building a record.
func (s *state) replayInvoice(p []byte, loc location) error {
	var v invoicePeek
	if err := peekInvoiceInto(&v, p); err != nil {
		return fmt.Errorf("decoding %s: %w", KindInvoice, err)
	}
	s.counts[KindInvoice]++
	h := invoiceHead{date: v.Detail.Date, number: v.Detail.Number, code: v.Code}
	_, err := s.applyInvoice(&h, len(p), loc, true)
	return err
}

// replayRequest is replayRecord and apply for a request record read back
// from the log: decodeRequest's and validate's checks, then applyRequest,
// without boxing the record.
func (s *state) replayRequest(p []byte) error {
	v, err := decodeRequest(p)
	if err == nil {
		err = v.validate()
	}
	if err != nil {
		return fmt.Errorf("decoding %s: %w", KindRequest, err)
	}
	s.counts[KindRequest]++
	_, err = s.applyRequest(v, true)
	return err
}

// replaySecurity is replayRecord and apply for a security event read back
// from the log: decodeSecurity's checks, then the event is appended.
func (s *state) replaySecurity(p []byte) error {
	v, err := decodeSecurity(p)
	if err != nil {
		return fmt.Errorf("decoding %s: %w", KindSecurity, err)
	}
	s.counts[KindSecurity]++
	s.security = append(s.security, v)
	return nil
}

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
	case KindRollDistributed:
		var v RollDistribution
		if v, err = decodeRollDistribution(p); err == nil {
			err = v.validate()
		}
		r.value = v
	case KindRollTaken:
		var v RollTaken
		if v, err = decodeRollTaken(p); err == nil {
			err = v.validate()
		}
		r.value = v
	case KindControlUpdate:
		var v ControlUpdate
		if v, err = decodeControlUpdate(p); err == nil {
			err = v.validate()
		}
		r.value = v
	case KindRequest:
		var v RequestRecord
		if v, err = decodeRequest(p); err == nil {
			err = v.validate()
		}
		r.value = v
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
	day    uint32 // date packed as YYYYMMDD, ordered like the date
	code   uint32 // index into state.codes
}

// packDate packs a date as the integer YYYYMMDD, which orders like the date.
func packDate(d fiscal.Date) uint32 {
	return uint32(d.Year)*10000 + uint32(d.Month)*100 + uint32(d.Day)
}

func unpackDate(v uint32) fiscal.Date {
	return fiscal.Date{Year: int(v / 10000), Month: time.Month(v / 100 % 100), Day: int(v % 100)}
}

// appStart is how many invoices, daily records and declarations were stored
// when an application record was: the records of application k are those
// from appStarts[k] up to appStarts[k+1].
type appStart struct{ inv, daily, decl int }

// sameApp reports whether the record at index i of a kind whose start is
// picked by f belongs to the newest application (true with none yet).
func (s *state) sameApp(i int, f func(appStart) int) bool {
	n := len(s.appStarts)
	return n == 0 || i >= f(s.appStarts[n-1])
}

// appBounds returns the index range [lo, hi) of the records of application
// app for a kind whose start is picked by f and which has total records.
func (s *state) appBounds(app, total int, f func(appStart) int) (int, int) {
	if app < 0 || app >= len(s.appStarts) {
		return 0, 0
	}
	lo, hi := f(s.appStarts[app]), total
	if app+1 < len(s.appStarts) {
		hi = f(s.appStarts[app+1])
	}
	return lo, hi
}

func startInv(a appStart) int   { return a.inv }
func startDaily(a appStart) int { return a.daily }
func startDecl(a appStart) int  { return a.decl }

// state is what the log says, kept in memory (invoices only as an index).
type state struct {
	opts       *Options
	machine    *Machine
	apps       []Application
	appStarts  []appStart // per application: where its invoices, dailies and declarations start
	pin        *PIN
	intents    map[uint64]Intent
	intentSeq  []uint64 // open intent ids in the order they were opened
	invoices   []invEntry
	keys       keyIndex // (code index << 32 | number) -> invoice index
	codes      []fiscal.InvoiceCode
	codeIDs    map[fiscal.InvoiceCode]uint32
	lastCode   uint32 // index of the code of the last invoice applied
	dailies    []Daily
	decls      []Declaration
	rollLoads  []RollLoad
	rollUsages []RollUsage
	security   []SecurityEvent
	dists      []RollDistribution
	waiting    []int // indexes into dists of the rolls still waiting, oldest first
	taken      []RollTaken
	ctlUpdates []ControlUpdate
	ctlFrom    int              // index into ctlUpdates of the first update of the newest application
	reqs       []reqEntry       // invoices with a request id, in invoice order
	reqFirst   map[uint64]int32 // request id -> index into reqs of its first invoice
	counts     [kindLast + 1]int
}

func newState(o *Options) *state {
	return &state{opts: o, intents: map[uint64]Intent{}, codeIDs: map[fiscal.InvoiceCode]uint32{},
		reqFirst: map[uint64]int32{}}
}

// presize makes room for about n invoices.
func (s *state) presize(n int) {
	if n > len(s.invoices) && len(s.invoices) == 0 {
		s.invoices = make([]invEntry, 0, n)
		s.keys.keys = make([]uint64, 0, n)
		s.keys.idx = make([]int32, 0, n)
	}
}

// lookup returns the index of the invoice with the given code and number.
func (s *state) lookup(code fiscal.InvoiceCode, number uint32) (int, bool) {
	id, ok := s.codeIDs[code]
	if !ok {
		return 0, false
	}
	return s.keys.get(uint64(id)<<32 | uint64(number))
}

// invoiceDate returns the date of the i-th invoice.
func (s *state) invoiceDate(i int) fiscal.Date { return unpackDate(s.invoices[i].day) }

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
	case KindRollDistributed:
		return c.RollDistributions
	case KindControlUpdate:
		return c.ControlUpdates
	}
	return 0
}

// systemEvent reports whether a security event type may use the reserve
// beyond the security log's capacity: the events the device writes by
// itself, which must never stop it from starting (power loss, repair,
// tamper, PIN error).
func systemEvent(t SecurityType) bool {
	switch t {
	case SecPowerLoss, SecRepair, SecTamper, SecPINError:
		return true
	}
	return false
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
	if n := len(s.invoices); n > 0 && s.invoiceDate(n-1).After(newest) {
		newest = s.invoiceDate(n - 1)
	}
	if n := len(s.dailies); n > 0 && s.dailies[n-1].Record.Date.After(newest) {
		newest = s.dailies[n-1].Record.Date
	}
	if newest.IsZero() {
		return len(s.invoices)
	}
	cutoff := newest.AddDays(-s.opts.InvoiceRetentionDays)
	c := packDate(cutoff)
	i := sort.Search(len(s.invoices), func(i int) bool { return s.invoices[i].day > c })
	return len(s.invoices) - i
}

func (s *state) checkCapacity(k Kind, n int, extra fiscal.Date) error {
	return s.checkCapacityFor(k, n, extra, false)
}

// checkCapacityFor is checkCapacity; system set means security events that
// may use Capacity.SecurityReserve.
func (s *state) checkCapacityFor(k Kind, n int, extra fiscal.Date, system bool) error {
	c := s.capacity(k)
	if c <= 0 {
		return nil
	}
	if k == KindInvoice && len(s.invoices)+n <= c {
		return nil // fits even if every stored invoice counted: no need to date the retention window
	}
	if k == KindSecurity && system {
		c += s.opts.Capacity.SecurityReserve
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
// distinction are not checked, and no undo function is made (nil): replay
// never undoes, and not allocating one per record keeps Open fast.
func (s *state) apply(r record, loc location, replay bool) (func(), error) {
	if !replay && r.kind != KindMachine && r.kind != KindApplication {
		var d fiscal.Date
		system := false
		switch v := r.value.(type) {
		case Invoice:
			d = v.Detail.Date
		case SecurityEvent:
			system = systemEvent(v.Type)
		}
		if err := s.checkCapacityFor(r.kind, 1, d, system); err != nil {
			return nil, err
		}
	}
	k := r.kind
	s.counts[k]++
	if k == KindInvoice && r.value == nil {
		return s.applyInvoice(&r.head, len(r.payload), loc, replay)
	}
	switch v := r.value.(type) {
	case Machine:
		if s.machine != nil {
			s.counts[k]--
			return nil, fmt.Errorf("%w: machine identity", ErrWriteOnce)
		}
		s.machine = &v
		if replay {
			return nil, nil
		}
		return func() { s.machine = nil; s.counts[k]-- }, nil
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
		s.appStarts = append(s.appStarts, appStart{inv: len(s.invoices), daily: len(s.dailies), decl: len(s.decls)})
		oldFrom := s.ctlFrom
		s.ctlFrom = len(s.ctlUpdates)
		if replay {
			return nil, nil
		}
		return func() {
			s.apps = s.apps[:len(s.apps)-1]
			s.appStarts = s.appStarts[:len(s.appStarts)-1]
			s.ctlFrom = oldFrom
			s.counts[k]--
		}, nil
	case Invoice:
		h := invoiceHead{date: v.Detail.Date, number: v.Detail.Number, code: v.Code}
		return s.applyInvoice(&h, len(r.payload), loc, replay)
	case Daily:
		if n := len(s.dailies); n > 0 {
			last := s.dailies[n-1].Record.Date
			c := v.Record.Date.Compare(last)
			if c == 0 && !s.sameApp(n-1, startDaily) {
				c = 1 // a new owner's first day may be the old owner's last
			}
			switch {
			case c == 0:
				s.counts[k]--
				return nil, fmt.Errorf("%w: daily record for %v", ErrDuplicate, last)
			case c < 0:
				s.counts[k]--
				return nil, fmt.Errorf("%w: daily record for %v after the one for %v", ErrOrder, v.Record.Date, last)
			}
		}
		s.dailies = append(s.dailies, v)
		if replay {
			return nil, nil
		}
		return func() { s.dailies = s.dailies[:len(s.dailies)-1]; s.counts[k]-- }, nil
	case Declaration:
		if n := len(s.decls); n > 0 {
			last := s.decls[n-1]
			if !v.Data.Start.After(last.Data.End) && (s.sameApp(n-1, startDecl) || v.Data.Start.Before(last.Data.End)) {
				s.counts[k]--
				return nil, fmt.Errorf("%w: declaration period starting %v overlaps the previous one ending %v", ErrOrder, v.Data.Start, last.Data.End)
			}
			if v.Date.Before(last.Date) {
				s.counts[k]--
				return nil, fmt.Errorf("%w: declaration dated %v after one dated %v", ErrOrder, v.Date, last.Date)
			}
		}
		s.decls = append(s.decls, v)
		if replay {
			return nil, nil
		}
		return func() { s.decls = s.decls[:len(s.decls)-1]; s.counts[k]-- }, nil
	case RollLoad:
		for _, l := range s.rollLoads {
			if l.Roll.Code == v.Roll.Code && l.Roll.Start <= v.Roll.End && v.Roll.Start <= l.Roll.End {
				s.counts[k]--
				return nil, fmt.Errorf("%w: roll %s %d..%d overlaps a loaded roll", ErrDuplicate, v.Roll.Code, v.Roll.Start, v.Roll.End)
			}
		}
		s.rollLoads = append(s.rollLoads, v)
		if replay {
			return nil, nil
		}
		return func() { s.rollLoads = s.rollLoads[:len(s.rollLoads)-1]; s.counts[k]-- }, nil
	case RollUsage:
		s.rollUsages = append(s.rollUsages, v)
		if replay {
			return nil, nil
		}
		return func() { s.rollUsages = s.rollUsages[:len(s.rollUsages)-1]; s.counts[k]-- }, nil
	case PIN:
		old := s.pin
		s.pin = &v
		if replay {
			return nil, nil
		}
		return func() { s.pin = old; s.counts[k]-- }, nil
	case Intent:
		if _, ok := s.intents[v.ID]; ok {
			s.counts[k]--
			return nil, fmt.Errorf("%w: intent %d is already open", ErrUnknownIntent, v.ID)
		}
		s.intents[v.ID] = v
		s.intentSeq = append(s.intentSeq, v.ID)
		if replay {
			return nil, nil
		}
		return func() {
			delete(s.intents, v.ID)
			s.intentSeq = s.intentSeq[:len(s.intentSeq)-1]
			s.counts[k]--
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
		if replay {
			return nil, nil
		}
		return func() {
			s.intents[v] = in
			s.intentSeq = slices.Insert(s.intentSeq, i, v)
			s.counts[k]--
		}, nil
	case SecurityEvent:
		s.security = append(s.security, v)
		if replay {
			return nil, nil
		}
		return func() { s.security = s.security[:len(s.security)-1]; s.counts[k]-- }, nil
	case RollDistribution:
		for _, o := range s.dists {
			if o.Roll.Code == v.Roll.Code && o.Roll.Start <= v.Roll.End && v.Roll.Start <= o.Roll.End {
				s.counts[k]--
				return nil, fmt.Errorf("%w: roll %s %d..%d overlaps a distributed roll", ErrDuplicate, v.Roll.Code, v.Roll.Start, v.Roll.End)
			}
		}
		s.dists = append(s.dists, v)
		s.waiting = append(s.waiting, len(s.dists)-1)
		if replay {
			return nil, nil
		}
		return func() {
			s.dists = s.dists[:len(s.dists)-1]
			s.waiting = s.waiting[:len(s.waiting)-1]
			s.counts[k]--
		}, nil
	case RollTaken:
		i := slices.IndexFunc(s.waiting, func(j int) bool { return s.dists[j].Roll.Roll == v.Roll })
		if i < 0 {
			s.counts[k]--
			return nil, fmt.Errorf("%w: roll %s %d..%d", ErrNotWaiting, v.Roll.Code, v.Roll.Start, v.Roll.End)
		}
		j := s.waiting[i]
		s.waiting = slices.Delete(s.waiting, i, i+1)
		s.taken = append(s.taken, v)
		if replay {
			return nil, nil
		}
		return func() {
			s.waiting = slices.Insert(s.waiting, i, j)
			s.taken = s.taken[:len(s.taken)-1]
			s.counts[k]--
		}, nil
	case ControlUpdate:
		if len(s.apps) == 0 {
			s.counts[k]--
			return nil, fmt.Errorf("%w: control update before initialisation", ErrNotInitialised)
		}
		s.ctlUpdates = append(s.ctlUpdates, v)
		if replay {
			return nil, nil
		}
		return func() { s.ctlUpdates = s.ctlUpdates[:len(s.ctlUpdates)-1]; s.counts[k]-- }, nil
	case RequestRecord:
		return s.applyRequest(v, replay)
	}
	s.counts[k]--
	return nil, fmt.Errorf("memory: internal error: record value %T", r.value)
}

// reqEntry ties the invoice at index inv to request id id.
type reqEntry struct {
	id  uint64
	inv int32
}

// requestOf returns the request id of the invoice at index i (0: none).
// state.reqs is ordered by invoice index, as a request record always names
// the newest invoice.
func (s *state) requestOf(i int) uint64 {
	j, ok := slices.BinarySearchFunc(s.reqs, int32(i), func(e reqEntry, t int32) int { return int(e.inv) - int(t) })
	if !ok {
		return 0
	}
	return s.reqs[j].id
}

// requestInvoices returns the indexes of the invoices of request id, oldest
// first. They are consecutive entries of state.reqs (applyRequest accepts a
// stored id only for the invoice right after the id's last one).
func (s *state) requestInvoices(id uint64) []int32 {
	j, ok := s.reqFirst[id]
	if !ok {
		return nil
	}
	var out []int32
	for _, e := range s.reqs[j:] {
		if e.id != id {
			break
		}
		out = append(out, e.inv)
	}
	return out
}

// applyRequest is apply for request records: it names the newest stored
// invoice, which has no request id yet, and an id already stored only if
// the invoice before it has that id too (the invoices of one request, such
// as several voids, follow each other). On replay it adds one entry to
// state.reqs and, for an id not seen before, one to state.reqFirst.
func (s *state) applyRequest(v RequestRecord, replay bool) (func(), error) {
	k := KindRequest
	i, ok := s.lookup(v.Code, v.Number)
	var last *reqEntry
	if n := len(s.reqs); n > 0 {
		last = &s.reqs[n-1]
	}
	_, seen := s.reqFirst[v.ID]
	switch {
	case !ok || i != len(s.invoices)-1:
		s.counts[k]--
		return nil, fmt.Errorf("%w: request id %d for invoice %s/%d, which is not the newest invoice", ErrOrder, v.ID, v.Code, v.Number)
	case last != nil && int(last.inv) == i:
		s.counts[k]--
		return nil, fmt.Errorf("%w: invoice %s/%d already has request id %d", ErrDuplicate, v.Code, v.Number, last.id)
	case seen && (int(last.inv) != i-1 || last.id != v.ID):
		s.counts[k]--
		return nil, fmt.Errorf("%w: request id %d already names an earlier request's invoices", ErrDuplicate, v.ID)
	}
	s.reqs = append(s.reqs, reqEntry{id: v.ID, inv: int32(i)})
	if !seen {
		s.reqFirst[v.ID] = int32(len(s.reqs) - 1)
	}
	if replay {
		return nil, nil
	}
	return func() {
		s.reqs = s.reqs[:len(s.reqs)-1]
		if !seen {
			delete(s.reqFirst, v.ID)
		}
		s.counts[k]--
	}, nil
}

// invoiceHead is what the index and the order rules need of an invoice.
type invoiceHead struct {
	date   fiscal.Date
	number uint32
	code   fiscal.InvoiceCode
}

// applyInvoice is apply for invoices, the one kind numerous enough for
// Open's speed to matter: on replay it allocates nothing per record beyond
// the index entry.
func (s *state) applyInvoice(h *invoiceHead, n int, loc location, replay bool) (func(), error) {
	day := packDate(h.date)
	if last := len(s.invoices); last > 0 && day < s.invoices[last-1].day {
		s.counts[KindInvoice]--
		return nil, fmt.Errorf("%w: invoice dated %v after one dated %v", ErrOrder, h.date, s.invoiceDate(last-1))
	}
	id, ok := uint32(0), false
	if n := len(s.codes); n > 0 && s.codes[s.lastCode] == h.code {
		id, ok = s.lastCode, true // consecutive invoices mostly share a roll
	} else {
		id, ok = s.codeIDs[h.code]
	}
	s.lastCode = id
	if !ok {
		id = uint32(len(s.codes))
		s.lastCode = id
		s.codes = append(s.codes, h.code)
		s.codeIDs[h.code] = id
	}
	key := uint64(id)<<32 | uint64(h.number)
	if !s.keys.insert(key, int32(len(s.invoices))) {
		s.counts[KindInvoice]--
		return nil, fmt.Errorf("%w: invoice %s/%d", ErrDuplicate, h.code, h.number)
	}
	s.invoices = append(s.invoices, invEntry{seq: loc.Seq, off: loc.Off, seg: loc.Seg, n: uint32(n),
		prev: loc.Prev, number: h.number, day: day, code: id})
	if replay {
		return nil, nil
	}
	return func() {
		s.invoices = s.invoices[:len(s.invoices)-1]
		s.keys.remove(key)
		s.counts[KindInvoice]--
	}, nil
}

// keyIndex maps invoice keys to invoice indexes with two sorted slices.
// Invoice numbers grow within a roll and rolls follow each other, so keys
// nearly always arrive in increasing order and insertion is an append; a
// key out of order costs a binary search and a move. Lookups are binary
// searches. It is smaller and, for replaying a full memory, faster than a
// map.
type keyIndex struct {
	keys []uint64
	idx  []int32
}

func (k *keyIndex) find(key uint64) (int, bool) {
	i, ok := slices.BinarySearch(k.keys, key)
	return i, ok
}

// insert adds key; it reports false if key is already present.
func (k *keyIndex) insert(key uint64, v int32) bool {
	if n := len(k.keys); n == 0 || key > k.keys[n-1] {
		k.keys = append(k.keys, key)
		k.idx = append(k.idx, v)
		return true
	}
	i, ok := k.find(key)
	if ok {
		return false
	}
	k.keys = slices.Insert(k.keys, i, key)
	k.idx = slices.Insert(k.idx, i, v)
	return true
}

func (k *keyIndex) get(key uint64) (int, bool) {
	i, ok := k.find(key)
	if !ok {
		return 0, false
	}
	return int(k.idx[i]), true
}

func (k *keyIndex) remove(key uint64) {
	if i, ok := k.find(key); ok {
		k.keys = slices.Delete(k.keys, i, i+1)
		k.idx = slices.Delete(k.idx, i, i+1)
	}
}
