// Package fiscal holds the domain types of GB 18240 and the exact byte codecs
// of the records defined by GB 18240.2 (税控IC卡规范).
//
// Every record type documents its byte layout next to its declaration, and
// where the layout comes from. The normative text of GB 18240.2 is not public;
// the layouts are those on which the public implementations cited in the
// project's reference notes agree, and where they leave a detail open the
// type's comment states the project's decision.
//
// # Conventions
//
//   - Multi-byte integers are big-endian.
//   - Dates are 4-byte BCD CCYYMMDD (Date); 00000000 means "no date". Dates are
//     in China Standard Time, a fixed UTC+8 zone (Zone), so no tzdata is needed.
//   - Amounts are fen (Amount, signed 64-bit in Go); on the wire they are u32 and
//     the conversion is checked: a negative or too large amount is an error
//     wrapping ErrAmountRange, never a wrap-around.
//   - Per-item amounts come in six slots (TaxAmounts) that belong to the six tax
//     indexes (TaxIndexes) of the same record; index 0 marks an unused slot.
//   - Card data blocks end with an XOR byte over the preceding bytes (XOR,
//     AppendXOR, CheckXOR).
//   - Text is GB18030, NUL-padded to a fixed width (EncodeText, DecodeText); a
//     character is never cut in half, and text that cannot be encoded or does
//     not fit is an error unless TextOptions ask for replacement or truncation.
//
// # Records
//
//	DailyRecord          64 B  日交易数据, signed by DAILY_COLLECT_SIGN
//	Declaration          70 B  申报数据, sent with DECLARE_DUTY
//	DeclareDutyResponse 142 B  totals, status, MAC1, 128-byte signature, XOR
//	InvoiceDetail        27 B  发票明细 entry
//	IssueInvoiceBlock    44 B  ISSUE_INVOICE command data, XOR included
//	ControlData          23 B  fiscal card EF01: deadline, limits, indexes
//	Roll / SignedRoll 18/22 B  invoice code + number range (+ MAC)
//	TaxItem              47 B  user card EF03 tax item
//
// Each record has AppendBinary, MarshalBinary and UnmarshalBinary. Encoding
// validates every field and reports the first bad one as a *FieldError;
// decoding never panics, checks lengths (*LengthError), BCD, dates, types and
// XOR bytes, and leaves the receiver unchanged on error. All errors wrap the
// package's sentinel errors, so callers can use errors.Is.
//
// Card-only file layouts (fiscal EF02-EF05, user EF01/EF02/EF04-EF07, check
// card files) live in package card, which builds them from these types.
package fiscal
