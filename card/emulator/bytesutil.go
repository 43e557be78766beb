package emulator

import (
	"bytes"
	"encoding/binary"

	"github.com/fiscalkit/gb18240/fiscal"
)

// validDate reports whether b is a real BCD CCYYMMDD date (the all-zero
// "no date" is not).
func validDate(b []byte) bool {
	d, err := fiscal.DecodeDate(b)
	return err == nil && !d.IsZero()
}

// addDays returns the BCD date n days after the valid BCD date b (nil past
// year 9999).
func addDays(b []byte, n int) []byte {
	d, _ := fiscal.DecodeDate(b)
	out, err := d.AddDays(n).AppendBCD(nil)
	if err != nil {
		return nil
	}
	return out
}

// cmpDate compares two valid BCD dates (BCD order is date order).
func cmpDate(a, b []byte) int { return bytes.Compare(a, b) }

// xorOK reports whether the last byte of block is the XOR of the others.
func xorOK(block []byte) bool {
	return len(block) > 0 && fiscal.XOR(block[:len(block)-1]) == block[len(block)-1]
}

func u32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
func u16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

func putU32(b []byte, v uint32) { binary.BigEndian.PutUint32(b, v) }
func putU16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }

func allASCIIDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
