// Package card is the ISO/IEC 7816-4 layer of GB 18240.2 and the command sets
// of the three cards the standard knows: the fiscal card (税控卡), the user card
// (用户卡) and the check card (稽查卡).
//
// # Layers
//
// From the bottom up:
//
//   - Transmitter: one method, Transmit(ctx, command) (response, error). The
//     in-process emulator (card/emulator), PC/SC readers (adapters/pcsc) and
//     the vpcd bridge implement it. It does no T=0 handling.
//   - Command, Response, SW: APDU encoding and decoding (ISO 7816-4 cases 1
//     to 4, short and extended lengths chosen automatically). ParseCommand
//     and ParseResponse never panic.
//   - Channel: runs a Command over a Transmitter and hides T=0. On 61xx (or
//     the PBOC form 9Fxx) it sends GET RESPONSE 00 C0 00 00 xx, again while
//     the card answers 61xx, and joins the data; on 6Cxx it re-sends the
//     command once with Le = xx. It serialises its callers, so a command
//     and its GET RESPONSE are never split by another goroutine.
//     A card driven "T=1 style", answering data with 9000, passes through.
//     ChannelOptions.Observer sees every raw exchange with its duration.
//     Channel also carries the ISO commands as typed calls: SelectName,
//     SelectFID, ReadBinary(SFI), UpdateBinary(SFI), ReadRecord,
//     UpdateRecord, AppendRecord, Verify, GetChallenge,
//     InternalAuthenticate, ExternalAuthenticate, GetResponse.
//   - FiscalCard, UserCard, CheckCard: one typed method per proprietary
//     command (CLA C0) and a typed reader per file, and a writer for the
//     user- and check-card files (the fiscal card's files change only
//     through its own commands, so they have readers only). A client selects its application once (Open… or
//     Select) and never again: an invoice is VERIFY_FISCAL_PIN then
//     ISSUE_INVOICE, four exchanges under T=0 (two with GET RESPONSE), two
//     T=1 style.
//
// Inputs are validated before anything is sent: a bad field is an
// *ArgumentError (ErrBadArgument, plus the fiscal package's error where it
// has one) and costs no exchange. Responses are checked for length and, for
// DECLARE_DUTY and DAILY_COLLECT_SIGN, for their XOR trailer (a
// *FormatError wrapping ErrChecksum).
//
// # Status words as errors
//
// A status word other than 9000 becomes a *StatusError holding the raw SW,
// the CLA/INS and the command name. It unwraps to a sentinel chosen for the
// command that was refused, because GB 18240.2 reuses codes (CheckStatus has
// the full table):
//
//	9401  ISSUE_INVOICE: ErrAmountOverLimit; DISTRIBUTE_INVOICE_NB: ErrNoInvoiceToDistribute
//	6901  GET_REGISTER_NB, TERMINAL_REGISTER: ErrAlreadyRegistered;
//	      fiscal operations: ErrNotRegistered; DATA_COLLECT: ErrAlreadyCollected
//	      (each also matches ErrStatusInvalid)
//	6981  VERIFY, VERIFY_FISCAL_PIN, INTERNAL/EXTERNAL AUTHENTICATE: ErrKeyType;
//	      file commands: ErrFileType
//	6985  INPUT_INVOICE_NB: ErrInvoiceStorageFull; UPDATE_CONTROLS: ErrStaleControls
//	      (each also ErrConditionsNotSatisfied)
//	6A80  REGISTER_SIGN: ErrWrongFiscalCardNo (also ErrIncorrectData)
//	63Cx  *PINError{Retries: x}, ErrWrongPIN (x = 0 also ErrPINBlocked)
//	6983  on a PIN verification *PINError{Blocked: true}; always ErrPINBlocked
//
// and one sentinel per remaining code: 6581 ErrMemory, 6700 ErrWrongLength,
// 6982 ErrSecurityStatus, 6985 ErrConditionsNotSatisfied, 6986
// ErrNoCurrentEF, 6988 ErrSecureMessaging, 6A80 ErrIncorrectData, 6A81
// ErrFuncNotSupported, 6A82 ErrFileNotFound, 6A83 ErrRecordNotFound, 6A84
// ErrNotEnoughSpace, 6A86 ErrWrongP1P2, 6A88 ErrRefDataNotFound, 6B00
// ErrOffsetOutOfRange, 6D00 ErrInsNotSupported, 6E00 ErrClaNotSupported,
// 6F00 ErrNoDiagnosis, 9302 ErrMACInvalid, 9303 ErrAppLocked, 9403
// ErrKeyVersion; anything else ErrUnexpectedStatus. Transport failures are
// a *TransportError wrapping the Transmitter's error.
//
// Under T=0 a command can be accepted (61xx) and its GET RESPONSE then
// fail. The *StatusError then has GetResponse set: it names the original
// command, holds the GET RESPONSE's SW and unwraps to that SW's meaning for
// GET RESPONSE (the card did execute the command; only its answer is lost).
// A transport failure there is a *TransportError for "GET RESPONSE" whose
// For field names the original command.
//
// # Decisions where the reference is open
//
// The emulator follows these; the conformance suite (card/cardtest) checks
// them.
//
//   - Command data and response layouts are those of reference §2.2 and
//     §2.3 with the fiscal package's record codecs. Every proprietary
//     command that returns data is sent with its Le (case 4 or case 2).
//   - XOR trailers end the data of ISSUE_INVOICE, DECLARE_DUTY,
//     DAILY_COLLECT_SIGN and DATA_COLLECT and the responses of DECLARE_DUTY
//     and DAILY_COLLECT_SIGN. A wrong XOR from the host is answered 6A80.
//   - VERIFY on the user and check cards uses P2 = 00 (UserPINRef,
//     CheckPINRef); all PINs are 8 bytes; the fiscal PIN rolls on every
//     VERIFY_FISCAL_PIN.
//   - Files are read by SFI (READ BINARY P1 = 80|SFI, READ RECORD P2 =
//     SFI<<3|4), SFI being the low byte of the FID (EF03 is SFI 3), so a
//     file read costs one command and no SELECT.
//   - File layouts the reference leaves open are fixed in the types' docs:
//     AppInfo (fiscal EF02, 103 B; flag 01 = unregistered, 00 =
//     registered), DayAccumulation (EF03, 76 B: daily record ‖ previous
//     invoice number ‖ previous 税控码), LastDeclaration (EF04, 75 B),
//     LoadedRoll (EF05, 19 B); ControlRecord (user EF01, 37 B, 24-byte
//     ciphertext), UserInfo (EF02, 85 B), fiscal.TaxItem (EF03),
//     DeclarationRecord (EF04, 220 B: flag ‖ DATA_COLLECT without XOR),
//     PurchaseRecord (EF05, 20 B), MachineRecord (EF06, 18 B), PendingRoll
//     (EF07, 22 B, all zero = none); CheckInfo (check EF01, 10 B; byte 9 is
//     the key id), CheckAuth (EF02, 17 B), InspectionRecord (EF03, 233 B,
//     with a count byte before invoice details and declarations).
//   - PIN unblock (税控卡解锁, FiscalCard.UnblockPIN) is 84 24 01 01 0C new
//     PIN[8] ‖ MAC[4] with Le 08 (the reference's inference from [PB]); the
//     card answers with the PIN now in force, which the caller stores like
//     the answer of VERIFY_FISCAL_PIN. The MAC is the tax office's.
//   - DAILY_COLLECT_SIGN is answered 6A80 when the record differs from the
//     fiscal card's own accumulation of that day, and UPDATE_CONTROLS 6985
//     (ErrStaleControls) for a control record older than the one in force;
//     the emulator's doc gives the exact rules.
//   - Check-card authentication (CheckCard.AuthenticateFiscal) uses the key
//     id of check-card EF01 on both sides: GET CHALLENGE on the check card,
//     INTERNAL AUTHENTICATE on the fiscal card, EXTERNAL AUTHENTICATE on the
//     check card.
//   - The card cryptography (MACs, 税控码, signatures) happens inside the
//     cards; this package never computes it.
package card
