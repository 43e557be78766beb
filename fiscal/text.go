package fiscal

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Widths of the fixed text fields of GB 18240.2.
const (
	TaxpayerNameLen = 40 // 纳税人名称 (fiscal EF02, user EF02), payer/payee names
	ItemNameLen     = 20 // tax item Chinese and English names (user EF03), goods line names
)

// TextOptions control EncodeText. The zero value is strict: text that does not
// fit, or cannot be encoded, is an error.
type TextOptions struct {
	// Truncate cuts text that does not fit at the last whole character that
	// fits, instead of failing with ErrTextTooLong.
	Truncate bool
	// Replace encodes characters GB18030 cannot represent (invalid UTF-8) as
	// '?', instead of failing with ErrUnencodable.
	Replace bool
}

// TextError reports the character at which text encoding failed. It unwraps
// to ErrTextTooLong or ErrUnencodable.
type TextError struct {
	Offset int // byte offset in the Go string
	Err    error
}

func (e *TextError) Error() string {
	return fmt.Sprintf("fiscal: text at byte %d: %v", e.Offset, e.Err)
}

func (e *TextError) Unwrap() error { return e.Err }

// EncodeText encodes s as GB18030 into a field of exactly width bytes, padded
// with 0x00. A multi-byte character is never split: with opt.Truncate the
// field ends before the first character that does not fit whole.
//
// Padding with NUL is the project's decision (the reference gives no padding
// byte); DecodeText strips trailing NULs and spaces, so fields padded either
// way by other implementations read back the same.
func EncodeText(s string, width int, opt TextOptions) ([]byte, error) {
	out := make([]byte, 0, width)
	enc := simplifiedchinese.GB18030.NewEncoder()
	var src, dst [8]byte
	for off, r := range s {
		var chunk []byte
		switch {
		case r < utf8.RuneSelf:
			src[0] = byte(r)
			chunk = src[:1]
		case r == utf8.RuneError && !validRuneAt(s, off):
			if !opt.Replace {
				return nil, &TextError{Offset: off, Err: ErrUnencodable}
			}
			src[0] = '?'
			chunk = src[:1]
		default:
			// One character at a time through the stateless GB18030 encoder,
			// into a reused buffer: no allocation per character.
			n := utf8.EncodeRune(src[:], r)
			enc.Reset()
			nDst, _, err := enc.Transform(dst[:], src[:n], true)
			if err != nil {
				if !opt.Replace {
					return nil, &TextError{Offset: off, Err: ErrUnencodable}
				}
				dst[0], nDst = '?', 1
			}
			chunk = dst[:nDst]
		}
		if len(out)+len(chunk) > width {
			if !opt.Truncate {
				return nil, &TextError{Offset: off, Err: ErrTextTooLong}
			}
			break
		}
		out = append(out, chunk...)
	}
	return append(out, make([]byte, width-len(out))...), nil
}

// validRuneAt reports whether the RuneError at s[off] is a real U+FFFD rather
// than the mark of invalid UTF-8.
func validRuneAt(s string, off int) bool {
	_, size := utf8.DecodeRuneInString(s[off:])
	return size == 3
}

// DecodeText decodes a fixed-width GB18030 field, dropping trailing 0x00 and
// space padding. Bytes that are not valid GB18030 give ErrBadText.
func DecodeText(field []byte) (string, error) {
	field = bytes.TrimRight(field, "\x00 ")
	if len(field) == 0 {
		return "", nil
	}
	s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(field)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadText, err)
	}
	// The decoder replaces invalid sequences with U+FFFD; a faithful field
	// re-encodes to exactly its own bytes.
	back, err := simplifiedchinese.GB18030.NewEncoder().Bytes(s)
	if err != nil || !bytes.Equal(back, field) {
		return "", fmt.Errorf("%w: % X", ErrBadText, field)
	}
	return string(s), nil
}

// GB18030 encodes s as GB18030 with no width limit (for printer output). It
// fails with a *TextError wrapping ErrUnencodable on invalid UTF-8.
func GB18030(s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		for off := range s {
			if !validRuneOrReal(s, off) {
				return nil, &TextError{Offset: off, Err: ErrUnencodable}
			}
		}
	}
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, &TextError{Err: fmt.Errorf("%w: %v", ErrUnencodable, err)}
	}
	return b, nil
}

func validRuneOrReal(s string, off int) bool {
	r, _ := utf8.DecodeRuneInString(s[off:])
	return r != utf8.RuneError || validRuneAt(s, off)
}
