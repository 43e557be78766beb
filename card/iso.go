package card

import (
	"context"
	"errors"
	"fmt"
)

// ErrBadArgument means a caller-supplied value cannot be sent (wrong PIN
// length, offset out of range, SFI outside 1..30, invalid record field).
// It is returned wrapped in an *ArgumentError before anything is sent.
var ErrBadArgument = errors.New("card: invalid argument")

// ArgumentError is a local validation failure: nothing was sent to the card.
type ArgumentError struct {
	Command string // command or record name
	Field   string // the offending argument or field
	Reason  string
	Err     error // ErrBadArgument, or a fiscal package error
}

func (e *ArgumentError) Error() string {
	s := fmt.Sprintf("card: %s: %s: %s", e.Command, e.Field, e.Reason)
	if e.Err != nil && e.Err != ErrBadArgument {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrBadArgument and, if different, the underlying cause.
func (e *ArgumentError) Unwrap() []error {
	if e.Err == nil || e.Err == ErrBadArgument {
		return []error{ErrBadArgument}
	}
	return []error{ErrBadArgument, e.Err}
}

func argErr(cmd, field, reason string) error {
	return &ArgumentError{Command: cmd, Field: field, Reason: reason, Err: ErrBadArgument}
}

// PINLen is the length of every GB 18240.2 PIN: user/check card VERIFY
// PINs and the rolling fiscal PIN (reference §2.2, §2.4).
const PINLen = 8

// SelectName selects an application by DF name (00 A4 04 00 Lc name) and
// returns the FCI data the card sends back, if any.
func (c *Channel) SelectName(ctx context.Context, name string) ([]byte, error) {
	if len(name) == 0 || len(name) > 16 {
		return nil, argErr("SELECT", "name", fmt.Sprintf("DF name of %d bytes, want 1..16", len(name)))
	}
	return c.Do(ctx, Command{CLA: CLAISO, INS: INSSelect, P1: 0x04, P2: 0x00, Data: []byte(name)})
}

// SelectFID selects a file by identifier (00 A4 00 00 02 FID) and returns
// the data the card sends back, if any.
func (c *Channel) SelectFID(ctx context.Context, fid uint16) ([]byte, error) {
	return c.Do(ctx, Command{CLA: CLAISO, INS: INSSelect, Data: []byte{byte(fid >> 8), byte(fid)}})
}

// maxChunk is the most data one short READ/UPDATE BINARY moves.
const (
	maxReadChunk   = 256
	maxUpdateChunk = 255
)

// ReadBinary reads n bytes of the current EF from offset (00 B0 off Le),
// in chunks of at most 256 bytes. offset+n must stay below 32768.
func (c *Channel) ReadBinary(ctx context.Context, offset, n int) ([]byte, error) {
	if offset < 0 || n <= 0 || offset+n > 0x8000 {
		return nil, argErr("READ BINARY", "offset", fmt.Sprintf("range %d+%d outside 0..32767", offset, n))
	}
	out := make([]byte, 0, n)
	for len(out) < n {
		k := min(n-len(out), maxReadChunk)
		off := offset + len(out)
		d, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSReadBinary, P1: byte(off >> 8), P2: byte(off), Ne: k})
		if err != nil {
			return nil, err
		}
		if len(d) == 0 {
			return nil, &FormatError{What: "READ BINARY", Offset: off, Reason: "card returned no data", Err: ErrMalformedRecord}
		}
		out = append(out, d[:min(len(d), k)]...)
	}
	return out, nil
}

// ReadBinarySFI reads n bytes (1..256) of the EF with short identifier sfi
// from offset 0..255 (00 B0 80|SFI off Le), making it the current EF.
func (c *Channel) ReadBinarySFI(ctx context.Context, sfi byte, offset, n int) ([]byte, error) {
	if err := checkSFI("READ BINARY", sfi); err != nil {
		return nil, err
	}
	if offset < 0 || offset > 0xFF || n <= 0 || n > maxReadChunk {
		return nil, argErr("READ BINARY", "offset", fmt.Sprintf("SFI form needs offset 0..255 and length 1..256, got %d, %d", offset, n))
	}
	d, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSReadBinary, P1: 0x80 | sfi, P2: byte(offset), Ne: n})
	if err != nil {
		return nil, err
	}
	if len(d) > n {
		d = d[:n]
	}
	return d, nil
}

// UpdateBinary writes data into the current EF at offset (00 D6 off Lc
// data), in chunks of at most 255 bytes.
func (c *Channel) UpdateBinary(ctx context.Context, offset int, data []byte) error {
	if offset < 0 || len(data) == 0 || offset+len(data) > 0x8000 {
		return argErr("UPDATE BINARY", "offset", fmt.Sprintf("range %d+%d outside 0..32767", offset, len(data)))
	}
	for done := 0; done < len(data); {
		k := min(len(data)-done, maxUpdateChunk)
		off := offset + done
		if _, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSUpdateBinary, P1: byte(off >> 8), P2: byte(off), Data: data[done : done+k]}); err != nil {
			return err
		}
		done += k
	}
	return nil
}

// UpdateBinarySFI writes 1..255 bytes at offset 0..255 of the EF with
// short identifier sfi (00 D6 80|SFI off Lc data).
func (c *Channel) UpdateBinarySFI(ctx context.Context, sfi byte, offset int, data []byte) error {
	if err := checkSFI("UPDATE BINARY", sfi); err != nil {
		return err
	}
	if offset < 0 || offset > 0xFF || len(data) == 0 || len(data) > maxUpdateChunk {
		return argErr("UPDATE BINARY", "offset", fmt.Sprintf("SFI form needs offset 0..255 and 1..255 bytes, got %d, %d", offset, len(data)))
	}
	_, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSUpdateBinary, P1: 0x80 | sfi, P2: byte(offset), Data: data})
	return err
}

// recordP2 is P2 of the record commands: (SFI<<3)|4 "record number in P1";
// SFI 0 means the current EF.
func recordP2(sfi byte) byte { return sfi<<3 | 0x04 }

// ReadRecord reads record rec (1..254) of the EF with short identifier sfi
// (0 = current EF): 00 B2 rec (SFI<<3)|04 Le. n is the record length
// expected (1..256); 0 asks for up to 256 bytes.
func (c *Channel) ReadRecord(ctx context.Context, sfi, rec byte, n int) ([]byte, error) {
	if err := checkRecord("READ RECORD", sfi, rec); err != nil {
		return nil, err
	}
	if n < 0 || n > 256 {
		return nil, argErr("READ RECORD", "length", fmt.Sprintf("%d outside 0..256", n))
	}
	if n == 0 {
		n = 256
	}
	return c.Do(ctx, Command{CLA: CLAISO, INS: INSReadRecord, P1: rec, P2: recordP2(sfi), Ne: n})
}

// UpdateRecord replaces record rec (1..254) of the EF sfi (0 = current):
// 00 DC rec (SFI<<3)|04 Lc data.
func (c *Channel) UpdateRecord(ctx context.Context, sfi, rec byte, data []byte) error {
	if err := checkRecord("UPDATE RECORD", sfi, rec); err != nil {
		return err
	}
	if len(data) == 0 || len(data) > maxShortLc {
		return argErr("UPDATE RECORD", "data", fmt.Sprintf("%d bytes, want 1..255", len(data)))
	}
	_, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSUpdateRecord, P1: rec, P2: recordP2(sfi), Data: data})
	return err
}

// AppendRecord adds a record to the EF sfi (0 = current): 00 E2 00 SFI<<3 Lc data.
func (c *Channel) AppendRecord(ctx context.Context, sfi byte, data []byte) error {
	if sfi != 0 {
		if err := checkSFI("APPEND RECORD", sfi); err != nil {
			return err
		}
	}
	if len(data) == 0 || len(data) > maxShortLc {
		return argErr("APPEND RECORD", "data", fmt.Sprintf("%d bytes, want 1..255", len(data)))
	}
	_, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSAppendRecord, P2: sfi << 3, Data: data})
	return err
}

// Verify presents the 8-byte PIN pinID (00 20 00 pinID 08 PIN). A wrong PIN
// gives a *StatusError wrapping a *PINError with the tries left.
func (c *Channel) Verify(ctx context.Context, pinID byte, pin []byte) error {
	if len(pin) != PINLen {
		return argErr("VERIFY", "pin", fmt.Sprintf("%d bytes, want %d", len(pin), PINLen))
	}
	_, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSVerify, P2: pinID, Data: pin})
	return err
}

// VerifyStatus sends VERIFY without data (00 20 00 pinID), which asks for
// the state of PIN pinID without presenting it: 9000 means verified in
// this session, 63Cx gives the tries left, 6983 blocked (ErrPINBlocked).
func (c *Channel) VerifyStatus(ctx context.Context, pinID byte) (verified bool, retries int, err error) {
	r, err := c.Transmit(ctx, Command{CLA: CLAISO, INS: INSVerify, P2: pinID})
	if err != nil {
		return false, 0, err
	}
	if r.SW == SWOK {
		return true, 0, nil
	}
	if n, ok := r.SW.RetriesLeft(); ok {
		return false, n, nil
	}
	return false, 0, CheckStatus(CLAISO, INSVerify, r.SW)
}

// GetChallenge asks the card for an n-byte random number (00 84 00 00 n);
// GB 18240.2 cards use n = 8.
func (c *Channel) GetChallenge(ctx context.Context, n int) ([]byte, error) {
	if n <= 0 || n > 256 {
		return nil, argErr("GET CHALLENGE", "n", fmt.Sprintf("%d outside 1..256", n))
	}
	d, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSGetChallenge, Ne: n})
	if err != nil {
		return nil, err
	}
	if len(d) != n {
		return nil, &FormatError{What: "GET CHALLENGE", Reason: fmt.Sprintf("%d bytes, want %d", len(d), n), Err: ErrMalformedRecord}
	}
	return d, nil
}

// InternalAuthenticate asks the card to encrypt challenge (8 bytes) with key
// keyID: 00 88 00 keyID 08 challenge, Le 08. It returns the 8-byte result.
func (c *Channel) InternalAuthenticate(ctx context.Context, keyID byte, challenge []byte) ([]byte, error) {
	if len(challenge) != 8 {
		return nil, argErr("INTERNAL AUTHENTICATE", "challenge", fmt.Sprintf("%d bytes, want 8", len(challenge)))
	}
	d, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSInternalAuth, P2: keyID, Data: challenge, Ne: 8})
	if err != nil {
		return nil, err
	}
	if len(d) != 8 {
		return nil, &FormatError{What: "INTERNAL AUTHENTICATE", Reason: fmt.Sprintf("%d bytes, want 8", len(d)), Err: ErrMalformedRecord}
	}
	return d, nil
}

// ExternalAuthenticate presents an 8-byte cryptogram computed with key
// keyID over the card's last challenge: 00 82 00 keyID 08 cryptogram.
func (c *Channel) ExternalAuthenticate(ctx context.Context, keyID byte, cryptogram []byte) error {
	if len(cryptogram) != 8 {
		return argErr("EXTERNAL AUTHENTICATE", "cryptogram", fmt.Sprintf("%d bytes, want 8", len(cryptogram)))
	}
	_, err := c.Do(ctx, Command{CLA: CLAISO, INS: INSExternalAuth, P2: keyID, Data: cryptogram})
	return err
}

// GetResponse sends GET RESPONSE 00 C0 00 00 n by hand. Channel already
// chains GET RESPONSE after 61xx; this is for callers driving a card
// through a raw Transmitter-level protocol.
func (c *Channel) GetResponse(ctx context.Context, n int) ([]byte, error) {
	if n <= 0 || n > 256 {
		return nil, argErr("GET RESPONSE", "n", fmt.Sprintf("%d outside 1..256", n))
	}
	return c.Do(ctx, Command{CLA: CLAISO, INS: INSGetResponse, Ne: n})
}

func checkSFI(cmd string, sfi byte) error {
	if sfi < 1 || sfi > 30 {
		return argErr(cmd, "sfi", fmt.Sprintf("SFI %d outside 1..30", sfi))
	}
	return nil
}

func checkRecord(cmd string, sfi, rec byte) error {
	if sfi > 30 {
		return argErr(cmd, "sfi", fmt.Sprintf("SFI %d outside 0..30", sfi))
	}
	if rec == 0 || rec == 0xFF {
		return argErr(cmd, "record", fmt.Sprintf("record number %d outside 1..254", rec))
	}
	return nil
}
