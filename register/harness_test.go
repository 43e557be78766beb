package register_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
	"github.com/fiscalkit/gb18240/fiscal"
	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// One TEST profile for the test binary (RSA keys are derived once).
var (
	profOnce sync.Once
	profVal  *emulator.TestProfile
)

func testProfile() *emulator.TestProfile {
	profOnce.Do(func() { profVal = emulator.TestProfileDoNotShip("register tests") })
	return profVal
}

// seqReader is a deterministic random source.
type seqReader struct{ n byte }

func (r *seqReader) Read(p []byte) (int, error) {
	for i := range p {
		r.n++
		p[i] = r.n
	}
	return len(p), nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) AddDays(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.AddDate(0, 0, n)
}

var (
	machineNo = fiscal.MachineNumber{0x22, 0, 0, 0, 0, 0, 0, 0x01}
	userPIN   = []byte("12345678")
	day0      = time.Date(2026, time.November, 26, 10, 0, 0, 0, fiscal.Zone())
)

// rig is a register on emulated cards and an in-memory fiscal memory.
type rig struct {
	t     testing.TB
	cs    *emulator.CardSet
	fs    memory.FS
	mem   *memory.Memory
	dev   *register.Device
	clock *fakeClock
	apdus int
	obs   func(card.Exchange)
	ins   []byte // INS bytes sent by a device opened with openOn
	mopts *memory.Options
}

func issueOpts(mod func(*emulator.IssueOptions)) emulator.IssueOptions {
	o := emulator.IssueOptions{Options: emulator.Options{Profile: testProfile(), Rand: &seqReader{}}}
	if mod != nil {
		mod(&o)
	}
	return o
}

func newRig(t testing.TB, mod func(*emulator.IssueOptions)) *rig {
	t.Helper()
	return newRigOpts(t, mod, false)
}

// newRigOpts is newRig with, if bigDaily, room for more than five years of
// daily records.
func newRigOpts(t testing.TB, mod func(*emulator.IssueOptions), bigDaily bool) *rig {
	t.Helper()
	cs, err := emulator.Issue(issueOpts(mod))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, cs: cs, fs: memory.NewMemFS(), clock: &fakeClock{t: day0}}
	if bigDaily {
		r.mopts = &memory.Options{Capacity: memory.Capacity{Daily: 4000}}
	}
	r.open(r.fs)
	return r
}

// open opens the fiscal memory on fsys and a new Device on it.
func (r *rig) open(fsys memory.FS) error {
	r.t.Helper()
	ctx := context.Background()
	m, err := memory.Open(ctx, fsys, r.mopts)
	if err != nil {
		r.t.Fatalf("memory.Open: %v", err)
	}
	r.mem = m
	dev, err := register.Open(ctx, register.Config{
		Memory: m, Fiscal: r.cs.Fiscal, User: r.cs.User, UserPIN: userPIN, Clock: r.clock.Now,
		Observer: func(e card.Exchange) {
			r.apdus++
			if r.obs != nil {
				r.obs(e)
			}
		},
	})
	r.dev = dev
	if dev == nil {
		r.t.Fatalf("register.Open: %v", err)
	}
	return err
}

func (r *rig) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

// setup writes the factory data, initialises, distributes and loads a roll.
func (r *rig) setup() {
	r.t.Helper()
	ctx := context.Background()
	r.must(r.dev.WriteFactoryData(ctx, register.Factory{Number: machineNo, Produced: fiscal.MustDate(2026, 1, 5), HardwareVersion: "HW1", SoftwareVersion: "SW1"}))
	r.must(r.dev.Initialise(ctx))
	_, err := r.dev.Distribute(ctx)
	r.must(err)
	_, err = r.dev.LoadRoll(ctx)
	r.must(err)
}

func sale(amount fiscal.Amount) register.InvoiceRequest {
	return register.InvoiceRequest{Payer: "个人", Drawer: "张三", Lines: []register.Line{{Name: "午餐", Quantity: 1000, UnitPrice: amount, TaxIndex: 1}}}
}

func wantErr(t testing.TB, err, sentinel error, code byte) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want %v", err, sentinel)
	}
	if c, ok := register.ErrorCode(err); !ok || c != code {
		t.Fatalf("error code %#x %v, want %#x", c, ok, code)
	}
}
