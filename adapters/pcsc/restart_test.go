//go:build pcsc && pcscdrestart

package pcsc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/adapters/pcsc"
	"github.com/fiscalkit/gb18240/adapters/vpcd"
)

// This file builds only with the tag pcscdrestart as well as pcsc: its
// test stops the running pcscd and starts a new one (as a daemon, "pcscd"
// without -f), so it needs the rights to do so and must not run while
// anything else uses PC/SC. .ci/run runs it after the other tagged tests.

const pcscdPidFile = "/run/pcscd/pcscd.pid"

// TestReconnectAfterPCSCDRestart serves a card through a vpcd.Slot, stops
// pcscd under it and starts a new one: the handles of the old service fail
// with typed errors, and the slot reconnects by itself, so that a new
// client finds the card in the same reader and talks to it.
func TestReconnectAfterPCSCDRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reader := vpcdReaders[0]
	atr := append(bytes.Clone(vpcd.DefaultATR[:len(vpcd.DefaultATR)-1]), 0x52) // this test's card

	var mu sync.Mutex
	connects := 0
	s := vpcd.NewSlot(&vpcd.Options{Addr: vpcdAddrs[0], ATR: atr, RetryInterval: 50 * time.Millisecond,
		OnEvent: func(ev vpcd.Event) {
			if ev.Kind == vpcd.Connected {
				mu.Lock()
				connects++
				mu.Unlock()
			}
		}})
	s.Insert(&toyCard{name: 0x52})
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(sctx) }()
	defer func() { stop(); <-done }()

	old, err := pcsc.Open(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := old.WaitForCard(ctx, reader); err != nil {
		t.Fatalf("WaitForCard(%q): %v", reader, err)
	}
	k, err := old.Connect(ctx, reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if rsp, err := k.Transmit(ctx, []byte{0, 0xA4, 0, 0}); err != nil || rsp[0] != 0x52 {
		t.Fatalf("before the restart: % X, %v", rsp, err)
	}

	restartPCSCD(t, ctx)

	// The old service's handles are dead, with typed errors.
	var pe *pcsc.Error
	if _, err := old.Readers(ctx); !errors.Is(err, pcsc.ErrNoService) || !errors.As(err, &pe) {
		t.Errorf("Readers on the stopped service's context: %v; want *Error wrapping ErrNoService", err)
	}
	if _, err := k.Transmit(ctx, []byte{0, 0xA4, 0, 0}); !errors.Is(err, pcsc.ErrNoService) || !errors.As(err, &pe) {
		t.Errorf("Transmit on the stopped service's handle: %v; want *Error wrapping ErrNoService", err)
	}

	// The slot dials the new pcscd by itself; a new client sees the card.
	pc := openClient(t)
	st, err := pc.WaitForCard(ctx, reader)
	if err != nil {
		t.Fatalf("WaitForCard(%q) on the new pcscd: %v", reader, err)
	}
	if !bytes.Equal(st.ATR, atr) {
		t.Errorf("%q shows ATR % X after the restart, want this test's card (% X)", reader, st.ATR, atr)
	}
	k2 := connect(t, pc, reader, nil)
	if rsp, err := k2.Transmit(ctx, []byte{0, 0xA4, 0, 0}); err != nil || rsp[0] != 0x52 {
		t.Errorf("after the restart: % X, %v", rsp, err)
	}
	mu.Lock()
	n := connects
	mu.Unlock()
	if n < 2 {
		t.Errorf("the slot connected %d times; want a new connection to the new pcscd", n)
	}

	// Leave the reader empty for whatever runs next.
	s.Remove()
	if err := pc.WaitForRemoval(ctx, reader); err != nil {
		t.Errorf("card not seen removed: %v", err)
	}
}

// restartPCSCD stops the pcscd named by its pid file, waits until it has
// exited, starts "pcscd" (it detaches itself) and waits until the new one
// has written its pid file and listens.
func restartPCSCD(t *testing.T, ctx context.Context) {
	t.Helper()
	pid, err := readPid()
	if err != nil {
		t.Fatalf("pcscd's pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stopping pcscd %d: %v", pid, err)
	}
	for running(pid) {
		if ctx.Err() != nil {
			t.Fatalf("pcscd %d did not exit", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := exec.CommandContext(ctx, "pcscd").CombinedOutput()
	if err != nil {
		t.Fatalf("starting pcscd: %v %s", err, out)
	}
	for {
		if p, err := readPid(); err == nil && p != pid && running(p) {
			if _, err := os.Stat("/run/pcscd/pcscd.comm"); err == nil {
				t.Logf("pcscd restarted: %d -> %d", pid, p)
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatal("the new pcscd did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readPid() (int, error) {
	b, err := os.ReadFile(pcscdPidFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.Trim(string(b), " \t\n\x00"))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("%s holds %q", pcscdPidFile, b)
	}
	return pid, nil
}

// running reports whether any thread of pid is alive: pcscd's main thread
// can end (a zombie) while reader threads still hold the vpcd ports.
func running(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			continue
		}
		// tid (comm) state ...
		i := bytes.LastIndexByte(b, ')')
		if i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X' {
			return true
		}
	}
	return false
}
