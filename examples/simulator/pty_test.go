//go:build ptytest

// The real-stack test: the simulator binary serves the register engine on a
// pseudo-terminal, and the conformance suite drives it through
// adapters/serial (go.bug.st/serial), first on the simulator's own pty, then
// on a socat pty bridged to the simulator's TCP port. Run it with
//
//	go test -tags ptytest ./examples/simulator
//
// It needs Linux and socat (.ci/run installs it).
package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/serial"
	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/registertest"
)

// start runs the simulator with args and returns the first line of its
// standard output.
func start(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s == "" {
			t.Fatal("simulator printed nothing")
		}
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("simulator did not print its address")
	}
	return ""
}

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "simulator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func suite(t *testing.T, device string) {
	port, err := serial.Open(device, nil) // 9600 8N1
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	c := link.NewClient(port, &link.ClientOptions{ReplyTimeout: 3 * time.Second})
	registertest.Run(t, c, &registertest.Options{OpenDay: true, SelfTests: true, CardPassThrough: true, CheckPIN: []byte("12345678"), RequestIDs: true})
	st := c.Stats()
	t.Logf("%s: %d exchanges, %d bytes out, %d bytes in, %d timeouts", device, st.Exchanges, st.BytesOut, st.BytesIn, st.Timeouts)
}

func TestSimulatorOnPTY(t *testing.T) {
	bin := build(t)
	dev := start(t, bin, "-pty", "-service", "-data", t.TempDir())
	if !strings.HasPrefix(dev, "/dev/") {
		t.Fatalf("first line %q is not a device path", dev)
	}
	suite(t, dev)
}

func TestSimulatorThroughSocatPTY(t *testing.T) {
	socat, err := exec.LookPath("socat")
	if err != nil {
		t.Fatal("socat is not installed (apt-get install -y socat)")
	}
	bin := build(t)
	addr := start(t, bin, "-listen", "127.0.0.1:0", "-service", "-data", t.TempDir())
	ttyPath := filepath.Join(t.TempDir(), "ttyREG")
	cmd := exec.Command(socat, "-d", "-d", "pty,raw,echo=0,link="+ttyPath, "tcp:"+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, err := os.Stat(ttyPath); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("socat did not create its pty")
		}
		time.Sleep(50 * time.Millisecond)
	}
	suite(t, ttyPath)
}
