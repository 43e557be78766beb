//go:build !pcsc

// Command cardreader needs the PC/SC adapter, which builds only with the
// pcsc tag (cgo and libpcsclite). Built without it, -emulate prints an
// emulated card set in process (no PC/SC, no pcscd), and anything else says
// how to build the PC/SC version.
//
//	go run ./examples/cardreader -emulate          # emulated cards, in process
//	go run -tags pcsc ./examples/cardreader        # the PC/SC readers
//
// Exit status: 0 done (or -h); 1 reading a card failed; 2 usage error, or a
// PC/SC run asked of a build without the pcsc tag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fiscalkit/gb18240/card/emulator"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const noPCSC = `cardreader was built without the pcsc tag, so it cannot talk to PC/SC readers.
  go run ./examples/cardreader -emulate              # an emulated card set, in process (no PC/SC)
  go run -tags pcsc ./examples/cardreader [-emulate] # PC/SC readers (cgo, libpcsclite-dev, pkg-config, pcscd;
                                                     # see the README section "Real-stack tests: PC/SC")
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("cardreader", flag.ContinueOnError)
	fl.SetOutput(stderr)
	emulate := fl.Bool("emulate", false, "print an emulated fiscal, user and check card (in process: this build has no PC/SC)")
	fl.Usage = func() {
		fmt.Fprint(stderr, noPCSC, "\nFlags of this build:\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "cardreader: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if !*emulate {
		fmt.Fprint(stderr, noPCSC)
		return 2
	}
	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		fmt.Fprintln(stderr, "cardreader:", err)
		return 1
	}
	for _, c := range []struct {
		name string
		card *emulator.Card
	}{{"fiscal", set.Fiscal}, {"user", set.User}, {"check", set.Check}} {
		fmt.Fprintf(stdout, "emulated %s card (in process, no PC/SC)\n", c.name)
		fmt.Fprintf(stdout, "  ATR % X\n", c.card.ATR())
		if err := describe(ctx, c.card, stdout); err != nil {
			fmt.Fprintf(stderr, "cardreader: %s card: %v\n", c.name, err)
			return 1
		}
	}
	return 0
}
