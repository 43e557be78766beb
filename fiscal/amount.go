package fiscal

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Amount is a sum of money in fen (分, 0.01 yuan).
//
// The cards carry amounts as unsigned 32-bit big-endian integers; the unit is
// not stated by any public source, and fen is the project's decision (see
// ARCHITECTURE.md). In Go an Amount is signed and wide so that arithmetic on
// totals cannot silently wrap; converting to the card's u32 is checked.
type Amount int64

// MaxCardAmount is the largest amount a card field can hold: 42,949,672.95 yuan.
const MaxCardAmount Amount = math.MaxUint32

// AmountFromUint32 converts a card field to an Amount.
func AmountFromUint32(u uint32) Amount { return Amount(u) }

// Uint32 returns a as a card field, or an error wrapping ErrAmountRange if it
// is negative or larger than MaxCardAmount.
func (a Amount) Uint32() (uint32, error) {
	if a < 0 || a > MaxCardAmount {
		return 0, fmt.Errorf("%w: %s", ErrAmountRange, a)
	}
	return uint32(a), nil
}

// String returns a in yuan with two decimals, e.g. "12.30" or "-0.05".
func (a Amount) String() string {
	sign := ""
	u := uint64(a)
	if a < 0 {
		sign = "-"
		u = uint64(-a)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// ParseAmount parses a yuan amount with at most two decimals ("12", "12.3",
// "12.30", "-0.05") into fen.
func ParseAmount(s string) (Amount, error) {
	orig := s
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && (len(frac) == 0 || len(frac) > 2)) || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%w: cannot parse %q as yuan", ErrAmountRange, orig)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/100-1 {
		return 0, fmt.Errorf("%w: %q", ErrAmountRange, orig)
	}
	f := 0
	for i := 0; i < 2; i++ {
		f *= 10
		if i < len(frac) {
			f += int(frac[i] - '0')
		}
	}
	a := Amount(w*100 + int64(f))
	if neg {
		a = -a
	}
	return a, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
