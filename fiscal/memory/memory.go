package memory

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"slices"
	"sort"
	"sync"

	"github.com/fiscalkit/gb18240/fiscal"
)

// Options configure a Memory. The zero value (or a nil *Options) means the
// defaults given on each field.
type Options struct {
	// Capacity per record kind; zero fields take the defaults of
	// DefaultCapacity().
	Capacity Capacity
	// AlmostFullPercent is the fill level, in percent of a kind's capacity,
	// from which Stats reports an "almost full" warning. Default 90.
	AlmostFullPercent int
	// SegmentBytes is the size at which a new segment file is started.
	// Default 4 MiB.
	SegmentBytes int64
	// InvoiceRetentionDays is how many days of invoices count against the
	// invoice capacity, ending at the newest invoice or daily date. Older
	// invoices stay stored (and verified, exported, queried) but no longer
	// count. Default 1830 (five years).
	InvoiceRetentionDays int
	// Logger receives debug and warning messages. Default: none.
	Logger *slog.Logger
	// Progress, if set, is called during the scans of Open, Verify and
	// Repair with the bytes read so far and the total.
	Progress func(done, total int64)
	// DeepVerify makes Open, Verify and Repair decode every field of every
	// invoice (text included) and check all its content rules. By default
	// invoices are checked for their CRC, chain, sequence, order and every
	// content rule that needs no text decoded (shape, date, type, number,
	// code, time, tax slots, amounts, lines' tax indexes and amounts), but
	// their text fields are only decoded when read.
	DeepVerify bool
}

// Capacity is the number of records each kind may hold.
type Capacity struct {
	Applications int // application records incl. history; default 100
	Invoices     int // retained invoices; default 100,000
	Daily        int // daily records; default 1830 (five years)
	Declarations int // default 300
	RollLoads    int // default 300
	RollUsages   int // default 300
	Security     int // security log events; default 10,000
	// SecurityReserve is how many security events of the kinds the device
	// writes by itself (power loss, repair, tamper, PIN error) may be
	// stored beyond Security, so that a full log never stops a register
	// from recording a power cut and starting; default 1,000. Other events
	// (inspection, clock change, other) stop at Security.
	SecurityReserve int
	// RollDistributions counts distributed-roll records; default 1,000.
	RollDistributions int
	// ControlUpdates counts control-update records; default 300.
	ControlUpdates int
}

// DefaultCapacity returns the capacity used for every zero field of
// Options.Capacity: the standard's five years of daily records and the
// reference's counts.
func DefaultCapacity() Capacity {
	return Capacity{
		Applications: 100,
		Invoices:     100_000,
		Daily:        1830,
		Declarations: 300,
		RollLoads:    300,
		RollUsages:   300,
		Security:     10_000,

		SecurityReserve:   1_000,
		RollDistributions: 1_000,
		ControlUpdates:    300,
	}
}

func (o *Options) withDefaults() *Options {
	var v Options
	if o != nil {
		v = *o
	}
	def := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	c, d := &v.Capacity, DefaultCapacity()
	def(&c.Applications, d.Applications)
	def(&c.Invoices, d.Invoices)
	def(&c.Daily, d.Daily)
	def(&c.Declarations, d.Declarations)
	def(&c.RollLoads, d.RollLoads)
	def(&c.RollUsages, d.RollUsages)
	def(&c.Security, d.Security)
	def(&c.SecurityReserve, d.SecurityReserve)
	def(&c.RollDistributions, d.RollDistributions)
	def(&c.ControlUpdates, d.ControlUpdates)
	def(&v.AlmostFullPercent, 90)
	def(&v.InvoiceRetentionDays, 1830)
	if v.SegmentBytes <= 0 {
		v.SegmentBytes = defaultSegBytes
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return &v
}

// Memory is an open fiscal memory. Its methods are safe for concurrent use.
// Every method that writes returns only after the records are on stable
// storage (one sync per call). After a failed write the Memory refuses
// further writes and must be reopened, which finds out what reached storage.
type Memory struct {
	mu     sync.RWMutex
	fs     FS
	opts   *Options
	w      *writer
	st     *state
	segs   int
	closed bool
}

// Open reads and checks the whole fiscal memory in fsys and opens it for
// appending; an empty fsys is a new, empty memory. Damage is reported as a
// *CorruptionError: one matching ErrTornTail (an incomplete last record, as
// a power cut leaves it) is fixed by Repair; any other is ErrCorrupt.
func Open(ctx context.Context, fsys FS, opts *Options) (*Memory, error) {
	o := opts.withDefaults()
	st := newState(o)
	res, err := replay(ctx, fsys, st, o.Progress, o.DeepVerify)
	if err != nil {
		return nil, err
	}
	if res.Torn != nil {
		return nil, res.Torn
	}
	w := &writer{fs: fsys, segBytes: o.SegmentBytes, lastCRC: res.LastCRC, nextSeq: res.NextSeq}
	if n := len(res.Segs); n > 0 {
		last := res.Segs[n-1]
		f, err := fsys.OpenAppend(last.Name)
		if err != nil {
			return nil, err
		}
		w.f, w.segIndex, w.size = f, last.Index, res.TailEnd
	}
	o.Logger.Debug("fiscal memory opened", "segments", len(res.Segs), "records", res.Frames, "bytes", res.Bytes)
	return &Memory{fs: fsys, opts: o, w: w, st: st, segs: len(res.Segs)}, nil
}

// OpenDir opens (creating if needed) the fiscal memory in directory dir.
func OpenDir(ctx context.Context, dir string, opts *Options) (*Memory, error) {
	d, err := NewDirFS(dir)
	if err != nil {
		return nil, err
	}
	return Open(ctx, d, opts)
}

// replay scans the log and applies every record to st.
func replay(ctx context.Context, fsys FS, st *state, progress progressFunc, deep bool) (*scanResult, error) {
	sized := false
	onProgress := func(done, total int64) {
		if !sized {
			// Most of a full memory is invoices, and an invoice with a line
			// takes at least minLinedInvoiceFrame bytes: room for that many
			// means the index is not copied while it grows.
			st.presize(int(min(total/minLinedInvoiceFrame, 1<<22)))
			sized = true
		}
		if progress != nil {
			progress(done, total)
		}
	}
	lastSeg, idx := "", uint32(0)
	return scanLog(ctx, fsys, func(seg string, batch []frame) (int, error) {
		if seg != lastSeg {
			lastSeg = seg
			idx, _ = parseSegmentName(seg)
		}
		for i, f := range batch {
			if f.Kind == KindInvoice && !deep {
				// The common case, straight to the index.
				if err := st.replayInvoice(f.Payload, location{Seg: idx, Off: f.Off, Seq: f.Seq, Prev: f.Prev}); err != nil {
					return i, err
				}
				continue
			}
			if f.Kind == KindRequest {
				// One per invoice issued for a host request: no boxing either.
				if err := st.replayRequest(f.Payload); err != nil {
					return i, err
				}
				continue
			}
			if f.Kind == KindSecurity {
				// The next most numerous kind: no boxing into a record.
				if err := st.replaySecurity(f.Payload); err != nil {
					return i, err
				}
				continue
			}
			r, err := replayRecord(f.Kind, f.Payload, deep)
			if err != nil {
				return i, err
			}
			r.payload = f.Payload
			if _, err := st.apply(r, location{Seg: idx, Off: f.Off, Seq: f.Seq, Prev: f.Prev}, true); err != nil {
				return i, err
			}
		}
		return 0, nil
	}, onProgress)
}

// Close closes the memory's files. Everything committed is already durable.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	return m.w.close()
}

// ---- writing ---------------------------------------------------------------

// Batch collects records to be committed together: with one sync, and all
// or none of them after a power cut. The zero value is an empty batch. The
// first encoding error is kept and returned by Commit.
type Batch struct {
	recs []record
	err  error
}

func (b *Batch) add(k Kind, v any, mode appMode, enc func([]byte) ([]byte, error), check func() error) *Batch {
	if b.err != nil {
		return b
	}
	if check != nil {
		if err := check(); err != nil {
			b.err = fmt.Errorf("%s: %w", k, err)
			return b
		}
	}
	p, err := enc(nil)
	if err != nil {
		b.err = fmt.Errorf("%s: %w", k, err)
		return b
	}
	b.recs = append(b.recs, record{kind: k, payload: p, value: v, mode: mode})
	return b
}

// Len returns the number of records in the batch.
func (b *Batch) Len() int { return len(b.recs) }

// Err returns the first error met while adding records.
func (b *Batch) Err() error { return b.err }

// AddInvoice adds an invoice and, if v.RequestID is not zero, the
// KindRequest record that ties the request id to it.
func (b *Batch) AddInvoice(v Invoice) *Batch {
	v.Lines = slices.Clone(v.Lines)
	id := v.RequestID
	v.RequestID = 0
	b.add(KindInvoice, v, 0, v.appendPayload, v.validate)
	if id != 0 {
		b.AddRequest(RequestRecord{Code: v.Code, Number: v.Detail.Number, ID: id})
	}
	return b
}

// AddRequest ties a request id to the newest invoice (added before it in
// the same batch); AddInvoice does it by itself for Invoice.RequestID.
func (b *Batch) AddRequest(r RequestRecord) *Batch {
	return b.add(KindRequest, r, 0, r.appendPayload, r.validate)
}

// AddDaily adds a daily record with its signature.
func (b *Batch) AddDaily(v Daily) *Batch { return b.add(KindDaily, v, 0, v.appendPayload, v.validate) }

// AddDeclaration adds a declaration.
func (b *Batch) AddDeclaration(v Declaration) *Batch {
	return b.add(KindDeclaration, v, 0, v.appendPayload, v.validate)
}

// AddRollLoad adds a roll load record.
func (b *Batch) AddRollLoad(v RollLoad) *Batch {
	return b.add(KindRollLoad, v, 0, v.appendPayload, v.validate)
}

// AddRollUsage adds a used-roll summary.
func (b *Batch) AddRollUsage(v RollUsage) *Batch {
	return b.add(KindRollUsage, v, 0, v.appendPayload, v.validate)
}

// SetPIN adds a new rolling fiscal PIN, which replaces the current one.
func (b *Batch) SetPIN(p PIN) *Batch { return b.add(KindPIN, p, 0, p.appendPayload, nil) }

// BeginIntent opens an operation intent.
func (b *Batch) BeginIntent(in Intent) *Batch {
	in.Payload = slices.Clone(in.Payload)
	return b.add(KindIntent, in, 0, in.appendPayload, nil)
}

// EndIntent marks an open intent done.
func (b *Batch) EndIntent(id uint64) *Batch {
	return b.add(KindIntentDone, id, 0, func(p []byte) ([]byte, error) { return appendIntentDone(p, id), nil }, nil)
}

// LogSecurity adds a security log event.
func (b *Batch) LogSecurity(e SecurityEvent) *Batch {
	return b.add(KindSecurity, e, 0, e.appendPayload, nil)
}

// AddRollDistribution adds a distributed roll; it waits until a RollTaken
// record names it.
func (b *Batch) AddRollDistribution(v RollDistribution) *Batch {
	return b.add(KindRollDistributed, v, 0, v.appendPayload, v.validate)
}

// TakeRoll takes a waiting roll off the waiting list (ErrNotWaiting if it
// is not waiting).
func (b *Batch) TakeRoll(v RollTaken) *Batch {
	return b.add(KindRollTaken, v, 0, v.appendPayload, v.validate)
}

// AddControlUpdate records a control update with the new control data.
func (b *Batch) AddControlUpdate(v ControlUpdate) *Batch {
	return b.add(KindControlUpdate, v, 0, v.appendPayload, v.validate)
}

// SetMachine adds the machine identity (write-once).
func (b *Batch) SetMachine(v Machine) *Batch {
	return b.add(KindMachine, v, 0, v.appendPayload, func() error {
		if !v.Produced.IsZero() && !v.Produced.Valid() {
			return invalid("production date %v", v.Produced)
		}
		return nil
	})
}

// Initialise adds the first application record.
func (b *Batch) Initialise(a Application) *Batch {
	a.TaxItems = slices.Clone(a.TaxItems)
	return b.add(KindApplication, a, appInitialise, a.appendPayload, a.validate)
}

// ChangeOwner adds a new application record after a change of owner; the
// previous ones stay in the history.
func (b *Batch) ChangeOwner(a Application) *Batch {
	a.TaxItems = slices.Clone(a.TaxItems)
	return b.add(KindApplication, a, appChangeOwner, a.appendPayload, a.validate)
}

// Commit checks every record of b against the rules of its kind and the
// capacities, then writes them all with a single sync. If any record is
// refused (ErrFull, ErrOrder, ErrDuplicate, ...) nothing is written.
func (m *Memory) Commit(ctx context.Context, b *Batch) error {
	if b.err != nil {
		return b.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(b.recs) == 0 {
		return nil
	}
	undos := make([]func(), 0, len(b.recs))
	rollback := func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
	}
	for _, r := range b.recs {
		u, err := m.st.apply(r, location{}, false)
		if err != nil {
			rollback()
			return err
		}
		undos = append(undos, u)
	}
	rollback()
	pend := make([]pending, len(b.recs))
	for i, r := range b.recs {
		pend[i] = pending{Kind: r.kind, Payload: r.payload}
	}
	seg := m.w.segIndex
	locs, err := m.w.write(pend)
	if err != nil {
		m.opts.Logger.Warn("fiscal memory write failed", "err", err)
		return err
	}
	if m.w.segIndex != seg {
		m.segs++
	}
	for i, r := range b.recs {
		if _, err := m.st.apply(r, locs[i], false); err != nil {
			// Cannot happen: the same checks passed above.
			m.w.failed = fmt.Errorf("memory: internal error after write: %w", err)
			return m.w.failed
		}
	}
	return nil
}

// AddInvoice stores one invoice.
func (m *Memory) AddInvoice(ctx context.Context, v Invoice) error {
	return m.Commit(ctx, new(Batch).AddInvoice(v))
}

// AddDaily stores one daily record; its date must be after the last one's.
func (m *Memory) AddDaily(ctx context.Context, v Daily) error {
	return m.Commit(ctx, new(Batch).AddDaily(v))
}

// AddDeclaration stores one declaration; its period must start after the
// previous one's end.
func (m *Memory) AddDeclaration(ctx context.Context, v Declaration) error {
	return m.Commit(ctx, new(Batch).AddDeclaration(v))
}

// AddRollLoad stores a roll load record.
func (m *Memory) AddRollLoad(ctx context.Context, v RollLoad) error {
	return m.Commit(ctx, new(Batch).AddRollLoad(v))
}

// AddRollUsage stores a used-roll summary.
func (m *Memory) AddRollUsage(ctx context.Context, v RollUsage) error {
	return m.Commit(ctx, new(Batch).AddRollUsage(v))
}

// SetPIN durably replaces the rolling fiscal PIN.
func (m *Memory) SetPIN(ctx context.Context, p PIN) error {
	return m.Commit(ctx, new(Batch).SetPIN(p))
}

// BeginIntent durably opens an operation intent.
func (m *Memory) BeginIntent(ctx context.Context, in Intent) error {
	return m.Commit(ctx, new(Batch).BeginIntent(in))
}

// EndIntent durably marks an open intent done.
func (m *Memory) EndIntent(ctx context.Context, id uint64) error {
	return m.Commit(ctx, new(Batch).EndIntent(id))
}

// LogSecurity stores a security log event.
func (m *Memory) LogSecurity(ctx context.Context, e SecurityEvent) error {
	return m.Commit(ctx, new(Batch).LogSecurity(e))
}

// SetMachine stores the machine identity; a second call fails with
// ErrWriteOnce.
func (m *Memory) SetMachine(ctx context.Context, v Machine) error {
	return m.Commit(ctx, new(Batch).SetMachine(v))
}

// Initialise stores the first application record; a second call fails
// with ErrWriteOnce (use ChangeOwner).
func (m *Memory) Initialise(ctx context.Context, a Application) error {
	return m.Commit(ctx, new(Batch).Initialise(a))
}

// ChangeOwner stores a new application record after a change of owner
// (停机过户). The previous records stay in ApplicationHistory. It fails with
// ErrNotInitialised if there is no application yet.
func (m *Memory) ChangeOwner(ctx context.Context, a Application) error {
	return m.Commit(ctx, new(Batch).ChangeOwner(a))
}

// CheckCapacity returns a *FullError (matching ErrFull) if n more records
// of kind would not fit. Call it before any card command of an operation.
func (m *Memory) CheckCapacity(kind Kind, n int) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.st.checkCapacity(kind, n, fiscal.Date{})
}

// ---- status ----------------------------------------------------------------

// KindStats is the fill level of one record kind.
type KindStats struct {
	Kind     Kind
	Count    int // records stored
	Counted  int // records counted against Capacity (retained invoices; Count for other kinds)
	Capacity int // 0: no limit
}

// Warning is the "almost full" warning value for one record kind.
type Warning struct {
	Kind     Kind
	Counted  int
	Capacity int
}

func (w Warning) String() string {
	return fmt.Sprintf("%s storage almost full: %d of %d", w.Kind, w.Counted, w.Capacity)
}

// Stats is a snapshot of the memory's fill level and write counters.
type Stats struct {
	Kinds    []KindStats // one per kind, in Kind order
	Warnings []Warning   // kinds at or above Options.AlmostFullPercent
	Segments int
	Records  uint64 // records stored
	// Since Open:
	Commits        int64 // batches written
	Syncs          int64 // file syncs of batch writes (excluding segment creation)
	RecordsWritten int64
}

// Stats returns the fill level per kind, the "almost full" warnings and
// the write counters.
func (m *Memory) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := Stats{Segments: m.segs, Records: m.w.nextSeq - 1, Commits: m.w.syncs, Syncs: m.w.syncs, RecordsWritten: m.w.records}
	for k := KindMachine; k <= kindLast; k++ {
		ks := KindStats{Kind: k, Count: m.st.counts[k], Counted: m.st.counted(k), Capacity: m.st.capacity(k)}
		s.Kinds = append(s.Kinds, ks)
		if ks.Capacity > 0 && k != KindMachine && ks.Counted*100 >= ks.Capacity*m.opts.AlmostFullPercent {
			s.Warnings = append(s.Warnings, Warning{Kind: k, Counted: ks.Counted, Capacity: ks.Capacity})
		}
	}
	return s
}

// ---- queries ---------------------------------------------------------------

// Machine returns the machine identity, if written.
func (m *Memory) Machine() (Machine, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.st.machine == nil {
		return Machine{}, false
	}
	return *m.st.machine, true
}

// Application returns the current application (initialisation) record.
func (m *Memory) Application() (Application, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := len(m.st.apps); n > 0 {
		a := m.st.apps[n-1]
		a.TaxItems = slices.Clone(a.TaxItems)
		return a, true
	}
	return Application{}, false
}

// ApplicationHistory returns every application record, oldest first; the
// last one is the current.
func (m *Memory) ApplicationHistory() []Application {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := slices.Clone(m.st.apps)
	for i := range out {
		out[i].TaxItems = slices.Clone(out[i].TaxItems)
	}
	return out
}

// PIN returns the current rolling fiscal PIN, if one was stored.
func (m *Memory) PIN() (PIN, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.st.pin == nil {
		return PIN{}, false
	}
	return *m.st.pin, true
}

// OpenIntents returns the intents not yet marked done, oldest first.
func (m *Memory) OpenIntents() []Intent {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Intent, 0, len(m.st.intentSeq))
	for _, id := range m.st.intentSeq {
		in := m.st.intents[id]
		in.Payload = slices.Clone(in.Payload)
		out = append(out, in)
	}
	return out
}

// inRange reports whether d lies in from..to, both included; a zero bound
// is open.
func inRange(d, from, to fiscal.Date) bool {
	return (from.IsZero() || !d.Before(from)) && (to.IsZero() || !d.After(to))
}

// LastDaily returns the newest daily record.
func (m *Memory) LastDaily() (Daily, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := len(m.st.dailies); n > 0 {
		return m.st.dailies[n-1], true
	}
	return Daily{}, false
}

// Dailies returns the daily records dated from..to (both included; a zero
// bound is open), oldest first.
func (m *Memory) Dailies(from, to fiscal.Date) []Daily {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Daily
	for _, d := range m.st.dailies {
		if inRange(d.Record.Date, from, to) {
			out = append(out, d)
		}
	}
	return out
}

// CurrentApplication returns the index in ApplicationHistory of the newest
// application record, -1 before initialisation. The queries named ...Of
// take such an index and see only the records stored while that
// application was the newest: after a change of owner (停机过户) on the day
// of the change, the old and the new taxpayer each have their own daily
// record and declarations for that day, and their own invoices.
func (m *Memory) CurrentApplication() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.st.apps) - 1
}

// LastDailyOf returns the newest daily record of application app.
func (m *Memory) LastDailyOf(app int) (Daily, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	lo, hi := m.st.appBounds(app, len(m.st.dailies), startDaily)
	if hi > lo {
		return m.st.dailies[hi-1], true
	}
	return Daily{}, false
}

// DailiesOf returns the daily records of application app dated from..to
// (both included; a zero bound is open), oldest first.
func (m *Memory) DailiesOf(app int, from, to fiscal.Date) []Daily {
	m.mu.RLock()
	defer m.mu.RUnlock()
	lo, hi := m.st.appBounds(app, len(m.st.dailies), startDaily)
	var out []Daily
	for _, d := range m.st.dailies[lo:hi] {
		if inRange(d.Record.Date, from, to) {
			out = append(out, d)
		}
	}
	return out
}

// LastDeclarationOf returns the newest declaration of application app.
func (m *Memory) LastDeclarationOf(app int) (Declaration, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	lo, hi := m.st.appBounds(app, len(m.st.decls), startDecl)
	if hi > lo {
		return m.st.decls[hi-1], true
	}
	return Declaration{}, false
}

// DeclarationsOf returns the declarations of application app whose period
// overlaps from..to, oldest first.
func (m *Memory) DeclarationsOf(app int, from, to fiscal.Date) []Declaration {
	m.mu.RLock()
	defer m.mu.RUnlock()
	lo, hi := m.st.appBounds(app, len(m.st.decls), startDecl)
	var out []Declaration
	for _, d := range m.st.decls[lo:hi] {
		if (to.IsZero() || !d.Data.Start.After(to)) && (from.IsZero() || !d.Data.End.Before(from)) {
			out = append(out, d)
		}
	}
	return out
}

// InvoiceApplication returns the index of the application an invoice was
// issued under (-1: before any), or ErrNotFound.
func (m *Memory) InvoiceApplication(code fiscal.InvoiceCode, number uint32) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, ok := m.st.lookup(code, number)
	if !ok {
		return 0, fmt.Errorf("%w: invoice %s/%d", ErrNotFound, code, number)
	}
	app := -1
	for k, a := range m.st.appStarts {
		if i >= a.inv {
			app = k
		}
	}
	return app, nil
}

// LastDeclaration returns the newest declaration.
func (m *Memory) LastDeclaration() (Declaration, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := len(m.st.decls); n > 0 {
		return m.st.decls[n-1], true
	}
	return Declaration{}, false
}

// Declarations returns the declarations whose period overlaps from..to
// (both included; a zero bound is open), oldest first.
func (m *Memory) Declarations(from, to fiscal.Date) []Declaration {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Declaration
	for _, d := range m.st.decls {
		if (to.IsZero() || !d.Data.Start.After(to)) && (from.IsZero() || !d.Data.End.Before(from)) {
			out = append(out, d)
		}
	}
	return out
}

// RollLoads returns every roll load record, oldest first.
func (m *Memory) RollLoads() []RollLoad {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.st.rollLoads)
}

// LastRollLoad returns the newest roll load record.
func (m *Memory) LastRollLoad() (RollLoad, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := len(m.st.rollLoads); n > 0 {
		return m.st.rollLoads[n-1], true
	}
	return RollLoad{}, false
}

// RollUsages returns every used-roll summary, oldest first.
func (m *Memory) RollUsages() []RollUsage {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.st.rollUsages)
}

// LastRollUsage returns the newest used-roll summary.
func (m *Memory) LastRollUsage() (RollUsage, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := len(m.st.rollUsages); n > 0 {
		return m.st.rollUsages[n-1], true
	}
	return RollUsage{}, false
}

// RollDistributions returns every distributed-roll record, oldest first.
func (m *Memory) RollDistributions() []RollDistribution {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.st.dists)
}

// WaitingRolls returns the distributed rolls not yet taken off the waiting
// list, oldest first.
func (m *Memory) WaitingRolls() []RollDistribution {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]RollDistribution, len(m.st.waiting))
	for i, j := range m.st.waiting {
		out[i] = m.st.dists[j]
	}
	return out
}

// RollsTaken returns every RollTaken record, oldest first.
func (m *Memory) RollsTaken() []RollTaken {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.st.taken)
}

// ControlUpdates returns every control-update record, oldest first.
func (m *Memory) ControlUpdates() []ControlUpdate {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.st.ctlUpdates)
}

// Controls returns the control data in force as fiscal memory knows it:
// that of the newest control update made since the newest application
// record, else the application's own. It reports false before
// initialisation.
func (m *Memory) Controls() (fiscal.ControlData, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.st.apps) == 0 {
		return fiscal.ControlData{}, false
	}
	if n := len(m.st.ctlUpdates); n > m.st.ctlFrom {
		return m.st.ctlUpdates[n-1].Control, true
	}
	return m.st.apps[len(m.st.apps)-1].Control, true
}

// SecurityEvents returns the security log, oldest first.
func (m *Memory) SecurityEvents() []SecurityEvent {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.st.security)
}

// InvoiceCount returns the number of stored invoices.
func (m *Memory) InvoiceCount() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.st.invoices)
}

// readerSet opens segment files for reading on demand.
type readerSet struct {
	fs FS
	rs map[uint32]Reader
}

func (r *readerSet) close() {
	for _, x := range r.rs {
		x.Close()
	}
}

// readInvoice reads an indexed invoice back from storage, checking its
// frame CRC against the chain value recorded when it was read or written.
// The caller holds m.mu (read) and fills in the request id.
func (m *Memory) readInvoice(rs *readerSet, i int) (Invoice, error) {
	v, err := m.readInvoiceEntry(rs, m.st.invoices[i])
	if err == nil {
		v.RequestID = m.st.requestOf(i)
	}
	return v, err
}

// readInvoiceEntry reads the invoice of e without its request id; it needs
// no lock.
func (m *Memory) readInvoiceEntry(rs *readerSet, e invEntry) (Invoice, error) {
	if rs.rs == nil {
		rs.rs = map[uint32]Reader{}
	}
	r, ok := rs.rs[e.seg]
	if !ok {
		var err error
		if r, err = rs.fs.Open(segmentName(e.seg)); err != nil {
			return Invoice{}, err
		}
		rs.rs[e.seg] = r
	}
	n := int64(frameLen(int(e.n)))
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, e.off); err != nil {
		return Invoice{}, &CorruptionError{Segment: segmentName(e.seg), Offset: e.off, Kind: KindInvoice, Seq: e.seq,
			Reason: "stored invoice cannot be read back", Err: err}
	}
	got := binary.BigEndian.Uint32(buf[n-frameCRCLen:])
	if crc32.Update(e.prev, castagnoli, buf[:n-frameCRCLen]) != got || binary.BigEndian.Uint64(buf[8:16]) != e.seq {
		return Invoice{}, &CorruptionError{Segment: segmentName(e.seg), Offset: e.off, Kind: KindInvoice, Seq: e.seq,
			Reason: "stored invoice changed since it was written"}
	}
	v, err := decodeInvoice(buf[frameHeaderLen : frameHeaderLen+int64(e.n)])
	if err != nil {
		return Invoice{}, &CorruptionError{Segment: segmentName(e.seg), Offset: e.off, Kind: KindInvoice, Seq: e.seq,
			Reason: "stored invoice does not decode", Err: err}
	}
	return v, nil
}

// Invoice returns the invoice with the given code and number, or
// ErrNotFound.
func (m *Memory) Invoice(ctx context.Context, code fiscal.InvoiceCode, number uint32) (Invoice, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Invoice{}, ErrClosed
	}
	i, ok := m.st.lookup(code, number)
	if !ok {
		return Invoice{}, fmt.Errorf("%w: invoice %s/%d", ErrNotFound, code, number)
	}
	rs := &readerSet{fs: m.fs}
	defer rs.close()
	return m.readInvoice(rs, i)
}

// LastInvoice returns the newest invoice, or ErrNotFound.
func (m *Memory) LastInvoice(ctx context.Context) (Invoice, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Invoice{}, ErrClosed
	}
	n := len(m.st.invoices)
	if n == 0 {
		return Invoice{}, fmt.Errorf("%w: no invoice stored", ErrNotFound)
	}
	rs := &readerSet{fs: m.fs}
	defer rs.close()
	return m.readInvoice(rs, n-1)
}

// EachInvoice calls fn for every invoice dated from..to (both included; a
// zero bound is open), oldest first, and stops at the first error. The
// invoices are those stored when the call began; fn may call other methods
// of m (no lock is held while it runs).
func (m *Memory) EachInvoice(ctx context.Context, from, to fiscal.Date, fn func(Invoice) error) error {
	return m.eachInvoice(ctx, -2, from, to, fn)
}

// EachInvoiceOf is EachInvoice for the invoices of application app only
// (see CurrentApplication).
func (m *Memory) EachInvoiceOf(ctx context.Context, app int, from, to fiscal.Date, fn func(Invoice) error) error {
	if app < 0 {
		return nil
	}
	return m.eachInvoice(ctx, app, from, to, fn)
}

// eachInvoice walks the invoices of application app (-2: all).
func (m *Memory) eachInvoice(ctx context.Context, app int, from, to fiscal.Date, fn func(Invoice) error) error {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return ErrClosed
	}
	inv := m.st.invoices
	base := 0 // index of inv[0] among all invoices
	if app != -2 {
		a, b := m.st.appBounds(app, len(inv), startInv)
		inv = inv[a:b:b]
		base = a
	}
	lo, hi := 0, len(inv)
	if !from.IsZero() {
		f := packDate(from)
		lo = sort.Search(len(inv), func(i int) bool { return inv[i].day >= f })
	}
	if !to.IsZero() {
		t := packDate(to)
		hi = sort.Search(len(inv), func(i int) bool { return inv[i].day > t })
	}
	// Index entries never change once stored, so this view stays valid
	// after the lock is released, whatever is appended meanwhile.
	view := inv[lo:max(lo, hi):max(lo, hi)]
	m.mu.RUnlock()
	rs := &readerSet{fs: m.fs}
	defer rs.close()
	for i := range view {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		v, err := m.readInvoiceEntry(rs, view[i])
		if err != nil {
			return err
		}
		m.mu.RLock()
		v.RequestID = m.st.requestOf(base + lo + i)
		m.mu.RUnlock()
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// InvoicesByRequestID returns the invoices issued for the host's request
// id (several for a request of several voids), oldest first, or
// ErrNotFound if no invoice has it. The id 0 (none) is never found.
func (m *Memory) InvoicesByRequestID(ctx context.Context, id uint64) ([]Invoice, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	idx := m.st.requestInvoices(id)
	if id == 0 || len(idx) == 0 {
		return nil, fmt.Errorf("%w: no invoice for request id %d", ErrNotFound, id)
	}
	rs := &readerSet{fs: m.fs}
	defer rs.close()
	out := make([]Invoice, 0, len(idx))
	for _, i := range idx {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, err := m.readInvoice(rs, int(i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// InvoiceByRequestID returns the first invoice issued for the host's
// request id, or ErrNotFound; see InvoicesByRequestID.
func (m *Memory) InvoiceByRequestID(ctx context.Context, id uint64) (Invoice, error) {
	vs, err := m.InvoicesByRequestID(ctx, id)
	if err != nil {
		return Invoice{}, err
	}
	return vs[0], nil
}

// Invoices returns the invoices dated from..to (both included; a zero bound
// is open), oldest first.
func (m *Memory) Invoices(ctx context.Context, from, to fiscal.Date) ([]Invoice, error) {
	var out []Invoice
	err := m.EachInvoice(ctx, from, to, func(v Invoice) error { out = append(out, v); return nil })
	return out, err
}

// TaxTotal is the total of one tax index.
type TaxTotal struct {
	Normal, Return fiscal.Amount
}

// Totals are sums over the invoices of a date range.
type Totals struct {
	From, To                            fiscal.Date // the range asked for (zero: open)
	NormalCount, ReturnCount, VoidCount int
	Normal, Return                      fiscal.Amount // totals of normal and return invoices
	ByIndex                             map[fiscal.TaxIndex]TaxTotal
}

// Add counts one invoice into the totals: a normal or return invoice adds
// its total and its per-index amounts, a void one only its count. Dates are
// not checked against From..To.
func (t *Totals) Add(v Invoice) {
	if t.ByIndex == nil {
		t.ByIndex = map[fiscal.TaxIndex]TaxTotal{}
	}
	switch v.Detail.Type {
	case fiscal.InvoiceNormal:
		t.NormalCount++
		t.Normal += v.Detail.Total
	case fiscal.InvoiceReturn:
		t.ReturnCount++
		t.Return += v.Detail.Total
	case fiscal.InvoiceVoid:
		t.VoidCount++
		return
	}
	for i, x := range v.Indexes {
		if x == 0 {
			continue
		}
		tt := t.ByIndex[x]
		if v.Detail.Type == fiscal.InvoiceNormal {
			tt.Normal += v.Amounts[i]
		} else {
			tt.Return += v.Amounts[i]
		}
		t.ByIndex[x] = tt
	}
}

// Totals recomputes, from the stored invoices, the counts and totals of
// the invoices dated from..to (both included; a zero bound is open).
func (m *Memory) Totals(ctx context.Context, from, to fiscal.Date) (Totals, error) {
	t := Totals{From: from, To: to, ByIndex: map[fiscal.TaxIndex]TaxTotal{}}
	err := m.EachInvoice(ctx, from, to, func(v Invoice) error { t.Add(v); return nil })
	return t, err
}

// TotalsByDay is Totals split per calendar day: one entry for each date
// in from..to that has invoices, oldest first (From == To == that date).
func (m *Memory) TotalsByDay(ctx context.Context, from, to fiscal.Date) ([]Totals, error) {
	var out []Totals
	err := m.EachInvoice(ctx, from, to, func(v Invoice) error {
		if n := len(out); n == 0 || out[n-1].From != v.Detail.Date {
			out = append(out, Totals{From: v.Detail.Date, To: v.Detail.Date, ByIndex: map[fiscal.TaxIndex]TaxTotal{}})
		}
		out[len(out)-1].Add(v)
		return nil
	})
	return out, err
}

// ---- verification ----------------------------------------------------------

// Report is the result of Verify.
type Report struct {
	Segments int
	Records  int64 // good records
	Bytes    int64 // bytes read
	ByKind   map[Kind]int
	// Bad is the first bad record, nil if the memory is intact. A torn tail
	// (Bad.Torn) is repairable with Repair.
	Bad *CorruptionError
}

// OK reports whether the memory is intact.
func (r *Report) OK() bool { return r.Bad == nil }

// Verify reads every segment of fsys and checks every CRC, the chain, the
// sequence numbers, the batches, every record's content, and that dates
// never go backwards. It returns the report and, when the memory is not
// intact, the *CorruptionError naming the first bad record (also in
// Report.Bad). Other errors are I/O errors.
func Verify(ctx context.Context, fsys FS, opts *Options) (*Report, error) {
	o := opts.withDefaults()
	st := newState(o)
	rep := &Report{ByKind: map[Kind]int{}}
	res, err := replay(ctx, fsys, st, o.Progress, o.DeepVerify)
	if err != nil {
		var ce *CorruptionError
		if errors.As(err, &ce) {
			rep.Bad = ce
		}
		return rep, err
	}
	rep.Segments, rep.Records, rep.Bytes = len(res.Segs), res.Frames, res.Bytes
	for k := KindMachine; k <= kindLast; k++ {
		if st.counts[k] > 0 {
			rep.ByKind[k] = st.counts[k]
		}
	}
	if res.Torn != nil {
		rep.Bad = res.Torn
		return rep, res.Torn
	}
	return rep, nil
}

// Verify checks the open memory's files as the package-level Verify does,
// for example to detect tampering since Open.
func (m *Memory) Verify(ctx context.Context) (*Report, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	return Verify(ctx, m.fs, m.opts)
}

// RepairReport says what Repair did.
type RepairReport struct {
	// Torn is the torn tail found, nil if there was nothing to repair.
	Torn *CorruptionError
	// CopiedTo is the name of the copy of the segment made before
	// truncating it.
	CopiedTo string
}

// Repair fixes a torn tail: it copies the last segment aside (as
// NAME.torn-N) and truncates it before the incomplete record or batch, so
// everything committed before it is kept and appending works again. Any
// other damage is refused with its *CorruptionError (matching ErrCorrupt)
// and nothing is changed. An intact memory is left as it is.
func Repair(ctx context.Context, fsys FS, opts *Options) (*RepairReport, error) {
	o := opts.withDefaults()
	res, err := replay(ctx, fsys, newState(o), o.Progress, o.DeepVerify)
	if err != nil {
		return nil, err
	}
	rep := &RepairReport{Torn: res.Torn}
	if res.Torn == nil {
		return rep, nil
	}
	name, err := repairTail(fsys, res.Torn)
	if err != nil {
		return rep, err
	}
	rep.CopiedTo = name
	o.Logger.Warn("fiscal memory torn tail repaired", "segment", res.Torn.Segment, "offset", res.Torn.Offset, "copy", name)
	return rep, nil
}
