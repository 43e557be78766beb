package vpcd_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/vpcd"
)

// fakeVPCD plays the part of pcscd's vpcd driver: it listens on a loopback
// port and talks to the card that connects.
type fakeVPCD struct {
	t  testing.TB
	ln net.Listener
}

func newFakeVPCD(t testing.TB) *fakeVPCD {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{t: t, ln: ln}
}

func (f *fakeVPCD) addr() string { return f.ln.Addr().String() }

// accept waits for the card to connect.
func (f *fakeVPCD) accept() *fakeConn {
	f.t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := f.ln.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			f.t.Fatalf("accept: %v", r.err)
		}
		f.t.Cleanup(func() { r.c.Close() })
		return &fakeConn{t: f.t, c: r.c}
	case <-time.After(5 * time.Second):
		f.t.Fatal("the card did not connect within 5s")
		return nil
	}
}

type fakeConn struct {
	t testing.TB
	c net.Conn
}

func (c *fakeConn) send(payload ...byte) {
	c.t.Helper()
	b := binary.BigEndian.AppendUint16(nil, uint16(len(payload)))
	if _, err := c.c.Write(append(b, payload...)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *fakeConn) recv() []byte {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(c.c, hdr[:]); err != nil {
		c.t.Fatalf("read length: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(c.c, b); err != nil {
		c.t.Fatalf("read payload: %v", err)
	}
	return b
}

// call sends an APDU and returns the answer.
func (c *fakeConn) call(apdu ...byte) []byte {
	c.t.Helper()
	c.send(apdu...)
	return c.recv()
}

// expectClosed checks that the card side closes the connection.
func (c *fakeConn) expectClosed() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	_, err := c.c.Read(b[:])
	if err != io.EOF {
		c.t.Fatalf("read after removal: got %v, want io.EOF", err)
	}
}

// startSlot runs s until the test ends.
func startSlot(t testing.TB, s *vpcd.Slot) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

// newFakeVPCDAt listens on a given address (to model pcscd coming back).
func newFakeVPCDAt(t testing.TB, addr string) *fakeVPCD {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{t: t, ln: ln}
}

type vpcdDialer struct{}

func (vpcdDialer) dial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }
