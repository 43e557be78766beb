package card

import "errors"

// Errors about bytes that do not form a valid APDU or record. They are
// returned wrapped in a *FormatError.
var (
	// ErrMalformedAPDU means the bytes are not a valid command or response APDU.
	ErrMalformedAPDU = errors.New("card: malformed APDU")
	// ErrAPDUTooLong means a data field is longer than an APDU can carry.
	ErrAPDUTooLong = errors.New("card: APDU data field too long")
	// ErrBadLe means an expected response length is outside 0..65536.
	ErrBadLe = errors.New("card: Ne outside 0..65536")
	// ErrMalformedRecord means file or response bytes do not have the
	// layout GB 18240.2 gives them (length, flags, BCD dates, ...).
	ErrMalformedRecord = errors.New("card: malformed record")
)

// ErrChecksum means the XOR trailer of a card data block or long response
// is wrong (returned wrapped in a *FormatError, with the fiscal package's
// error as the cause).
var ErrChecksum = errors.New("card: XOR checksum mismatch")
