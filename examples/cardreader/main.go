//go:build pcsc

// Command cardreader lists the PC/SC readers and prints the information of
// the GB 18240 card in each: the fiscal card (税控卡), user card (用户卡) or
// check card (稽查卡).
//
//	go run -tags pcsc ./examples/cardreader            # the readers as they are
//	go run -tags pcsc ./examples/cardreader -emulate   # first put an emulated card set in the vpcd readers
//
// With -emulate it issues an emulated card set (card/emulator) and serves
// the fiscal card in vpcd's reader "Virtual PCD 00 00" and the user card in
// "Virtual PCD 00 01" (adapters/vpcd), so it works without hardware on a
// machine running pcscd with Debian's vsmartcard-vpcd driver.
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
	emulate := flag.Bool("emulate", false, "serve an emulated fiscal and user card through vpcd first")
	wait := flag.Duration("wait", 10*time.Second, "with -emulate: how long to wait for pcscd to show the cards")
	flag.Parse()
	if err := run(*emulate, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "cardreader:", err)
		if errors.Is(err, pcsc.ErrNoService) {
			fmt.Fprintln(os.Stderr, "is pcscd running? (as root: pcscd -f &)")
		}
		os.Exit(1)
	}
}

func run(emulate bool, wait time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pc, err := pcsc.Open(ctx, nil)
	if err != nil {
		return err
	}
	defer pc.Close()

	if emulate {
		stop, err := serveEmulated(ctx, pc, wait)
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

// serveEmulated issues a demonstration card set and puts the fiscal and
// user cards in the two vpcd readers, waiting until pcscd shows them.
func serveEmulated(ctx context.Context, pc *pcsc.Client, wait time.Duration) (stop func(), err error) {
	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	for n, c := range []card.Transmitter{set.Fiscal, set.User} {
		go func() {
			_ = vpcd.Run(ctx, c, &vpcd.Options{Addr: vpcd.SlotAddr(n)})
			done <- struct{}{}
		}()
	}
	stop = func() {
		cancel()
		<-done
		<-done
	}
	wctx, wcancel := context.WithTimeout(ctx, wait)
	defer wcancel()
	for n := range 2 {
		reader := fmt.Sprintf("Virtual PCD 00 %02d", n)
		if _, err := pc.WaitForCard(wctx, reader); err != nil {
			stop()
			return nil, fmt.Errorf("emulated card not seen in %q (pcscd with vsmartcard-vpcd running?): %w", reader, err)
		}
	}
	return stop, nil
}
