// Package register is the fiscal cash register (税控收款机) itself: a Device
// that applies the business rules of GB 18240 over a fiscal memory
// (package fiscal/memory), a fiscal card (税控卡) and a user card (用户卡)
// reached through card.Transmitter, so the same engine runs on the
// in-process emulator (card/emulator), on PC/SC readers and behind vpcd.
// The host link protocol that serves a Device to POS software lives in
// register/link, the printed layouts in register/print.
//
// # Flows
//
//   - Factory identity (WriteFactoryData): machine number and versions,
//     written once.
//   - Fiscal initialisation (Initialise, 税控初始化) with both cards: the
//     fiscal card's machine number, the (machine, fiscal card) pair on the
//     user card, app start ≤ today ≤ 开票截止日期 ≤ app valid date; the
//     registration exchange GET_REGISTER_NB → REGISTER_SIGN →
//     TERMINAL_REGISTER that yields the first fiscal PIN; the first control
//     update from the user card's EF01 when the fiscal card has no control
//     data; the tax items from user EF03. Nothing fiscal works before it.
//   - Invoice supply: Distribute takes one roll from the user card (up to
//     MaxWaitingRolls wait), LoadRoll loads the oldest into the fiscal card
//     only when the current roll is used up; the next number is the
//     previous invoice's + 1, i.e. end − remaining + 1.
//   - Issuing: Issue (正常发票, ≤ 10 lines, each with a tax item), Return
//     (退票: a normal invoice of the current declaration period not returned
//     before), Void (废票: the current invoice, Count of them, or the rest of
//     the roll). The pre-checks run in the reference's order, each with its
//     own *Error and 税控器 code: initialised (0x10), not past 开票截止日期
//     (0x11), not locked five years after initialisation (ErrLocked),
//     invoices remain (ErrNoInvoices), the fiscal card answers (0x05), the
//     period's cumulative normal (0x13) and return (0x14) totals. The
//     single-invoice limit is the card's: SW 9401 becomes ErrSingleLimit
//     (0x12) with the *card.StatusError reachable through errors.As; a
//     total (or a line's quantity × price) beyond the card's u32 range is
//     refused with ErrSingleLimit before any card command.
//   - Daily close (日汇总): at start-up and on the first operation of a new
//     day, one signed daily record (DAILY_COLLECT_SIGN) for every calendar
//     day since the last close, days without sales included; CloseDay
//     closes today too.
//   - Clock: Config.Clock is injectable; a date before the newest fiscal
//     record is refused (ErrClockBackwards).
//   - Declaration (Declare, 申报) in four modes: normal (end ≤ yesterday),
//     stop (停机, through today), natural month (end of last month) and
//     re-declare (the last declaration written to the user card again).
//     The period starts at the initialisation date or the previous end + 1;
//     the end is clipped to 开票截止日期 and to the day before the lock. The
//     daily close runs first; the data are the sums of the signed daily
//     records; DECLARE_DUTY, the record with MAC1 and signature into fiscal
//     memory, DATA_COLLECT to the user card. Refused while the user card
//     holds an unprocessed declaration (ErrDeclarationPending, 0x45).
//   - Control update (UpdateControls, 税控更新): new deadline and limits from
//     the user card's EF01 through UPDATE_CONTROLS; the controls in force
//     are always the fiscal card's EF01, read at start-up. The period
//     totals that the cumulative limits are checked against are those of
//     the invoices after the last declared day, so "this period ← next"
//     happens at the declaration.
//   - Inspection (Inspect, 稽查) with a check card: card type and validity
//     date (check EF02), taxpayer (check EF01) and the authentication
//     exchange (check GET CHALLENGE, fiscal INTERNAL AUTHENTICATE with the
//     key id of check EF01, check EXTERNAL AUTHENTICATE) are checked; types
//     0-2 append invoice details, daily records with signatures or
//     declarations to check EF03 as 233-byte records (card.InspectionRecord);
//     type 3 authorises setting the clock, kept as an offset to
//     Config.Clock that is durable in the security log. Every inspection is
//     logged.
//   - Change of owner (ChangeOwner, 停机过户): a final stop declaration with
//     the old cards; once the new cards pass the initialisation checks, the
//     partly used roll's summary, the waiting rolls dropped (logged) and the
//     init intent (naming the new fiscal card) in one batch; then the new
//     cards are registered as in Initialise and the new application written
//     with memory's ChangeOwner; the old records stay readable and
//     verifiable. An interrupted change is completed by calling ChangeOwner
//     again with the same new cards (fiscal operations are refused with
//     ErrRecoveryPending until then). The new taxpayer issues the same day:
//     the period, daily close, declarations and returns are bounded by the
//     application (memory's ...Of queries), so the day of the change has
//     one signed daily record per owner, each signed by its own card.
//   - Five-year lock: LockDays after initialisation the machine refuses to
//     issue (ErrLocked); the lock date, the deadline and their state are in
//     Status.
//   - Reports (text preview and GB18030 printer bytes through
//     register/print): daily summary, period summary for any range
//     (recomputed from the invoices and cross-checked against the signed
//     daily records; a mismatch is reported), used-roll summary, void-invoice
//     register (作废发票登记簿), declarations, security log and the device
//     history (factory, initialisations, declarations, security events).
//
// # Card and storage budget per invoice
//
// The fiscal application is selected once per card session. An invoice
// costs VERIFY_FISCAL_PIN and ISSUE_INVOICE only: 4 exchanges under T=0
// (each command followed by GET RESPONSE), 2 when the reader returns data
// directly. Fiscal memory takes two batches, one sync each: {new PIN,
// intent} right after VERIFY_FISCAL_PIN, and {invoice, end of intent} after
// ISSUE_INVOICE (with the invoice's request id record in that batch when
// the request has one).
//
// # Request ids
//
// InvoiceRequest, ReturnRequest and VoidRequest may carry the caller's
// RequestID (0: none). Fiscal memory stores it with each invoice of the
// request (memory.KindRequest, read back as Invoice.RequestID), and a
// request whose id is stored already is answered with the stored invoices
// instead of being issued again, also by a Device opened later on the same
// fiscal memory. The issue intent (op "issue_req": request id u64 ‖ the
// invoice) holds the id, so an invoice stored by recovery has it too.
//
// # Crash consistency
//
// Every multi-step operation writes a durable intent (memory.Intent) before
// the card command that changes state, and Open completes or rolls it
// forward from the cards' own state: for an invoice, fiscal EF03 holds the
// number and 税控码 of the last invoice the card coded (stored if it is the
// intent's, else the number stays unused; a 税控码 already stored is an
// earlier invoice's, since a roll of another invoice code may reuse its
// number); for a roll load, fiscal EF05
// (recorded, or loaded again); for a distribution, user EF07; an
// interrupted daily close is run again (a day is signed at most once into
// memory, which refuses a second record for a date). The distributed rolls
// waiting to be loaded are fiscal memory's own records: a roll-distributed
// record in the batch that ends the distribution, a roll-taken record in
// the batch that records the load (or, at a change of owner, the drop). A
// fiscal memory of an older register, which kept them in an always-open
// intent named "roll_queue", is moved to those records by Open. Every
// control update (the first one at initialisation included) leaves a
// control-update record with the controls read back from the fiscal card.
//
// The rolling fiscal PIN is made durable in the same batch as the intent,
// before any other card command. Power lost between the card's answer to
// VERIFY_FISCAL_PIN and that batch reaching storage leaves the card one PIN
// ahead; nothing can recover it (the card only hands a PIN out once). The
// next VERIFY then fails and the Device reports ErrPINOutOfStep (code
// 0x18, also matching ErrPIN), writes a security-log event and never sends
// the PIN again, in this or any later process on the same fiscal memory:
// every try would cost one of the card's few retries, and only the tax
// office can unblock it.
//
// OpenMemory opens a fiscal memory as the register does at power-on,
// repairing a torn tail (and logging the repair). A full security log does
// not stop it: the repair is a system event, stored in the reserve beyond
// the log's capacity (memory.Capacity.SecurityReserve), and if that is used
// up too the register starts without logging it (the copy of the damaged
// segment that Repair keeps remains).
//
// # Errors
//
// Every refusal is a *Error carrying the 税控器 error code of reference §5.3
// (or a project code from 0x80, listed on each sentinel), the operation,
// the sentinel and the underlying card or memory error.
package register
