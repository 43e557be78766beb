// Package registertest is a conformance suite for registers reached over the
// host link: it drives a link.Client through the command set and checks
// that the register answers consistently (numbers, totals, fiscal codes,
// uploads by number and by time, daily data, roll usage, declarations,
// duplicate requests answered from memory, the self-tests 5C-5F and the
// card pass-through 59/5A/5B: commands that could change fiscal data never
// leave the client, and a register in service mode still issues after its
// fiscal card was power-cycled). A register may answer the service
// commands "unknown command" unless Options.SelfTests or
// Options.CardPassThrough require them.
//
// The same suite runs in `go test ./...` against the in-process server over
// net.Pipe and, with the ptytest build tag, against examples/simulator on a
// pseudo-terminal opened through adapters/serial.
package registertest
