package register

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/fiscal/memory"
)

// OpenMemory opens the fiscal memory on fsys as a register does at power-on:
// a torn tail (an incomplete last record, what a power cut during a write
// leaves) is repaired with memory.Repair, which keeps a copy of the damaged
// segment, and the repair is written to the security log with the time now.
// Any other damage is returned as the memory's *memory.CorruptionError and
// nothing is changed.
//
// A full security log never keeps the register from starting: the repair
// event is a system event, which fiscal memory stores in the reserve beyond
// the log's capacity (memory.Capacity.SecurityReserve). Should that reserve
// be used up too, the memory is returned all the same and the event is
// reported to opts.Logger instead; the repair stays evident from the copy
// of the damaged segment Repair keeps (NNNNNNNN.seg.torn-K).
func OpenMemory(ctx context.Context, fsys memory.FS, opts *memory.Options, now time.Time) (*memory.Memory, error) {
	m, err := memory.Open(ctx, fsys, opts)
	if err == nil || !errors.Is(err, memory.ErrTornTail) {
		return m, err
	}
	rep, rerr := memory.Repair(ctx, fsys, opts)
	if rerr != nil {
		return nil, rerr
	}
	if m, err = memory.Open(ctx, fsys, opts); err != nil {
		return nil, err
	}
	text := "torn tail repaired at power-on"
	if rep != nil && rep.Torn != nil {
		text = fmt.Sprintf("torn tail repaired at power-on: %v", rep.Torn)
	}
	if err := m.LogSecurity(ctx, memory.SecurityEvent{Time: now, Type: memory.SecRepair, Text: truncate(text, memory.MaxSecText)}); err != nil {
		if !errors.Is(err, memory.ErrFull) {
			m.Close()
			return nil, err
		}
		if opts != nil && opts.Logger != nil {
			opts.Logger.Warn("register: security log full; repair not logged", "repair", text, "err", err)
		}
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
