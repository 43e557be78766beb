// Package pcsc makes cards in PC/SC readers usable by the card package: a
// Card is a card.Transmitter on github.com/ebfe/scard (pcsc-lite on Linux,
// winscard on Windows, the PC/SC framework on macOS).
//
// # Building
//
// Everything but this file carries the build tag pcsc, because ebfe/scard
// needs cgo and, on Linux, the pcsc-lite headers found through pkg-config
// (Debian: libpcsclite-dev, pkg-config). Without the tag the package is
// empty, so `go build ./...` and `go test ./...` work on a machine that
// has only Go. With it:
//
//	go build -tags pcsc ./adapters/pcsc
//	go test -tags pcsc ./adapters/pcsc   # needs a running pcscd with the vpcd driver
//
// The tests under the tag are the real-stack tier: they serve the card
// emulator to pcscd through adapters/vpcd and run the card conformance
// suite and a register flow through ebfe/scard → pcscd → vpcd → emulator.
// The suite runs with every hook: a reset is a PC/SC reset, which vpcd
// passes on to the emulator as its reset message.
// They fail (never skip) when pcscd or the vpcd readers are missing. The
// README's section "Real-stack tests: PC/SC" says how to start pcscd.
//
// # Use
//
// Open a Client (one per program), find a reader with Readers or
// WaitForCard, and Connect. The Card shares the card with other processes
// by default (ConnectOptions.Exclusive for sole use) and accepts T=0 or
// T=1 as the card offers (GB 18240 cards use T=0); T=0 status words such
// as 61xx come back unchanged for card.Channel to handle.
//
// A multi-command operation runs inside Card.Transaction, which holds the
// card against other processes (SCardBeginTransaction) and other
// goroutines; the function it runs gets the context to send its commands
// with:
//
//	err := fiscalCard.Transaction(ctx, func(ctx context.Context) error {
//		// verify the fiscal PIN, issue the invoice, read EF03 back ...
//		return nil
//	})
//
// # Errors
//
// PC/SC failures are *Error values carrying the operation, the reader and
// the raw PC/SC code (Error.Code, a scard.Error); they unwrap both to that
// code and to a sentinel: ErrNoService (pcscd not running), ErrNoReaders,
// ErrReaderUnavailable (reader unknown or unplugged), ErrNoCard,
// ErrCardRemoved, ErrCardReset, ErrSharingViolation, ErrUnresponsiveCard,
// ErrProtocolMismatch, ErrCommunication, ErrTimeout. When another process
// resets the card, the next Transmit reconnects the handle and reports
// ErrCardReset without sending its command: the card lost its selected
// application and verified PINs, so the caller starts its operation again.
// Waits (WaitForCard, WaitForRemoval) end with ctx.Err() when their context
// ends.
package pcsc
