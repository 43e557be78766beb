package vpcd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Control codes: the only 1-byte payloads vpcd sends. A 1-byte payload is
// never an APDU, since the shortest command APDU has four bytes.
const (
	// CtrlPowerOff asks the card to power down. No answer is sent.
	CtrlPowerOff byte = 0x00
	// CtrlPowerOn asks the card to power up (a cold reset). No answer is sent.
	CtrlPowerOn byte = 0x01
	// CtrlReset asks for a warm reset. No answer is sent.
	CtrlReset byte = 0x02
	// CtrlGetATR asks for the Answer To Reset; the answer is the ATR bytes.
	CtrlGetATR byte = 0x04
)

// MaxPayload is the longest payload the 2-byte length prefix can describe.
const MaxPayload = 0xFFFF

// Protocol errors. They come wrapped in a *ProtocolError.
var (
	// ErrEmptyMessage means a length prefix of zero: vpcd never sends an
	// empty payload, so the stream is out of step.
	ErrEmptyMessage = errors.New("vpcd: empty message")
	// ErrTruncated means the stream ended inside a length prefix or payload.
	ErrTruncated = errors.New("vpcd: truncated message")
	// ErrPayloadTooLong means a payload to send does not fit the 2-byte
	// length prefix (more than MaxPayload bytes).
	ErrPayloadTooLong = errors.New("vpcd: payload longer than 65535 bytes")
	// ErrUnknownControl means a 1-byte payload that is none of the four
	// control codes.
	ErrUnknownControl = errors.New("vpcd: unknown control code")
	// ErrShortResponse means the served card answered an APDU with fewer
	// than the two status bytes.
	ErrShortResponse = errors.New("vpcd: card response shorter than SW1 SW2")
)

// ProtocolError reports a message that breaks the vpcd framing. It unwraps
// to one of the sentinels above (and, for a truncated stream, to
// io.ErrUnexpectedEOF as well).
type ProtocolError struct {
	// Op is "read" or "write".
	Op string
	// Length is the length prefix involved, or -1 when it was not read.
	Length int
	// Code is the offending control code for ErrUnknownControl.
	Code byte
	// Err is the sentinel.
	Err error
	// Cause is the underlying I/O error, if any.
	Cause error
}

func (e *ProtocolError) Error() string {
	s := "vpcd: " + e.Op + ": " + trimPrefix(e.Err.Error())
	switch {
	case errors.Is(e.Err, ErrUnknownControl):
		s += fmt.Sprintf(" 0x%02X", e.Code)
	case e.Length >= 0:
		s += fmt.Sprintf(" (length %d)", e.Length)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the I/O cause.
func (e *ProtocolError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func trimPrefix(s string) string {
	const p = "vpcd: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// ReadMessage reads one message (2-byte big-endian length, then that many
// payload bytes) from r. It reuses buf when the payload fits.
//
// A stream that ends cleanly before a message returns io.EOF. A stream
// that ends inside a message returns a *ProtocolError wrapping
// ErrTruncated; a zero length one wrapping ErrEmptyMessage. Any other read
// error is returned as it is.
func ReadMessage(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [2]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF && n == 0 {
			return nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return nil, &ProtocolError{Op: "read", Length: -1, Err: ErrTruncated, Cause: err}
		}
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 {
		return nil, &ProtocolError{Op: "read", Length: 0, Err: ErrEmptyMessage}
	}
	if cap(buf) >= n {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, &ProtocolError{Op: "read", Length: n, Err: ErrTruncated, Cause: io.ErrUnexpectedEOF}
		}
		return nil, err
	}
	return buf, nil
}

// AppendMessage appends the framing of payload (length prefix and bytes)
// to b. It fails with a *ProtocolError wrapping ErrEmptyMessage or
// ErrPayloadTooLong when payload cannot be framed, leaving b as it was.
func AppendMessage(b, payload []byte) ([]byte, error) {
	switch {
	case len(payload) == 0:
		return b, &ProtocolError{Op: "write", Length: 0, Err: ErrEmptyMessage}
	case len(payload) > MaxPayload:
		return b, &ProtocolError{Op: "write", Length: len(payload), Err: ErrPayloadTooLong}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...), nil
}
