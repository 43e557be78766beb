package vpcd_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/vpcd"
	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
)

func TestServesTheEmulator(t *testing.T) {
	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeVPCD(t)
	ev := newEvents()
	s := vpcd.NewSlot(&vpcd.Options{Addr: f.addr(), OnEvent: ev.add, RetryInterval: 10 * time.Millisecond})
	s.Insert(set.Fiscal)
	startSlot(t, s)
	conn := f.accept()

	conn.send(vpcd.CtrlPowerOn)
	if got := conn.call(vpcd.CtrlGetATR); !bytes.Equal(got, set.Fiscal.ATR()) {
		t.Errorf("ATR % X, want the emulator's % X", got, set.Fiscal.ATR())
	}
	sel := append([]byte{0x00, 0xA4, 0x04, 0x00, byte(len(card.DFNameFiscal))}, card.DFNameFiscal...)
	if got := conn.call(sel...); !bytes.Equal(got[len(got)-2:], []byte{0x90, 0x00}) {
		t.Fatalf("SELECT TSAM01 answered % X", got)
	}
	// GET_REGISTER_NB: the emulator answers T=0 style, 61xx; it must
	// reach vpcd unchanged, and GET RESPONSE then gives the data.
	got := conn.call(card.CLAProprietary, card.INSGetRegisterNB, 0, 0, emulator.GetRegisterNBLen)
	if len(got) != 2 || got[0] != 0x61 {
		t.Fatalf("GET_REGISTER_NB answered % X, want 61xx", got)
	}
	got = conn.call(0x00, 0xC0, 0x00, 0x00, got[1])
	if len(got) != emulator.GetRegisterNBLen+2 || !bytes.Equal(got[len(got)-2:], []byte{0x90, 0x00}) {
		t.Fatalf("GET RESPONSE answered % X", got)
	}
	// Reset: the session (selected application) is gone.
	conn.send(vpcd.CtrlReset)
	ev.waitFor(t, vpcd.Reset)
	if got := conn.call(card.CLAProprietary, card.INSGetRegisterNB, 0, 0, emulator.GetRegisterNBLen); bytes.Equal(got[len(got)-2:], []byte{0x90, 0x00}) || got[0] == 0x61 {
		t.Errorf("after a reset GET_REGISTER_NB still works without SELECT: % X", got)
	}
	// Power off: the emulator gives no answer, so the card leaves the reader.
	conn.send(vpcd.CtrlPowerOff)
	conn.send(sel...)
	conn.expectClosed()
	d := ev.waitFor(t, vpcd.Disconnected)
	var ce *vpcd.CardError
	if !errors.As(d.Err, &ce) || !errors.Is(d.Err, emulator.ErrPoweredOff) {
		t.Errorf("APDU to a powered-off emulator: %v, want a *CardError wrapping emulator.ErrPoweredOff", d.Err)
	}
}
