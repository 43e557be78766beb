package memory

import (
	"errors"
	"fmt"
)

// ErrCorrupt is matched by a *CorruptionError for damage other than a torn
// tail: a bad checksum, a broken chain, a bad sequence number, an undecodable
// or out-of-order record, a missing segment.
var ErrCorrupt = errors.New("memory: fiscal memory is corrupt")

// ErrTornTail is matched by a *CorruptionError whose damage is only an
// incomplete last record (or an incomplete last batch) at the end of the last
// segment, as a power cut during a write leaves it. Repair fixes it.
var ErrTornTail = errors.New("memory: torn tail (incomplete last record)")

// ErrFull is matched by a *FullError: the record kind has reached its
// capacity. Nothing was written.
var ErrFull = errors.New("memory: fiscal memory full")

// ErrWriteOnce is returned when a write-once record (machine identity, first
// application) is written a second time.
var ErrWriteOnce = errors.New("memory: record is write-once and already written")

// ErrNotInitialised is returned when an operation needs the application
// (initialisation) record and there is none.
var ErrNotInitialised = errors.New("memory: fiscal memory not initialised")

// ErrInvalid is returned (wrapped, with a reason) for a record whose content
// is not acceptable: bad date, bad type, too many lines, text too long.
var ErrInvalid = errors.New("memory: invalid record")

// ErrOrder is returned (wrapped, with a reason) for a record that would make
// dates go backwards, such as a daily record not after the previous one.
var ErrOrder = errors.New("memory: record out of order")

// ErrDuplicate is returned for a record whose key is already stored: an
// invoice with the same code and number, a daily record for a closed date.
var ErrDuplicate = errors.New("memory: duplicate record")

// ErrNotWaiting is returned when a RollTaken record names a roll that is
// not on the waiting list (never distributed, or taken already).
var ErrNotWaiting = errors.New("memory: roll is not waiting")

// ErrNotFound is returned by queries that find nothing.
var ErrNotFound = errors.New("memory: record not found")

// ErrUnknownIntent is returned when an intent that is not open is marked
// done, or an open intent is begun again.
var ErrUnknownIntent = errors.New("memory: unknown or already open intent")

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("memory: fiscal memory closed")

// ErrVersion is matched by a *CorruptionError naming a segment whose format
// version this package does not read.
var ErrVersion = errors.New("memory: unsupported format version")

// CorruptionError names the first bad record found by Open, Verify or
// Repair. It matches ErrTornTail when Torn is set and ErrCorrupt otherwise.
type CorruptionError struct {
	Segment string // segment file name
	Offset  int64  // byte offset of the bad frame (or header) in the segment
	Kind    Kind   // record kind, if the frame header could be read
	Seq     uint64 // sequence number, if the frame header could be read
	Torn    bool   // only an incomplete tail: repairable
	Reason  string // what is wrong
	Err     error  // underlying cause, if any (e.g. ErrVersion, a decode error)
}

func (e *CorruptionError) Error() string {
	what := "corrupt record"
	if e.Torn {
		what = "torn tail"
	}
	s := fmt.Sprintf("memory: %s in segment %s at offset %d", what, e.Segment, e.Offset)
	if e.Kind != 0 || e.Seq != 0 {
		s += fmt.Sprintf(" (kind %s, seq %d)", e.Kind, e.Seq)
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is ErrTornTail (torn) or ErrCorrupt (not torn).
func (e *CorruptionError) Is(target error) bool {
	if e.Torn {
		return target == ErrTornTail
	}
	return target == ErrCorrupt
}

// Unwrap returns the underlying cause.
func (e *CorruptionError) Unwrap() error { return e.Err }

// FullError reports that a record kind is at capacity. It matches ErrFull.
type FullError struct {
	Kind      Kind
	Capacity  int // configured capacity
	Count     int // records counted against it now
	Requested int // records the refused operation wanted to add
}

func (e *FullError) Error() string {
	return fmt.Sprintf("memory: %s storage full: %d of %d used, %d more requested",
		e.Kind, e.Count, e.Capacity, e.Requested)
}

// Is reports whether target is ErrFull.
func (e *FullError) Is(target error) bool { return target == ErrFull }
