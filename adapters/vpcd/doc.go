// Package vpcd serves an in-process card (the card emulator, or any
// card.Transmitter) to pcscd through the virtual reader driver of the
// vsmartcard project (Debian package vsmartcard-vpcd), so that programs
// using PC/SC (adapters/pcsc, or any other PC/SC client on the machine)
// see it as a card in a real reader. It is pure Go.
//
// # The vpcd protocol
//
// The driver inside pcscd listens on TCP; the card side connects to it as
// a client. Debian's /etc/reader.conf.d/vpcd (CHANNELID 0x8C7B = 35963)
// gives two readers: "Virtual PCD 00 00" listening on port 35963 and
// "Virtual PCD 00 01" on 35964 (SlotAddr). A connected client is a card
// present in that reader; closing the connection is a card removal.
//
// More readers need another driver instance: a second reader.conf.d entry
// with another port (DEVICENAME /dev/null:0x8C7D gives ports 35965 and
// 35966, SlotAddr(2) and SlotAddr(3)). The driver keeps its connections in
// one array indexed by slot number, shared by every instance loaded from
// the same library file, so the second entry's LIBPATH must name a copy
// of libifdvpcd.so; loaded from the same file, it takes over the first
// instance's slots. Reader names come from FRIENDLYNAME and the order
// pcscd loads the entries in; Locate finds which reader an address feeds.
//
// Both directions carry messages of this form:
//
//	offset 0  length  uint16, big-endian, 1..65535
//	offset 2  payload length bytes
//
// From the driver to the card a payload is either a control code (exactly
// one byte) or a command APDU (four bytes or more):
//
//	00  power off     no answer
//	01  power on      no answer
//	02  reset         no answer
//	04  get ATR       answered with the ATR bytes
//	APDU              answered with the response APDU (data ‖ SW1 ‖ SW2)
//
// Any other 1-byte payload, and a zero length, are protocol errors
// (ProtocolError wrapping ErrUnknownControl or ErrEmptyMessage). APDUs are
// passed to the card exactly as pcscd gives them and the answer is sent
// back as the card gives it: T=0 status words (61xx, 6Cxx) travel
// unchanged, as card.Transmitter requires.
//
// # Use
//
// Run serves one card until its context ends; a Slot also lets a test or a
// program insert, remove and swap cards while it runs. Both reconnect when
// pcscd drops the connection (for example when pcscd restarts). Locate
// maps vpcd addresses to PC/SC reader names with probe cards. Power
// events are passed to a card that implements PowerController; the ATR is the
// card's own if it implements ATRer, else DefaultATR (T=0, starting
// 3B 7A like the GB 18240 fiscal cards).
package vpcd
