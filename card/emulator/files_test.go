package emulator

import (
	"bytes"
	"testing"

	"github.com/fiscalkit/gb18240/card"
)

func TestFileSystem(t *testing.T) {
	cs := newSet(t, nil)
	f, u := cs.Fiscal, cs.User
	// Before SELECT: files are not found.
	_, sw := do(t, f, card.Command{INS: card.INSReadBinary, P1: 0x82, Ne: 10})
	wantSW(t, "READ BINARY before SELECT", sw, card.SWFileNotFound)
	_, sw = do(t, f, card.Command{INS: card.INSSelect, P1: 4, Data: []byte("TID01")})
	wantSW(t, "SELECT other card's DF", sw, card.SWFileNotFound)
	_, sw = do(t, f, card.Command{INS: card.INSSelect, P1: 4, P2: 0x0C, Data: []byte("TSAM01")})
	wantSW(t, "SELECT by name P2=0C", sw, card.SWOK)
	_, sw = do(t, f, card.Command{INS: card.INSSelect, P1: 8, Data: []byte("TSAM01")})
	wantSW(t, "SELECT P1=08", sw, card.SWWrongP1P2)
	_, sw = do(t, f, card.Command{INS: card.INSSelect, Data: []byte{0xEF, 0x09}})
	wantSW(t, "SELECT EF09", sw, card.SWFileNotFound)
	_, sw = do(t, f, card.Command{INS: card.INSSelect, Data: []byte{0xEF}})
	wantSW(t, "SELECT 1-byte FID", sw, card.SWWrongLength)
	_, sw = do(t, f, card.Command{INS: card.INSReadBinary, Ne: 10})
	wantSW(t, "READ BINARY without current EF", sw, card.SWNoCurrentEF)
	_, sw = do(t, f, card.Command{INS: card.INSSelect, Data: []byte{0xEF, 0x02}})
	wantSW(t, "SELECT EF02", sw, card.SWOK)

	// READ BINARY of the current EF at an offset: the card number.
	data, sw := do(t, f, card.Command{INS: card.INSReadBinary, P2: 2, Ne: 8})
	wantSW(t, "READ BINARY offset 2", sw, card.SWOK)
	if !bytes.Equal(data, cs.Options.FiscalCardNo[:]) {
		t.Fatalf("card no % X", data)
	}
	var info card.AppInfo
	if err := info.UnmarshalBinary(readBinary(t, f, 2, 103)); err != nil || info.Registered || info.CardNumber != cs.Options.FiscalCardNo {
		t.Fatalf("EF02 %+v %v", info, err)
	}
	// Le past the end: 6C with what is there; offset past the end: 6B00.
	if got := raw(t, f, unhex(t, "00B0006440")); !bytes.Equal(got, []byte{0x6C, 0x03}) {
		t.Fatalf("READ BINARY past end: % X", got)
	}
	if got := raw(t, f, unhex(t, "00B0006808")); !bytes.Equal(got, []byte{0x6B, 0x00}) {
		t.Fatalf("READ BINARY offset 104: % X", got)
	}
	// Le=00 reads to the end of the file.
	data, sw = do(t, f, card.Command{INS: card.INSReadBinary, P1: 0x80 | 1, Ne: 256})
	wantSW(t, "READ BINARY Le=00", sw, card.SWOK)
	if len(data) != 23 {
		t.Fatalf("Le=00 gave %d bytes", len(data))
	}
	_, sw = do(t, f, card.Command{INS: card.INSReadBinary, P1: 0x80 | 1})
	wantSW(t, "READ BINARY without Le", sw, card.SWWrongLength)
	_, sw = do(t, f, card.Command{INS: card.INSReadBinary, P1: 0x80 | 9, Ne: 1})
	wantSW(t, "READ BINARY SFI 9", sw, card.SWFileNotFound)
	_, sw = do(t, f, card.Command{INS: card.INSReadBinary, P1: 0x80, Ne: 1})
	wantSW(t, "READ BINARY SFI 0", sw, card.SWWrongP1P2)
	// The fiscal card's files are written only by its own commands.
	_, sw = do(t, f, card.Command{INS: card.INSUpdateBinary, P1: 0x81, Data: []byte{1}})
	wantSW(t, "UPDATE BINARY fiscal EF01", sw, card.SWSecurityStatus)
	// Record commands on a binary file: 6981.
	_, sw = do(t, f, card.Command{INS: card.INSReadRecord, P1: 1, P2: 2<<3 | 4, Ne: 10})
	wantSW(t, "READ RECORD on binary", sw, card.SWFileTypeError)

	selectApp(t, u)
	rec, sw := do(t, u, card.Command{INS: card.INSReadRecord, P1: 1, P2: 6<<3 | 4, Ne: 18})
	wantSW(t, "READ RECORD EF06", sw, card.SWOK)
	var m card.MachineRecord
	if err := m.UnmarshalBinary(rec); err != nil || m.FiscalCard != cs.Options.FiscalCardNo || m.Machine != cs.Options.MachineNo {
		t.Fatalf("EF06 %+v %v", m, err)
	}
	_, sw = do(t, u, card.Command{INS: card.INSReadRecord, P1: 2, P2: 6<<3 | 4, Ne: 18})
	wantSW(t, "READ RECORD 2", sw, card.SWRecordNotFound)
	if got := raw(t, u, unhex(t, "00B2013410")); !bytes.Equal(got, []byte{0x6C, 0x12}) {
		t.Fatalf("READ RECORD wrong Le: % X", got)
	}
	_, sw = do(t, u, card.Command{INS: card.INSReadRecord, P1: 1, P2: 6<<3 | 5, Ne: 18})
	wantSW(t, "READ RECORD P2 mode 5", sw, card.SWWrongP1P2)
	_, sw = do(t, u, card.Command{INS: card.INSReadBinary, P1: 0x86, Ne: 18})
	wantSW(t, "READ BINARY on record file", sw, card.SWFileTypeError)
	// Tax items in EF03.
	_, sw = do(t, u, card.Command{INS: card.INSReadRecord, P1: 1, P2: 3<<3 | 4, Ne: 0})
	if sw != card.SWWrongLength {
		t.Fatalf("READ RECORD without Le: %v", sw)
	}
	rec, sw = do(t, u, card.Command{INS: card.INSReadRecord, P1: 1, P2: 3<<3 | 4, Ne: 256})
	wantSW(t, "READ RECORD Le=00", sw, card.SWOK)
	if len(rec) != 47 || rec[0] != 1 {
		t.Fatalf("tax item % X", rec)
	}
	_, sw = do(t, u, card.Command{CLA: 0, INS: 0x0E})
	wantSW(t, "unknown INS", sw, card.SWInsNotSupported)
	if got := raw(t, u, []byte{0x00, 0xA4}); !bytes.Equal(got, []byte{0x67, 0x00}) {
		t.Fatalf("2-byte APDU: % X", got)
	}
}

func TestUserCardPINGuardsWrites(t *testing.T) {
	cs := newSet(t, nil)
	u := cs.User
	selectApp(t, u)
	item := make([]byte, 47)
	item[0] = 2
	_, sw := do(t, u, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: item})
	wantSW(t, "APPEND RECORD without PIN", sw, card.SWSecurityStatus)
	_, sw = do(t, u, card.Command{INS: card.INSUpdateBinary, P1: 0x87, Data: make([]byte, 22)})
	wantSW(t, "UPDATE BINARY without PIN", sw, card.SWSecurityStatus)
	_, sw = do(t, u, card.Command{INS: card.INSVerify})
	wantSW(t, "VERIFY status", sw, card.SWRetriesLeft(3))
	_, sw = do(t, u, card.Command{INS: card.INSVerify, P2: 1, Data: []byte("87654321")})
	wantSW(t, "wrong PIN", sw, card.SWRetriesLeft(2))
	_, sw = do(t, u, card.Command{INS: card.INSVerify, P2: 1, Data: []byte("1234567")})
	wantSW(t, "7-byte PIN", sw, card.SWWrongLength)
	_, sw = do(t, u, card.Command{INS: card.INSVerify, P2: 9, Data: []byte("12345678")})
	wantSW(t, "PIN id 9", sw, card.SWWrongP1P2)
	_, sw = do(t, u, card.Command{INS: card.INSVerify, P2: 1, Data: []byte("12345678")})
	wantSW(t, "right PIN", sw, card.SWOK)
	_, sw = do(t, u, card.Command{INS: card.INSVerify})
	wantSW(t, "VERIFY status after", sw, card.SWOK)
	_, sw = do(t, u, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: item})
	wantSW(t, "APPEND RECORD", sw, card.SWOK)
	_, sw = do(t, u, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: item[:46]})
	wantSW(t, "APPEND RECORD short", sw, card.SWWrongLength)
	for range 4 {
		do(t, u, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: item})
	}
	_, sw = do(t, u, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: item})
	wantSW(t, "APPEND RECORD full", sw, card.SWNotEnoughSpace)
	item[0] = 9
	_, sw = do(t, u, card.Command{INS: card.INSUpdateRecord, P1: 2, P2: 3<<3 | 4, Data: item})
	wantSW(t, "UPDATE RECORD", sw, card.SWOK)
	rec, _ := do(t, u, card.Command{INS: card.INSReadRecord, P1: 2, P2: 3<<3 | 4, Ne: 47})
	if rec[0] != 9 {
		t.Fatalf("record 2 % X", rec)
	}
	_, sw = do(t, u, card.Command{INS: card.INSUpdateRecord, P1: 7, P2: 3<<3 | 4, Data: item})
	wantSW(t, "UPDATE RECORD 7", sw, card.SWRecordNotFound)
	_, sw = do(t, u, card.Command{INS: card.INSUpdateBinary, P1: 0x87, P2: 20, Data: make([]byte, 3)})
	wantSW(t, "UPDATE BINARY past end", sw, card.SWWrongLength)
	// Three wrong PINs block it; writes then answer 6983.
	for _, want := range []card.SW{card.SWRetriesLeft(2), card.SWRetriesLeft(1), card.SWAuthBlocked} {
		_, sw = do(t, u, card.Command{INS: card.INSVerify, P2: 1, Data: []byte("00000000")})
		wantSW(t, "wrong PIN", sw, want)
	}
	_, sw = do(t, u, card.Command{INS: card.INSUpdateRecord, P1: 1, P2: 3<<3 | 4, Data: item})
	wantSW(t, "write when blocked", sw, card.SWAuthBlocked)
}

func TestCheckCardAuthentication(t *testing.T) {
	cs, _ := initSet(t, nil)
	f, c := cs.Fiscal, cs.Check
	selectApp(t, c)
	var ci card.CheckInfo
	if err := ci.UnmarshalBinary(readBinary(t, c, 1, 10)); err != nil || ci.KeyID != 1 || ci.TaxpayerNo != cs.Options.TaxpayerNo {
		t.Fatalf("check EF01 %+v %v", ci, err)
	}
	var ca card.CheckAuth
	if err := ca.UnmarshalBinary(readBinary(t, c, 2, 17)); err != nil || string(ca.AuthCode[:]) != "CHECK001" {
		t.Fatalf("check EF02 %+v %v", ca, err)
	}
	rec := make([]byte, 233)
	_, sw := do(t, c, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: rec})
	wantSW(t, "APPEND RECORD before authentication", sw, card.SWSecurityStatus)
	_, sw = do(t, c, card.Command{INS: card.INSExternalAuth, P2: 1, Data: make([]byte, 8)})
	wantSW(t, "EXTERNAL AUTH without challenge", sw, card.SWConditionsNotSatisfied)

	auth := func() card.SW {
		chal, sw := do(t, c, card.Command{INS: card.INSGetChallenge, Ne: 8})
		wantSW(t, "GET CHALLENGE", sw, card.SWOK)
		crypt, sw := do(t, f, card.Command{INS: card.INSInternalAuth, P2: ci.KeyID, Data: chal, Ne: 8})
		wantSW(t, "INTERNAL AUTHENTICATE", sw, card.SWOK)
		_, sw = do(t, c, card.Command{INS: card.INSExternalAuth, P2: ci.KeyID, Data: crypt})
		return sw
	}
	// A wrong cryptogram counts down.
	do(t, c, card.Command{INS: card.INSGetChallenge, Ne: 8})
	_, sw = do(t, c, card.Command{INS: card.INSExternalAuth, P2: 1, Data: make([]byte, 8)})
	wantSW(t, "wrong cryptogram", sw, card.SWRetriesLeft(2))
	do(t, c, card.Command{INS: card.INSGetChallenge, Ne: 8})
	_, sw = do(t, c, card.Command{INS: card.INSExternalAuth, P2: 2, Data: make([]byte, 8)})
	wantSW(t, "key id not in EF01", sw, card.SWRefDataNotFound)
	_, sw = do(t, f, card.Command{INS: card.INSInternalAuth, P2: 7, Data: make([]byte, 8), Ne: 8})
	wantSW(t, "INTERNAL AUTH unknown key", sw, card.SWRefDataNotFound)
	_, sw = do(t, c, card.Command{INS: card.INSGetChallenge, Ne: 16})
	wantSW(t, "GET CHALLENGE Le=16", sw, card.SWWrongLe(8))
	wantSW(t, "authentication", auth(), card.SWOK)

	rec[0] = 0x20
	_, sw = do(t, c, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: rec})
	wantSW(t, "APPEND RECORD", sw, card.SWOK)
	got, sw := do(t, c, card.Command{INS: card.INSReadRecord, P1: 1, P2: 3<<3 | 4, Ne: 233})
	wantSW(t, "READ RECORD", sw, card.SWOK)
	if !bytes.Equal(got, rec) {
		t.Fatal("EF03 record differs")
	}
	rec[1] = 0x26
	_, sw = do(t, c, card.Command{INS: card.INSUpdateRecord, P1: 1, P2: 3<<3 | 4, Data: rec})
	wantSW(t, "UPDATE RECORD", sw, card.SWOK)
	// EF01 needs the PIN, not authentication.
	_, sw = do(t, c, card.Command{INS: card.INSUpdateBinary, P1: 0x81, Data: []byte{1}})
	wantSW(t, "UPDATE BINARY EF01", sw, card.SWSecurityStatus)
	// Authentication does not survive a reset.
	c.Reset()
	selectApp(t, c)
	_, sw = do(t, c, card.Command{INS: card.INSAppendRecord, P2: 3 << 3, Data: rec})
	wantSW(t, "APPEND RECORD after reset", sw, card.SWSecurityStatus)
	// Blocked after 3 failures.
	for _, want := range []card.SW{card.SWRetriesLeft(2), card.SWRetriesLeft(1), card.SWAuthBlocked, card.SWAuthBlocked} {
		do(t, c, card.Command{INS: card.INSGetChallenge, Ne: 8})
		_, sw = do(t, c, card.Command{INS: card.INSExternalAuth, P2: 1, Data: make([]byte, 8)})
		wantSW(t, "wrong cryptogram", sw, want)
	}
	// The INS of other cards are not there.
	_, sw = do(t, c, card.Command{INS: card.INSInternalAuth, P2: 1, Data: make([]byte, 8), Ne: 8})
	wantSW(t, "INTERNAL AUTH on check card", sw, card.SWInsNotSupported)
	_, sw = do(t, c, prop(card.INSRegisterSign, make([]byte, 16), 4))
	wantSW(t, "proprietary on check card", sw, card.SWInsNotSupported)
}
