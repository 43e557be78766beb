package emulator

import (
	"bytes"
	"crypto/subtle"

	"github.com/fiscalkit/gb18240/card"
)

// Byte offsets in the user card's files (gb18240.md §2.5; doc.go).
const (
	// EF02 user information (card.UserInfo).
	uEF02TaxpayerNo = 2

	// EF04 declaration record: flag ‖ DATA_COLLECT body without its XOR.
	uEF04Flag = 0

	// EF05 purchased-roll record.
	uEF05Code  = 0
	uEF05Start = 10
	uEF05End   = 14
	uEF05Count = 18

	// EF06 machine record.
	uEF06CardNo = 8
)

// Flags of a user-card EF04 declaration record.
const (
	DeclarationPending   = 0x01 // written by DATA_COLLECT, not yet processed by the tax office
	DeclarationProcessed = 0x00 // processed by the tax office (CardSet.ProcessDeclarations)
)

// DataCollectLen is the length of the DATA_COLLECT data block, XOR included.
const DataCollectLen = 220

func (c *Card) executeUser(cmd card.Command) ([]byte, card.SW) {
	switch cmd.INS {
	case card.INSRegisterSign, card.INSDataCollect, card.INSDistributeInvoiceNB:
		if cmd.P1 != 0 || cmd.P2 != 0 {
			return nil, card.SWWrongP1P2
		}
	}
	switch cmd.INS {
	case card.INSRegisterSign:
		return c.registerSign(cmd)
	case card.INSDataCollect:
		return c.dataCollect(cmd)
	case card.INSDistributeInvoiceNB:
		return c.distributeInvoiceNB(cmd)
	}
	return nil, card.SWInsNotSupported
}

func (c *Card) userTaxpayerNo() []byte {
	return c.ef(2)[uEF02TaxpayerNo : uEF02TaxpayerNo+CardNoLen]
}

// knowsFiscalCard reports whether a fiscal-card number is listed in EF06.
func (c *Card) knowsFiscalCard(no []byte) bool {
	for _, r := range c.st.file(6).Records {
		if bytes.Equal(r[uEF06CardNo:uEF06CardNo+CardNoLen], no) {
			return true
		}
	}
	return false
}

// registerSign: C0 E4 00 00 10 random[4] ‖ fiscal card no[8] ‖ MAC1[4] → MAC2[4].
func (c *Card) registerSign(cmd card.Command) ([]byte, card.SW) {
	d := cmd.Data
	if len(d) != GetRegisterNBLen {
		return nil, card.SWWrongLength
	}
	r, no, mac1 := d[0:4], d[4:12], d[12:16]
	if !c.knowsFiscalCard(no) {
		return nil, card.SWIncorrectData
	}
	want, err := c.opts.Profile.RegistrationMAC1(no, r)
	if err != nil {
		return nil, cryptoSW(err)
	}
	if subtle.ConstantTimeCompare(want, mac1) != 1 {
		return nil, card.SWMACError
	}
	mac2, err := c.opts.Profile.RegistrationMAC2(no, r)
	if err != nil {
		return nil, cryptoSW(err)
	}
	return mac2, card.SWOK
}

// dataCollect: C0 E6 00 00 DC fiscal card no[8] ‖ declaration[70] ‖
// DECLARE_DUTY response without XOR[141] ‖ XOR.
func (c *Card) dataCollect(cmd card.Command) ([]byte, card.SW) {
	d := cmd.Data
	if len(d) != DataCollectLen {
		return nil, card.SWWrongLength
	}
	if !xorOK(d) {
		return nil, card.SWIncorrectData
	}
	no := d[0:8]
	if !c.knowsFiscalCard(no) {
		return nil, card.SWIncorrectData
	}
	// body = declaration ‖ totals ‖ status ‖ MAC1, as the fiscal card MACed and signed it.
	body := d[8 : 8+DeclarationLen+9+MACLen]
	mac, sig := body[len(body)-MACLen:], d[8+len(body):DataCollectLen-1]
	want, err := c.opts.Profile.DeclarationMAC(no, body[:len(body)-MACLen])
	if err != nil {
		return nil, cryptoSW(err)
	}
	if subtle.ConstantTimeCompare(want, mac) != 1 {
		return nil, card.SWMACError
	}
	if err := c.opts.Profile.VerifySignature(no, body, sig); err != nil {
		return nil, card.SWMACError
	}
	f := c.st.file(4)
	free := -1
	for i, r := range f.Records {
		if r[uEF04Flag] == DeclarationPending && bytes.Equal(r[1:9], no) {
			return nil, card.SWStatusInvalid
		}
		if r[uEF04Flag] != DeclarationPending && free < 0 {
			free = i
		}
	}
	rec := make([]byte, 0, UserEF04RecLen)
	rec = append(rec, DeclarationPending)
	rec = append(rec, d[:DataCollectLen-1]...)
	switch {
	case len(f.Records) < UserEF04MaxRec:
		f.Records = append(f.Records, rec)
	case free >= 0:
		f.Records[free] = rec
	default:
		return nil, card.SWNotEnoughSpace
	}
	return nil, card.SWOK
}

// distributeInvoiceNB: C0 E9 00 00 16 → code[10] ‖ start ‖ end ‖ MAC[4].
func (c *Card) distributeInvoiceNB(cmd card.Command) ([]byte, card.SW) {
	if len(cmd.Data) != 0 {
		return nil, card.SWWrongLength
	}
	f := c.st.file(5)
	if len(f.Records) == 0 {
		return nil, card.SWLimitOrNoInvoice
	}
	r := f.Records[0]
	start, end, count := u32(r[uEF05Start:]), u32(r[uEF05End:]), uint32(u16(r[uEF05Count:]))
	if count == 0 || start == 0 || start > end || (end-start+1)/count == 0 {
		return nil, card.SWNoData // malformed purchase record
	}
	rollEnd := end
	if count > 1 {
		rollEnd = start + (end-start+1)/count - 1
	}
	roll := make([]byte, 0, RollLen)
	roll = append(roll, r[uEF05Code:uEF05Code+10]...)
	roll = bePut32(roll, start)
	roll = bePut32(roll, rollEnd)
	mac, err := c.opts.Profile.RollMAC(c.userTaxpayerNo(), roll)
	if err != nil {
		return nil, cryptoSW(err)
	}
	out := append(roll, mac...)
	copy(c.ef(7), out)
	if count == 1 {
		f.Records = f.Records[1:]
	} else {
		putU32(r[uEF05Start:], rollEnd+1)
		putU16(r[uEF05Count:], uint16(count-1))
	}
	return append([]byte(nil), out...), card.SWOK
}
