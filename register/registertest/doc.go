// Package registertest is a conformance suite for registers reached over the
// host link: it drives a link.Client through the command set and checks
// that the register answers consistently (numbers, totals, fiscal codes,
// uploads by number and by time, daily data, roll usage, declarations,
// duplicate requests answered from memory).
//
// The same suite runs in `go test ./...` against the in-process server over
// net.Pipe and, with the ptytest build tag, against examples/simulator on a
// pseudo-terminal opened through adapters/serial.
package registertest
