//go:build pcsc

package pcsc_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/fiscalkit/gb18240/adapters/pcsc"
	"github.com/fiscalkit/gb18240/adapters/vpcd"
)

func TestReadersAndStatus(t *testing.T) {
	pc := openClient(t)
	readers, err := pc.Readers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range vpcdReaders {
		if !slices.Contains(readers, r) {
			t.Errorf("reader %q missing from %q", r, readers)
		}
	}
	st, err := pc.Status(context.Background(), vpcdReaders[1])
	if err != nil {
		t.Fatal(err)
	}
	if st.Present {
		t.Errorf("empty reader reported with a card: %+v", st)
	}
	_, reader := insert(t, pc, 1, &toyCard{name: 1})
	st, err = pc.Status(context.Background(), reader)
	if err != nil || !st.Present || !bytes.Equal(st.ATR, vpcd.DefaultATR[:]) {
		t.Errorf("Status after insert = %+v, %v; want present with DefaultATR", st, err)
	}
}

func TestTransmitThroughPCSC(t *testing.T) {
	pc := openClient(t)
	toy := &toyCard{name: 0x5A}
	_, reader := insert(t, pc, 0, toy)
	k := connect(t, pc, reader, nil)
	if got := k.ATR(); !bytes.Equal(got, vpcd.DefaultATR[:]) {
		t.Errorf("ATR % X, want % X", got, vpcd.DefaultATR)
	}
	if p := k.Protocol(); p != pcsc.ProtocolT0 {
		t.Errorf("protocol %v, want T=0 (the ATR offers only T=0)", p)
	}
	ctx := context.Background()
	rsp, err := k.Transmit(ctx, []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'})
	if err != nil || !bytes.Equal(rsp, []byte{0x5A, 0xA4, 0x90, 0x00}) {
		t.Errorf("SELECT: % X, %v", rsp, err)
	}
	rsp, err = k.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x08})
	if err != nil || !bytes.Equal(rsp, []byte{0x61, 0x08}) {
		t.Errorf("61xx must come back unchanged: % X, %v", rsp, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := k.Transmit(cctx, []byte{0, 0xA4, 0, 0}); !errors.Is(err, context.Canceled) {
		t.Errorf("Transmit with a done context: %v", err)
	}
}

func TestEmptyAndUnknownReaders(t *testing.T) {
	pc := openClient(t)
	ctx := context.Background()
	_, err := pc.Connect(ctx, vpcdReaders[1], nil)
	var pe *pcsc.Error
	if !errors.Is(err, pcsc.ErrNoCard) || !errors.Is(err, scard.ErrNoSmartcard) || !errors.As(err, &pe) || pe.Reader != vpcdReaders[1] {
		t.Errorf("Connect to an empty reader: %v; want *Error wrapping ErrNoCard and scard.ErrNoSmartcard", err)
	}
	if _, err := pc.Connect(ctx, "No Such Reader 00 00", nil); !errors.Is(err, pcsc.ErrReaderUnavailable) {
		t.Errorf("Connect to an unknown reader: %v; want ErrReaderUnavailable", err)
	}
	if _, err := pc.WaitForCard(ctx, "No Such Reader 00 00"); !errors.Is(err, pcsc.ErrReaderUnavailable) {
		t.Errorf("WaitForCard on an unknown reader: %v; want ErrReaderUnavailable", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := pc.WaitForCard(wctx, vpcdReaders[1]); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForCard on an empty reader until the deadline: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("WaitForCard took %v to notice its context ended", d)
	}
}

func TestWaitForAnyReader(t *testing.T) {
	pc := openClient(t)
	got := make(chan pcsc.ReaderStatus, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		st, err := pc.WaitForCard(ctx, "")
		if err != nil {
			t.Errorf("WaitForCard(\"\"): %v", err)
		}
		got <- st
	}()
	time.Sleep(100 * time.Millisecond)
	insert(t, pc, 1, &toyCard{name: 2})
	if st := <-got; st.Reader != vpcdReaders[1] || !st.Present {
		t.Errorf("WaitForCard(\"\") = %+v, want the card in %q", st, vpcdReaders[1])
	}
}

func TestCardRemoved(t *testing.T) {
	pc := openClient(t)
	s, reader := insert(t, pc, 0, &toyCard{name: 3})
	k := connect(t, pc, reader, nil)
	if _, err := k.Transmit(context.Background(), []byte{0, 0xA4, 0, 0}); err != nil {
		t.Fatal(err)
	}
	s.Remove()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pc.WaitForRemoval(ctx, reader); err != nil {
		t.Fatalf("WaitForRemoval: %v", err)
	}
	_, err := k.Transmit(context.Background(), []byte{0, 0xA4, 0, 0})
	if !errors.Is(err, pcsc.ErrCardRemoved) || !errors.Is(err, scard.ErrRemovedCard) {
		t.Errorf("Transmit after removal: %v; want ErrCardRemoved", err)
	}
	// Put a card back: a new connection works.
	s.Insert(&toyCard{name: 4})
	waitCard(t, pc, reader)
	k2 := connect(t, pc, reader, nil)
	if rsp, err := k2.Transmit(context.Background(), []byte{0, 0xA4, 0, 0}); err != nil || rsp[0] != 4 {
		t.Errorf("after re-insertion: % X, %v", rsp, err)
	}
}

func TestResetByAnotherProcessReconnects(t *testing.T) {
	pc := openClient(t)
	toy := &toyCard{name: 5}
	_, reader := insert(t, pc, 0, toy)
	a := connect(t, pc, reader, nil)
	b := connect(t, pc, reader, nil)
	ctx := context.Background()
	if _, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0}); err != nil {
		t.Fatal(err)
	}
	before := toy.resets()
	if err := b.Reconnect(ctx, true); err != nil {
		t.Fatalf("reset through the other handle: %v", err)
	}
	if toy.resets() <= before {
		t.Errorf("the card behind vpcd saw no reset")
	}
	_, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0})
	if !errors.Is(err, pcsc.ErrCardReset) || !errors.Is(err, scard.ErrResetCard) {
		t.Fatalf("first Transmit after a reset by another handle: %v; want ErrCardReset", err)
	}
	if rsp, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0}); err != nil || rsp[0] != 5 {
		t.Errorf("Transmit after the automatic reconnect: % X, %v", rsp, err)
	}
	// A transaction that begins after a reset reconnects and runs.
	if err := b.Reconnect(ctx, true); err != nil {
		t.Fatal(err)
	}
	err = a.Transaction(ctx, func(ctx context.Context) error {
		_, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0})
		return err
	})
	if err != nil {
		t.Errorf("Transaction after a reset: %v", err)
	}
}

func TestExclusiveKeepsOthersOut(t *testing.T) {
	pc := openClient(t)
	_, reader := insert(t, pc, 0, &toyCard{name: 6})
	connect(t, pc, reader, &pcsc.ConnectOptions{Exclusive: true})
	_, err := pc.Connect(context.Background(), reader, nil)
	if !errors.Is(err, pcsc.ErrSharingViolation) {
		t.Errorf("second Connect while held exclusively: %v; want ErrSharingViolation", err)
	}
}

func TestTransactionHoldsTheCard(t *testing.T) {
	pc := openClient(t)
	_, reader := insert(t, pc, 0, &toyCard{name: 7})
	a := connect(t, pc, reader, nil)
	b := connect(t, pc, reader, nil) // stands for another process
	ctx := context.Background()

	var order []string
	entered := make(chan struct{})
	release := make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- a.Transaction(ctx, func(ctx context.Context) error {
			close(entered)
			<-release
			for i := 0; i < 3; i++ {
				if _, err := a.Transmit(ctx, []byte{0, 0xA4, 0, byte(i)}); err != nil {
					return err
				}
			}
			order = append(order, "a")
			return nil
		})
	}()
	<-entered
	bDone := make(chan error, 1)
	go func() {
		bDone <- b.Transaction(ctx, func(ctx context.Context) error {
			order = append(order, "b")
			_, err := b.Transmit(ctx, []byte{0, 0xA4, 0, 9})
			return err
		})
	}()
	// Same process, same Card, no transaction context: must wait too.
	sameDone := make(chan error, 1)
	go func() {
		_, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 8})
		sameDone <- err
	}()
	select {
	case err := <-bDone:
		t.Fatalf("another handle's transaction ran while the card was held: %v", err)
	case err := <-sameDone:
		t.Fatalf("a Transmit outside the transaction ran while it was held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-aDone; err != nil {
		t.Fatalf("transaction a: %v", err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("transaction b: %v", err)
	}
	if err := <-sameDone; err != nil {
		t.Fatalf("waiting Transmit: %v", err)
	}
	if !slices.Equal(order, []string{"a", "b"}) {
		t.Errorf("order %v, want [a b]", order)
	}
}

func TestClosedCard(t *testing.T) {
	pc := openClient(t)
	_, reader := insert(t, pc, 0, &toyCard{name: 8})
	k, err := pc.Connect(context.Background(), reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := k.Transmit(context.Background(), []byte{0, 0xA4, 0, 0}); !errors.Is(err, pcsc.ErrClosed) {
		t.Errorf("Transmit after Close: %v", err)
	}
}

func TestNestedTransactionAndCancelledWait(t *testing.T) {
	pc := openClient(t)
	_, reader := insert(t, pc, 0, &toyCard{name: 9})
	a := connect(t, pc, reader, nil)
	ctx := context.Background()

	// A nested Transaction with the transaction's context joins it.
	err := a.Transaction(ctx, func(ctx context.Context) error {
		return a.Transaction(ctx, func(ctx context.Context) error {
			_, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0})
			return err
		})
	})
	if err != nil {
		t.Fatalf("nested transaction: %v", err)
	}

	// While a transaction runs, another goroutine's Transaction and
	// Transmit give up when their contexts end.
	release := make(chan struct{})
	entered := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.Transaction(ctx, func(context.Context) error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := a.Transaction(wctx, func(context.Context) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Transaction waiting on a held card: %v, want context.DeadlineExceeded", err)
	}
	if _, err := a.Transmit(wctx, []byte{0, 0xA4, 0, 0}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Transmit waiting on a held card: %v, want context.DeadlineExceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// fn's error comes back as it is, and the card is free again.
	errFn := errors.New("flow failed")
	if err := a.Transaction(ctx, func(context.Context) error { return errFn }); err != errFn {
		t.Errorf("Transaction returned %v, want fn's error", err)
	}
	if _, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0}); err != nil {
		t.Errorf("Transmit after the transactions: %v", err)
	}
}

func TestProtocolMismatch(t *testing.T) {
	pc := openClient(t)
	_, reader := insert(t, pc, 0, &toyCard{name: 10}) // DefaultATR offers T=0 only
	_, err := pc.Connect(context.Background(), reader, &pcsc.ConnectOptions{Protocol: pcsc.ProtocolT1})
	if !errors.Is(err, pcsc.ErrProtocolMismatch) {
		t.Errorf("Connect asking for T=1 of a T=0 card: %v; want ErrProtocolMismatch", err)
	}
	k := connect(t, pc, reader, &pcsc.ConnectOptions{Protocol: pcsc.ProtocolT0})
	if k.Protocol() != pcsc.ProtocolT0 {
		t.Errorf("protocol %v", k.Protocol())
	}
}

func TestTransactionShieldsFromResetsAndSeesRemoval(t *testing.T) {
	pc := openClient(t)
	toy := &toyCard{name: 11}
	s, reader := insert(t, pc, 0, toy)
	a := connect(t, pc, reader, nil)
	b := connect(t, pc, reader, nil)
	ctx := context.Background()

	// Another process cannot reset the card while a transaction holds it.
	rerr := make(chan error, 1)
	err := a.Transaction(ctx, func(ctx context.Context) error {
		before := toy.resets()
		go func() { rerr <- b.Reconnect(context.Background(), true) }()
		select {
		case err := <-rerr:
			rerr <- err
			if err == nil {
				t.Errorf("another handle reset the card during a transaction")
			}
		case <-time.After(300 * time.Millisecond): // it waits for the transaction
		}
		if toy.resets() != before {
			t.Errorf("the card was reset during the transaction")
		}
		_, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0})
		return err
	})
	if err != nil {
		t.Fatalf("transaction: %v", err)
	}
	select { // the other handle's reset goes through once the card is free
	case <-rerr:
	case <-time.After(10 * time.Second):
		t.Fatal("the other handle's reset never completed")
	}

	// A card pulled during a transaction fails its commands with
	// ErrCardRemoved, and Transaction returns that.
	err = a.Transaction(ctx, func(ctx context.Context) error {
		s.Remove()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := pc.WaitForRemoval(wctx, reader); err != nil {
			return err
		}
		_, err := a.Transmit(ctx, []byte{0, 0xA4, 0, 0})
		return err
	})
	if !errors.Is(err, pcsc.ErrCardRemoved) {
		t.Errorf("transaction over a removed card: %v; want ErrCardRemoved", err)
	}
}
