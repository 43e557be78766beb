package fiscal

import (
	"encoding/binary"
	"fmt"
)

// InvoiceType is the type byte of an invoice (GB 18240.2; [YB] and [TT] agree).
type InvoiceType uint8

const (
	InvoiceNormal InvoiceType = 0x01 // 正常发票
	InvoiceReturn InvoiceType = 0x02 // 退票 (red invoice)
	InvoiceVoid   InvoiceType = 0x03 // 废票
)

// Valid reports whether t is one of the three defined types.
func (t InvoiceType) Valid() bool { return t >= InvoiceNormal && t <= InvoiceVoid }

// String returns "normal", "return" or "void" (the names the export format
// uses), or "InvoiceType(0xNN)".
func (t InvoiceType) String() string {
	switch t {
	case InvoiceNormal:
		return "normal"
	case InvoiceReturn:
		return "return"
	case InvoiceVoid:
		return "void"
	}
	return fmt.Sprintf("InvoiceType(0x%02X)", uint8(t))
}

// MaxTaxItems is the number of tax items (税种税目) a machine can hold and the
// number of per-item amount slots in every record ([YB] MAX_USER_TAXRATE 6,
// [TT] TAX_INDEX_NB 6).
const MaxTaxItems = 6

// MaxInvoiceLines is the number of goods lines one invoice can hold ([YB] and
// [TT] agree on 10).
const MaxInvoiceLines = 10

// TaxIndex is a 1-byte 税种税目索引号. Index 0 marks an unused slot: the records
// list up to six indexes, and a machine with fewer tax items zero-fills the
// rest (project decision; no source says which byte marks "unused").
type TaxIndex uint8

// TaxIndexes is the 6-byte index list that precedes per-item amounts in the
// daily, declaration and control records; slot i of an amount array belongs to
// Indexes[i].
type TaxIndexes [MaxTaxItems]TaxIndex

// Slot returns the position of idx in x, or -1. Index 0 is never found.
func (x TaxIndexes) Slot(idx TaxIndex) int {
	if idx == 0 {
		return -1
	}
	for i, v := range x {
		if v == idx {
			return i
		}
	}
	return -1
}

// SlotFor returns the slot of idx in x; when x lacks idx it claims the first
// unused slot (index 0) for it. It returns -1 for index 0, or when all six
// slots hold other indexes. Records that add up invoices issued under
// different control data (a tax item added or removed during a day or a
// period) use it so that no amount is dropped.
func (x *TaxIndexes) SlotFor(idx TaxIndex) int {
	if idx == 0 {
		return -1
	}
	if i := x.Slot(idx); i >= 0 {
		return i
	}
	for i, v := range x {
		if v == 0 {
			x[i] = idx
			return i
		}
	}
	return -1
}

// Count returns the number of used (non-zero) slots.
func (x TaxIndexes) Count() int {
	n := 0
	for _, v := range x {
		if v != 0 {
			n++
		}
	}
	return n
}

// TaxAmounts holds one amount per tax-index slot.
type TaxAmounts [MaxTaxItems]Amount

// Sum returns the sum of all slots.
func (a TaxAmounts) Sum() Amount {
	var s Amount
	for _, v := range a {
		s += v
	}
	return s
}

// MachineNumber is the 8-byte machine number (机器编号) held by the fiscal card
// and in fiscal memory: 16 BCD digits, printed as 16 digits.
type MachineNumber [8]byte

// ParseMachineNumber parses 16 decimal digits.
func ParseMachineNumber(s string) (MachineNumber, error) {
	var m MachineNumber
	b, err := parseBCDDigits(s, len(m))
	copy(m[:], b)
	return m, err
}

// String returns the 16 digits (or hex for bytes that are not BCD).
func (m MachineNumber) String() string { return bcdString(m[:]) }

// CardNumber is an 8-byte card or taxpayer number (税控卡编号, 纳税人编号):
// 16 BCD digits, like MachineNumber.
type CardNumber [8]byte

// ParseCardNumber parses 16 decimal digits.
func ParseCardNumber(s string) (CardNumber, error) {
	var c CardNumber
	b, err := parseBCDDigits(s, len(c))
	copy(c[:], b)
	return c, err
}

// String returns the 16 digits (or hex for bytes that are not BCD).
func (c CardNumber) String() string { return bcdString(c[:]) }

func parseBCDDigits(s string, n int) ([]byte, error) {
	if len(s) != 2*n || !allDigits(s) {
		return make([]byte, n), fmt.Errorf("%w: want %d decimal digits, got %q", ErrDigits, 2*n, s)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = (s[2*i]-'0')<<4 | (s[2*i+1] - '0')
	}
	return b, nil
}

func bcdString(b []byte) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, hex[x>>4], hex[x&0x0F])
	}
	return string(out)
}

// InvoiceCodeLen is the size of an invoice code (发票代码) on the wire.
const InvoiceCodeLen = 10

// InvoiceCode is the 10-byte invoice code (发票代码) of a roll. The reference
// gives the field as code[10] without an encoding; the project stores it as 10
// ASCII decimal digits (the printed 10-digit code of the period's roll
// invoices), which is also what is printed.
type InvoiceCode [InvoiceCodeLen]byte

// ParseInvoiceCode parses 10 decimal digits.
func ParseInvoiceCode(s string) (InvoiceCode, error) {
	var c InvoiceCode
	if len(s) != InvoiceCodeLen || !allDigits(s) {
		return c, fmt.Errorf("%w: invoice code must be %d digits, got %q", ErrDigits, InvoiceCodeLen, s)
	}
	copy(c[:], s)
	return c, nil
}

// Valid reports whether every byte is an ASCII digit.
func (c InvoiceCode) Valid() bool { return allDigits(string(c[:])) }

// String returns the code as text.
func (c InvoiceCode) String() string { return string(c[:]) }

// FiscalCode is the 8-byte 税控码 a fiscal card returns for each invoice.
//
// It is printed as 20 digits: the two big-endian u32 halves, each zero-padded
// to 10 decimal digits ([YB] prints "%010u%010u").
type FiscalCode [8]byte

// String returns the 20-digit printed form.
func (f FiscalCode) String() string {
	return fmt.Sprintf("%010d%010d", binary.BigEndian.Uint32(f[:4]), binary.BigEndian.Uint32(f[4:]))
}

// ParseFiscalCode parses the 20-digit printed form.
func ParseFiscalCode(s string) (FiscalCode, error) {
	var f FiscalCode
	if len(s) != 20 || !allDigits(s) {
		return f, fmt.Errorf("%w: fiscal code must be 20 digits, got %q", ErrDigits, s)
	}
	for half := 0; half < 2; half++ {
		var v uint64
		for _, ch := range s[half*10 : half*10+10] {
			v = v*10 + uint64(ch-'0')
		}
		if v > 0xFFFFFFFF {
			return f, fmt.Errorf("%w: fiscal code half %d exceeds 32 bits", ErrDigits, half)
		}
		binary.BigEndian.PutUint32(f[half*4:], uint32(v))
	}
	return f, nil
}

// XOR returns the XOR of all bytes of b: the 异或和 that ends every card data
// block of GB 18240.2.
func XOR(b []byte) byte {
	var x byte
	for _, v := range b {
		x ^= v
	}
	return x
}

// AppendXOR appends XOR(b) to b.
func AppendXOR(b []byte) []byte { return append(b, XOR(b)) }

// CheckXOR checks that the last byte of block is the XOR of the others and
// returns the block without it. It fails with ErrChecksum (or ErrLength for an
// empty block).
func CheckXOR(block []byte) ([]byte, error) {
	if len(block) == 0 {
		return nil, fmt.Errorf("%w: empty block has no XOR byte", ErrLength)
	}
	body, sum := block[:len(block)-1], block[len(block)-1]
	if got := XOR(body); got != sum {
		return nil, fmt.Errorf("%w: computed %02X, block carries %02X", ErrChecksum, got, sum)
	}
	return body, nil
}
