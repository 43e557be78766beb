//go:build pcsc

package pcsc_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/pcsc"
	"github.com/fiscalkit/gb18240/adapters/vpcd"
	"github.com/fiscalkit/gb18240/card"
)

// The two readers of Debian's vsmartcard-vpcd (/etc/reader.conf.d/vpcd):
// slot n is "Virtual PCD 00 0n", fed by a card connecting to port 35963+n.
var vpcdReaders = []string{"Virtual PCD 00 00", "Virtual PCD 00 01"}

// TestMain checks that the real stack is up, and stops with a clear
// message when it is not: these tests never skip.
func TestMain(m *testing.M) {
	if err := checkStack(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the PC/SC real stack is not up: %v\n"+
			"Start it as root: apt-get install pcscd vsmartcard-vpcd libpcsclite-dev pkg-config; pcscd -f &\n"+
			"(see the README section \"Real-stack tests: PC/SC\")\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func checkStack() error {
	c, err := pcsc.Open(context.Background(), nil)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		readers, err := c.Readers(context.Background())
		if err != nil {
			return err
		}
		missing := ""
		for _, r := range vpcdReaders {
			if !slices.Contains(readers, r) {
				missing = r
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reader %q not listed (readers: %q); is vsmartcard-vpcd installed and pcscd restarted after it?", missing, readers)
		}
		time.Sleep(200 * time.Millisecond)
	}
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
	s := vpcd.NewSlot(&vpcd.Options{Addr: vpcd.SlotAddr(n), RetryInterval: 50 * time.Millisecond})
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
