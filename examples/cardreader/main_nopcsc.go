//go:build !pcsc

// Command cardreader needs the PC/SC adapter, which builds only with the
// pcsc tag (cgo and libpcsclite). Built without it, it says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "cardreader talks to PC/SC readers and needs the pcsc build tag (cgo, libpcsclite-dev, pkg-config):")
	fmt.Fprintln(os.Stderr, "  go run -tags pcsc ./examples/cardreader [-emulate]")
	os.Exit(2)
}
