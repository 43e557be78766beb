package card

import (
	"encoding/binary"
	"fmt"
)

// Command is a command APDU (ISO/IEC 7816-4 §5.1).
//
// Lc is implied by len(Data) and Le by Ne. Bytes picks the short encoding
// whenever it fits (Lc ≤ 255 and Ne ≤ 256) and the extended one otherwise.
type Command struct {
	CLA, INS, P1, P2 byte
	// Data is the command data field; nil or empty means no Lc and no data.
	Data []byte
	// Ne is the maximum number of response data bytes expected: 0 means no
	// Le field, 1..256 fits a short Le (256 is sent as 00), 257..65536 needs
	// an extended Le (65536 is sent as 00 00).
	Ne int
}

// Limits of the APDU encodings.
const (
	maxShortLc = 255
	maxShortNe = 256
	maxExtLc   = 65535
	maxExtNe   = 65536
)

// Bytes encodes c as one of the four ISO 7816-4 cases:
//
//	case 1   CLA INS P1 P2
//	case 2S  CLA INS P1 P2 Le
//	case 3S  CLA INS P1 P2 Lc data
//	case 4S  CLA INS P1 P2 Lc data Le
//	case 2E  CLA INS P1 P2 00 Le1 Le2
//	case 3E  CLA INS P1 P2 00 Lc1 Lc2 data
//	case 4E  CLA INS P1 P2 00 Lc1 Lc2 data Le1 Le2
//
// It fails with a *FormatError (wrapping ErrAPDUTooLong or ErrBadLe) when
// the data field or Ne cannot be encoded.
func (c Command) Bytes() ([]byte, error) {
	return c.AppendBytes(nil)
}

// AppendBytes appends the encoding of c (see Bytes) to b.
func (c Command) AppendBytes(b []byte) ([]byte, error) {
	nc := len(c.Data)
	if nc > maxExtLc {
		return b, &FormatError{Reason: fmt.Sprintf("data field of %d bytes exceeds %d", nc, maxExtLc), Err: ErrAPDUTooLong}
	}
	if c.Ne < 0 || c.Ne > maxExtNe {
		return b, &FormatError{Reason: fmt.Sprintf("Ne %d outside 0..%d", c.Ne, maxExtNe), Err: ErrBadLe}
	}
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	extended := nc > maxShortLc || c.Ne > maxShortNe
	if !extended {
		if nc > 0 {
			b = append(b, byte(nc))
			b = append(b, c.Data...)
		}
		if c.Ne > 0 {
			b = append(b, byte(c.Ne)) // 256 -> 0x00
		}
		return b, nil
	}
	b = append(b, 0x00)
	if nc > 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(nc))
		b = append(b, c.Data...)
	}
	if c.Ne > 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(c.Ne)) // 65536 -> 0x0000
	}
	return b, nil
}

// String shows the command header and lengths, e.g. "C0 F2 00 00 Lc=44 Ne=8".
func (c Command) String() string {
	s := fmt.Sprintf("%02X %02X %02X %02X", c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		s += fmt.Sprintf(" Lc=%d", len(c.Data))
	}
	if c.Ne > 0 {
		s += fmt.Sprintf(" Ne=%d", c.Ne)
	}
	return s
}

// ParseCommand decodes a command APDU in any of the seven encodings listed
// under Command.Bytes. The returned Data aliases b.
//
// It never panics; malformed input gives a *FormatError wrapping
// ErrMalformedAPDU.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, &FormatError{Reason: fmt.Sprintf("command APDU of %d bytes, need at least 4", len(b)), Err: ErrMalformedAPDU}
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2S
		c.Ne = shortNe(body[0])
		return c, nil
	case body[0] != 0: // case 3S or 4S
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.Data = body[1 : 1+lc]
			return c, nil
		case 1 + lc + 1:
			c.Data = body[1 : 1+lc]
			c.Ne = shortNe(body[1+lc])
			return c, nil
		}
		return Command{}, &FormatError{Offset: 4, Reason: fmt.Sprintf("Lc=%d does not match %d bytes after the header", lc, len(body)), Err: ErrMalformedAPDU}
	case len(body) == 3: // case 2E
		c.Ne = extNe(body[1:3])
		return c, nil
	case len(body) < 3:
		return Command{}, &FormatError{Offset: 4, Reason: "truncated extended length", Err: ErrMalformedAPDU}
	}
	lc := int(binary.BigEndian.Uint16(body[1:3]))
	if lc == 0 {
		return Command{}, &FormatError{Offset: 5, Reason: "extended Lc of zero", Err: ErrMalformedAPDU}
	}
	switch len(body) {
	case 3 + lc: // case 3E
		c.Data = body[3 : 3+lc]
		return c, nil
	case 3 + lc + 2: // case 4E
		c.Data = body[3 : 3+lc]
		c.Ne = extNe(body[3+lc:])
		return c, nil
	}
	return Command{}, &FormatError{Offset: 5, Reason: fmt.Sprintf("extended Lc=%d does not match %d bytes after the header", lc, len(body)), Err: ErrMalformedAPDU}
}

func shortNe(b byte) int {
	if b == 0 {
		return maxShortNe
	}
	return int(b)
}

func extNe(b []byte) int {
	n := int(binary.BigEndian.Uint16(b))
	if n == 0 {
		return maxExtNe
	}
	return n
}

// Response is a response APDU: the data field and the status word.
type Response struct {
	Data []byte
	SW   SW
}

// ParseResponse splits a response APDU into data and SW1 SW2. The returned
// Data aliases b. It fails with a *FormatError wrapping ErrMalformedAPDU
// when b is shorter than two bytes.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, &FormatError{Reason: fmt.Sprintf("response APDU of %d bytes, need at least 2 (SW1 SW2)", len(b)), Err: ErrMalformedAPDU}
	}
	n := len(b) - 2
	r := Response{SW: SW(binary.BigEndian.Uint16(b[n:]))}
	if n > 0 {
		r.Data = b[:n:n]
	}
	return r, nil
}

// Bytes encodes r as data ‖ SW1 ‖ SW2.
func (r Response) Bytes() []byte {
	b := make([]byte, 0, len(r.Data)+2)
	b = append(b, r.Data...)
	return binary.BigEndian.AppendUint16(b, uint16(r.SW))
}

// FormatError reports bytes that do not form a valid APDU, file or record
// (or a value that cannot be encoded as one). It unwraps to a sentinel such
// as ErrMalformedAPDU, ErrAPDUTooLong, ErrBadLe or ErrMalformedRecord.
type FormatError struct {
	// What names the thing being decoded or encoded ("fiscal EF02", ...);
	// empty for APDUs.
	What string
	// Offset is the byte offset the problem was found at, when known.
	Offset int
	// Reason says what is wrong.
	Reason string
	// Err is the sentinel the error unwraps to.
	Err error
	// Cause is the underlying error, if any (a fiscal package error for a
	// bad date, BCD digit or text field).
	Cause error
}

func (e *FormatError) Error() string {
	s := "card: "
	if e.What != "" {
		s += e.What + ": "
	}
	s += e.Reason
	if e.Offset > 0 {
		s += fmt.Sprintf(" (at offset %d)", e.Offset)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and, if set, the cause.
func (e *FormatError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}
