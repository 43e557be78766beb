//go:build pcsc

package pcsc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/pcsc"
	"github.com/fiscalkit/gb18240/adapters/vpcd"
	"github.com/fiscalkit/gb18240/card"
)

// The vpcd addresses the tests serve cards on: the two slots of Debian's
// vsmartcard-vpcd instance (/etc/reader.conf.d/vpcd, port 35963 and 35964)
// and the first slot of a second instance on port 35965 (.ci/run writes
// /etc/reader.conf.d/gb18240-vpcd2; see the README section "Real-stack
// tests: PC/SC"). Slot 0 holds the fiscal card, 1 the user card, 2 the
// check card.
var vpcdAddrs = [3]string{vpcd.SlotAddr(0), vpcd.SlotAddr(1), vpcd.SlotAddr(2)}

// vpcdReaders[n] is the PC/SC reader fed by vpcdAddrs[n]. TestMain finds
// them with vpcd.Locate (a probe card on each address), so the tests
// assume neither reader names nor their order.
var vpcdReaders [3]string

// TestMain finds the readers, and stops with a clear message when the
// real stack is not up or a reader is missing: these tests never skip.
func TestMain(m *testing.M) {
	start := time.Now()
	readers, err := locateReaders()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the PC/SC real stack is not up: %v\n"+
			"It needs pcscd with the vsmartcard vpcd driver and three vpcd readers, fed on 127.0.0.1:35963, :35964 and :35965:\n"+
			"Debian's /etc/reader.conf.d/vpcd gives the first two; the third needs a second vpcd instance loaded from its own\n"+
			"copy of libifdvpcd.so (/etc/reader.conf.d/gb18240-vpcd2 with DEVICENAME /dev/null:0x8C7D), then a pcscd restart.\n"+
			"See the README section \"Real-stack tests: PC/SC\"; bash .ci/run sets it all up.\n", err)
		os.Exit(1)
	}
	for n, addr := range vpcdAddrs {
		vpcdReaders[n] = readers[addr]
	}
	fmt.Fprintf(os.Stderr, "vpcd readers: %q (fed on %q), found in %v\n", vpcdReaders, vpcdAddrs, time.Since(start).Round(time.Millisecond))
	os.Exit(m.Run())
}

// locateReaders maps each of vpcdAddrs to its reader through pcscd.
func locateReaders() (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := pcsc.Open(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var listed []string
	readers, err := vpcd.Locate(ctx, vpcdAddrs[:], func(ctx context.Context) (map[string][]byte, error) {
		return readerATRs(ctx, c, &listed)
	}, &vpcd.LocateOptions{Slot: &vpcd.Options{RetryInterval: 50 * time.Millisecond}})
	if err != nil {
		return nil, fmt.Errorf("%w; pcscd lists %q", err, listed)
	}
	return readers, nil
}

// readerATRs is vpcd.ReaderATRs through c; it keeps the last reader list
// in *listed for error messages.
func readerATRs(ctx context.Context, c *pcsc.Client, listed *[]string) (map[string][]byte, error) {
	readers, err := c.Readers(ctx)
	if err != nil {
		return nil, err
	}
	*listed = readers
	m := make(map[string][]byte, len(readers))
	for _, r := range readers {
		st, err := c.Status(ctx, r)
		if errors.Is(err, pcsc.ErrReaderUnavailable) {
			continue // gone since Readers
		}
		if err != nil {
			return nil, err
		}
		if st.Present {
			m[r] = st.ATR
		}
	}
	return m, nil
}

func openClient(t testing.TB) *pcsc.Client {
	t.Helper()
	c, err := pcsc.Open(context.Background(), nil)
	if err != nil {
		t.Fatalf("pcsc.Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// insert serves c in vpcd slot n until the test ends and waits until pcscd
// shows the card; it returns the slot and the reader name.
func insert(t testing.TB, pc *pcsc.Client, n int, c card.Transmitter) (*vpcd.Slot, string) {
	t.Helper()
	reader := vpcdReaders[n]
	ctx, cancel := context.WithCancel(context.Background())
	s := vpcd.NewSlot(&vpcd.Options{Addr: vpcdAddrs[n], RetryInterval: 50 * time.Millisecond})
	s.Insert(c)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer wcancel()
		if err := pc.WaitForRemoval(wctx, reader); err != nil {
			t.Errorf("card in %q not seen removed after the test: %v", reader, err)
		}
	})
	waitCard(t, pc, reader)
	return s, reader
}

func waitCard(t testing.TB, pc *pcsc.Client, reader string) pcsc.ReaderStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	st, err := pc.WaitForCard(ctx, reader)
	if err != nil {
		t.Fatalf("WaitForCard(%q): %v", reader, err)
	}
	return st
}

func connect(t testing.TB, pc *pcsc.Client, reader string, opts *pcsc.ConnectOptions) *pcsc.Card {
	t.Helper()
	k, err := pc.Connect(context.Background(), reader, opts)
	if err != nil {
		t.Fatalf("Connect(%q): %v", reader, err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// toyCard answers every APDU with a name byte, the INS and 9000, answers
// INS B0 with 61 08, and counts power events.
type toyCard struct {
	name byte
	mu   sync.Mutex
	ons  int
	rsts int
	offs int
}

func (c *toyCard) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) > 1 && cmd[1] == 0xB0 {
		return []byte{0x61, 0x08}, nil
	}
	return []byte{c.name, cmd[1], 0x90, 0x00}, nil
}

func (c *toyCard) PowerOn() []byte { c.mu.Lock(); c.ons++; c.mu.Unlock(); return nil }
func (c *toyCard) PowerOff()       { c.mu.Lock(); c.offs++; c.mu.Unlock() }
func (c *toyCard) Reset() []byte   { c.mu.Lock(); c.rsts++; c.mu.Unlock(); return nil }

func (c *toyCard) resets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rsts
}
