package emulator

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/fiscal"
)

// PurchasedRoll is a batch of invoices bought at the tax office (领购), one
// user-card EF05 record: Rolls rolls that split Start..End evenly (the last
// roll takes any remainder). Rolls 0 means 1.
type PurchasedRoll struct {
	Code       fiscal.InvoiceCode
	Start, End uint32
	Rolls      int
}

// IssueOptions describes the card set the tax office personalises for one
// taxpayer and one machine. Every zero field takes the default documented
// on it, so IssueOptions{} gives a working demonstration set.
type IssueOptions struct {
	// Options apply to all three cards (profile, T=1 style, randomness,
	// PIN tries).
	Options Options

	FiscalCardNo fiscal.CardNumber    // default 1100000000000001
	MachineNo    fiscal.MachineNumber // default 2200000000000001
	TaxpayerNo   fiscal.CardNumber    // default 3300000000000001
	TaxpayerID   string               // 纳税人识别号, default "440300000000001"
	TaxpayerName string               // 纳税人名称, default "深圳市示例商店"
	OfficeCode   [4]byte              // 主管分局代码, default 44 03 00 01
	DeclareMode  byte                 // 申报方式

	// AppStart and AppValid bound the application; defaults 2026-01-01 and
	// 2031-12-31.
	AppStart, AppValid fiscal.Date

	// Controls are the control data (deadline, limits, tax indexes) the
	// tax office writes, encrypted, to the user card's EF01 for the first
	// UPDATE_CONTROLS. Zero fields default to: deadline 2027-12-31, single
	// limit 1 000 000 fen, cumulative 100 000 000 fen, returns 10 000 000
	// fen, the indexes of TaxItems.
	Controls fiscal.ControlData
	// ControlKeyID is the key id of the control data; default 1.
	ControlKeyID byte
	// PreloadControls also writes Controls in clear into the fiscal card's
	// EF01, as if UPDATE_CONTROLS had already run.
	PreloadControls bool

	// TaxItems go to user EF03 (at most 6); default one item, index 1,
	// "餐饮服务" at 5 %.
	TaxItems []fiscal.TaxItem
	// Rolls go to user EF05 (at most 10); default one batch, code
	// 1440000000, numbers 1..1000 in 2 rolls.
	Rolls []PurchasedRoll

	// UserPIN and CheckPIN are the 8-byte PINs of the user and check
	// cards; default ASCII "12345678".
	UserPIN, CheckPIN [8]byte
	// CheckType is the inspection type of the check card (card.CheckType).
	CheckType card.CheckType
	// CheckKeyID is the check card's authentication key id; default 1.
	CheckKeyID byte
	// CheckAuthCode is the check card's 认证码; default ASCII "CHECK001".
	CheckAuthCode [8]byte
	// CheckValid is the check card's valid-until date; default AppValid.
	CheckValid fiscal.Date
}

// CardSet is a matching fiscal, user and check card, as issued together.
type CardSet struct {
	Fiscal, User, Check *Card
	// Profile is the crypto profile of the three cards.
	Profile Profile
	// Options are the options the set was issued with, defaults filled in.
	Options IssueOptions
}

// Verifier returns a Verifier for the set's profile.
func (cs *CardSet) Verifier() Verifier { return Verifier{Profile: cs.Profile} }

func mustBCD(s string) [8]byte {
	var out [8]byte
	for i := range 8 {
		out[i] = (s[2*i]-'0')<<4 | (s[2*i+1] - '0')
	}
	return out
}

func (o *IssueOptions) fill() {
	o.Options = o.Options.withDefaults()
	if _, ok := o.Options.Rand.(*lockedReader); !ok {
		o.Options.Rand = &lockedReader{r: o.Options.Rand}
	}
	if o.FiscalCardNo == (fiscal.CardNumber{}) {
		o.FiscalCardNo = mustBCD("1100000000000001")
	}
	if o.MachineNo == (fiscal.MachineNumber{}) {
		o.MachineNo = mustBCD("2200000000000001")
	}
	if o.TaxpayerNo == (fiscal.CardNumber{}) {
		o.TaxpayerNo = mustBCD("3300000000000001")
	}
	if o.TaxpayerID == "" {
		o.TaxpayerID = "440300000000001"
	}
	if o.TaxpayerName == "" {
		o.TaxpayerName = "深圳市示例商店"
	}
	if o.OfficeCode == ([4]byte{}) {
		o.OfficeCode = [4]byte{0x44, 0x03, 0x00, 0x01}
	}
	if o.AppStart.IsZero() {
		o.AppStart = fiscal.MustDate(2026, time.January, 1)
	}
	if o.AppValid.IsZero() {
		o.AppValid = fiscal.MustDate(2031, time.December, 31)
	}
	if len(o.TaxItems) == 0 {
		o.TaxItems = []fiscal.TaxItem{{Index: 1, Code: [4]byte{'0', '1', '0', '1'}, Rate: 500, NameCN: "餐饮服务", NameEN: "Catering"}}
	}
	c := &o.Controls
	if c.Deadline.IsZero() {
		c.Deadline = fiscal.MustDate(2027, time.December, 31)
	}
	if c.SingleLimit == 0 {
		c.SingleLimit = 1_000_000
	}
	if c.TotalLimit == 0 {
		c.TotalLimit = 100_000_000
	}
	if c.ReturnLimit == 0 {
		c.ReturnLimit = 10_000_000
	}
	if c.Indexes == (fiscal.TaxIndexes{}) {
		for i, t := range o.TaxItems {
			if i < fiscal.MaxTaxItems {
				c.Indexes[i] = t.Index
			}
		}
	}
	if o.ControlKeyID == 0 {
		o.ControlKeyID = 1
	}
	if len(o.Rolls) == 0 {
		o.Rolls = []PurchasedRoll{{Code: fiscal.InvoiceCode([]byte("1440000000")), Start: 1, End: 1000, Rolls: 2}}
	}
	if o.UserPIN == ([8]byte{}) {
		o.UserPIN = [8]byte([]byte("12345678"))
	}
	if o.CheckPIN == ([8]byte{}) {
		o.CheckPIN = [8]byte([]byte("12345678"))
	}
	if o.CheckKeyID == 0 {
		o.CheckKeyID = 1
	}
	if o.CheckAuthCode == ([8]byte{}) {
		o.CheckAuthCode = [8]byte([]byte("CHECK001"))
	}
	if o.CheckValid.IsZero() {
		o.CheckValid = o.AppValid
	}
}

// ErrIssue means IssueOptions describe a card set that cannot be made.
var ErrIssue = errors.New("emulator: cannot issue card set")

func issueErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIssue, fmt.Sprintf(format, args...))
}

// Issue personalises a matching card set (what the tax office does):
//
//   - fiscal card: EF02 application information, unregistered; EF01 empty
//     unless PreloadControls; no roll loaded.
//   - user card: EF01 one control record for the fiscal card (Controls
//     encrypted under ControlKeyID, with MAC2), EF02 user information, EF03
//     tax items, EF05 purchased rolls, EF06 the (machine, fiscal card)
//     pair, PIN UserPIN.
//   - check card: EF01 taxpayer, check type, key id; EF02 认证码 and dates;
//     PIN CheckPIN.
func Issue(opts IssueOptions) (*CardSet, error) {
	opts.fill()
	p := opts.Options.Profile
	tries := opts.Options.PINRetries
	if len(opts.TaxItems) > UserEF03MaxRec {
		return nil, issueErr("%d tax items, at most %d", len(opts.TaxItems), UserEF03MaxRec)
	}
	if len(opts.Rolls) > UserEF05MaxRec {
		return nil, issueErr("%d roll batches, at most %d", len(opts.Rolls), UserEF05MaxRec)
	}
	if opts.AppValid.Before(opts.AppStart) || opts.Controls.Deadline.Before(opts.AppStart) {
		return nil, issueErr("dates out of order: start %v, valid %v, deadline %v", opts.AppStart, opts.AppValid, opts.Controls.Deadline)
	}

	// Fiscal card.
	f := newState(KindFiscal, p.Name(), tries)
	info, err := card.AppInfo{
		CardNumber: opts.FiscalCardNo, MachineNumber: opts.MachineNo, TaxpayerNo: opts.TaxpayerNo,
		TaxpayerID: opts.TaxpayerID, Start: opts.AppStart, Valid: opts.AppValid, AppType: 0x01, AppVersion: 0x01,
		TaxpayerName: opts.TaxpayerName, OfficeCode: opts.OfficeCode, DeclareMode: opts.DeclareMode,
	}.MarshalBinary()
	if err != nil {
		return nil, issueErr("fiscal EF02: %v", err)
	}
	copy(f.file(2).Data, info)
	controls, err := opts.Controls.MarshalBinary()
	if err != nil {
		return nil, issueErr("control data: %v", err)
	}
	if opts.PreloadControls {
		copy(f.file(1).Data, controls)
	}

	// User card.
	u := newState(KindUser, p.Name(), tries)
	u.PIN = append([]byte(nil), opts.UserPIN[:]...)
	rec, err := controlRecord(p, opts.FiscalCardNo, opts.ControlKeyID, controls, 1)
	if err != nil {
		return nil, err
	}
	u.file(1).Records = [][]byte{rec}
	uinfo, err := card.UserInfo{
		Machines: 1, TaxpayerNo: opts.TaxpayerNo, Start: opts.AppStart, Valid: opts.AppValid, AppType: 0x01,
		AppVersion: 0x01, DeclareMode: opts.DeclareMode, TaxpayerName: opts.TaxpayerName,
		TaxpayerID: opts.TaxpayerID, OfficeCode: opts.OfficeCode,
	}.MarshalBinary()
	if err != nil {
		return nil, issueErr("user EF02: %v", err)
	}
	copy(u.file(2).Data, uinfo)
	for _, t := range opts.TaxItems {
		b, err := t.MarshalBinary()
		if err != nil {
			return nil, issueErr("tax item %d: %v", t.Index, err)
		}
		u.file(3).Records = append(u.file(3).Records, b)
	}
	for _, r := range opts.Rolls {
		b, err := purchaseRecord(r)
		if err != nil {
			return nil, err
		}
		u.file(5).Records = append(u.file(5).Records, b)
	}
	m, err := card.MachineRecord{Machine: opts.MachineNo, FiscalCard: opts.FiscalCardNo, DailyFile: 0x0004}.MarshalBinary()
	if err != nil {
		return nil, issueErr("user EF06: %v", err)
	}
	u.file(6).Records = [][]byte{m}

	// Check card.
	ch := newState(KindCheck, p.Name(), tries)
	ch.PIN = append([]byte(nil), opts.CheckPIN[:]...)
	ci, err := card.CheckInfo{TaxpayerNo: opts.TaxpayerNo, Type: opts.CheckType, KeyID: opts.CheckKeyID}.MarshalBinary()
	if err != nil {
		return nil, issueErr("check EF01: %v", err)
	}
	copy(ch.file(1).Data, ci)
	ca, err := card.CheckAuth{AuthCode: opts.CheckAuthCode, Issued: opts.AppStart, Valid: opts.CheckValid}.MarshalBinary()
	if err != nil {
		return nil, issueErr("check EF02: %v", err)
	}
	copy(ch.file(2).Data, ca)

	return &CardSet{
		Fiscal:  newCard(f, opts.Options),
		User:    newCard(u, opts.Options),
		Check:   newCard(ch, opts.Options),
		Profile: p,
		Options: opts,
	}, nil
}

// controlRecord builds a user EF01 record: card no ‖ key id ‖
// Encrypt(controls ‖ counter) ‖ MAC2.
func controlRecord(p Profile, fiscalCard fiscal.CardNumber, keyID byte, controls []byte, counter byte) ([]byte, error) {
	plain := append(append(make([]byte, 0, ControlsPlainLen), controls...), counter)
	ct, err := p.EncryptControls(fiscalCard[:], keyID, plain)
	if err != nil {
		return nil, issueErr("encrypting control data: %v", err)
	}
	mac, err := p.ControlsMAC(fiscalCard[:], keyID, ct)
	if err != nil {
		return nil, issueErr("control data MAC2: %v", err)
	}
	return cat(fiscalCard[:], []byte{keyID}, ct, mac), nil
}

func purchaseRecord(r PurchasedRoll) ([]byte, error) {
	if r.Rolls == 0 {
		r.Rolls = 1
	}
	if r.Rolls < 0 || r.Rolls > 0xFFFF || r.Start == 0 || r.End < r.Start || uint64(r.End-r.Start)+1 < uint64(r.Rolls) {
		return nil, issueErr("roll batch %s %d..%d in %d rolls", r.Code, r.Start, r.End, r.Rolls)
	}
	b, err := card.PurchaseRecord{Roll: fiscal.Roll{Code: r.Code, Start: r.Start, End: r.End}, Rolls: r.Rolls}.MarshalBinary()
	if err != nil {
		return nil, issueErr("roll batch: %v", err)
	}
	return b, nil
}

// ProcessDeclarations is the tax office's side of 报税/完税: every pending
// declaration record in the user card's EF04 is marked processed, and the
// control record of the set's fiscal card in EF01 is replaced by next,
// encrypted under the set's control key id, for the next UPDATE_CONTROLS.
// Its update counter is one more than the larger of the replaced record's
// and the one the fiscal card last applied (Issue writes counter 1), so
// the fiscal card accepts it and refuses every older record; after 255
// updates it fails with ErrIssue. It returns how many declarations it
// processed.
//
// A CardSet built by hand (not by Issue or LoadCardSet) works too: a zero
// Options.FiscalCardNo is read from the fiscal card's EF02 and a zero
// ControlKeyID from the user card's current record (else 1).
func (cs *CardSet) ProcessDeclarations(next fiscal.ControlData) (int, error) {
	plain, err := next.MarshalBinary()
	if err != nil {
		return 0, issueErr("control data: %v", err)
	}
	if cs.User == nil || cs.Profile == nil {
		return 0, issueErr("card set without user card or profile")
	}
	no := cs.Options.FiscalCardNo
	applied := 0 // update counter last applied by the fiscal card
	if cs.Fiscal != nil {
		cs.Fiscal.mu.Lock()
		if no == (fiscal.CardNumber{}) {
			copy(no[:], cs.Fiscal.fiscalCardNo())
		}
		applied = cs.Fiscal.st.ControlsCounter
		cs.Fiscal.mu.Unlock()
	}
	u := cs.User
	u.mu.Lock()
	defer u.mu.Unlock()
	keyID := cs.Options.ControlKeyID
	last := applied
	for _, r := range u.st.file(1).Records {
		if string(r[:CardNoLen]) != string(no[:]) {
			continue
		}
		if cs.Options.ControlKeyID == 0 {
			keyID = r[CardNoLen]
		}
		if old, err := cs.Profile.DecryptControls(no[:], r[CardNoLen], r[CardNoLen+1:CardNoLen+1+CipherLen]); err == nil && len(old) == ControlsPlainLen {
			last = max(last, int(old[ControlsLen]))
		}
	}
	if keyID == 0 {
		keyID = 1
	}
	if last >= 0xFF {
		return 0, issueErr("control update counter of fiscal card %s exhausted (255 updates)", no)
	}
	rec, err := controlRecord(cs.Profile, no, keyID, plain, byte(last+1))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range u.st.file(4).Records {
		if r[uEF04Flag] == DeclarationPending {
			r[uEF04Flag] = DeclarationProcessed
			n++
		}
	}
	f := u.st.file(1)
	for i, r := range f.Records {
		if string(r[:CardNoLen]) == string(no[:]) {
			f.Records[i] = rec
			return n, nil
		}
	}
	if len(f.Records) >= UserEF01MaxRec {
		return n, issueErr("user EF01 full")
	}
	f.Records = append(f.Records, rec)
	return n, nil
}

// PurchaseRolls adds invoice batches to the user card's EF05 (领购).
func (cs *CardSet) PurchaseRolls(rolls ...PurchasedRoll) error {
	recs := make([][]byte, 0, len(rolls))
	for _, r := range rolls {
		b, err := purchaseRecord(r)
		if err != nil {
			return err
		}
		recs = append(recs, b)
	}
	u := cs.User
	u.mu.Lock()
	defer u.mu.Unlock()
	f := u.st.file(5)
	if len(f.Records)+len(recs) > UserEF05MaxRec {
		return issueErr("user EF05 holds %d batches, capacity %d", len(f.Records), UserEF05MaxRec)
	}
	f.Records = append(f.Records, recs...)
	return nil
}

// Unblock is the tax office's unlocking of a card (税控卡解锁): the PIN and
// authentication try counters are reset to their maximum and an
// application lock is lifted. The fiscal PIN itself is kept.
func (c *Card) Unblock() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.PINTries = c.st.PINMax
	if c.st.Kind == KindCheck {
		c.st.AuthTries = c.st.PINMax
	}
	c.st.Locked = false
}

// UnblockMAC is the tax office's side of the PIN unblock (税控卡解锁): the
// MAC that lets PIN_UNBLOCK (84 24 01 01, card.FiscalCard.UnblockPIN)
// install newPIN on the set's fiscal card. It fails with ErrUnknownKey
// when the set's profile is not an UnblockProfile.
func (cs *CardSet) UnblockMAC(newPIN [PINLen]byte) ([MACLen]byte, error) {
	var out [MACLen]byte
	up, ok := cs.Profile.(UnblockProfile)
	if !ok {
		return out, fmt.Errorf("%w: profile %q has no PIN-unblock key", ErrUnknownKey, cs.Profile.Name())
	}
	no := cs.Options.FiscalCardNo
	if no == (fiscal.CardNumber{}) && cs.Fiscal != nil {
		cs.Fiscal.mu.Lock()
		copy(no[:], cs.Fiscal.fiscalCardNo())
		cs.Fiscal.mu.Unlock()
	}
	mac, err := up.UnblockMAC(no[:], newPIN[:])
	if err != nil {
		return out, err
	}
	if len(mac) != MACLen {
		return out, fmt.Errorf("emulator: unblock MAC of %d bytes", len(mac))
	}
	copy(out[:], mac)
	return out, nil
}

// LockApplication locks the card's application permanently (until
// Unblock): every proprietary command then answers 9303.
func (c *Card) LockApplication() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Locked = true
}

// File names SaveDir writes and LoadCardSet reads.
const (
	FiscalCardFile = "fiscal.card"
	UserCardFile   = "user.card"
	CheckCardFile  = "check.card"
)

// SaveDir writes the three cards' state into dir as FiscalCardFile,
// UserCardFile and CheckCardFile, each atomically (SaveFile).
func (cs *CardSet) SaveDir(dir string) error {
	for name, c := range map[string]*Card{FiscalCardFile: cs.Fiscal, UserCardFile: cs.User, CheckCardFile: cs.Check} {
		if err := c.SaveFile(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// LoadCardSet reads a set written by SaveDir, under opts (whose Profile
// must be the one the set was issued with). The IssueOptions fields the
// tax-office helpers use (card, machine and taxpayer numbers, control key
// id) are taken from the cards themselves; the rest keep their defaults.
func LoadCardSet(dir string, opts Options) (*CardSet, error) {
	opts = opts.withDefaults()
	opts.Rand = &lockedReader{r: opts.Rand}
	var cards [3]*Card
	for i, name := range []string{FiscalCardFile, UserCardFile, CheckCardFile} {
		c, err := LoadFile(filepath.Join(dir, name), opts)
		if err != nil {
			return nil, err
		}
		if want := Kind(i); c.st.Kind != want {
			return nil, badState("%s holds a %s card, want %s", name, c.st.Kind, want)
		}
		cards[i] = c
	}
	o := IssueOptions{Options: opts}
	var info card.AppInfo
	if err := info.UnmarshalBinary(cards[0].st.file(2).Data); err != nil {
		return nil, badState("fiscal EF02: %v", err)
	}
	o.FiscalCardNo, o.MachineNo, o.TaxpayerNo = info.CardNumber, info.MachineNumber, info.TaxpayerNo
	for _, r := range cards[1].st.file(1).Records {
		if string(r[:CardNoLen]) == string(info.CardNumber[:]) {
			o.ControlKeyID = r[CardNoLen]
		}
	}
	o.fill()
	o.Options = opts
	return &CardSet{Fiscal: cards[0], User: cards[1], Check: cards[2], Profile: opts.Profile, Options: o}, nil
}
