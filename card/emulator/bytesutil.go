package emulator

import (
	"bytes"
	"encoding/binary"
	"time"
)

// unbcd decodes one packed-BCD byte.
func unbcd(b byte) (int, bool) {
	hi, lo := b>>4, b&0x0F
	if hi > 9 || lo > 9 {
		return 0, false
	}
	return int(hi)*10 + int(lo), true
}

func tobcd(n int) byte { return byte(n/10)<<4 | byte(n%10) }

// dateParts decodes a 4-byte BCD CCYYMMDD date; ok is false unless b is a
// real calendar date in years 1..9999.
func dateParts(b []byte) (y int, m time.Month, d int, ok bool) {
	if len(b) != 4 {
		return 0, 0, 0, false
	}
	cc, ok1 := unbcd(b[0])
	yy, ok2 := unbcd(b[1])
	mm, ok3 := unbcd(b[2])
	dd, ok4 := unbcd(b[3])
	if !(ok1 && ok2 && ok3 && ok4) {
		return 0, 0, 0, false
	}
	y, m, d = cc*100+yy, time.Month(mm), dd
	if y < 1 || m < 1 || m > 12 || d < 1 {
		return 0, 0, 0, false
	}
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || t.Month() != m {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// validDate reports whether b is a real BCD date (the all-zero "no date"
// is not).
func validDate(b []byte) bool {
	_, _, _, ok := dateParts(b)
	return ok
}

// bcdDate encodes a date as 4 BCD bytes.
func bcdDate(y int, m time.Month, d int) []byte {
	return []byte{tobcd(y / 100), tobcd(y % 100), tobcd(int(m)), tobcd(d)}
}

// addDays returns the BCD date n days after the valid BCD date b.
func addDays(b []byte, n int) []byte {
	y, m, d, _ := dateParts(b)
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	return bcdDate(t.Year(), t.Month(), t.Day())
}

// cmpDate compares two valid BCD dates (BCD order is date order).
func cmpDate(a, b []byte) int { return bytes.Compare(a, b) }

func xorOf(b []byte) byte {
	var x byte
	for _, v := range b {
		x ^= v
	}
	return x
}

// xorOK reports whether the last byte of block is the XOR of the others.
func xorOK(block []byte) bool {
	return len(block) > 0 && xorOf(block[:len(block)-1]) == block[len(block)-1]
}

func appendXOR(b []byte) []byte { return append(b, xorOf(b)) }

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
