package link

import (
	"encoding/binary"
	"fmt"
)

// Frame layout constants (reference §5.1; the byte-level description is in
// the package documentation).
const (
	// SyncByte starts every request frame.
	SyncByte = 0x1B
	// TypeCommand is the frame type of the command link. The other types of
	// the reference (0x20 XML, 0x30 CA, 0x40 print) use a 2-byte length and
	// are not implemented.
	TypeCommand = 0x10
	// MaxPacketLen is the largest value of the length byte: the packet
	// without its CRC is at most 255 bytes.
	MaxPacketLen = 255
	// RequestHeaderLen is the size of 1B 10 cmd pack len.
	RequestHeaderLen = 5
	// ResponseHeaderLen is the size of the two marker bytes, pack and len.
	ResponseHeaderLen = 4
	// MaxPacketData is the largest data field of one packet in either
	// direction. It keeps requests (5 + 250) and replies (4 + 250) within
	// the 255-byte packet.
	MaxPacketData = 250
	// MaxTransfer is the largest data of one multi-packet transfer: packets
	// are numbered 1..255, so at most 255 packets of MaxPacketData bytes.
	MaxTransfer = 255 * MaxPacketData
)

// Status is the two-letter marker at the start of a reply.
type Status uint8

// Reply markers (reference §5.1).
const (
	StatusOK Status = iota + 1 // 'O' 'K': success, data follows
	StatusER                   // 'E' 'R': error, data[0] is the error code
	StatusWT                   // 'W' 'T': busy, keep waiting
	StatusNP                   // 'N' 'P': send the next packet; pack is its number
)

var statusMarker = [...][2]byte{StatusOK: {'O', 'K'}, StatusER: {'E', 'R'}, StatusWT: {'W', 'T'}, StatusNP: {'N', 'P'}}

func (s Status) String() string {
	if s >= StatusOK && s <= StatusNP {
		return string(statusMarker[s][:])
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

func statusFromMarker(a, b byte) Status {
	for s := StatusOK; s <= StatusNP; s++ {
		if statusMarker[s][0] == a && statusMarker[s][1] == b {
			return s
		}
	}
	return 0
}

// Request is one request packet: 1B 10 cmd pack len data CRC16.
type Request struct {
	Command Command
	Pack    uint8
	Data    []byte
}

// Response is one reply packet: marker pack len data CRC16.
type Response struct {
	Status Status
	Pack   uint8
	Data   []byte
}

// AppendRequest appends the encoded request frame to dst.
func AppendRequest(dst []byte, r Request) ([]byte, error) {
	if len(r.Data) > MaxPacketData {
		return dst, ErrPacketTooLong
	}
	start := len(dst)
	dst = append(dst, SyncByte, TypeCommand, byte(r.Command), r.Pack, byte(RequestHeaderLen+len(r.Data)))
	dst = append(dst, r.Data...)
	return binary.BigEndian.AppendUint16(dst, CRC16(dst[start:])), nil
}

// AppendResponse appends the encoded reply frame to dst.
func AppendResponse(dst []byte, r Response) ([]byte, error) {
	if len(r.Data) > MaxPacketData {
		return dst, ErrPacketTooLong
	}
	if r.Status < StatusOK || r.Status > StatusNP {
		return dst, fmt.Errorf("link: invalid reply status %d", r.Status)
	}
	start := len(dst)
	m := statusMarker[r.Status]
	dst = append(dst, m[0], m[1], r.Pack, byte(ResponseHeaderLen+len(r.Data)))
	dst = append(dst, r.Data...)
	return binary.BigEndian.AppendUint16(dst, CRC16(dst[start:])), nil
}

// ParseRequest decodes exactly one request frame. Data aliases b.
func ParseRequest(b []byte) (Request, error) {
	if len(b) < 2 {
		return Request{}, &FrameError{len(b), ErrShortFrame}
	}
	if b[0] != SyncByte || b[1] != TypeCommand {
		return Request{}, &FrameError{0, ErrBadSync}
	}
	if err := checkFrame(b, RequestHeaderLen); err != nil {
		return Request{}, err
	}
	return Request{Command: Command(b[2]), Pack: b[3], Data: b[RequestHeaderLen : len(b)-2]}, nil
}

// ParseResponse decodes exactly one reply frame. Data aliases b.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, &FrameError{len(b), ErrShortFrame}
	}
	st := statusFromMarker(b[0], b[1])
	if st == 0 {
		return Response{}, &FrameError{0, ErrBadSync}
	}
	if err := checkFrame(b, ResponseHeaderLen); err != nil {
		return Response{}, err
	}
	return Response{Status: st, Pack: b[2], Data: b[ResponseHeaderLen : len(b)-2]}, nil
}

// checkFrame checks the length byte (at hdr-1) and the CRC of a whole frame.
func checkFrame(b []byte, hdr int) error {
	if len(b) < hdr+2 {
		return &FrameError{len(b), ErrShortFrame}
	}
	n := int(b[hdr-1])
	if n < hdr {
		return &FrameError{hdr - 1, ErrBadLength}
	}
	if len(b) != n+2 {
		if len(b) < n+2 {
			return &FrameError{len(b), ErrShortFrame}
		}
		return &FrameError{hdr - 1, ErrBadLength}
	}
	if binary.BigEndian.Uint16(b[n:]) != CRC16(b[:n]) {
		return &FrameError{n, ErrBadCRC}
	}
	return nil
}
