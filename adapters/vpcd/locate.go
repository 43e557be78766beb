package vpcd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fiscalkit/gb18240/card"
)

// ErrReaderNotFound is wrapped by the *LocateError Locate returns when no
// PC/SC reader showed the probe card served on an address: no vpcd
// instance listens there, or pcscd does not list its reader.
var ErrReaderNotFound = errors.New("vpcd: no PC/SC reader shows the card served on this address")

// ReaderATRs lists the PC/SC readers with the ATR of the card in each
// (nil or empty for an empty reader). With adapters/pcsc it is Readers
// followed by Status of each reader.
type ReaderATRs func(ctx context.Context) (map[string][]byte, error)

// LocateError reports an address whose reader Locate did not find.
type LocateError struct {
	// Addr is the vpcd address the probe card was served on.
	Addr string
	// Dial is the last error dialling Addr (for example "connection
	// refused" when no vpcd instance listens there), nil if the probe
	// connected but no reader showed it.
	Dial error
	// Err is ErrReaderNotFound, or the error that ended the search
	// (the context's, or that of ReaderATRs).
	Err error
}

func (e *LocateError) Error() string {
	s := fmt.Sprintf("vpcd: locating the reader of %s: %v", e.Addr, trimPrefix(e.Err.Error()))
	if e.Dial != nil {
		s += fmt.Sprintf(" (last dial: %v)", e.Dial)
	}
	return s
}

// Unwrap returns Err.
func (e *LocateError) Unwrap() error { return e.Err }

// ProbeATR is the Answer To Reset of Locate's probe card on the i-th
// address: DefaultATR's layout (T=0, ten historical bytes) with the
// historical bytes "VPCD-PRB" and i as a big-endian uint16.
func ProbeATR(i int) []byte {
	return []byte{0x3B, 0x7A, 0x11, 0x00, 0x00, 'V', 'P', 'C', 'D', '-', 'P', 'R', 'B', byte(i >> 8), byte(i)}
}

// LocateOptions configure Locate. The zero value means defaults.
type LocateOptions struct {
	// PollInterval is the pause between two calls of ReaderATRs;
	// default 100 ms.
	PollInterval time.Duration
	// Slot configures the probes' slots (Addr and ATR are set by Locate);
	// may be nil.
	Slot *Options
}

// Locate finds the PC/SC reader that each vpcd address in addrs feeds,
// without assuming anything about reader names or their order. It serves a
// probe card on every address at once, each with its own ATR (ProbeATR),
// polls atrs until every probe shows in a reader, then takes the probes
// out and waits until those readers show empty again. The result maps
// each address to its reader name.
//
// The readers must not be used by anyone else meanwhile. When ctx ends
// before every probe was seen, Locate returns a *LocateError for the first
// address not found: it wraps ErrReaderNotFound when ctx just ran out, and
// carries the last dial error of that address (a vpcd instance missing
// shows as "connection refused"). Its probes are taken out then too, but
// it does not wait until pcscd shows their readers empty.
func Locate(ctx context.Context, addrs []string, atrs ReaderATRs, opts *LocateOptions) (map[string]string, error) {
	var o LocateOptions
	if opts != nil {
		o = *opts
	}
	poll := o.PollInterval
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}

	var mu sync.Mutex
	dialErr := make(map[string]error, len(addrs))
	want := make(map[string]int, len(addrs)) // ATR (as string) -> index in addrs
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, addr := range addrs {
		so := Options{}
		if o.Slot != nil {
			so = *o.Slot
		}
		so.Addr, so.ATR = addr, ProbeATR(i)
		next := so.OnEvent
		so.OnEvent = func(ev Event) {
			mu.Lock()
			switch ev.Kind {
			case DialFailed:
				// A dial cut short by ctx's deadline says less than the
				// error before it (connection refused, say).
				if dialErr[addr] == nil || !errors.Is(ev.Err, os.ErrDeadlineExceeded) {
					dialErr[addr] = ev.Err
				}
			case Connected:
				dialErr[addr] = nil
			}
			mu.Unlock()
			if next != nil {
				next(ev)
			}
		}
		want[string(so.ATR)] = i
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = Run(sctx, probeCard{}, &so)
		}()
	}

	found := make(map[string]string, len(addrs))
	err := pollUntil(ctx, poll, atrs, func(m map[string][]byte) bool {
		for reader, atr := range m {
			if i, ok := want[string(atr)]; ok {
				found[addrs[i]] = reader
			}
		}
		return len(found) == len(addrs)
	})
	stop()
	wg.Wait()
	if err != nil {
		for _, addr := range addrs {
			if _, ok := found[addr]; ok {
				continue
			}
			mu.Lock()
			de := dialErr[addr]
			mu.Unlock()
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				err = fmt.Errorf("%w (%w)", ErrReaderNotFound, err)
			}
			return nil, &LocateError{Addr: addr, Dial: de, Err: err}
		}
		return nil, err
	}

	// The probes are out; wait until pcscd shows it, so that the readers
	// are empty when Locate returns.
	readers := make([]string, 0, len(found))
	for _, r := range found {
		readers = append(readers, r)
	}
	sort.Strings(readers)
	var still []string
	err = pollUntil(ctx, poll, atrs, func(m map[string][]byte) bool {
		still = still[:0]
		for _, r := range readers {
			if _, ok := want[string(m[r])]; ok {
				still = append(still, r)
			}
		}
		return len(still) == 0
	})
	if err != nil {
		return nil, fmt.Errorf("vpcd: probe cards still shown in %s: %w", strings.Join(still, ", "), err)
	}
	return found, nil
}

// pollUntil calls atrs until done returns true or ctx ends.
func pollUntil(ctx context.Context, poll time.Duration, atrs ReaderATRs, done func(map[string][]byte) bool) error {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		m, err := atrs(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if done(m) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// probeCard is Locate's probe: it answers every command with 6D00
// (instruction not supported).
type probeCard struct{}

func (probeCard) Transmit(context.Context, []byte) ([]byte, error) {
	return []byte{0x6D, 0x00}, nil
}

var _ card.Transmitter = probeCard{}
