// Package link is the host link of a GB 18240 fiscal cash register: the
// framing of reference §5 (the 税控器 serial protocol), typed requests and
// replies for the command set of §5.2 with the error codes of §5.3, a Server
// that serves any Handler (DeviceHandler serves a register.Device), and a
// Client that issues invoices exactly once over an unreliable line.
//
// Framing (frame.go) is separate from I/O (transport.go): AppendRequest,
// AppendResponse, ParseRequest and ParseResponse work on bytes; Client and
// Server run on any DeadlineReadWriter (net.Conn, adapters/serial.Port, a
// pty, linktest.Pipe; WithDeadline adds deadlines to any io.ReadWriter).
//
// # Frames, byte by byte
//
// Request (host to register):
//
//	off  len  field
//	  0    1  0x1B
//	  1    1  type 0x10 (command frame; the 2-byte-length types 0x20/0x30/0x40 are not implemented)
//	  2    1  command code (Command)
//	  3    1  packet number (see multi-packet transfers)
//	  4    1  len = 5 + n: the whole packet without the CRC
//	  5    n  data, n ≤ 250 (MaxPacketData)
//	5+n    2  CRC-16/BUYPASS of bytes 0 .. 4+n, high byte first
//
// Reply (register to host), with the same rule for len and the CRC:
//
//	off  len  field
//	  0    2  'O' 'K' | 'E' 'R' | 'W' 'T' | 'N' 'P'
//	  2    1  packet number
//	  3    1  len = 4 + n: the whole packet without the CRC
//	  4    n  data, n ≤ 250
//	4+n    2  CRC-16/BUYPASS of bytes 0 .. 3+n, high byte first
//
// CRC-16/BUYPASS is polynomial 0x8005, initial value 0, no reflection, no
// final XOR; its check value for "123456789" is 0xFEE8. Example: the
// request "current invoice number" is 1B 10 33 00 05 47 2C; the empty OK
// reply is 4F 4B 00 04 C9 9A; WT is 57 54 00 04 28 10.
//
// OK carries the reply data. ER carries the error code in data[0] (for
// issuing commands followed by the 8-byte request id). WT (no data) means
// "busy, keep waiting": the server sends it every ServerOptions.BusyInterval
// while a command runs, and each WT restarts the client's reply timeout. NP
// asks for the next packet of a multi-packet request; its packet number is
// the number of the packet wanted.
//
// A reader of line bytes resynchronises: bytes that cannot start a frame are
// skipped; a candidate frame with an impossible length or a wrong CRC is
// given up one byte at a time, so that a real frame inside it is still
// found; a candidate that stalls longer than the inter-byte timeout is given
// up the same way. The server answers a frame with a wrong CRC with ER 0x1F
// (unless ServerOptions.QuietOnBadFrame), an unknown command with ER 0x20,
// data that does not decode with ER 0x84.
//
// # Multi-packet transfers
//
// Data longer than 250 bytes travels in packets of at most 250 bytes,
// numbered 1, 2, … while more follow and 0 for the last (so a single packet
// is number 0). A request: the host sends packet 1; the register answers NP
// with number 2; the host sends packet 2 (or 0 if it is the last), and so
// on; after the last packet the register executes the command and replies.
// A reply: the register sends packet 1 with OK; the host asks for packet k
// by sending the same command with packet number k and no data; the
// register answers with packet k (or 0 for the last). A 10-line invoice is a
// 341-byte request, two packets. One transfer carries at most 255 packets
// (MaxTransfer bytes); list replies longer than that are paged (see below).
//
// # Command data
//
// Integers are big-endian, amounts are u32 fen, dates BCD CCYYMMDD and times
// BCD CCYYMMDDhhmmss in China Standard Time (UTC+8), text fields GB18030
// padded with NUL. The layout of every request and reply struct is given on
// the struct (Invoice, IssueRequest, StatusInfo, …). List replies (3C, 3E,
// 3F, 42, 43, 44, 70) are: more u8 ‖ count u16 ‖ records; more=1 means ask again
// (from the next number, or with Skip advanced); Client does so by itself,
// and discards a reply whose records lie outside the requested range (a
// stale reply, for example a duplicate).
//
// The reference fixes the frame and the command codes; the data layouts are
// this package's, kept close to the GB 18240.2 records (the 27-byte invoice
// detail, the 64-byte daily record, the 70-byte declaration) and to the
// issue-invoice parameters of [TT] (分户编号, payer[40], up to 10 items of
// name[20], quantity, tax index, unit price).
//
// # Exactly once
//
// Requests of the issuing commands (34 normal, 35 return, 36 void) start
// with an 8-byte request id chosen by the client (non-zero; the same for
// every re-send of one request); replies echo it inside each invoice record,
// and ER replies to them are code ‖ request id. The server remembers the
// reply of the last ServerOptions.Remember request ids and answers a repeated
// id from memory without executing it again; a repeated final packet of a
// multi-packet request is answered again, never executed as a fragment.
//
// The client never sends an issuing request blindly again. After a timeout
// or a reply that is broken or not for this request id, it reconciles. It
// first asks by id: 70 (CmdInvoicesByRequest, this package's command; the
// reference leaves 65-FF unassigned) carries request id u64 ‖ skip u32 and
// is answered with a list reply (see Command data) of the invoice records
// stored for that id, none if nothing was issued for it. Example: the
// request for id 0123456789ABCDEF is 1B 10 70 00 11 01 23 45 67 89 AB CD
// EF 00 00 00 00 7D 55. Records: Done with them; none: NotDone (then the
// request is sent again, with the same id, up to ClientOptions.IssueAttempts
// times; a NotDone returned to the caller always carries the register's
// refusal as a *DeviceError). Unknown when the register stays unreachable
// (ErrOutcomeUnknown): calling again with the same RequestID is safe.
//
// DeviceHandler serves 70 (RequestHandler): the register stores each
// request id with its invoices in fiscal memory (register.InvoiceRequest
// RequestID, a fiscal-memory record of its own), answers a repeated id
// with the stored invoices instead of issuing again, and puts the stored
// ids into every invoice record it uploads. So a server or register
// restarted between a request and its retry answers exactly: by id, never
// by content, never twice. A lookup waits for the recovery of an
// interrupted invoice (fiscal card needed), so an invoice the card coded
// just before a power cut is found too.
//
// A register that does not store request ids answers 70 with
// CodeUnknownCommand; the client remembers that and reconciles by number
// and content from then on: it asks for the current invoice number (33)
// and, if anything was issued from the number this request could have
// got, the invoice records (3F), looking for its request id (the server
// fills in the ids of the invoices it issued since it started). After a
// server restart the records come back without ids, and the client falls
// back to the invoice's content, in the tightest window the protocol
// gives:
//
//   - numbers: only invoices numbered from IssueResult.From on, the number
//     the client saw as next before it first sent the request (from its
//     last Done reply or a 33 just before sending); all of them are read
//     (at most 512 numbers, else Unknown), none is skipped;
//   - time: only invoices dated at or after IssueResult.NotBefore, the
//     register time at the first send as the client estimates it: host time
//     plus the offset learned from the newest invoice this client got
//     issued (the clock that dates invoices), minus
//     ClientOptions.ClockMargin. The offset is a lower bound (an invoice's
//     time is older than the reply's arrival), so the bound holds as long
//     as the register's clock is not set back by more than the margin
//     between that invoice and the send; a 3B or a clock inspection through
//     this Client forgets the offset (no time bound until its next
//     invoice);
//   - content: no request id, the request's type and total (a return: its
//     original number; voids: type only).
//
// None in the window: NotDone. Exactly as many as the request makes (one;
// Count for voids): Done with them. Any other number is Unknown with an
// *AmbiguousError listing the candidates, never a guess. What stays
// ambiguous, with such a register only: another host issuing invoices of
// the same type and total after this client learned From and no earlier
// than NotBefore, while the reply was lost and the server restarted; and voids, which carry no
// content but their type. The register clock set back by more than the
// margin without this client knowing could exclude the request's own
// invoice (then NotDone and a second invoice): do not set the clock while a
// request is Unknown. A request whose outcome was Unknown is reconciled
// before it is sent again when the same Client is called with the same
// RequestID. Invoice numbers are assumed unique across rolls.
//
// # Service commands
//
// Handlers may also implement InspectHandler (45 核查数据写卡: the
// register's inspection with the check card in its slot), CardHandler (59
// / 5A / 5B: IC card power on, power off, raw APDU) and SelfTestHandler
// (self-tests; of the range 5C-61 this package assigns 5C fiscal memory
// verify, 5D fiscal card answers SELECT, 5E user card answers SELECT, 5F
// clock not before the newest fiscal record; 60 and 61 are not assigned).
// The Server answers CodeUnknownCommand for a command whose interface the
// handler lacks. Layouts are on InspectRequest, InspectResult and
// SelfTestResult; 59 and 5A carry slot u8 (1 fiscal, 2 user) and 59 replies
// with the ATR; 5B carries slot u8 ‖ command APDU and replies with the
// response APDU, status word included, as the card sent it (61xx included:
// the harness sends GET RESPONSE itself).
//
// The card commands let a lab harness look at the cards through the
// register without a way around the fiscal rules: DeviceHandler serves them
// only with DeviceOptions.ServiceMode, and both the Server and
// DeviceHandler forward only the read-only ISO commands of AllowedAPDU
// (CLA 00: SELECT, READ BINARY, READ RECORD, GET CHALLENGE, GET RESPONSE).
// Everything else (CLA C0 proprietary commands such as ISSUE_INVOICE or
// VERIFY_FISCAL_PIN, CLA 84 PIN unblock, writes, VERIFY, authentications)
// is refused with CodeCardCommandRefused (0xA0, this package's code) and
// never reaches the card; so is a GET RESPONSE that does not directly follow
// a pass-through command answered 61xx on the same slot (it could fetch
// what the card holds for the register's own commands, such as the next
// fiscal PIN). The pass-through assumes the link is the register's only
// user while a harness drives it. After a SELECT or a power-on of the fiscal card
// DeviceHandler selects the fiscal application again, so the engine finds
// the card as it left it; read fiscal-card files by SFI. 46 (数据签名) and
// 63 (change date/time) are not served: the engine has no data-signing
// operation, and its only clock change is the check-card inspection (45
// with a type-3 check card and InspectRequest.SetTime).
//
// # Fault injection
//
// FaultyLink wraps a line and drops, duplicates, delays, corrupts and cuts
// what passes in either direction, from a seeded math/rand/v2 source
// (ParseFaults reads "drop=0.1,dup=0.1,corrupt=0.05"). The tests drive
// thousands of issuing commands through it and check that nothing is issued
// twice or lost and that every Done matches the register's records.
package link
