package link

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults configure a FaultyLink. Each probability applies independently to
// every Write (one frame, as Client and Server write each frame with one
// Write) and to every chunk returned by Read.
type Faults struct {
	Drop      float64 // the bytes vanish
	Duplicate float64 // the bytes arrive twice
	Corrupt   float64 // one bit of one byte flips
	Cut       float64 // only a prefix arrives (a cut mid-frame)
	Delay     float64 // the bytes arrive late, in order
	// MaxDelay bounds a delay (default 20ms).
	MaxDelay time.Duration
	// Seed makes a run reproducible; print it with the test's output.
	Seed uint64
}

// ParseFaults reads "drop=0.1,dup=0.1,corrupt=0.05,cut=0.02,delay=0.1,maxdelay=20ms".
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, fmt.Errorf("link: fault %q: want name=value", kv)
		}
		if k == "maxdelay" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return f, fmt.Errorf("link: fault %q: %w", kv, err)
			}
			f.MaxDelay = d
			continue
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return f, fmt.Errorf("link: fault %q: want a probability in [0,1]", kv)
		}
		switch k {
		case "drop":
			f.Drop = p
		case "dup", "duplicate":
			f.Duplicate = p
		case "corrupt":
			f.Corrupt = p
		case "cut":
			f.Cut = p
		case "delay":
			f.Delay = p
		default:
			return f, fmt.Errorf("link: unknown fault %q (drop, dup, corrupt, cut, delay, maxdelay)", k)
		}
	}
	return f, nil
}

// FaultStats counts the faults a FaultyLink injected.
type FaultStats struct {
	Frames, Dropped, Duplicated, Corrupted, Cut, Delayed int64
}

// FaultyLink wraps a byte stream and injects faults in both directions,
// driven by a seeded math/rand/v2 source so that a failing run can be
// repeated with the same seed.
type FaultyLink struct {
	rw DeadlineReadWriter
	f  Faults

	rmu   sync.Mutex // guards rng and stats
	rng   *rand.Rand
	stats FaultStats

	wmu     sync.Mutex // orders writes (a delayed frame holds back later ones)
	pending []byte     // a read chunk to deliver again (duplicate)
}

// NewFaultyLink wraps rw (WithDeadline is applied if needed).
func NewFaultyLink(rw io.ReadWriter, f Faults) *FaultyLink {
	if f.MaxDelay <= 0 {
		f.MaxDelay = 20 * time.Millisecond
	}
	return &FaultyLink{rw: WithDeadline(rw), f: f, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9E3779B97F4A7C15))}
}

// Stats returns the counts of injected faults.
func (l *FaultyLink) Stats() FaultStats {
	l.rmu.Lock()
	defer l.rmu.Unlock()
	return l.stats
}

type faultPlan struct {
	drop, dup, corrupt, cut bool
	delay                   time.Duration
	pos, bit, cutAt         int
}

func (l *FaultyLink) plan(n int) faultPlan {
	l.rmu.Lock()
	defer l.rmu.Unlock()
	var p faultPlan
	l.stats.Frames++
	if l.rng.Float64() < l.f.Drop {
		p.drop = true
		l.stats.Dropped++
		return p
	}
	if l.rng.Float64() < l.f.Delay {
		p.delay = time.Duration(l.rng.Int64N(int64(l.f.MaxDelay)) + 1)
		l.stats.Delayed++
	}
	if n > 0 && l.rng.Float64() < l.f.Corrupt {
		p.corrupt, p.pos, p.bit = true, l.rng.IntN(n), l.rng.IntN(8)
		l.stats.Corrupted++
	}
	if n > 1 && l.rng.Float64() < l.f.Cut {
		p.cut, p.cutAt = true, l.rng.IntN(n-1)+1
		l.stats.Cut++
	}
	if l.rng.Float64() < l.f.Duplicate {
		p.dup = true
		l.stats.Duplicated++
	}
	return p
}

func (p faultPlan) apply(b []byte) []byte {
	if p.corrupt {
		b = append([]byte(nil), b...)
		b[p.pos] ^= 1 << p.bit
	}
	if p.cut {
		b = b[:p.cutAt]
	}
	return b
}

// Write sends p with faults. It reports len(p) written even when bytes were
// dropped or cut, as a real line would.
func (l *FaultyLink) Write(p []byte) (int, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	plan := l.plan(len(p))
	if plan.drop {
		return len(p), nil
	}
	if plan.delay > 0 {
		time.Sleep(plan.delay)
	}
	b := plan.apply(p)
	if _, err := l.rw.Write(b); err != nil {
		return 0, err
	}
	if plan.dup {
		if _, err := l.rw.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Read receives bytes with faults.
func (l *FaultyLink) Read(p []byte) (int, error) {
	if len(l.pending) > 0 {
		n := copy(p, l.pending)
		l.pending = l.pending[n:]
		return n, nil
	}
	for {
		n, err := l.rw.Read(p)
		if n == 0 {
			return n, err
		}
		plan := l.plan(n)
		if plan.drop {
			if err != nil {
				return 0, err
			}
			continue
		}
		if plan.delay > 0 {
			time.Sleep(plan.delay)
		}
		orig := append([]byte(nil), p[:n]...)
		b := plan.apply(p[:n])
		n = copy(p, b)
		if plan.dup {
			l.pending = orig
		}
		return n, err
	}
}

// SetReadDeadline forwards to the wrapped stream.
func (l *FaultyLink) SetReadDeadline(t time.Time) error { return l.rw.SetReadDeadline(t) }
