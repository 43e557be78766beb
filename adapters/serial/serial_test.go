package serial

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	bug "go.bug.st/serial"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
	"github.com/fiscalkit/gb18240/register/registertest"
)

// fakeRaw behaves like go.bug.st/serial: Read waits up to the read timeout
// and then returns 0 bytes and no error.
type fakeRaw struct {
	mu      sync.Mutex
	data    []byte
	timeout time.Duration
	reads   int
	closed  bool
	written []byte
}

func (f *fakeRaw) Read(p []byte) (int, error) {
	f.mu.Lock()
	f.reads++
	if f.closed {
		f.mu.Unlock()
		return 0, errors.New("port closed")
	}
	if len(f.data) > 0 {
		n := copy(p, f.data)
		f.data = f.data[n:]
		f.mu.Unlock()
		return n, nil
	}
	t := f.timeout
	f.mu.Unlock()
	time.Sleep(t)
	return 0, nil
}
func (f *fakeRaw) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written = append(f.written, p...)
	return len(p), nil
}
func (f *fakeRaw) Close() error { f.mu.Lock(); f.closed = true; f.mu.Unlock(); return nil }
func (f *fakeRaw) SetReadTimeout(t time.Duration) error {
	f.mu.Lock()
	f.timeout = t
	f.mu.Unlock()
	return nil
}

func TestDeadlineFromZeroByteReads(t *testing.T) {
	f := &fakeRaw{}
	p := newPort(f, "fake", &Options{PollInterval: 10 * time.Millisecond})
	p.SetReadDeadline(time.Now().Add(45 * time.Millisecond))
	start := time.Now()
	n, err := p.Read(make([]byte, 4))
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read = %d, %v; want a deadline error", n, err)
	}
	if el := time.Since(start); el < 40*time.Millisecond {
		t.Errorf("returned after %v, before the deadline", el)
	}
	if f.reads < 3 {
		t.Errorf("%d polls; the adapter should poll in PollInterval steps", f.reads)
	}
	f.mu.Lock()
	f.data = []byte("hi")
	f.mu.Unlock()
	p.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4)
	if n, err := p.Read(buf); n != 2 || err != nil || string(buf[:2]) != "hi" {
		t.Fatalf("read = %q, %v", buf[:n], err)
	}
	// A deadline moved into the past from another goroutine stops a
	// blocked Read within a poll.
	p.SetReadDeadline(time.Time{})
	time.AfterFunc(20*time.Millisecond, func() { p.SetReadDeadline(time.Unix(1, 0)) })
	if _, err := p.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after deadline moved: %v", err)
	}
	p.Close()
	if _, err := p.Read(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if n, err := p.Write([]byte("abc")); n != 3 || err != nil || string(f.written) != "abc" {
		t.Fatalf("write: %d %v %q", n, err, f.written)
	}
}

func TestDefaultMode(t *testing.T) {
	m := (*Options)(nil).Mode()
	if m.BaudRate != 9600 || m.DataBits != 8 || m.Parity != bug.NoParity || m.StopBits != bug.OneStopBit {
		t.Fatalf("default mode %+v, want 9600 8N1", m)
	}
	if m := (&Options{Baud: 115200}).Mode(); m.BaudRate != 115200 || m.DataBits != 8 {
		t.Fatalf("mode %+v", m)
	}
}

func TestList(t *testing.T) {
	ports, err := List()
	if err != nil {
		t.Skipf("port listing unavailable here: %v", err)
	}
	t.Logf("%d serial ports: %v", len(ports), ports)
}

// A real pseudo-terminal: the server on the master, the client through
// go.bug.st/serial on the slave, and the conformance suite across it.
func TestConformanceOverPTY(t *testing.T) {
	master, slave, closeSlave, err := OpenPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer closeSlave()
	defer master.Close()
	reg := linktest.NewRegister(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go link.NewServer(reg, nil).Serve(ctx, master)
	port, err := Open(slave, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	registertest.Run(t, link.NewClient(port, nil), nil)
}
