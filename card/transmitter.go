package card

import "context"

// Transmitter sends one command APDU to a card and returns the card's
// response APDU, status word (SW1 SW2) included as its last two bytes.
//
// It is the only thing the rest of the package needs from a card: the
// in-process emulator, a PC/SC reader (adapters/pcsc) and the vpcd bridge
// all implement it. An implementation does no T=0 handling of its own
// (61xx / 6Cxx are returned as they are); Channel adds that on top.
//
// A Transmitter returns an error only when no response APDU was obtained
// (reader gone, card removed, context done); a card that answers with an
// error status word is not a transport error.
type Transmitter interface {
	Transmit(ctx context.Context, command []byte) (response []byte, err error)
}

// TransmitterFunc adapts an ordinary function to the Transmitter interface.
type TransmitterFunc func(ctx context.Context, command []byte) ([]byte, error)

// Transmit calls f(ctx, command).
func (f TransmitterFunc) Transmit(ctx context.Context, command []byte) ([]byte, error) {
	return f(ctx, command)
}
