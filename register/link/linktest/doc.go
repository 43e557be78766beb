// Package linktest holds test doubles for the host link: Register, an
// in-memory register simulation implementing link.Handler; Pipe, an
// in-memory full-duplex line with read deadlines that can enforce a serial
// bit rate; and Device, the real register engine (package register) on
// emulated cards (card/emulator) and a fiscal memory, with a settable clock,
// served through link.DeviceHandler. examples/simulator is Device behind a
// TCP port or a pseudo-terminal.
package linktest
