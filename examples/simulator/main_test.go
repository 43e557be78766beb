package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeTCPLogsStartAsInfo starts the simulator on a loopback port: the
// address is the first line of stdout, the start-up line is an INFO record
// (not a warning), and cancelling the context ends run without an error.
func TestServeTCPLogsStartAsInfo(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	libLog := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, pw, "127.0.0.1:0", false, t.TempDir(), "simulator", 1, false, log, libLog)
		pw.Close()
	}()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(pr).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, pr)
	}()
	select {
	case addr := <-line:
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("first line %q is not a loopback address", addr)
		}
	case err := <-done:
		t.Fatalf("run ended before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no address printed")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
	got := logs.String()
	if !strings.Contains(got, "level=INFO msg=serving") {
		t.Errorf("start-up line not logged at INFO:\n%s", got)
	}
	if strings.Contains(got, "level=WARN") || strings.Contains(got, "level=ERROR") {
		t.Errorf("a normal start and stop logged a warning or error:\n%s", got)
	}
}

func TestRunNeedsOneTransport(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		listen string
		pty    bool
	}{{"", false}, {"127.0.0.1:0", true}} {
		err := run(context.Background(), io.Discard, c.listen, c.pty, t.TempDir(), "simulator", 1, false, log, log)
		if !errors.Is(err, errTransport) {
			t.Errorf("listen %q pty %v: err %v, want the exactly-one error", c.listen, c.pty, err)
		}
	}
}
