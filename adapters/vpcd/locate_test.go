package vpcd_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/vpcd"
)

// fakePCSCD plays pcscd with vpcd readers: a listener per reader; a card
// that connects is asked its ATR and shows in that reader until it hangs
// up.
type fakePCSCD struct {
	mu   sync.Mutex
	atrs map[string][]byte // reader -> ATR of the card in it
	wg   sync.WaitGroup
}

func newFakePCSCD(t *testing.T, readers map[string]net.Listener) *fakePCSCD {
	f := &fakePCSCD{atrs: map[string][]byte{}}
	for name, ln := range readers {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				f.serve(name, c)
			}
		}()
	}
	t.Cleanup(func() {
		for _, ln := range readers {
			ln.Close()
		}
		f.wg.Wait()
	})
	return f
}

func (f *fakePCSCD) serve(reader string, c net.Conn) {
	defer c.Close()
	msg, _ := vpcd.AppendMessage(nil, []byte{vpcd.CtrlGetATR})
	if _, err := c.Write(msg); err != nil {
		return
	}
	atr, err := vpcd.ReadMessage(c, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.atrs[reader] = bytes.Clone(atr)
	f.mu.Unlock()
	var b [1]byte
	c.Read(b[:]) // until the card hangs up
	f.mu.Lock()
	f.atrs[reader] = nil
	f.mu.Unlock()
}

func (f *fakePCSCD) list(ctx context.Context) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.atrs), nil
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestLocateMapsAddressesToReaders(t *testing.T) {
	a, b, c := listen(t), listen(t), listen(t)
	// The reader names say nothing about the ports, and a fourth reader
	// holds some other card.
	f := newFakePCSCD(t, map[string]net.Listener{"Zeta 00 00": a, "Alpha 00 01": b, "Mid 03 00": c})
	f.mu.Lock()
	f.atrs["Other 00 00"] = vpcd.DefaultATR[:]
	f.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs := []string{c.Addr().String(), a.Addr().String(), b.Addr().String()}
	got, err := vpcd.Locate(ctx, addrs, f.list, &vpcd.LocateOptions{PollInterval: 10 * time.Millisecond,
		Slot: &vpcd.Options{RetryInterval: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{a.Addr().String(): "Zeta 00 00", b.Addr().String(): "Alpha 00 01", c.Addr().String(): "Mid 03 00"}
	if !maps.Equal(got, want) {
		t.Errorf("Locate = %v, want %v", got, want)
	}
	// The probes are out when Locate returns.
	m, _ := f.list(ctx)
	for _, r := range want {
		if len(m[r]) != 0 {
			t.Errorf("%q still holds % X after Locate", r, m[r])
		}
	}
}

func TestLocateMissingInstance(t *testing.T) {
	a := listen(t)
	f := newFakePCSCD(t, map[string]net.Listener{"Virtual PCD 00 00": a})
	// Nothing listens on the second address: its dials are refused. (A
	// dialer stands in for a closed port, which another connection of
	// the machine could take meanwhile.)
	const missing = "127.0.0.1:1"
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	var d net.Dialer
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == missing {
			return nil, refused
		}
		return d.DialContext(ctx, network, addr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := vpcd.Locate(ctx, []string{a.Addr().String(), missing}, f.list, &vpcd.LocateOptions{PollInterval: 10 * time.Millisecond,
		Slot: &vpcd.Options{RetryInterval: 10 * time.Millisecond, Dial: dial}})
	var le *vpcd.LocateError
	if !errors.As(err, &le) || le.Addr != missing || !errors.Is(err, vpcd.ErrReaderNotFound) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Locate with an address nobody listens on: %v; want *LocateError for %s wrapping ErrReaderNotFound", err, missing)
	}
	if !errors.Is(le.Dial, syscall.ECONNREFUSED) {
		t.Errorf("LocateError.Dial = %v, want connection refused", le.Dial)
	}
	t.Log(err)

	// The probes are out: the reader that was found empties (Locate does
	// not wait for that when it fails, its context being over).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		m, _ := f.list(context.Background())
		if len(m["Virtual PCD 00 00"]) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe left in the reader: % X", m["Virtual PCD 00 00"])
		}
	}
}

func TestLocateListError(t *testing.T) {
	a := listen(t)
	newFakePCSCD(t, map[string]net.Listener{"R": a})
	boom := errors.New("no service")
	_, err := vpcd.Locate(context.Background(), []string{a.Addr().String()},
		func(context.Context) (map[string][]byte, error) { return nil, boom }, nil)
	var le *vpcd.LocateError
	if !errors.Is(err, boom) || !errors.As(err, &le) || errors.Is(err, vpcd.ErrReaderNotFound) {
		t.Errorf("Locate with a failing lister: %v; want a *LocateError wrapping its error", err)
	}
}

func TestProbeATRDistinct(t *testing.T) {
	if bytes.Equal(vpcd.ProbeATR(0), vpcd.ProbeATR(1)) || bytes.Equal(vpcd.ProbeATR(0), vpcd.DefaultATR[:]) ||
		len(vpcd.ProbeATR(2)) != len(vpcd.DefaultATR) {
		t.Errorf("probe ATRs % X, % X", vpcd.ProbeATR(0), vpcd.ProbeATR(1))
	}
}
