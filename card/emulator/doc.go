// Package emulator is an in-process implementation of the three GB 18240.2
// cards — the fiscal card (税控卡, application TSAM01), the user card (用户卡,
// TID01) and the check card (稽查卡, CHECK01) — behind card.Transmitter, for
// tests, demonstrations and the vpcd bridge (adapters/vpcd serves a Card to a
// real pcscd).
//
// A card set is personalised with Issue (what the tax office does) and each
// *Card is then driven with raw APDUs through Transmit, or through the typed
// clients of package card:
//
//	cs, _ := emulator.Issue(emulator.IssueOptions{})
//	resp, _ := cs.Fiscal.Transmit(ctx, []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'})
//
// # Transport
//
// By default a card behaves like a T=0 card: a command whose answer has data
// gets 61 nn and no data; GET RESPONSE 00 C0 00 00 nn returns the data and
// 9000. A GET RESPONSE with a larger Le gets 6C nn, a smaller one gets that
// many bytes and 61 for the rest; any other command drops the pending data.
// READ BINARY with an Le larger than what is left of the file gets 6C nn, and
// READ RECORD with an Le other than the record length (or 00) gets 6C nn.
// With Options.T1 data comes back directly with 9000 ("T=1 style"); an Le
// shorter than the data then gets 6C nn. Malformed APDUs get 6700, an unknown
// class 6E00, an unknown instruction 6D00; Transmit returns an error only when
// there is no response at all (context done, card pulled, power off).
//
// Every card has a mutex: it is safe for use from several goroutines, each
// Transmit being atomic. A T=0 command and its GET RESPONSE are two
// Transmits, so concurrent users of one card must hold their own
// transaction, as with a real reader.
//
// # Power sessions
//
// Reset (and PowerOn, and loading saved state) starts a new power session:
// no application is selected, no PIN is verified, no authentication holds,
// no GET RESPONSE is pending. PowerOff makes Transmit fail with
// ErrPoweredOff. ATR is 3B 7A 13 00 00 "GB18240" kind 00 00.
//
// # Files and access
//
// Each card has one application, selected with SELECT by DF name (00 A4 04
// 00/0C). After it, EFs are reached with SELECT by FID (00 A4 00 00 02 EFxx)
// or directly by SFI (READ BINARY P1 = 80|SFI, READ/UPDATE RECORD P2 =
// SFI<<3|4, APPEND RECORD P2 = SFI<<3); SELECT 3F00 leaves the application.
// Proprietary commands (CLA C0) answer 6985 until the application is
// selected. Layouts are those of package card (AppInfo, DayAccumulation, ...)
// and package fiscal.
//
//	card   EF    type                     written by
//	fiscal EF01  binary 23 (controls)     UPDATE_CONTROLS only
//	fiscal EF02  binary 103 (app info)    TERMINAL_REGISTER (flag at offset 1) only
//	fiscal EF03  binary 76 (current day)  ISSUE_INVOICE only
//	fiscal EF04  binary 75 (last decl.)   DECLARE_DUTY only
//	fiscal EF05  binary 19 (loaded roll)  INPUT_INVOICE_NB only
//	user   EF01  records 37 × 8           UPDATE/APPEND RECORD after VERIFY
//	user   EF02  binary 85                UPDATE BINARY after VERIFY
//	user   EF03  records 47 × 6           after VERIFY
//	user   EF04  records 220 × 10         DATA_COLLECT; after VERIFY
//	user   EF05  records 20 × 10          DISTRIBUTE_INVOICE_NB; after VERIFY
//	user   EF06  records 18 × 8           after VERIFY
//	user   EF07  binary 22                DISTRIBUTE_INVOICE_NB; after VERIFY
//	check  EF01  binary 10                after VERIFY
//	check  EF02  binary 17                after VERIFY
//	check  EF03  records 233 × 64         after EXTERNAL AUTHENTICATE
//
// Everything is readable. A write without the right gets 6982 (6983 once
// the PIN is blocked), a full record file 6A84, a wrong record length 6700.
// VERIFY (00 20 00 P2 08 PIN, P2 = 00 or 01) on the user and check cards
// counts down from Options.PINRetries (default 3): 63Cx while tries remain,
// 6983 when none do; without data it reports 63Cx or 9000.
//
// # Fiscal card
//
//   - GET_REGISTER_NB (C0 F0, Le 10): random[4] ‖ card no ‖ MAC1; 6901 once
//     registered, 6985 if EF02 is not personalised.
//   - TERMINAL_REGISTER (C0 F1, MAC2[4], Le 08): checks MAC2 against the
//     random of the last GET_REGISTER_NB of this session (6985 if none; a
//     random serves one attempt), 9302 on a wrong MAC2; then marks EF02
//     registered and returns the first fiscal PIN.
//   - VERIFY_FISCAL_PIN (C0 F9, PIN[8], Le 08): 6901 before registration;
//     a right PIN returns a fresh random PIN which replaces it; a wrong one
//     63Cx, and 6983 when the tries are used up (also for later right PINs,
//     until Unblock). The verified state lasts for the power session and is
//     lost on a failed VERIFY.
//   - Every other fiscal command needs registration (6901) and a verified PIN
//     in this session (6982).
//   - ISSUE_INVOICE (C0 F2, 44 bytes): 6700 on length; 6A80 on a wrong XOR,
//     a non-date, a date before EF03's date, after the EF01 deadline or not
//     after the last declared period's end, a type other than 01-03, no roll
//     loaded, a number outside EF05's roll or not above the last one used,
//     an index not in EF01 or repeated, an amount in an empty slot, a total
//     that is not the sum, a void with an amount; 6985 when no control data
//     was ever loaded; 9401 when a normal or return total exceeds the
//     single-invoice limit. Then EF03 accumulates (a new date restarts the
//     day), its previous number and 税控码 advance, and the card keeps
//     per-day normal and return totals for the next declaration. Returns the
//     8-byte 税控码 from Profile.FiscalCode over the 44-byte block, chained
//     with the previous code (zero for the first).
//   - DAILY_COLLECT_SIGN (C0 FB 00 00, 65 bytes): 6A80 on a wrong XOR or
//     date, 6A86 for P2 ≠ 00; returns Profile.Sign(daily record) ‖ XOR.
//     The card signs only what it accumulated itself, and answers 6A80
//     otherwise. The record must have the same three counts and, per tax
//     index, the same normal and return amounts (slot order and indexes
//     without amounts do not matter; an amount under index 0 or an index
//     given twice is refused) as the card's accumulation of its date:
//     EF03 while the date is EF03's; for an earlier day with invoices, the
//     accumulation the card kept when that day rolled over (the first
//     invoice of a later date). It keeps one per day with invoices until a
//     DECLARE_DUTY covers the day, so a register can close yesterday after
//     midnight, or several days late, as long as it closes before it
//     declares. For a day on which the card coded no invoice only an empty
//     record (zero counts and amounts) is signed, unless the day lies in
//     the last declared period: the card no longer knows those days and
//     refuses (EF03's own day excepted).
//   - DECLARE_DUTY (C0 F4, 71 bytes): 6A80 on a wrong XOR, bad or reversed
//     dates, a start that is not the day after EF04's end (or, for the first
//     declaration, before the application start date), an end after the
//     deadline. The card's totals are the sums of the normal and return
//     totals of every undeclared invoice dated up to the end; status is 00
//     when the declaration's amounts add up to the same, 01 otherwise.
//     MAC1 = Profile.DeclarationMAC(declaration ‖ totals ‖ status) and the
//     signature = Profile.Sign(declaration ‖ totals ‖ status ‖ MAC1). EF04
//     gets declaration ‖ status ‖ MAC1. Returns totals ‖ status ‖ MAC1 ‖
//     signature ‖ XOR (142 bytes).
//   - UPDATE_CONTROLS (C0 F6, key id ‖ ciphertext[24] ‖ MAC2): 9403 for a key
//     id the profile does not hold, 9302 on a wrong MAC2, 6A80 when the
//     ciphertext does not decrypt to control data with a valid deadline;
//     then EF01 is replaced. Replay protection: the 24-byte plain text is
//     the 23 bytes of EF01 ‖ an update counter (1..255). The card keeps
//     the counter it applied last (0 on a new card) and applies a record
//     only with a greater one; an older record (or another record under
//     the same counter) gets 6985 (card.ErrStaleControls) and changes
//     nothing, so a valid record copied off a user card cannot roll the
//     limits or deadline back. 6985 rather than 9302 because the record
//     is authentic, only stale. The record in force sent again (same
//     counter, same data) gets 9000 and changes nothing, so a register
//     that lost the answer can simply repeat the command. Issue writes
//     counter 1; ProcessDeclarations one more than the larger of the user
//     card's record and the fiscal card's counter, and fails after 255.
//     With a Profile whose DecryptControls returns 23 bytes there is no
//     counter and no replay check.
//   - INPUT_INVOICE_NB (C0 F7, roll[18] ‖ MAC): 9302 on a wrong roll MAC
//     (keyed by the taxpayer number of EF02), 6A80 on a bad code or range or
//     a range overlapping a roll of the same code loaded before (the card
//     remembers the last 1000), 6985 while the loaded roll still has unused
//     numbers; then EF05.
//   - INTERNAL AUTHENTICATE (00 88 00 key 08 challenge): Profile.AuthCryptogram
//     under the taxpayer of EF02; 6A88 for an unknown key.
//   - PIN_UNBLOCK (税控卡解锁, 84 24 01 01 0C new PIN[8] ‖ MAC[4], Le 08;
//     the layout is the reference's inference): the tax office's command.
//     Needs the application selected (6985), works on a blocked PIN and a
//     locked application. 6A86 for other P1 P2, 6700 for a length other
//     than 12, 6901 before registration, 6A81 when the profile is not an
//     UnblockProfile, 9302 when the MAC is not UnblockMAC(card no, new PIN)
//     (no try counter: the MAC is the tax office's, 2^32 guesses over the
//     card interface). Then the new PIN is the fiscal PIN, the try counter
//     is full, the application lock (9303) is lifted, the session is not
//     PIN-verified; the card answers the PIN in force, i.e. the new PIN.
//     CardSet.UnblockMAC computes the MAC.
//
// # User card
//
//   - REGISTER_SIGN (C0 E4, random ‖ fiscal card no ‖ MAC1, Le 04): 6A80 if
//     the fiscal card is not in EF06, 9302 on a wrong MAC1; returns MAC2.
//   - DATA_COLLECT (C0 E6, 220 bytes): 6A80 on a wrong XOR or a fiscal card
//     not in EF06, 9302 when MAC1 or the signature does not verify, 6901
//     while a pending (flag 01) record of the same fiscal card exists, 6A84
//     when all 10 records are pending; stores flag 01 ‖ the 219 bytes before
//     the XOR as an EF04 record (reusing a processed one when full).
//   - DISTRIBUTE_INVOICE_NB (C0 E9, Le 16): 9401 when EF05 is empty;
//     otherwise hands out the first roll of the first batch (a batch of n
//     rolls splits start..end evenly, the last roll taking the rest) with
//     its roll MAC, keeps the 22 bytes in EF07 and shrinks or removes the
//     batch.
//
// # Check card
//
// GET CHALLENGE (00 84 00 00 08) gives 8 random bytes; EXTERNAL AUTHENTICATE
// (00 82 00 key 08 cryptogram) checks the fiscal card's INTERNAL
// AUTHENTICATE of that challenge: 6A88 unless key is EF01's key id, 6985
// without a fresh challenge (each serves one attempt), 63Cx / 6983 on
// failures like a PIN. Success allows EF03 writes for the power session.
//
// # Crypto profiles
//
// The algorithms of real cards are not public. Everything cryptographic goes
// through a Profile, so a vendor with the real algorithms plugs them in. The
// shipped TestProfile (TestProfileDoNotShip) is a TEST profile: documented
// algorithms (ISO/IEC 9797-1 MAC algorithm 3 with DES, 3DES CBC-MAC chained
// through the previous 税控码, 3DES-CBC for control data, RSA-1024 PKCS #1
// v1.5 with SHA-256) and keys derived from a public seed. It is NOT for
// production: anyone can compute its keys. The RSA key of each fiscal card
// is derived deterministically (about 0.1 s) on first use and cached in the
// profile value, so share one profile value between card sets where speed
// matters. Verifier checks 税控码, signatures and MACs with a profile.
//
// # Tax office helpers
//
// Issue personalises a set; CardSet.ProcessDeclarations marks pending
// declarations processed and writes the next control record (with the
// next update counter); PurchaseRolls adds EF05 batches; CardSet.UnblockMAC
// authorises PIN_UNBLOCK with a new fiscal PIN; Card.Unblock (without an
// APDU) resets the try counters and lifts LockApplication (after which
// proprietary commands answer 9303).
// CardSet.Initialise runs the register's initialisation flow through APDUs.
// CardSet.SaveDir and LoadCardSet keep a whole set in a directory.
//
// # Fault injection
//
// InjectFault arms a fault at the N-th command from now: either the card is
// pulled (Transmit returns ErrCardRemoved; with Apply the command's effect
// on the card is kept, without it nothing happens; the card answers again
// after Reset), or the card answers a forced status word such as 6581 and
// changes nothing.
//
// # State file format
//
// MarshalBinary, SaveFile, Load, LoadFile and UnmarshalBinary use this format
// (integers big-endian):
//
//	off  len  field
//	  0    8  magic "GB18240E"
//	  8    2  format version, 1
//	 10    1  card kind: 00 fiscal, 01 user, 02 check
//	 11    1  reserved, 00
//	 12    4  payload length n (at most 1 MiB)
//	 16    n  payload: JSON object of the persistent state
//	16+n   4  CRC32-C (Castagnoli) of bytes 0 .. 16+n-1
//
// The payload holds: "kind", "profile" (Profile.Name, checked on load:
// ErrProfileMismatch), "locked", "files" (an object "EF01".. → {"data":
// base64 bytes} for binary EFs or {"records": [base64, ...]} for record EFs),
// "pin", "pin_tries", "pin_max", "auth_tries" (check card),
// "controls_counter" (fiscal card: update counter last applied by
// UPDATE_CONTROLS, 0..255, absent = 0), "roll_last" (last
// invoice number used in the loaded roll), "days" (fiscal card: per-day
// totals {"date", "normal", "return", "record"} of the days with invoices
// not yet declared, "record" being the 64-byte accumulation kept when the
// day rolled over; state without it is accepted and then only the totals
// are compared by DAILY_COLLECT_SIGN) and "loaded_rolls"
// (fiscal card: the 18-byte rolls loaded so far). Unknown fields,
// wrong sizes, too many records or inconsistent counters are rejected with a
// *StateError wrapping ErrBadState, and the card being loaded into is left
// unchanged. SaveFile writes a temporary file in the same directory, syncs
// it, renames it over the target and syncs the directory; a failure at any
// step before the rename leaves the old file as it was and removes the
// temporary file (tested by injecting a failure at each step), and a
// failed directory sync is reported although the new file is in place.
// SaveDir saves three files one after the other: each is atomic, the set
// is not. The power session is not saved.
package emulator
