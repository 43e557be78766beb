package emulator

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"math"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// Byte offsets in the fiscal card's files (gb18240.md §2.5).
const (
	// EF01 control data.
	ef01Deadline    = 0  // 开票截止日期 BCD
	ef01SingleLimit = 4  // 单张开票限额 u32
	ef01TotalLimit  = 8  // 开票累计限额 u32
	ef01ReturnLimit = 12 // 退票累计限额 u32
	ef01Indexes     = 16 // tax index[6]
	ef01DetailMode  = 22 // 明细申报方式

	// EF02 application information.
	ef02Type       = 0
	ef02RegFlag    = 1 // 0x01 = not yet registered, 0x00 = registered
	ef02CardNo     = 2
	ef02MachineNo  = 10
	ef02TaxpayerNo = 18
	ef02TaxpayerID = 26
	ef02AppStart   = 46
	ef02AppValid   = 50
	ef02AppType    = 54
	ef02AppVersion = 55
	ef02FCI        = 56
	ef02Name       = 57
	ef02Office     = 97
	ef02DeclMode   = 101
	ef02PINMode    = 102

	// EF03 current-day accumulation.
	ef03Date     = 0
	ef03Counts   = 4  // normal, return, void u16
	ef03Indexes  = 10 // [6]
	ef03Normal   = 16 // 6 × u32
	ef03Return   = 40 // 6 × u32
	ef03PrevNo   = 64 // u32
	ef03PrevCode = 68 // [8]

	// EF05 loaded roll.
	ef05Flag  = 0 // 0x01 = a roll is loaded
	ef05Code  = 1
	ef05Start = 11
	ef05End   = 15
)

// Lengths of command data blocks, XOR included.
const (
	InvoiceBlockLen      = 44  // ISSUE_INVOICE
	DeclarationLen       = 70  // declaration data
	DeclareResponseLen   = 142 // DECLARE_DUTY response, XOR included
	DailyRecordLen       = 64  // daily record
	DailySignResponse    = 129 // DAILY_COLLECT_SIGN response, XOR included
	UpdateControlsLen    = 29  // key id ‖ ciphertext ‖ MAC2
	InputInvoiceNBLen    = 22  // roll ‖ MAC
	GetRegisterNBLen     = 16  // random ‖ card no ‖ MAC1
	registeredFlagNotYet = 0x01
)

// Invoice types of ISSUE_INVOICE (gb18240.md §2.1).
const (
	invNormal = 0x01
	invReturn = 0x02
	invVoid   = 0x03
)

func (c *Card) ef(n byte) []byte { return c.st.file(n).Data }

func (c *Card) fiscalCardNo() []byte {
	return c.ef(2)[ef02CardNo : ef02CardNo+CardNoLen]
}

func (c *Card) registered() bool { return c.ef(2)[ef02RegFlag] == 0x00 }

// fiscalReady checks the preconditions of every fiscal operation:
// registered (6901) and VERIFY_FISCAL_PIN done in this session (6982).
func (c *Card) fiscalReady() card.SW {
	if !c.registered() {
		return card.SWStatusInvalid
	}
	if c.st.PINTries == 0 {
		return card.SWAuthBlocked
	}
	if !c.ses.pinOK {
		return card.SWSecurityStatus
	}
	return card.SWOK
}

// cryptoSW maps a profile error to a status word.
func cryptoSW(err error) card.SW {
	if errors.Is(err, ErrUnknownKey) {
		return card.SWKeyVersion
	}
	return card.SWEEPROMError
}

func (c *Card) executeFiscal(cmd card.Command) ([]byte, card.SW) {
	if cmd.P1 != 0 || (cmd.P2 != 0 && cmd.INS != card.INSDailyCollectSign) {
		switch cmd.INS {
		case card.INSGetRegisterNB, card.INSTerminalRegister, card.INSIssueInvoice, card.INSDeclareDuty,
			card.INSUpdateControls, card.INSInputInvoiceNB, card.INSVerifyFiscalPIN, card.INSDailyCollectSign:
			return nil, card.SWWrongP1P2
		}
	}
	switch cmd.INS {
	case card.INSGetRegisterNB:
		return c.getRegisterNB(cmd)
	case card.INSTerminalRegister:
		return c.terminalRegister(cmd)
	case card.INSVerifyFiscalPIN:
		return c.verifyFiscalPIN(cmd)
	case card.INSIssueInvoice:
		return c.issueInvoice(cmd)
	case card.INSDeclareDuty:
		return c.declareDuty(cmd)
	case card.INSDailyCollectSign:
		return c.dailyCollectSign(cmd)
	case card.INSUpdateControls:
		return c.updateControls(cmd)
	case card.INSInputInvoiceNB:
		return c.inputInvoiceNB(cmd)
	}
	return nil, card.SWInsNotSupported
}

// getRegisterNB: C0 F0 00 00 10 → random[4] ‖ card no[8] ‖ MAC1[4].
func (c *Card) getRegisterNB(cmd card.Command) ([]byte, card.SW) {
	if len(cmd.Data) != 0 {
		return nil, card.SWWrongLength
	}
	if c.registered() {
		return nil, card.SWStatusInvalid
	}
	no := c.fiscalCardNo()
	if allZero(no) {
		return nil, card.SWConditionsNotSatisfied // not personalised
	}
	r, ok := c.random(RandomLen)
	if !ok {
		return nil, card.SWEEPROMError
	}
	mac, err := c.opts.Profile.RegistrationMAC1(no, r)
	if err != nil {
		return nil, cryptoSW(err)
	}
	c.ses.regRandom = r
	return cat(r, no, mac), card.SWOK
}

// terminalRegister: C0 F1 00 00 04 MAC2 → first fiscal PIN[8].
func (c *Card) terminalRegister(cmd card.Command) ([]byte, card.SW) {
	if c.registered() {
		return nil, card.SWStatusInvalid
	}
	if len(cmd.Data) != MACLen {
		return nil, card.SWWrongLength
	}
	r := c.ses.regRandom
	if r == nil {
		return nil, card.SWConditionsNotSatisfied
	}
	c.ses.regRandom = nil // one MAC2 per random
	want, err := c.opts.Profile.RegistrationMAC2(c.fiscalCardNo(), r)
	if err != nil {
		return nil, cryptoSW(err)
	}
	if subtle.ConstantTimeCompare(want, cmd.Data) != 1 {
		return nil, card.SWMACError
	}
	pin, ok := c.random(PINLen)
	if !ok {
		return nil, card.SWEEPROMError
	}
	c.st.PIN = pin
	c.st.PINTries = c.st.PINMax
	c.ef(2)[ef02RegFlag] = 0x00
	return append([]byte(nil), pin...), card.SWOK
}

// verifyFiscalPIN: C0 F9 00 00 08 PIN → new PIN[8].
func (c *Card) verifyFiscalPIN(cmd card.Command) ([]byte, card.SW) {
	if !c.registered() {
		return nil, card.SWStatusInvalid
	}
	if len(cmd.Data) != PINLen {
		return nil, card.SWWrongLength
	}
	if c.st.PINTries == 0 {
		return nil, card.SWAuthBlocked
	}
	if sw := c.checkPIN(cmd.Data); sw != card.SWOK {
		return nil, sw
	}
	pin, ok := c.random(PINLen)
	if !ok {
		c.ses.pinOK = false
		return nil, card.SWEEPROMError
	}
	c.st.PIN = pin
	return append([]byte(nil), pin...), card.SWOK
}

// issueInvoice: C0 F2 00 00 2C block[44] → 税控码[8].
func (c *Card) issueInvoice(cmd card.Command) ([]byte, card.SW) {
	if sw := c.fiscalReady(); sw != card.SWOK {
		return nil, sw
	}
	d := cmd.Data
	if len(d) != InvoiceBlockLen {
		return nil, card.SWWrongLength
	}
	if !xorOK(d) {
		return nil, card.SWIncorrectData
	}
	ef01, ef03, ef04, ef05 := c.ef(1), c.ef(3), c.ef(4), c.ef(5)
	deadline := ef01[ef01Deadline : ef01Deadline+4]
	if !validDate(deadline) {
		return nil, card.SWConditionsNotSatisfied // no control data loaded
	}
	date := d[0:4]
	if !validDate(date) || cmpDate(date, deadline) > 0 {
		return nil, card.SWIncorrectData
	}
	if last := ef03[ef03Date : ef03Date+4]; validDate(last) && cmpDate(date, last) < 0 {
		return nil, card.SWIncorrectData
	}
	if declEnd := ef04[4:8]; validDate(declEnd) && cmpDate(date, declEnd) <= 0 {
		return nil, card.SWIncorrectData
	}
	typ := d[4]
	if typ < invNormal || typ > invVoid {
		return nil, card.SWIncorrectData
	}
	no := u32(d[5:9])
	if ef05[ef05Flag] != 0x01 {
		return nil, card.SWIncorrectData
	}
	if no < u32(ef05[ef05Start:]) || no > u32(ef05[ef05End:]) || no <= c.st.RollLast {
		return nil, card.SWIncorrectData
	}
	indexes := ef01[ef01Indexes : ef01Indexes+6]
	var sum uint64
	var seen [256]bool
	for i := range 6 {
		idx, amt := d[9+5*i], u32(d[10+5*i:])
		if idx == 0 {
			if amt != 0 {
				return nil, card.SWIncorrectData
			}
			continue
		}
		if seen[idx] || bytes.IndexByte(indexes, idx) < 0 {
			return nil, card.SWIncorrectData
		}
		seen[idx] = true
		sum += uint64(amt)
	}
	total := u32(d[39:43])
	if sum != uint64(total) || (typ == invVoid && total != 0) {
		return nil, card.SWIncorrectData
	}
	if typ != invVoid && total > u32(ef01[ef01SingleLimit:]) {
		return nil, card.SWLimitOrNoInvoice
	}

	// Accumulate into a copy of EF03 first so that an overflow changes nothing.
	acc := append([]byte(nil), ef03...)
	var closed []byte // the previous day's accumulation, when this invoice starts a new day
	if !bytes.Equal(acc[ef03Date:ef03Date+4], date) {
		if validDate(acc[ef03Date : ef03Date+4]) {
			closed = append([]byte(nil), acc[:DailyRecordLen]...)
		}
		clear(acc[:ef03PrevNo])
		copy(acc[ef03Date:], date)
		copy(acc[ef03Indexes:], indexes)
	}
	cnt := ef03Counts + 2*int(typ-1)
	if v := u16(acc[cnt:]); v < math.MaxUint16 {
		putU16(acc[cnt:], v+1)
	}
	if typ != invVoid {
		base := ef03Normal
		if typ == invReturn {
			base = ef03Return
		}
		accIdx := acc[ef03Indexes : ef03Indexes+6]
		for i := range 6 {
			idx, amt := d[9+5*i], u32(d[10+5*i:])
			if idx == 0 {
				continue
			}
			slot := bytes.IndexByte(accIdx, idx)
			if slot < 0 {
				if slot = bytes.IndexByte(accIdx, 0); slot < 0 {
					continue // indexes changed mid-day and all slots taken
				}
				accIdx[slot] = idx
			}
			v := uint64(u32(acc[base+4*slot:])) + uint64(amt)
			if v > math.MaxUint32 {
				return nil, card.SWNotEnoughSpace
			}
			putU32(acc[base+4*slot:], uint32(v))
		}
	}

	code, err := c.opts.Profile.FiscalCode(c.fiscalCardNo(), ef03[ef03PrevCode:ef03PrevCode+FiscalCodeLen], d)
	if err != nil {
		return nil, cryptoSW(err)
	}
	putU32(acc[ef03PrevNo:], no)
	copy(acc[ef03PrevCode:], code)
	copy(ef03, acc)
	c.st.RollLast = no
	if closed != nil {
		if day := c.st.day(closed[:4]); day != nil {
			day.Record = closed
		}
	}
	switch typ {
	case invNormal:
		c.st.addDay(date, uint64(total), 0)
	case invReturn:
		c.st.addDay(date, 0, uint64(total))
	default:
		c.st.addDay(date, 0, 0) // a void-only day is still a day with invoices
	}
	return code, card.SWOK
}

// declareDuty: C0 F4 00 00 47 declaration[70] ‖ XOR → totals[8] ‖ status ‖
// MAC1[4] ‖ signature[128] ‖ XOR.
func (c *Card) declareDuty(cmd card.Command) ([]byte, card.SW) {
	if sw := c.fiscalReady(); sw != card.SWOK {
		return nil, sw
	}
	d := cmd.Data
	if len(d) != DeclarationLen+1 {
		return nil, card.SWWrongLength
	}
	if !xorOK(d) {
		return nil, card.SWIncorrectData
	}
	decl := d[:DeclarationLen]
	start, end := decl[0:4], decl[4:8]
	if !validDate(start) || !validDate(end) || cmpDate(start, end) > 0 {
		return nil, card.SWIncorrectData
	}
	ef04 := c.ef(4)
	if prevEnd := ef04[4:8]; validDate(prevEnd) {
		if !bytes.Equal(start, addDays(prevEnd, 1)) {
			return nil, card.SWIncorrectData
		}
	} else if appStart := c.ef(2)[ef02AppStart : ef02AppStart+4]; validDate(appStart) && cmpDate(start, appStart) < 0 {
		return nil, card.SWIncorrectData
	}
	if deadline := c.ef(1)[ef01Deadline : ef01Deadline+4]; validDate(deadline) && cmpDate(end, deadline) > 0 {
		return nil, card.SWIncorrectData
	}
	var declNormal, declReturn, cardNormal, cardReturn uint64
	for i := range 6 {
		declNormal += uint64(u32(decl[22+4*i:]))
		declReturn += uint64(u32(decl[46+4*i:]))
	}
	keep := 0
	for _, day := range c.st.Days {
		if cmpDate(day.Date, end) <= 0 {
			cardNormal += day.Normal
			cardReturn += day.Return
		} else {
			keep++
		}
	}
	status := byte(0x00)
	if declNormal != cardNormal || declReturn != cardReturn {
		status = 0x01
	}
	body := make([]byte, 0, DeclareResponseLen+DeclarationLen)
	body = append(body, decl...)
	body = bePut32(body, sat32(cardNormal))
	body = bePut32(body, sat32(cardReturn))
	body = append(body, status)
	no := c.fiscalCardNo()
	mac, err := c.opts.Profile.DeclarationMAC(no, body)
	if err != nil {
		return nil, cryptoSW(err)
	}
	body = append(body, mac...)
	sig, err := c.opts.Profile.Sign(no, body)
	if err != nil || len(sig) != SignatureLen {
		return nil, card.SWEEPROMError
	}
	copy(ef04, decl)
	ef04[DeclarationLen] = status
	copy(ef04[DeclarationLen+1:], mac)
	c.st.Days = append([]dayTotal(nil), c.st.Days[len(c.st.Days)-keep:]...)
	resp := append(append([]byte(nil), body[DeclarationLen:]...), sig...)
	return fiscal.AppendXOR(resp), card.SWOK
}

func bePut32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func sat32(v uint64) uint32 {
	if v > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}

// dailyCollectSign: C0 FB 00 00 41 daily[64] ‖ XOR → signature[128] ‖ XOR.
// P2 selects the data type; only 00 (daily record) is supported.
func (c *Card) dailyCollectSign(cmd card.Command) ([]byte, card.SW) {
	if sw := c.fiscalReady(); sw != card.SWOK {
		return nil, sw
	}
	if cmd.P2 != 0x00 {
		return nil, card.SWWrongP1P2
	}
	d := cmd.Data
	if len(d) != DailyRecordLen+1 {
		return nil, card.SWWrongLength
	}
	if !xorOK(d) || !validDate(d[0:4]) {
		return nil, card.SWIncorrectData
	}
	if !c.dailyMatches(d[:DailyRecordLen]) {
		return nil, card.SWIncorrectData
	}
	sig, err := c.opts.Profile.Sign(c.fiscalCardNo(), d[:DailyRecordLen])
	if err != nil || len(sig) != SignatureLen {
		return nil, card.SWEEPROMError
	}
	return fiscal.AppendXOR(append([]byte(nil), sig...)), card.SWOK
}

// dailyMatches reports whether a 64-byte daily record states what the card
// itself accumulated for its date (see doc.go, DAILY_COLLECT_SIGN):
//
//   - EF03's date: EF03;
//   - an undeclared day that rolled over: the accumulation kept for it
//     (for state saved without it, only the normal and return totals);
//   - a day the card coded nothing on: an empty record, unless the day is
//     covered by the last declaration (the card no longer knows it).
func (c *Card) dailyMatches(rec []byte) bool {
	date := rec[0:4]
	ef03 := c.ef(3)
	if bytes.Equal(ef03[ef03Date:ef03Date+4], date) {
		return sameDaily(rec, ef03[:DailyRecordLen])
	}
	if day := c.st.day(date); day != nil {
		if day.Record != nil {
			return sameDaily(rec, day.Record)
		}
		n, r, ok := dailySums(rec)
		return ok && n == day.Normal && r == day.Return
	}
	if declEnd := c.ef(4)[4:8]; validDate(declEnd) && cmpDate(date, declEnd) <= 0 {
		return false
	}
	return sameDaily(rec, append(append([]byte(nil), date...), make([]byte, DailyRecordLen-4)...))
}

// dailyAmounts returns a daily record's normal and return amount per tax
// index (indexes with nothing dropped) and whether the record is
// well formed: no amount under index 0, no index twice.
func dailyAmounts(rec []byte) (map[byte][2]uint64, bool) {
	out := map[byte][2]uint64{}
	seen := map[byte]bool{}
	for i := range 6 {
		idx := rec[ef03Indexes+i]
		n, r := uint64(u32(rec[ef03Normal+4*i:])), uint64(u32(rec[ef03Return+4*i:]))
		if idx == 0 {
			if n != 0 || r != 0 {
				return nil, false
			}
			continue
		}
		if seen[idx] {
			return nil, false
		}
		seen[idx] = true
		if n != 0 || r != 0 {
			out[idx] = [2]uint64{n, r}
		}
	}
	return out, true
}

// sameDaily compares a host's daily record with the card's accumulation:
// same date and counts and, per tax index, the same normal and return
// amounts. The order of the index slots and indexes with no amount do not
// matter.
func sameDaily(host, own []byte) bool {
	if !bytes.Equal(host[:ef03Indexes], own[:ef03Indexes]) { // date and the three counts
		return false
	}
	h, ok := dailyAmounts(host)
	if !ok {
		return false
	}
	o, _ := dailyAmounts(own)
	if len(h) != len(o) {
		return false
	}
	for idx, v := range h {
		if o[idx] != v {
			return false
		}
	}
	return true
}

// dailySums returns the sums of a daily record's normal and return amounts.
func dailySums(rec []byte) (normal, ret uint64, ok bool) {
	m, ok := dailyAmounts(rec)
	for _, v := range m {
		normal += v[0]
		ret += v[1]
	}
	return normal, ret, ok
}

// updateControls: C0 F6 00 00 1D key id ‖ ciphertext[24] ‖ MAC2[4].
func (c *Card) updateControls(cmd card.Command) ([]byte, card.SW) {
	if sw := c.fiscalReady(); sw != card.SWOK {
		return nil, sw
	}
	d := cmd.Data
	if len(d) != UpdateControlsLen {
		return nil, card.SWWrongLength
	}
	keyID, ct, mac := d[0], d[1:1+CipherLen], d[1+CipherLen:]
	no := c.fiscalCardNo()
	want, err := c.opts.Profile.ControlsMAC(no, keyID, ct)
	if err != nil {
		return nil, cryptoSW(err)
	}
	if subtle.ConstantTimeCompare(want, mac) != 1 {
		return nil, card.SWMACError
	}
	plain, err := c.opts.Profile.DecryptControls(no, keyID, ct)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, card.SWKeyVersion
		}
		return nil, card.SWIncorrectData
	}
	if (len(plain) != ControlsLen && len(plain) != ControlsPlainLen) || !validDate(plain[ef01Deadline:ef01Deadline+4]) {
		return nil, card.SWIncorrectData
	}
	if len(plain) == ControlsPlainLen {
		ctr := int(plain[ControlsLen])
		switch {
		case ctr > c.st.ControlsCounter:
			c.st.ControlsCounter = ctr
		case ctr == c.st.ControlsCounter && bytes.Equal(plain[:ControlsLen], c.ef(1)):
			return nil, card.SWOK // the record in force, sent again: nothing changes
		default:
			return nil, card.SWConditionsNotSatisfied // an older record: replay
		}
	}
	copy(c.ef(1), plain[:ControlsLen])
	return nil, card.SWOK
}

// inputInvoiceNB: C0 F7 00 00 16 code[10] ‖ start u32 ‖ end u32 ‖ MAC[4].
func (c *Card) inputInvoiceNB(cmd card.Command) ([]byte, card.SW) {
	if sw := c.fiscalReady(); sw != card.SWOK {
		return nil, sw
	}
	d := cmd.Data
	if len(d) != InputInvoiceNBLen {
		return nil, card.SWWrongLength
	}
	roll, mac := d[:RollLen], d[RollLen:]
	ef02 := c.ef(2)
	want, err := c.opts.Profile.RollMAC(ef02[ef02TaxpayerNo:ef02TaxpayerNo+CardNoLen], roll)
	if err != nil {
		return nil, cryptoSW(err)
	}
	if subtle.ConstantTimeCompare(want, mac) != 1 {
		return nil, card.SWMACError
	}
	start, end := u32(roll[10:]), u32(roll[14:])
	if !allASCIIDigits(roll[:10]) || start == 0 || start > end {
		return nil, card.SWIncorrectData
	}
	ef05 := c.ef(5)
	if ef05[ef05Flag] == 0x01 && c.rollRemaining() > 0 {
		return nil, card.SWConditionsNotSatisfied
	}
	for _, old := range c.st.LoadedRolls {
		if bytes.Equal(old[:10], roll[:10]) && start <= u32(old[14:]) && u32(old[10:]) <= end {
			return nil, card.SWIncorrectData // numbers already loaded once
		}
	}
	ef05[ef05Flag] = 0x01
	copy(ef05[ef05Code:], roll)
	c.st.RollLast = 0
	if len(c.st.LoadedRolls) >= maxLoadedRolls {
		c.st.LoadedRolls = c.st.LoadedRolls[1:]
	}
	c.st.LoadedRolls = append(c.st.LoadedRolls, append([]byte(nil), roll...))
	return nil, card.SWOK
}

// rollRemaining returns how many numbers of the loaded roll are unused.
func (c *Card) rollRemaining() uint32 {
	ef05 := c.ef(5)
	if ef05[ef05Flag] != 0x01 {
		return 0
	}
	start, end := u32(ef05[ef05Start:]), u32(ef05[ef05End:])
	last := max(c.st.RollLast, start-1)
	if last >= end {
		return 0
	}
	return end - last
}

// unblockPIN: 84 24 01 01 0C new PIN[8] ‖ MAC[4] → the PIN in force[8].
// It works on a blocked PIN and on a locked application (it lifts both).
func (c *Card) unblockPIN(cmd card.Command) ([]byte, card.SW) {
	if cmd.P1 != card.P1UnblockPIN || cmd.P2 != card.P2UnblockPIN {
		return nil, card.SWWrongP1P2
	}
	if len(cmd.Data) != PINLen+MACLen {
		return nil, card.SWWrongLength
	}
	if !c.registered() {
		return nil, card.SWStatusInvalid
	}
	up, ok := c.opts.Profile.(UnblockProfile)
	if !ok {
		return nil, card.SWFuncNotSupported
	}
	pin, mac := cmd.Data[:PINLen], cmd.Data[PINLen:]
	want, err := up.UnblockMAC(c.fiscalCardNo(), pin)
	if err != nil {
		return nil, cryptoSW(err)
	}
	if subtle.ConstantTimeCompare(want, mac) != 1 {
		return nil, card.SWMACError
	}
	c.st.PIN = append([]byte(nil), pin...)
	c.st.PINTries = c.st.PINMax
	c.st.Locked = false
	c.ses.pinOK = false
	return append([]byte(nil), pin...), card.SWOK
}

// internalAuth: INTERNAL AUTHENTICATE 00 88 00 key id 08 challenge[8].
func (c *Card) internalAuth(cmd card.Command) ([]byte, card.SW) {
	if cmd.P1 != 0 {
		return nil, card.SWWrongP1P2
	}
	if len(cmd.Data) != ChallengeLen {
		return nil, card.SWWrongLength
	}
	ef02 := c.ef(2)
	out, err := c.opts.Profile.AuthCryptogram(ef02[ef02TaxpayerNo:ef02TaxpayerNo+CardNoLen], cmd.P2, cmd.Data)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, card.SWRefDataNotFound
		}
		return nil, card.SWEEPROMError
	}
	return out, card.SWOK
}
