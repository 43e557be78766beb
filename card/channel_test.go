package card

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// scripted is a Transmitter that checks each command against an expected
// list and answers with the scripted response.
type scripted struct {
	t     *testing.T
	steps []step
	i     int
}

type step struct{ cmd, resp string }

func (s *scripted) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	s.t.Helper()
	if s.i >= len(s.steps) {
		s.t.Fatalf("unexpected command % X after the script ended", cmd)
	}
	st := s.steps[s.i]
	s.i++
	if want := unhex(s.t, st.cmd); !bytes.Equal(cmd, want) {
		s.t.Fatalf("step %d: command % X, want % X", s.i, cmd, want)
	}
	return unhex(s.t, st.resp), nil
}

func (s *scripted) done() {
	s.t.Helper()
	if s.i != len(s.steps) {
		s.t.Fatalf("script stopped at step %d of %d", s.i, len(s.steps))
	}
}

func TestChannelT0GetResponse(t *testing.T) {
	s := &scripted{t: t, steps: []step{
		{"C0F9000008 0102030405060708 08", "6108"},
		{"00C0000008", "1112131415161718 9000"},
	}}
	var seen []Exchange
	ch := NewChannel(s, &ChannelOptions{Observer: func(e Exchange) { seen = append(seen, e) }})
	d, err := ch.Do(context.Background(), Command{CLA: 0xC0, INS: INSVerifyFiscalPIN, Data: unhex(t, "0102030405060708"), Ne: 8})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d, unhex(t, "1112131415161718")) {
		t.Fatalf("data % X", d)
	}
	s.done()
	if len(seen) != 2 || !bytes.Equal(seen[1].Command, unhex(t, "00C0000008")) || !bytes.Equal(seen[1].Response, unhex(t, "11121314151617189000")) {
		t.Fatalf("observer saw %+v", seen)
	}
}

func TestChannelT0Chained61(t *testing.T) {
	s := &scripted{t: t, steps: []step{
		{"00B0000000", "6100"},
		{"00C0000000", "AAAA 6102"},
		{"00C0000002", "BBBB 9000"},
	}}
	r, err := NewChannel(s, nil).Transmit(context.Background(), Command{INS: INSReadBinary, Ne: 256})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Data, unhex(t, "AAAABBBB")) || r.SW != SWOK {
		t.Fatalf("got %+v", r)
	}
	s.done()
}

func TestChannel6CResend(t *testing.T) {
	s := &scripted{t: t, steps: []step{
		{"00C0000010", "6C08"},
		{"00C0000008", "0102030405060708 9000"},
		{"00B0000004", "6C02"},
		{"00B0000002", "6102"},
		{"00C0000002", "ABCD 9000"},
	}}
	ch := NewChannel(s, nil)
	d, err := ch.GetResponse(context.Background(), 16)
	if err != nil || len(d) != 8 {
		t.Fatalf("GET RESPONSE: % X %v", d, err)
	}
	d, err = ch.Do(context.Background(), Command{INS: INSReadBinary, Ne: 4})
	if err != nil || !bytes.Equal(d, unhex(t, "ABCD")) {
		t.Fatalf("READ BINARY: % X %v", d, err)
	}
	s.done()
}

func TestChannelT1Passthrough(t *testing.T) {
	s := &scripted{t: t, steps: []step{{"C0F9000008 0102030405060708 08", "1112131415161718 9000"}}}
	d, err := NewChannel(s, nil).Do(context.Background(), Command{CLA: 0xC0, INS: INSVerifyFiscalPIN, Data: unhex(t, "0102030405060708"), Ne: 8})
	if err != nil || len(d) != 8 {
		t.Fatalf("% X %v", d, err)
	}
	s.done()
}

func TestChannelFaults(t *testing.T) {
	ctx := context.Background()
	// 6C after a re-send.
	s := &scripted{t: t, steps: []step{{"00B0000004", "6C02"}, {"00B0000002", "6C03"}}}
	_, err := NewChannel(s, nil).Transmit(ctx, Command{INS: INSReadBinary, Ne: 4})
	var te *TransportError
	if !errors.Is(err, ErrWrongLeLoop) || !errors.As(err, &te) {
		t.Fatalf("6C loop: %v", err)
	}
	// Endless 61xx.
	loop := TransmitterFunc(func(context.Context, []byte) ([]byte, error) { return []byte{0x61, 0x01}, nil })
	_, err = NewChannel(loop, &ChannelOptions{MaxGetResponse: 3}).Transmit(ctx, Command{INS: INSReadBinary, Ne: 4})
	if !errors.Is(err, ErrTooManyGetResponse) {
		t.Fatalf("61 loop: %v", err)
	}
	// Short response and transport error.
	short := TransmitterFunc(func(context.Context, []byte) ([]byte, error) { return []byte{0x90}, nil })
	if _, err = NewChannel(short, nil).Transmit(ctx, Command{}); !errors.Is(err, ErrMalformedAPDU) || !errors.As(err, &te) {
		t.Fatalf("short: %v", err)
	}
	gone := errors.New("reader gone")
	broken := TransmitterFunc(func(context.Context, []byte) ([]byte, error) { return nil, gone })
	var seen []Exchange
	if _, err = NewChannel(broken, &ChannelOptions{Observer: func(e Exchange) { seen = append(seen, e) }}).Transmit(ctx, Command{}); !errors.Is(err, gone) {
		t.Fatalf("transport: %v", err)
	}
	if len(seen) != 1 || !errors.Is(seen[0].Err, gone) {
		t.Fatalf("observer: %+v", seen)
	}
	// Cancelled context: nothing sent.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	never := TransmitterFunc(func(context.Context, []byte) ([]byte, error) { called = true; return []byte{0x90, 0}, nil })
	if _, err = NewChannel(never, nil).Transmit(cctx, Command{}); !errors.Is(err, context.Canceled) || called {
		t.Fatalf("cancelled: %v called=%v", err, called)
	}
	// Status errors surface through Do.
	s = &scripted{t: t, steps: []step{{"00A4040006 5453414D3031", "6A82"}}}
	if _, err = NewChannel(s, nil).SelectName(ctx, DFNameFiscal); !errors.Is(err, ErrFileNotFound) {
		t.Fatalf("select: %v", err)
	}
}

func TestISOCommandsGolden(t *testing.T) {
	ctx := context.Background()
	s := &scripted{t: t, steps: []step{
		{"00A4040005 5449443031", "9000"},
		{"00A4000002 EF02", "9000"},
		{"00B0000A04", "6104"}, {"00C0000004", "01020304 9000"},
		{"00B0830010", "00112233445566778899AABBCCDDEEFF 9000"},
		{"00D6000102 AABB", "9000"},
		{"00D6850003 010203", "9000"},
		{"00B2021C00", "0102 9000"},
		{"00B2010413", "00112233445566778899AABBCCDDEEFF001122 9000"},
		{"00DC030C02 0102", "9000"},
		{"00E2002802 0A0B", "9000"},
		{"0020000108 3132333435363738", "63C2"},
		{"0084000008", "6108"}, {"00C0000008", "0102030405060708 9000"},
		{"0088000108 0102030405060708 08", "6108"}, {"00C0000008", "A1A2A3A4A5A6A7A8 9000"},
		{"0082000208 A1A2A3A4A5A6A7A8", "9000"},
	}}
	ch := NewChannel(s, nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := ch.SelectName(ctx, DFNameUser)
	must(err)
	_, err = ch.SelectFID(ctx, FID(0x02))
	must(err)
	d, err := ch.ReadBinary(ctx, 10, 4)
	must(err)
	if !bytes.Equal(d, unhex(t, "01020304")) {
		t.Fatalf("ReadBinary % X", d)
	}
	d, err = ch.ReadBinarySFI(ctx, 3, 0, 16)
	must(err)
	if len(d) != 16 {
		t.Fatal("ReadBinarySFI")
	}
	must(ch.UpdateBinary(ctx, 1, unhex(t, "AABB")))
	must(ch.UpdateBinarySFI(ctx, 5, 0, unhex(t, "010203")))
	_, err = ch.ReadRecord(ctx, 3, 2, 0)
	must(err)
	_, err = ch.ReadRecord(ctx, 0, 1, 19)
	must(err)
	must(ch.UpdateRecord(ctx, 1, 3, unhex(t, "0102")))
	must(ch.AppendRecord(ctx, 5, unhex(t, "0A0B")))
	err = ch.Verify(ctx, 1, []byte("12345678"))
	var pe *PINError
	if !errors.As(err, &pe) || pe.Retries != 2 {
		t.Fatalf("Verify: %v", err)
	}
	ch1, err := ch.GetChallenge(ctx, 8)
	must(err)
	res, err := ch.InternalAuthenticate(ctx, 1, ch1)
	must(err)
	must(ch.ExternalAuthenticate(ctx, 2, res))
	s.done()
}

func TestISOArgumentErrors(t *testing.T) {
	ctx := context.Background()
	never := TransmitterFunc(func(context.Context, []byte) ([]byte, error) {
		t.Fatal("sent a command with a bad argument")
		return nil, nil
	})
	ch := NewChannel(never, nil)
	errs := []error{
		func() error { _, err := ch.SelectName(ctx, ""); return err }(),
		func() error { _, err := ch.ReadBinary(ctx, 0x7FFF, 2); return err }(),
		func() error { _, err := ch.ReadBinarySFI(ctx, 31, 0, 1); return err }(),
		func() error { _, err := ch.ReadBinarySFI(ctx, 1, 256, 1); return err }(),
		ch.UpdateBinary(ctx, 0, nil),
		ch.UpdateBinarySFI(ctx, 0, 0, []byte{1}),
		func() error { _, err := ch.ReadRecord(ctx, 1, 0, 0); return err }(),
		ch.UpdateRecord(ctx, 1, 1, make([]byte, 256)),
		ch.AppendRecord(ctx, 31, []byte{1}),
		ch.Verify(ctx, 1, []byte("1234")),
		func() error { _, err := ch.GetChallenge(ctx, 0); return err }(),
		func() error { _, err := ch.InternalAuthenticate(ctx, 1, []byte{1}); return err }(),
		ch.ExternalAuthenticate(ctx, 1, nil),
	}
	for i, err := range errs {
		var ae *ArgumentError
		if !errors.Is(err, ErrBadArgument) || !errors.As(err, &ae) {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

func TestReadBinaryChunks(t *testing.T) {
	file := seq(600)
	tr := TransmitterFunc(func(_ context.Context, b []byte) ([]byte, error) {
		c, err := ParseCommand(b)
		if err != nil || c.INS != INSReadBinary {
			return []byte{0x6D, 0}, nil
		}
		off := int(c.P1)<<8 | int(c.P2)
		end := min(off+c.Ne, len(file))
		return Response{Data: file[off:end], SW: SWOK}.Bytes(), nil
	})
	var n int
	d, err := NewChannel(tr, &ChannelOptions{Observer: func(Exchange) { n++ }}).ReadBinary(context.Background(), 10, 590)
	if err != nil || !bytes.Equal(d, file[10:]) {
		t.Fatalf("%v, %d bytes", err, len(d))
	}
	if n != 3 {
		t.Fatalf("%d exchanges, want 3", n)
	}
}

func TestChannel9F(t *testing.T) {
	s := &scripted{t: t, steps: []step{
		{"0084000008", "9F08"},
		{"00C0000008", "0102030405060708 9000"},
	}}
	d, err := NewChannel(s, nil).GetChallenge(context.Background(), 8)
	if err != nil || len(d) != 8 {
		t.Fatalf("% X %v", d, err)
	}
	s.done()
}

func TestChannelGetResponseFailure(t *testing.T) {
	ctx := context.Background()
	// ISSUE_INVOICE accepted (61 08), its GET RESPONSE refused with 6F00.
	s := &scripted{t: t, steps: []step{
		{"C0F2000002 0102 08", "6108"},
		{"00C0000008", "6F00"},
	}}
	_, err := NewChannel(s, nil).Do(ctx, Command{CLA: CLAProprietary, INS: INSIssueInvoice, Data: []byte{1, 2}, Ne: 8})
	s.done()
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *StatusError", err)
	}
	if !se.GetResponse || se.SW != SWNoData || se.INS != INSIssueInvoice || se.Command != "ISSUE_INVOICE" || !errors.Is(err, ErrNoDiagnosis) {
		t.Fatalf("StatusError %+v", se)
	}
	msg := err.Error()
	if !strings.Contains(msg, "ISSUE_INVOICE") || !strings.Contains(msg, "GET RESPONSE") || !strings.Contains(msg, "6F00") {
		t.Fatalf("message %q does not name both commands and the SW", msg)
	}
	// 9401 from a GET RESPONSE is not ISSUE_INVOICE's "amount over limit".
	s = &scripted{t: t, steps: []step{{"C0F2000002 0102 08", "6108"}, {"00C0000008", "9401"}}}
	_, err = NewChannel(s, nil).Do(ctx, Command{CLA: CLAProprietary, INS: INSIssueInvoice, Data: []byte{1, 2}, Ne: 8})
	if errors.Is(err, ErrAmountOverLimit) || !errors.Is(err, ErrUnexpectedStatus) || !errors.As(err, &se) || !se.GetResponse {
		t.Fatalf("9401 on GET RESPONSE: %v", err)
	}
	// A refusal of the command itself has GetResponse unset.
	s = &scripted{t: t, steps: []step{{"C0F2000002 0102 08", "9401"}}}
	_, err = NewChannel(s, nil).Do(ctx, Command{CLA: CLAProprietary, INS: INSIssueInvoice, Data: []byte{1, 2}, Ne: 8})
	if !errors.As(err, &se) || se.GetResponse || !errors.Is(err, ErrAmountOverLimit) || strings.Contains(err.Error(), "GET RESPONSE") {
		t.Fatalf("9401 on ISSUE_INVOICE: %v", err)
	}
	// A transport failure during GET RESPONSE names the original command too.
	gone := errors.New("reader gone")
	n := 0
	flaky := TransmitterFunc(func(context.Context, []byte) ([]byte, error) {
		n++
		if n == 1 {
			return []byte{0x61, 0x08}, nil
		}
		return nil, gone
	})
	_, err = NewChannel(flaky, nil).Do(ctx, Command{CLA: CLAProprietary, INS: INSVerifyFiscalPIN, Data: make([]byte, 8), Ne: 8})
	var te *TransportError
	if !errors.As(err, &te) || te.Command != "GET RESPONSE" || te.For != "VERIFY_FISCAL_PIN" || !errors.Is(err, gone) ||
		!strings.Contains(err.Error(), "VERIFY_FISCAL_PIN") {
		t.Fatalf("transport failure in GET RESPONSE: %v (%+v)", err, te)
	}
}
