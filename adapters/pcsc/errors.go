//go:build pcsc

package pcsc

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"
)

// Sentinel errors. PC/SC failures come as an *Error that unwraps to one
// of these (when one fits) and to the raw scard.Error code.
var (
	// ErrNoService means the PC/SC service (pcscd) is not running or went
	// away (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED).
	ErrNoService = errors.New("pcsc: PC/SC service not available")
	// ErrNoReaders means no reader is connected (SCARD_E_NO_READERS_AVAILABLE).
	ErrNoReaders = errors.New("pcsc: no readers available")
	// ErrReaderUnavailable means the named reader is unknown or was
	// unplugged (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE).
	ErrReaderUnavailable = errors.New("pcsc: reader unavailable")
	// ErrNoCard means there is no card in the reader (SCARD_E_NO_SMARTCARD).
	ErrNoCard = errors.New("pcsc: no card in reader")
	// ErrCardRemoved means the card was taken out while connected
	// (SCARD_W_REMOVED_CARD). The Card is unusable; connect again after a
	// card is inserted.
	ErrCardRemoved = errors.New("pcsc: card removed")
	// ErrCardReset means the card was reset by another process
	// (SCARD_W_RESET_CARD). The Card has reconnected its handle, but the
	// card lost its session state (selected application, verified PINs):
	// start the operation again from its first command.
	ErrCardReset = errors.New("pcsc: card was reset")
	// ErrSharingViolation means another process holds the card exclusively
	// (SCARD_E_SHARING_VIOLATION).
	ErrSharingViolation = errors.New("pcsc: card in use by another process")
	// ErrUnresponsiveCard means the card does not answer its reset or is
	// mute (SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD,
	// SCARD_E_INVALID_ATR).
	ErrUnresponsiveCard = errors.New("pcsc: card not responding")
	// ErrProtocolMismatch means the card does not speak the requested
	// protocol (SCARD_E_PROTO_MISMATCH).
	ErrProtocolMismatch = errors.New("pcsc: protocol mismatch")
	// ErrCommunication means the exchange with the reader or card broke
	// down (SCARD_F_COMM_ERROR, SCARD_E_COMM_DATA_LOST, SCARD_E_NOT_TRANSACTED).
	ErrCommunication = errors.New("pcsc: communication error")
	// ErrTimeout means a PC/SC wait ran out of time (SCARD_E_TIMEOUT).
	ErrTimeout = errors.New("pcsc: timeout")
	// ErrClosed means the Card or Client was used after Close.
	ErrClosed = errors.New("pcsc: closed")
)

// Error is a failed PC/SC call. It unwraps to the sentinel that fits (if
// any) and to Code, so errors.Is works with both pcsc.ErrCardRemoved and
// scard.ErrRemovedCard.
type Error struct {
	// Op is the PC/SC operation: "connect", "transmit", ...
	Op string
	// Reader is the reader name, when one is involved.
	Reader string
	// Code is the raw PC/SC return code (SCARD_E_*, SCARD_W_*, SCARD_F_*).
	Code scard.Error
	// Err is the sentinel (nil when none fits the code).
	Err error
}

func (e *Error) Error() string {
	s := "pcsc: " + e.Op
	if e.Reader != "" {
		s += fmt.Sprintf(" %q", e.Reader)
	}
	return s + fmt.Sprintf(": %s (0x%08X)", trimScard(e.Code.Error()), uint32(e.Code))
}

// Unwrap returns the sentinel and the raw code.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Err, e.Code}
	}
	return []error{e.Code}
}

func trimScard(s string) string {
	const p = "scard: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// sentinelOf maps a PC/SC return code to the package's sentinel.
func sentinelOf(code scard.Error) error {
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped:
		return ErrNoService
	case scard.ErrNoReadersAvailable:
		return ErrNoReaders
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
		return ErrReaderUnavailable
	case scard.ErrNoSmartcard:
		return ErrNoCard
	case scard.ErrRemovedCard:
		return ErrCardRemoved
	case scard.ErrResetCard:
		return ErrCardReset
	case scard.ErrSharingViolation:
		return ErrSharingViolation
	case scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrInvalidAtr:
		return ErrUnresponsiveCard
	case scard.ErrProtoMismatch:
		return ErrProtocolMismatch
	case scard.ErrCommError, scard.ErrCommDataLost, scard.ErrNotTransacted:
		return ErrCommunication
	case scard.ErrTimeout:
		return ErrTimeout
	}
	return nil
}

// wrap turns an error from ebfe/scard into an *Error; other errors (such
// as a reader name that cannot be encoded) are returned as they are.
func wrap(op, reader string, err error) error {
	if err == nil {
		return nil
	}
	var code scard.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("pcsc: %s: %w", op, err)
	}
	return &Error{Op: op, Reader: reader, Code: code, Err: sentinelOf(code)}
}

// isCode reports whether err is the raw PC/SC code.
func isCode(err error, code scard.Error) bool {
	var c scard.Error
	return errors.As(err, &c) && c == code
}
