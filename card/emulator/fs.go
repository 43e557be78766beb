package emulator

import (
	"bytes"
	"fmt"

	"github.com/fiscalkit/gb18240/card"
)

// access is who may write a file with the ISO write commands.
type access uint8

const (
	accNever   access = iota // only the card's own commands write it
	accPIN                   // after VERIFY in this power session
	accExtAuth               // after EXTERNAL AUTHENTICATE in this power session
)

// fileSpec describes one elementary file of an application.
type fileSpec struct {
	n      byte // EF number: FID 0xEF00|n, SFI n
	size   int  // binary file size; 0 for a record file
	recLen int  // record file: fixed record length
	maxRec int  // record file: capacity
	write  access
}

func (f fileSpec) fid() uint16    { return card.FID(f.n) }
func (f fileSpec) isRecord() bool { return f.recLen > 0 }
func (f fileSpec) name() string   { return fmt.Sprintf("EF%02X", f.n) }

// File sizes (gb18240.md §2.5 and the decisions in doc.go).
const (
	FiscalEF01Len = 23  // control data
	FiscalEF02Len = 103 // application information
	FiscalEF03Len = 76  // current-day accumulation
	FiscalEF04Len = 75  // last declaration
	FiscalEF05Len = 19  // loaded roll

	UserEF01RecLen = 37  // control record per fiscal card
	UserEF02Len    = 85  // user information
	UserEF03RecLen = 47  // tax item
	UserEF04RecLen = 220 // declaration record
	UserEF05RecLen = 20  // purchased rolls
	UserEF06RecLen = 18  // machine record
	UserEF07Len    = 22  // last distribution

	CheckEF01Len    = 10  // taxpayer, type, key id
	CheckEF02Len    = 17  // type, 认证码, dates
	CheckEF03RecLen = 233 // inspection record
)

// Capacities of the record files.
const (
	UserEF01MaxRec  = 8
	UserEF03MaxRec  = 6
	UserEF04MaxRec  = 10
	UserEF05MaxRec  = 10
	UserEF06MaxRec  = 8
	CheckEF03MaxRec = 64
)

var fiscalFiles = []fileSpec{
	{n: 1, size: FiscalEF01Len},
	{n: 2, size: FiscalEF02Len},
	{n: 3, size: FiscalEF03Len},
	{n: 4, size: FiscalEF04Len},
	{n: 5, size: FiscalEF05Len},
}

var userFiles = []fileSpec{
	{n: 1, recLen: UserEF01RecLen, maxRec: UserEF01MaxRec, write: accPIN},
	{n: 2, size: UserEF02Len, write: accPIN},
	{n: 3, recLen: UserEF03RecLen, maxRec: UserEF03MaxRec, write: accPIN},
	{n: 4, recLen: UserEF04RecLen, maxRec: UserEF04MaxRec, write: accPIN},
	{n: 5, recLen: UserEF05RecLen, maxRec: UserEF05MaxRec, write: accPIN},
	{n: 6, recLen: UserEF06RecLen, maxRec: UserEF06MaxRec, write: accPIN},
	{n: 7, size: UserEF07Len, write: accPIN},
}

var checkFiles = []fileSpec{
	{n: 1, size: CheckEF01Len, write: accPIN},
	{n: 2, size: CheckEF02Len, write: accPIN},
	{n: 3, recLen: CheckEF03RecLen, maxRec: CheckEF03MaxRec, write: accExtAuth},
}

func specsOf(k Kind) []fileSpec {
	switch k {
	case KindFiscal:
		return fiscalFiles
	case KindUser:
		return userFiles
	}
	return checkFiles
}

func specOf(k Kind, n byte) (fileSpec, bool) {
	for _, s := range specsOf(k) {
		if s.n == n {
			return s, true
		}
	}
	return fileSpec{}, false
}

// selectFile: SELECT by DF name (P1=04) or by FID (P1=00 or 02).
func (c *Card) selectFile(cmd card.Command) ([]byte, card.SW) {
	if cmd.P2 != 0x00 && cmd.P2 != 0x0C {
		return nil, card.SWWrongP1P2
	}
	switch cmd.P1 {
	case 0x04:
		if len(cmd.Data) == 0 {
			return nil, card.SWWrongLength
		}
		if string(cmd.Data) != c.st.Kind.dfName() {
			return nil, card.SWFileNotFound
		}
		c.ses.selected, c.ses.curEF = true, 0
		return nil, card.SWOK
	case 0x00, 0x02:
		if len(cmd.Data) != 2 {
			return nil, card.SWWrongLength
		}
		fid := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
		if fid == 0x3F00 {
			c.ses.selected, c.ses.curEF = false, 0
			return nil, card.SWOK
		}
		if !c.ses.selected || fid&0xFF00 != 0xEF00 {
			return nil, card.SWFileNotFound
		}
		if _, ok := specOf(c.st.Kind, byte(fid)); !ok {
			return nil, card.SWFileNotFound
		}
		c.ses.curEF = fid
		return nil, card.SWOK
	}
	return nil, card.SWWrongP1P2
}

// fileBySFI resolves a file from an SFI (0 = current EF).
func (c *Card) fileBySFI(sfi byte) (fileSpec, card.SW) {
	if !c.ses.selected {
		return fileSpec{}, card.SWFileNotFound
	}
	if sfi == 0 {
		if c.ses.curEF == 0 {
			return fileSpec{}, card.SWNoCurrentEF
		}
		sfi = byte(c.ses.curEF)
	}
	s, ok := specOf(c.st.Kind, sfi)
	if !ok {
		return fileSpec{}, card.SWFileNotFound
	}
	c.ses.curEF = s.fid()
	return s, card.SWOK
}

// binaryTarget resolves P1 P2 of READ/UPDATE BINARY: P1 bit 8 set means
// SFI = P1 & 1F with offset P2, otherwise the current EF at offset P1 P2.
func (c *Card) binaryTarget(cmd card.Command) (fileSpec, int, card.SW) {
	var sfi byte
	off := int(cmd.P1)<<8 | int(cmd.P2)
	if cmd.P1&0x80 != 0 {
		if cmd.P1&0x60 != 0 {
			return fileSpec{}, 0, card.SWWrongP1P2
		}
		sfi, off = cmd.P1&0x1F, int(cmd.P2)
		if sfi == 0 {
			return fileSpec{}, 0, card.SWWrongP1P2
		}
	}
	s, sw := c.fileBySFI(sfi)
	if sw != card.SWOK {
		return s, 0, sw
	}
	if s.isRecord() {
		return s, 0, card.SWFileTypeError
	}
	if off > s.size {
		return s, 0, card.SWOffsetOutOfRange
	}
	return s, off, card.SWOK
}

func (c *Card) readBinary(cmd card.Command) ([]byte, card.SW) {
	if len(cmd.Data) != 0 || cmd.Ne == 0 {
		return nil, card.SWWrongLength
	}
	s, off, sw := c.binaryTarget(cmd)
	if sw != card.SWOK {
		return nil, sw
	}
	avail := s.size - off
	if avail == 0 {
		return nil, card.SWOffsetOutOfRange
	}
	n := cmd.Ne
	switch {
	case n == 256 || n > 256:
		n = min(avail, 256)
	case n > avail:
		return nil, card.SWWrongLe(avail)
	}
	data := c.st.file(s.n).Data
	return append([]byte(nil), data[off:off+n]...), card.SWOK
}

func (c *Card) mayWrite(s fileSpec) card.SW {
	switch s.write {
	case accPIN:
		if c.st.PINTries == 0 {
			return card.SWAuthBlocked
		}
		if c.ses.pinOK {
			return card.SWOK
		}
	case accExtAuth:
		if c.ses.extAuthOK {
			return card.SWOK
		}
	}
	return card.SWSecurityStatus
}

func (c *Card) updateBinary(cmd card.Command) ([]byte, card.SW) {
	if len(cmd.Data) == 0 {
		return nil, card.SWWrongLength
	}
	s, off, sw := c.binaryTarget(cmd)
	if sw != card.SWOK {
		return nil, sw
	}
	if off+len(cmd.Data) > s.size {
		return nil, card.SWWrongLength
	}
	if sw := c.mayWrite(s); sw != card.SWOK {
		return nil, sw
	}
	copy(c.st.file(s.n).Data[off:], cmd.Data)
	return nil, card.SWOK
}

// recordTarget resolves P1 P2 of READ/UPDATE RECORD: P1 = record number
// (1..), P2 = SFI<<3 | 100b (SFI 0 = current EF).
func (c *Card) recordTarget(cmd card.Command) (fileSpec, int, card.SW) {
	if cmd.P1 == 0 || cmd.P2&0x07 != 0x04 {
		return fileSpec{}, 0, card.SWWrongP1P2
	}
	s, sw := c.fileBySFI(cmd.P2 >> 3)
	if sw != card.SWOK {
		return s, 0, sw
	}
	if !s.isRecord() {
		return s, 0, card.SWFileTypeError
	}
	if int(cmd.P1) > len(c.st.file(s.n).Records) {
		return s, 0, card.SWRecordNotFound
	}
	return s, int(cmd.P1) - 1, card.SWOK
}

func (c *Card) readRecord(cmd card.Command) ([]byte, card.SW) {
	if len(cmd.Data) != 0 || cmd.Ne == 0 {
		return nil, card.SWWrongLength
	}
	s, i, sw := c.recordTarget(cmd)
	if sw != card.SWOK {
		return nil, sw
	}
	if cmd.Ne != s.recLen && cmd.Ne < 256 {
		return nil, card.SWWrongLe(s.recLen)
	}
	return append([]byte(nil), c.st.file(s.n).Records[i]...), card.SWOK
}

func (c *Card) updateRecord(cmd card.Command) ([]byte, card.SW) {
	s, i, sw := c.recordTarget(cmd)
	if sw != card.SWOK {
		return nil, sw
	}
	if len(cmd.Data) != s.recLen {
		return nil, card.SWWrongLength
	}
	if sw := c.mayWrite(s); sw != card.SWOK {
		return nil, sw
	}
	c.st.file(s.n).Records[i] = append([]byte(nil), cmd.Data...)
	return nil, card.SWOK
}

// appendRecord: APPEND RECORD 00 E2 00 P2, P2 = SFI<<3 (SFI 0 = current EF).
func (c *Card) appendRecord(cmd card.Command) ([]byte, card.SW) {
	if cmd.P1 != 0 || cmd.P2&0x07 != 0 {
		return nil, card.SWWrongP1P2
	}
	s, sw := c.fileBySFI(cmd.P2 >> 3)
	if sw != card.SWOK {
		return nil, sw
	}
	if !s.isRecord() {
		return nil, card.SWFileTypeError
	}
	if len(cmd.Data) != s.recLen {
		return nil, card.SWWrongLength
	}
	if sw := c.mayWrite(s); sw != card.SWOK {
		return nil, sw
	}
	f := c.st.file(s.n)
	if len(f.Records) >= s.maxRec {
		return nil, card.SWNotEnoughSpace
	}
	f.Records = append(f.Records, append([]byte(nil), cmd.Data...))
	return nil, card.SWOK
}

// getChallenge: GET CHALLENGE 00 84 00 00 08.
func (c *Card) getChallenge(cmd card.Command) ([]byte, card.SW) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, card.SWWrongP1P2
	}
	if len(cmd.Data) != 0 || cmd.Ne == 0 {
		return nil, card.SWWrongLength
	}
	if cmd.Ne != ChallengeLen {
		return nil, card.SWWrongLe(ChallengeLen)
	}
	r, ok := c.random(ChallengeLen)
	if !ok {
		return nil, card.SWEEPROMError
	}
	c.ses.challenge = r
	return append([]byte(nil), r...), card.SWOK
}

// verify: VERIFY 00 20 00 P2 08 PIN (user and check cards). Without data it
// reports the tries left (63Cx) or 9000 when already verified.
func (c *Card) verify(cmd card.Command) ([]byte, card.SW) {
	if cmd.P1 != 0 || (cmd.P2 != 0x00 && cmd.P2 != 0x01) {
		return nil, card.SWWrongP1P2
	}
	if c.st.PINTries == 0 {
		return nil, card.SWAuthBlocked
	}
	if len(cmd.Data) == 0 {
		if c.ses.pinOK {
			return nil, card.SWOK
		}
		return nil, card.SWRetriesLeft(c.st.PINTries)
	}
	if len(cmd.Data) != PINLen {
		return nil, card.SWWrongLength
	}
	return nil, c.checkPIN(cmd.Data)
}

// checkPIN compares pin with the stored PIN and runs the try counter.
func (c *Card) checkPIN(pin []byte) card.SW {
	if !bytes.Equal(pin, c.st.PIN) {
		c.ses.pinOK = false
		c.st.PINTries--
		if c.st.PINTries <= 0 {
			c.st.PINTries = 0
			return card.SWAuthBlocked
		}
		return card.SWRetriesLeft(c.st.PINTries)
	}
	c.st.PINTries = c.st.PINMax
	c.ses.pinOK = true
	return card.SWOK
}
