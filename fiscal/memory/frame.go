package memory

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Layout constants of the on-disk format; doc.go describes them byte by byte.
const (
	formatVersion   = 1
	segHeaderLen    = 32
	frameHeaderLen  = 16
	frameCRCLen     = 4
	frameAlign      = 8
	maxPayload      = 1 << 16 // 64 KiB: far above any record
	flagMore        = 0x01    // more records of the same batch follow
	segSuffix       = ".seg"
	segNameDigits   = 8
	defaultSegBytes = 4 << 20
)

var segMagic = [8]byte{'G', 'B', '1', '8', '2', '4', '0', 'M'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentName returns the file name of segment index i (1-based).
func segmentName(i uint32) string {
	return fmt.Sprintf("%0*d%s", segNameDigits, i, segSuffix)
}

// parseSegmentName returns the index of a segment file name, or false if the
// name is not a segment's.
func parseSegmentName(name string) (uint32, bool) {
	digits, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(digits) != segNameDigits {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}

// segHeader is the 32-byte header at the start of every segment file.
type segHeader struct {
	Version  uint16
	Index    uint32
	FirstSeq uint64
	Seed     uint32 // CRC of the previous segment's last frame; 0 for the first
}

func (h segHeader) append(b []byte) []byte {
	start := len(b)
	b = append(b, segMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint32(b, h.Index)
	b = binary.BigEndian.AppendUint64(b, h.FirstSeq)
	b = binary.BigEndian.AppendUint32(b, h.Seed)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// parseSegHeader decodes a segment header. It never panics.
func parseSegHeader(b []byte) (segHeader, string, error) {
	if len(b) < segHeaderLen {
		return segHeader{}, "segment shorter than its 32-byte header", nil
	}
	if [8]byte(b[:8]) != segMagic {
		return segHeader{}, "bad segment magic", nil
	}
	if got, want := binary.BigEndian.Uint32(b[28:32]), crc32.Checksum(b[:28], castagnoli); got != want {
		return segHeader{}, fmt.Sprintf("segment header CRC %08x, computed %08x", got, want), nil
	}
	h := segHeader{
		Version:  binary.BigEndian.Uint16(b[8:10]),
		Index:    binary.BigEndian.Uint32(b[12:16]),
		FirstSeq: binary.BigEndian.Uint64(b[16:24]),
		Seed:     binary.BigEndian.Uint32(b[24:28]),
	}
	if h.Version != formatVersion {
		return h, fmt.Sprintf("format version %d", h.Version), ErrVersion
	}
	if binary.BigEndian.Uint16(b[10:12]) != 0 {
		return h, "reserved header bytes not zero", nil
	}
	return h, "", nil
}

// frameLen returns the total on-disk length of a frame with an n-byte payload.
func frameLen(n int) int {
	l := frameHeaderLen + n + frameCRCLen
	return (l + frameAlign - 1) &^ (frameAlign - 1)
}

// appendFrame appends one frame to b, chained on prev, and returns the new
// slice and the frame's CRC (the chain value for the next frame).
func appendFrame(b []byte, prev uint32, seq uint64, kind Kind, more bool, payload []byte) ([]byte, uint32) {
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	var flags byte
	if more {
		flags |= flagMore
	}
	b = append(b, byte(kind), flags, 0, 0)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, payload...)
	for pad := frameLen(len(payload)) - frameHeaderLen - len(payload) - frameCRCLen; pad > 0; pad-- {
		b = append(b, 0)
	}
	crc := crc32.Update(prev, castagnoli, b[start:])
	return binary.BigEndian.AppendUint32(b, crc), crc
}

// frame is one decoded frame; payload aliases the segment buffer.
type frame struct {
	Off     int64
	Kind    Kind
	More    bool
	Seq     uint64
	Payload []byte
	CRC     uint32
	Prev    uint32 // chain value the frame was checked against
}

// frameStatus is the outcome of reading one frame.
type frameStatus int

const (
	frameOK         frameStatus = iota
	frameEnd                    // clean end of data
	frameIncomplete             // data ends inside the frame (torn if at the tail)
	frameBad                    // damaged
)

// readFrame decodes the frame at off in seg, chained on prev. It never panics
// and never reads outside seg.
func readFrame(seg []byte, off int64, prev uint32) (frame, frameStatus, string) {
	var f frame
	st, reason := readFrameInto(&f, seg, off, prev)
	return f, st, reason
}

// readFrameInto is readFrame decoding into *f (overwritten whole), which
// spares the log scan a copy of the frame per record.
func readFrameInto(f *frame, seg []byte, off int64, prev uint32) (frameStatus, string) {
	rest := int64(len(seg)) - off
	*f = frame{Off: off, Prev: prev}
	if rest == 0 {
		return frameEnd, ""
	}
	if rest < frameHeaderLen {
		return frameIncomplete, fmt.Sprintf("%d bytes left, shorter than a frame header", rest)
	}
	h := seg[off : off+frameHeaderLen]
	n := binary.BigEndian.Uint32(h[0:4])
	f.Kind = Kind(h[4])
	f.Seq = binary.BigEndian.Uint64(h[8:16])
	if n > maxPayload {
		return frameBad, fmt.Sprintf("payload length %d over the %d-byte limit", n, maxPayload)
	}
	total := int64(frameLen(int(n)))
	if rest < total {
		return frameIncomplete, fmt.Sprintf("frame of %d bytes, only %d left", total, rest)
	}
	fb := seg[off : off+total]
	body := fb[:total-frameCRCLen]
	got := binary.BigEndian.Uint32(fb[total-frameCRCLen:])
	want := crc32.Update(prev, castagnoli, body)
	if got != want {
		return frameBad, fmt.Sprintf("CRC %08x, computed %08x (record damaged or chain broken)", got, want)
	}
	flags := h[5]
	if flags&^flagMore != 0 || h[6] != 0 || h[7] != 0 {
		return frameBad, "reserved header bits set"
	}
	for _, x := range body[frameHeaderLen+int(n):] {
		if x != 0 {
			return frameBad, "padding not zero"
		}
	}
	f.More = flags&flagMore != 0
	f.Payload = body[frameHeaderLen : frameHeaderLen+int(n)]
	f.CRC = got
	return frameOK, ""
}
