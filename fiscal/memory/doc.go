// Package memory is the fiscal memory (税控存储器) of a GB 18240 register: a
// write-once, append-only, crash-safe and verifiable store of everything the
// tax authority relies on.
//
// # Records and their rules
//
// Each record kind has a mutability rule, enforced by the API: there is no
// method that changes or deletes a stored record.
//
//   - Machine identity (KindMachine): written once (SetMachine); a second
//     write fails with ErrWriteOnce.
//   - Application / initialisation (KindApplication): the first by
//     Initialise; later ones only by ChangeOwner (停机过户). Every earlier
//     one stays in ApplicationHistory; Application returns the newest.
//   - Invoices (KindInvoice): append-only; (code, number) unique; dates never
//     go backwards.
//   - Daily records with their 128-byte signature (KindDaily): append-only,
//     one per date, dates strictly increasing, within an application; the
//     first daily record after a change of owner may share the date of the
//     last one before it (a change of owner during the day: each owner's
//     card signs its own part of the day).
//   - Declarations with the DECLARE_DUTY response (KindDeclaration):
//     append-only; each period starts after the previous one ends, except
//     that a new owner's first period may start on the day the previous
//     owner's last one ends.
//   - Roll loads (KindRollLoad, no overlapping ranges of one code) and used
//     roll summaries (KindRollUsage): append-only.
//   - The rolling fiscal PIN (KindPIN): SetPIN stores a new one, PIN returns
//     the newest.
//   - Operation intents (KindIntent, KindIntentDone): BeginIntent, then
//     EndIntent; OpenIntents lists those not done, for start-up recovery.
//   - Security log (KindSecurity): power loss, clock change, inspection,
//     tamper, repair, PIN error.
//   - Distributed rolls (KindRollDistributed, AddRollDistribution): a roll
//     the user card handed out, waiting to be loaded; append-only, no
//     overlapping ranges of one code. It waits until a roll-taken record
//     (KindRollTaken, TakeRoll) names it: loaded into the fiscal card, or
//     dropped at a change of owner. Taking a roll that does not wait fails
//     with ErrNotWaiting. WaitingRolls lists the rolls still waiting.
//   - Control updates (KindControlUpdate, AddControlUpdate): the control
//     data (deadline, limits) a control update (税控更新) put in force;
//     append-only, only after initialisation. Controls returns the newest
//     update since the newest application record, else that record's.
//   - Request ids (KindRequest, Invoice.RequestID, AddRequest): the host's
//     request id an invoice was issued for, in its own record written
//     right after the invoice in the same batch (no extra sync);
//     append-only. It names the newest invoice, which has no id yet; an id
//     already stored is accepted only if the invoice just before has it
//     (the invoices of one request, such as several voids, follow each
//     other); else ErrOrder or ErrDuplicate. InvoicesByRequestID and
//     InvoiceByRequestID look invoices up by id, and every method that
//     reads invoices back fills in Invoice.RequestID.
//
// Which application a record belongs to follows from its place in the log:
// the records after an application record and before the next one.
// CurrentApplication, EachInvoiceOf, DailiesOf, LastDailyOf, DeclarationsOf,
// LastDeclarationOf and InvoiceApplication answer by application; the other
// queries see every owner's records.
//
// Invoice retention: invoices are never deleted. Only the invoices dated
// within Options.InvoiceRetentionDays (default 1830) of the newest invoice
// or daily date count against the invoice capacity; older ones stay stored,
// verified, queryable and exported but make room for new ones. This is the
// "keep all, count retained" choice: no code path removes a record.
//
// # Capacity
//
// Every kind except PIN, intents and roll-taken records (at most one per
// distributed roll) has a capacity (Options.Capacity, defaults in
// DefaultCapacity(): 1830 daily records, 300 declarations, 300 roll loads,
// 300 roll summaries, 100,000 retained invoices, 10,000 security events,
// 100 applications, 1,000 distributed rolls, 300 control updates). A commit
// that would exceed one fails with a *FullError (ErrFull) before anything is
// written; CheckCapacity asks the same question before any card command is
// sent. Stats reports "almost full" Warning values from
// Options.AlmostFullPercent (default 90).
//
// A full security log must not stop a register from starting after a power
// cut (it logs the repair of the torn tail) nor from recording what it
// detects by itself. So the events the device writes on its own (power
// loss, repair, tamper, PIN error) may use Capacity.SecurityReserve (default
// 1,000) beyond Capacity.Security; the other events (inspection, clock
// change, other) stop at Capacity.Security. Stats counts every event against
// Capacity.Security, so the warning (and the full state for ordinary
// events) shows long before the reserve is used up. Beyond the reserve even
// system events fail with ErrFull; the caller decides (package register
// starts anyway and relies on the copy Repair keeps).
//
// # Durability and batches
//
// Every writing method returns after the data is on stable storage: the
// records are written with one write and one fdatasync (fsync where
// fdatasync does not exist). A Batch commits several records with one sync,
// all or nothing: after a power cut at any point, reopening finds either the
// whole batch or none of it. After a failed write the Memory refuses more
// writes; reopen it.
//
// # Crash recovery
//
// Open refuses a damaged memory with a *CorruptionError. If it matches
// ErrTornTail (a power cut during a write left an incomplete last record or
// batch), Repair copies the last segment aside and truncates it before the
// incomplete part; then Open succeeds with everything committed before it.
// Any other damage matches ErrCorrupt and Repair refuses it:
//
//	m, err := memory.Open(ctx, fsys, nil)
//	if errors.Is(err, memory.ErrTornTail) {
//		if _, err = memory.Repair(ctx, fsys, nil); err == nil {
//			m, err = memory.Open(ctx, fsys, nil)
//			// log a SecPowerLoss event
//		}
//	}
//
// # On-disk format (version 1)
//
// The memory is a directory of segment files named NNNNNNNN.seg (eight
// decimal digits, the segment index, from 00000001). Other names are
// ignored: NNNNNNNN.seg.tmp is a segment being created, NNNNNNNN.seg.torn-K
// is a copy kept by Repair. All integers are big-endian. CRC32-C is CRC-32
// with the Castagnoli polynomial.
//
// A segment starts with a 32-byte header:
//
//	off len field
//	  0   8 magic "GB18240M"
//	  8   2 format version, 1
//	 10   2 reserved, 0
//	 12   4 segment index (equals the file name's number)
//	 16   8 sequence number of the segment's first record
//	 24   4 chain seed: CRC of the last frame of the previous segment (0 in the first)
//	 28   4 CRC32-C of bytes 0..27
//
// and is followed by frames, each a multiple of 8 bytes long and starting at
// an offset that is a multiple of 8:
//
//	off    len field
//	  0      4 payload length L (at most 65536)
//	  4      1 record kind (Kind)
//	  5      1 flags: bit 0 set = more records of the same batch follow;
//	                  other bits 0
//	  6      2 reserved, 0
//	  8      8 sequence number (1 for the first record of the memory, then +1)
//	 16      L payload
//	 16+L    P zero padding, P = 0..7 so that 16+L+P+4 is a multiple of 8
//	 16+L+P  4 CRC32-C of bytes 0..16+L+P-1, computed with the previous
//	           frame's CRC as initial value (the segment's chain seed for its
//	           first frame)
//
// The length field lies in the first 8-byte word of an 8-aligned frame, so
// it is never split by a torn sector write. Every byte of a segment is
// covered by a CRC, and the chain links every frame to all frames before it,
// across segments. A batch is a run of frames whose last has flag bit 0
// clear; it never spans segments (a new segment is started when the batch
// does not fit). A new segment is written under NNNNNNNN.seg.tmp, synced,
// renamed and the directory synced, so a segment file always has a whole
// header.
//
// A torn tail is an incomplete frame, or frames of an unfinished batch, at
// the end of the last segment; nothing else is. If an incomplete frame's
// CRC matches with a shorter length field, the frame was complete and its
// length was damaged: that is corruption, not a torn tail.
//
// # Payloads
//
// Fixed-width text is GB18030 padded with 0x00 (fiscal.EncodeText); dates
// are BCD CCYYMMDD; times are Unix seconds (i64); amounts are fen.
//
//	machine      number[8] produced[4] hardware[16] software[16]
//	init         taxpayer_no[8] name[40] tax_id[20] fiscal_card[8] user_card[8]
//	             init[4] app_start[4] app_valid[4] control[23] n[1] n×tax_item[47]
//	invoice      detail[27] code[10] hh mm ss[3] indexes[6] amounts 6×u32
//	             payer[40] drawer[20] n[1]
//	             n×(name[20] quantity u32 unit_price u32 amount u32 tax_index[1])
//	             [original_code[10]]
//	daily        record[64] signature[128]
//	declaration  date[4] data[70] declare_duty_response[142]
//	roll         roll[18] loaded i64
//	roll_usage   roll[18] normal_count u32 return_count u32 void_count u32
//	             normal u64 return u64 first[4] last[4]
//	pin          pin[8]
//	intent       id u64 op_len u8 op payload_len u16 payload
//	intent_done  id u64
//	security     time i64 type u8 text_len u16 text (UTF-8)
//	roll_distributed  signed_roll[22] time i64
//	roll_taken   roll[18] time i64 reason u8 (1 loaded, 2 dropped)
//	control_update  time i64 control[23]
//	request      code[10] number u32 id u64
//
// The GB parts (detail[27], record[64], data[70], response[142], control[23],
// tax_item[47], roll[18], signed_roll[22] = roll[18] ‖ MAC[4]) are the
// codecs of package fiscal. Kinds 12 (roll_distributed), 13 (roll_taken),
// 14 (control_update) and 15 (request) were added later within format
// version 1: older
// code refuses a memory that holds them (unknown record kind), newer code
// reads older memories unchanged. So was an invoice's original_code: the
// 发票代码 of a return invoice's original (the GB detail names only its
// number), present only on return invoices that carry it; an invoice
// payload is then 10 bytes longer than its lines make it. Older code
// refuses such a payload; a return without it names an original of its own
// roll's code.
//
// # Verify and Repair
//
// Verify (and Open, which runs the same checks) walks every segment and
// checks the headers, every CRC, the chain, consecutive sequence numbers,
// batch boundaries, that every payload decodes and passes its content rules,
// and that the order rules above hold (dates never go backwards, keys are
// unique). It returns a Report whose Bad field (and the returned error)
// names the first bad record: segment, offset, kind, sequence. For speed,
// invoices are by default checked for every content rule that needs no text
// decoded: shape, date, type, number, code, time of day, the tax slots (no
// amount in an unused slot, no tax index twice), the total against the slot
// amounts, a void without an amount, a return naming its original (and its
// stored original code being digits), and the lines' tax indexes and
// amounts against the slots. Their text fields (payer, drawer, line names)
// are decoded when an invoice is read (which re-checks its frame CRC too).
// Options.DeepVerify decodes every field of every invoice; examples/fmtool
// verify uses it.
//
// Verify detects any change of a single byte anywhere in a segment (tested
// by flipping every byte of a small memory). Deleting whole trailing
// segments, or rewriting a suffix with recomputed CRCs, is not detectable
// from the files alone; that needs an external anchor (for example the
// fiscal card's own counters), which the register holds.
//
// # Power-cut model
//
// FaultFS models a power cut as: writes reach storage in the order issued,
// the cut write lands only partly (any prefix), and nothing after it lands.
// It does not model a disk that loses data it acknowledged as synced, nor
// reordering of unsynced writes within a file.
//
// # JSON Lines export
//
// Export writes one JSON object per record, in log order. Field names are
// stable. Amounts are integers in fen, dates "YYYY-MM-DD", times RFC 3339 in
// UTC+8, binary fields lower-case hex. Every object has "kind" and "seq".
//
//	kind "machine":     number, produced, hardware, software
//	kind "init":        taxpayer_number, taxpayer_name, tax_id, fiscal_card,
//	                    user_card, init_date, app_start, app_valid, deadline,
//	                    single_limit, total_limit, return_limit, detail_mode,
//	                    tax_items [{index, code, rate, name, name_en}]
//	kind "invoice":     code (发票代码), number, type ("normal", "return",
//	                    "void"), date, time, total, fiscal_code (20 digits),
//	                    original, original_code (a return's original's
//	                    发票代码, "" on other invoices), tax [{index,
//	                    amount}], lines [{name, quantity (thousandths),
//	                    unit_price, amount, tax_index}], payer, drawer
//	kind "daily":       date, normal_count, return_count, void_count,
//	                    tax [{index, normal, return}], signature
//	kind "declaration": date, start, end, normal_count, return_count,
//	                    void_count, tax [{index, normal, return}],
//	                    card_total_valid, card_total_return, status, mac1,
//	                    signature
//	kind "roll":        code, start, end, loaded
//	kind "roll_usage":  code, start, end, normal_count, return_count,
//	                    void_count, normal, return, first, last
//	kind "pin":         (no other field: the PIN is never exported)
//	kind "intent":      id, op, payload
//	kind "intent_done": id
//	kind "security":    time, event ("power_loss", "clock_change",
//	                    "inspection", "tamper", "repair", "pin_error",
//	                    "other"), text
//	kind "roll_distributed": code, start, end, mac, time
//	kind "roll_taken":  code, start, end, time, reason ("loaded", "dropped")
//	kind "control_update": time, deadline, single_limit, total_limit,
//	                    return_limit, detail_mode, tax_indexes [index, ...]
//	kind "request":     code, number (the invoice), request_id (a JSON
//	                    integer up to 2^64-1: read it as unsigned 64-bit)
//
// A request id is its own line, right after its invoice's, not a field of
// the invoice line: the export stays one object per record.
//
// # Storage seam
//
// The store works on an FS: DirFS (a directory of the operating system),
// MemFS (in memory) and FaultFS, which wraps either and cuts the power at
// the N-th mutating operation, losing that write or tearing it after K
// bytes, so tests can enumerate every crash point.
package memory
