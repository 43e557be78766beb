//go:build pcsc

// Command cardreader lists the PC/SC readers and prints the information of
// the GB 18240 card in each: the fiscal card (税控卡), user card (用户卡) or
// check card (稽查卡).
//
//	go run -tags pcsc ./examples/cardreader            # the readers as they are
//	go run -tags pcsc ./examples/cardreader -emulate   # first put an emulated card set in the vpcd readers
//
// With -emulate it issues an emulated card set (card/emulator) and serves
// its cards to pcscd's vpcd driver (adapters/vpcd): the fiscal card on
// 127.0.0.1:35963 and the user card on :35964 (Debian's two vpcd readers),
// and the check card on :35965, the reader of a second vpcd instance (see
// the README section "Real-stack tests: PC/SC"; -check-addr "" leaves the
// check card out). It finds which reader each address feeds with
// vpcd.Locate, so it works without hardware on a machine running pcscd
// with the vsmartcard-vpcd driver.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/fiscalkit/gb18240/adapters/pcsc"
	"github.com/fiscalkit/gb18240/adapters/vpcd"
	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
)

func main() {
	emulate := flag.Bool("emulate", false, "serve an emulated fiscal, user and check card through vpcd first")
	checkAddr := flag.String("check-addr", vpcd.SlotAddr(2), `with -emulate: vpcd address for the check card ("" leaves it out)`)
	wait := flag.Duration("wait", 20*time.Second, "with -emulate: how long to wait for pcscd to show the cards")
	flag.Parse()
	if err := run(*emulate, *checkAddr, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "cardreader:", err)
		if errors.Is(err, pcsc.ErrNoService) {
			fmt.Fprintln(os.Stderr, "is pcscd running? (as root: pcscd -f &)")
		}
		os.Exit(1)
	}
}

func run(emulate bool, checkAddr string, wait time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pc, err := pcsc.Open(ctx, nil)
	if err != nil {
		return err
	}
	defer pc.Close()

	if emulate {
		stop, err := serveEmulated(ctx, pc, checkAddr, wait)
		if err != nil {
			return err
		}
		defer stop()
	}

	readers, err := pc.Readers(ctx)
	if err != nil {
		return err
	}
	if len(readers) == 0 {
		fmt.Println("no PC/SC readers")
		return nil
	}
	for _, r := range readers {
		fmt.Printf("%s\n", r)
		if err := show(ctx, pc, r); err != nil {
			fmt.Printf("  error: %v\n", err)
		}
	}
	return nil
}

func show(ctx context.Context, pc *pcsc.Client, reader string) error {
	st, err := pc.Status(ctx, reader)
	if err != nil {
		return err
	}
	if !st.Present {
		fmt.Println("  no card")
		return nil
	}
	k, err := pc.Connect(ctx, reader, nil)
	if err != nil {
		return err
	}
	defer k.Close()
	fmt.Printf("  ATR % X, %v\n", k.ATR(), k.Protocol())
	// Hold the card for the whole read, so that no other process changes
	// the selected file in between.
	return k.Transaction(ctx, func(ctx context.Context) error {
		return describe(ctx, k, os.Stdout)
	})
}

// serveEmulated issues a demonstration card set, finds the reader of each
// vpcd address, serves the cards there and waits until pcscd shows them.
func serveEmulated(ctx context.Context, pc *pcsc.Client, checkAddr string, wait time.Duration) (stop func(), err error) {
	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		return nil, err
	}
	addrs := []string{vpcd.SlotAddr(0), vpcd.SlotAddr(1)}
	cards := []card.Transmitter{set.Fiscal, set.User}
	if checkAddr != "" {
		addrs, cards = append(addrs, checkAddr), append(cards, set.Check)
	}
	wctx, wcancel := context.WithTimeout(ctx, wait)
	defer wcancel()
	readers, err := vpcd.Locate(wctx, addrs, func(ctx context.Context) (map[string][]byte, error) {
		return readerATRs(ctx, pc)
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("finding the vpcd readers (pcscd with vsmartcard-vpcd running? for the check card, a second vpcd instance on %s, or -check-addr \"\"): %w", checkAddr, err)
	}

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, len(cards))
	for n, c := range cards {
		go func() {
			_ = vpcd.Run(ctx, c, &vpcd.Options{Addr: addrs[n]})
			done <- struct{}{}
		}()
	}
	stop = func() {
		cancel()
		for range cards {
			<-done
		}
	}
	for _, addr := range addrs {
		if _, err := pc.WaitForCard(wctx, readers[addr]); err != nil {
			stop()
			return nil, fmt.Errorf("emulated card served on %s not seen in %q: %w", addr, readers[addr], err)
		}
	}
	return stop, nil
}

// readerATRs lists the readers with the ATR of the card in each, for
// vpcd.Locate.
func readerATRs(ctx context.Context, pc *pcsc.Client) (map[string][]byte, error) {
	readers, err := pc.Readers(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string][]byte, len(readers))
	for _, r := range readers {
		st, err := pc.Status(ctx, r)
		if errors.Is(err, pcsc.ErrReaderUnavailable) {
			continue
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
