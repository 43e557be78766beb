package register_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fiscalkit/gb18240/fiscal/memory"
	"github.com/fiscalkit/gb18240/register"
)

// tornFullLog builds a memory whose security log holds n events (ordinary
// ones up to the capacity, then system ones) and whose last write was torn
// by a power cut.
func tornFullLog(t *testing.T, o *memory.Options, ordinary, system int) *memory.MemFS {
	t.Helper()
	ctx := context.Background()
	fsys := memory.NewMemFS()
	m, err := memory.Open(ctx, fsys, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ordinary + system {
		typ := memory.SecInspection
		if i >= ordinary {
			typ = memory.SecPowerLoss
		}
		if err := m.LogSecurity(ctx, memory.SecurityEvent{Time: day0, Type: typ, Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	ffs := &memory.FaultFS{FS: fsys, CutAt: 1, Keep: 9}
	if m, err = memory.Open(ctx, ffs, o); err != nil {
		t.Fatal(err)
	}
	if err := m.SetPIN(ctx, memory.PIN{1}); err == nil {
		t.Fatal("write after the cut succeeded")
	}
	if _, err := memory.Open(ctx, fsys, o); !errors.Is(err, memory.ErrTornTail) {
		t.Fatalf("want a torn tail, got %v", err)
	}
	return fsys
}

// TestOpenMemoryFullSecurityLog checks the policy for a full security log:
// the repair after a power cut is logged in the reserve for system events,
// and when even the reserve is used up the register still starts.
func TestOpenMemoryFullSecurityLog(t *testing.T) {
	ctx := context.Background()
	o := &memory.Options{Capacity: memory.Capacity{Security: 3, SecurityReserve: 2}}
	now := day0.Add(time.Hour)

	// Ordinary events fill the log: the repair goes into the reserve.
	fsys := tornFullLog(t, o, 3, 0)
	m, err := register.OpenMemory(ctx, fsys, o, now)
	if err != nil {
		t.Fatalf("OpenMemory with a full log: %v", err)
	}
	evs := m.SecurityEvents()
	if len(evs) != 4 || evs[3].Type != memory.SecRepair || !evs[3].Time.Equal(now) {
		t.Fatalf("security log %+v", evs)
	}
	if err := m.LogSecurity(ctx, memory.SecurityEvent{Time: now, Type: memory.SecInspection}); !errors.Is(err, memory.ErrFull) {
		t.Fatalf("ordinary event in the reserve: %v", err)
	}
	m.Close()

	// Reserve used up as well: the register starts, the repair is not logged.
	fsys = tornFullLog(t, o, 3, 2)
	m, err = register.OpenMemory(ctx, fsys, o, now)
	if err != nil {
		t.Fatalf("OpenMemory with log and reserve full: %v", err)
	}
	defer m.Close()
	if n := len(m.SecurityEvents()); n != 5 {
		t.Fatalf("%d events", n)
	}
	if err := m.SetPIN(ctx, memory.PIN{2}); err != nil {
		t.Fatalf("memory not writable after start-up: %v", err)
	}
}
