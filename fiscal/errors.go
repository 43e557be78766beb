package fiscal

import (
	"errors"
	"fmt"
)

// ErrLength is returned when an encoded record is not exactly the length its
// layout fixes.
var ErrLength = errors.New("fiscal: wrong encoded length")

// ErrBCD is returned when a BCD field holds a nibble above 9.
var ErrBCD = errors.New("fiscal: invalid BCD digit")

// ErrDate is returned for a date that does not exist in the calendar
// (month 13, 30 February, year 0 and the like).
var ErrDate = errors.New("fiscal: invalid date")

// ErrAmountRange is returned when an amount is negative or does not fit the
// unsigned 32-bit field the cards use.
var ErrAmountRange = errors.New("fiscal: amount out of range")

// ErrCountRange is returned when a counter does not fit its wire field.
var ErrCountRange = errors.New("fiscal: count out of range")

// ErrChecksum is returned when a data block's trailing XOR byte does not match
// the XOR of the bytes before it.
var ErrChecksum = errors.New("fiscal: XOR checksum mismatch")

// ErrInvoiceType is returned for an invoice type other than 01, 02 or 03.
var ErrInvoiceType = errors.New("fiscal: invalid invoice type")

// ErrTextTooLong is returned when text does not fit its fixed-width field and
// truncation was not asked for.
var ErrTextTooLong = errors.New("fiscal: text does not fit its field")

// ErrUnencodable is returned when text holds a character GB18030 cannot
// encode (lone surrogates, invalid UTF-8) and replacement was not asked for.
var ErrUnencodable = errors.New("fiscal: text cannot be encoded in GB18030")

// ErrBadText is returned when a field's bytes are not valid GB18030.
var ErrBadText = errors.New("fiscal: invalid GB18030 text")

// ErrDigits is returned when a field meant to hold decimal digits holds
// something else, or the wrong number of them.
var ErrDigits = errors.New("fiscal: invalid digit string")

// ErrRoll is returned for an invoice roll whose numbers are not a range
// (start 0, or end before start).
var ErrRoll = errors.New("fiscal: invalid invoice roll range")

// FieldError names the record and field that failed to encode or decode. It
// unwraps to one of the package's sentinel errors.
type FieldError struct {
	Record string // e.g. "DailyRecord"
	Field  string // e.g. "Date"
	Err    error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("fiscal: %s.%s: %v", e.Record, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(record, field string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe.Record == "" {
		fe.Record = record
		return fe
	}
	return &FieldError{Record: record, Field: field, Err: err}
}

// LengthError reports an encoded record of the wrong size. It unwraps to
// ErrLength.
type LengthError struct {
	Record    string
	Want, Got int
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("fiscal: %s: encoded length %d, want %d", e.Record, e.Got, e.Want)
}

func (e *LengthError) Unwrap() error { return ErrLength }
