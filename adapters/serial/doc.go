// Package serial puts a serial port (go.bug.st/serial) under the register
// host link: Port is a link.DeadlineReadWriter, so link.Client and
// link.Server run on it unchanged.
//
// go.bug.st/serial has no deadlines: its Read waits at most the read
// timeout and then returns 0 bytes and no error. Port turns that into
// deadlines. It reads in short polls (Options.PollInterval), and a Read
// whose deadline passes without data returns os.ErrDeadlineExceeded, which
// the link treats as a frame timeout. A deadline set from another goroutine
// (for example when a context is cancelled) takes effect within one poll.
//
// The default line settings are those of the register link: 9600 baud, 8
// data bits, no parity, one stop bit.
//
// OpenPTY (Linux) creates a pseudo-terminal pair, which examples/simulator
// uses to look like a register on a serial port.
package serial
