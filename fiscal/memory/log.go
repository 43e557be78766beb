package memory

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// segInfo describes one segment file found by a scan.
type segInfo struct {
	Name     string
	Index    uint32
	Size     int64
	FirstSeq uint64
}

// scanResult is what a scan of the whole log learnt.
type scanResult struct {
	Segs    []segInfo
	LastCRC uint32 // chain value after the last good frame
	NextSeq uint64 // sequence number of the next record to write
	TailEnd int64  // end of the good data in the last segment
	Frames  int64  // good frames
	Bytes   int64  // bytes read
	// Torn is set when everything is good except an incomplete tail.
	Torn *CorruptionError
}

// visitFunc receives each complete batch in log order. The frames' payloads
// alias a read buffer and are valid only during the call. To reject a
// record it returns the index of the bad frame in the batch and an error.
type visitFunc func(seg string, batch []frame) (bad int, err error)

// progressFunc is told the bytes read so far and the total to read.
type progressFunc func(done, total int64)

// listSegments returns the segment files of fsys in index order. Other
// files (copies kept by Repair, temporary files) are ignored.
func listSegments(fsys FS) ([]segInfo, error) {
	names, err := fsys.List()
	if err != nil {
		return nil, err
	}
	var segs []segInfo
	for _, n := range names {
		if i, ok := parseSegmentName(n); ok {
			segs = append(segs, segInfo{Name: n, Index: i})
		}
	}
	slices.SortFunc(segs, func(a, b segInfo) int {
		switch {
		case a.Index < b.Index:
			return -1
		case a.Index > b.Index:
			return 1
		}
		return 0
	})
	return segs, nil
}

// readAll reads the whole of r into buf (grown as needed).
func readAll(r Reader, buf []byte) ([]byte, error) {
	n := r.Size()
	if n < 0 || n > 1<<31 {
		return buf, fmt.Errorf("memory: segment size %d out of range", n)
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	got, err := r.ReadAt(buf, 0)
	if int64(got) == n {
		err = nil
	} else if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return buf, err
}

// scanLog walks every segment, checking headers, frames, the CRC chain,
// sequence numbers and batch boundaries, and hands each complete batch to
// visit. A damaged log returns a *CorruptionError naming the first bad
// record; a log whose only damage is a torn tail returns nil and sets
// res.Torn.
func scanLog(ctx context.Context, fsys FS, visit visitFunc, progress progressFunc) (*scanResult, error) {
	segs, err := listSegments(fsys)
	if err != nil {
		return nil, err
	}
	res := &scanResult{NextSeq: 1}
	readers := make([]Reader, len(segs))
	defer func() {
		for _, r := range readers {
			if r != nil {
				r.Close()
			}
		}
	}()
	var total int64
	for i := range segs {
		r, err := fsys.Open(segs[i].Name)
		if err != nil {
			return nil, err
		}
		readers[i] = r
		segs[i].Size = r.Size()
		total += r.Size()
	}
	res.Segs = segs
	if progress != nil {
		progress(0, total)
	}
	var buf []byte
	var batch []frame
	var f frame
	for i := range segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &segs[i]
		last := i == len(segs)-1
		bad := func(off int64, f *frame, reason string, cause error) error {
			e := &CorruptionError{Segment: s.Name, Offset: off, Reason: reason, Err: cause}
			if f != nil {
				e.Kind, e.Seq = f.Kind, f.Seq
			}
			return e
		}
		if s.Index != uint32(i+1) {
			return nil, bad(0, nil, fmt.Sprintf("segment number %d found where %d was expected (missing segment)", s.Index, i+1), nil)
		}
		buf, err = readAll(readers[i], buf)
		if err != nil {
			return nil, err
		}
		res.Bytes += int64(len(buf))
		h, reason, cause := parseSegHeader(buf)
		if reason != "" {
			return nil, bad(0, nil, reason, cause)
		}
		if h.Index != s.Index {
			return nil, bad(0, nil, fmt.Sprintf("header says segment %d, file name says %d", h.Index, s.Index), nil)
		}
		if h.FirstSeq != res.NextSeq {
			return nil, bad(0, nil, fmt.Sprintf("header first sequence %d, expected %d", h.FirstSeq, res.NextSeq), nil)
		}
		if h.Seed != res.LastCRC {
			return nil, bad(0, nil, fmt.Sprintf("header chain seed %08x, previous segment ended with %08x", h.Seed, res.LastCRC), nil)
		}
		s.FirstSeq = h.FirstSeq
		off := int64(segHeaderLen)
		crc := res.LastCRC
		batch = batch[:0]
		batchCRC, batchSeq := crc, res.NextSeq
		for {
			st, reason := readFrameInto(&f, buf, off, crc)
			if st == frameEnd {
				break
			}
			if st != frameOK {
				// Name the record by its position: the sequence number it
				// must have, whatever its damaged header says.
				f.Seq = batchSeq + uint64(len(batch))
			}
			if st == frameIncomplete {
				if last && !lengthDamaged(buf, off, crc, f.Seq) {
					start := off
					if len(batch) > 0 {
						start = batch[0].Off
					}
					res.Torn = &CorruptionError{Segment: s.Name, Offset: start, Kind: f.Kind, Seq: f.Seq, Torn: true, Reason: reason}
					if len(batch) > 0 {
						res.Torn.Kind, res.Torn.Seq = batch[0].Kind, batch[0].Seq
						res.Torn.Reason = "incomplete batch: " + reason
					}
					break
				}
				return nil, bad(off, &f, reason+" (not the last segment)", nil)
			}
			if st == frameBad {
				return nil, bad(off, &f, reason, nil)
			}
			if f.Seq != batchSeq+uint64(len(batch)) {
				return nil, bad(off, &f, fmt.Sprintf("sequence number %d, expected %d", f.Seq, batchSeq+uint64(len(batch))), nil)
			}
			if !f.Kind.valid() {
				return nil, bad(off, &f, fmt.Sprintf("unknown record kind %d", uint8(f.Kind)), nil)
			}
			batch = append(batch, f)
			crc = f.CRC
			off += int64(frameLen(len(f.Payload)))
			if f.More {
				continue
			}
			if visit != nil {
				if k, err := visit(s.Name, batch); err != nil {
					k = min(max(k, 0), len(batch)-1)
					return nil, bad(batch[k].Off, &batch[k], "record rejected", err)
				}
			}
			res.Frames += int64(len(batch))
			batchSeq += uint64(len(batch))
			batchCRC = crc
			batch = batch[:0]
			if progress != nil {
				progress(res.Bytes-int64(len(buf))+off, total)
			}
		}
		if len(batch) > 0 && res.Torn == nil {
			if !last {
				return nil, bad(batch[0].Off, &batch[0], "batch continues past the end of its segment", nil)
			}
			res.Torn = &CorruptionError{Segment: s.Name, Offset: batch[0].Off, Kind: batch[0].Kind, Seq: batch[0].Seq,
				Torn: true, Reason: "incomplete batch: its last record is missing"}
		}
		res.LastCRC, res.NextSeq = batchCRC, batchSeq
		if res.Torn != nil {
			res.TailEnd = res.Torn.Offset
		} else {
			res.TailEnd = off
		}
		if progress != nil {
			progress(res.Bytes, total)
		}
	}
	return res, nil
}

// writer appends batches of frames to the log, one sync per batch.
type writer struct {
	fs       FS
	segBytes int64
	f        File
	segIndex uint32 // current segment (0: none yet)
	size     int64  // bytes in the current segment
	lastCRC  uint32
	nextSeq  uint64
	buf      []byte
	syncs    int64
	records  int64
	failed   error // set after a failed write: the on-disk state is unknown
}

// pending is one record of a batch being written.
type pending struct {
	Kind    Kind
	Payload []byte
}

// location is where a written record ended up.
type location struct {
	Seg  uint32
	Off  int64
	Seq  uint64
	Prev uint32 // chain value before the frame
}

func (w *writer) newSegment() error {
	idx := w.segIndex + 1
	name := segmentName(idx)
	tmp := name + ".tmp"
	hdr := segHeader{Version: formatVersion, Index: idx, FirstSeq: w.nextSeq, Seed: w.lastCRC}.append(nil)
	f, err := w.fs.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := w.fs.Rename(tmp, name); err != nil {
		return err
	}
	if err := w.fs.SyncDir(); err != nil {
		return err
	}
	nf, err := w.fs.OpenAppend(name)
	if err != nil {
		return err
	}
	if w.f != nil {
		w.f.Close()
	}
	w.f, w.segIndex, w.size = nf, idx, segHeaderLen
	return nil
}

// write appends recs as one batch and syncs once. After any error the
// writer refuses further writes: the store must be reopened.
func (w *writer) write(recs []pending) ([]location, error) {
	if w.failed != nil {
		return nil, w.failed
	}
	if len(recs) == 0 {
		return nil, nil
	}
	need := int64(0)
	for _, r := range recs {
		need += int64(frameLen(len(r.Payload)))
	}
	if w.f == nil || (w.size > segHeaderLen && w.size+need > w.segBytes) {
		if err := w.newSegment(); err != nil {
			w.failed = fmt.Errorf("memory: creating segment: %w", err)
			return nil, w.failed
		}
	}
	w.buf = w.buf[:0]
	crc := w.lastCRC
	locs := make([]location, len(recs))
	for i, r := range recs {
		locs[i] = location{Seg: w.segIndex, Off: w.size + int64(len(w.buf)), Seq: w.nextSeq + uint64(i), Prev: crc}
		w.buf, crc = appendFrame(w.buf, crc, w.nextSeq+uint64(i), r.Kind, i < len(recs)-1, r.Payload)
	}
	if _, err := w.f.Write(w.buf); err != nil {
		w.failed = fmt.Errorf("memory: write: %w", err)
		return nil, w.failed
	}
	if err := w.f.Sync(); err != nil {
		w.failed = fmt.Errorf("memory: sync: %w", err)
		return nil, w.failed
	}
	w.syncs++
	w.records += int64(len(recs))
	w.size += int64(len(w.buf))
	w.lastCRC = crc
	w.nextSeq += uint64(len(recs))
	return locs, nil
}

func (w *writer) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// repairTail copies the last segment aside and truncates it at the torn
// tail. It is the only place that ever shortens a segment.
func repairTail(fsys FS, torn *CorruptionError) (string, error) {
	r, err := fsys.Open(torn.Segment)
	if err != nil {
		return "", err
	}
	data, err := readAll(r, nil)
	r.Close()
	if err != nil {
		return "", err
	}
	if torn.Offset < segHeaderLen || torn.Offset > int64(len(data)) {
		return "", errors.New("memory: torn tail offset out of range")
	}
	names, err := fsys.List()
	if err != nil {
		return "", err
	}
	copyName := ""
	for n := 1; ; n++ {
		c := fmt.Sprintf("%s.torn-%d", torn.Segment, n)
		if !slices.Contains(names, c) {
			copyName = c
			break
		}
	}
	f, err := fsys.Create(copyName)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := fsys.SyncDir(); err != nil {
		return "", err
	}
	if err := fsys.Truncate(torn.Segment, torn.Offset); err != nil {
		return "", err
	}
	return copyName, fsys.SyncDir()
}

// lengthDamaged tells a damaged length field from a torn write. A torn
// write leaves nothing after the incomplete frame. If the frame's CRC matches
// once its length field is replaced by a shorter length whose frame ends at
// the end of the data or right before the header of the next sequence
// number, the frame was complete and only its length field was damaged.
func lengthDamaged(seg []byte, off int64, prev uint32, seq uint64) bool {
	rest := int64(len(seg)) - off
	var hdr [4]byte
	for end := int64(frameLen(0)); end <= rest; end += frameAlign {
		if end < rest {
			next := seg[off+end:]
			if len(next) < frameHeaderLen || binary.BigEndian.Uint64(next[8:16]) != seq+1 {
				continue
			}
		}
		got := binary.BigEndian.Uint32(seg[off+end-frameCRCLen : off+end])
		rest := seg[off+4 : off+end-frameCRCLen]
		for n := end - frameHeaderLen - frameCRCLen; n >= 0 && n > end-frameHeaderLen-frameCRCLen-frameAlign; n-- {
			binary.BigEndian.PutUint32(hdr[:], uint32(n))
			if crc32.Update(crc32.Update(prev, castagnoli, hdr[:]), castagnoli, rest) == got {
				return true
			}
		}
	}
	return false
}
