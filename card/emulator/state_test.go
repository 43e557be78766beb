package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fiscalkit/gb18240/card"
)

func TestStateRoundTrip(t *testing.T) {
	cs, pin := initSet(t, nil)
	f := cs.Fiscal
	code1, sw := issue(t, f, invoice(d(2026, 11, 26), 1, 1, line{1, 99}))
	wantSW(t, "invoice", sw, card.SWOK)
	saved, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(saved[:8]) != "GB18240E" || saved[9] != 1 || saved[10] != byte(KindFiscal) {
		t.Fatalf("header % X", saved[:16])
	}
	g, err := Load(saved, Options{Profile: testProfile(), Rand: &seqReader{n: 100}})
	if err != nil {
		t.Fatal(err)
	}
	// The loaded card is a new power session: select, verify (the PIN that
	// was current when saved) and go on with the chain.
	selectApp(t, g)
	_, sw = issue(t, g, invoice(d(2026, 11, 26), 1, 2, line{1, 1}))
	wantSW(t, "ISSUE after load without VERIFY", sw, card.SWSecurityStatus)
	_, sw = do(t, g, prop(card.INSVerifyFiscalPIN, pin, 8))
	wantSW(t, "VERIFY after load", sw, card.SWOK)
	if !bytes.Equal(readBinary(t, g, 3, 76)[68:], code1) {
		t.Fatal("previous code lost")
	}
	_, sw = issue(t, g, invoice(d(2026, 11, 26), 1, 1, line{1, 1}))
	wantSW(t, "reused number after load", sw, card.SWIncorrectData)

	// Files: SaveFile / LoadFile, atomically replaced.
	dir := t.TempDir()
	path := filepath.Join(dir, "fiscal.card")
	if err := f.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if err := g.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d files in dir, temp file left", len(entries))
	}
	h, err := LoadFile(path, Options{Profile: testProfile()})
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := h.MarshalBinary()
	gb, _ := g.MarshalBinary()
	if !bytes.Equal(hb, gb) {
		t.Fatal("LoadFile differs from the saved card")
	}
}

func TestStateRejects(t *testing.T) {
	cs := newSet(t, nil)
	saved, _ := cs.User.MarshalBinary()
	before, _ := cs.User.MarshalBinary()

	corrupt := bytes.Clone(saved)
	corrupt[len(corrupt)/2] ^= 1
	cases := map[string][]byte{
		"empty":       nil,
		"short":       saved[:10],
		"bad magic":   append([]byte("XB18240E"), saved[8:]...),
		"bad CRC":     corrupt,
		"truncated":   saved[:len(saved)-1],
		"other kind":  mustMarshal(t, cs.Fiscal),
		"bad version": withCRC(append(append([]byte("GB18240E"), 0, 2), saved[10:len(saved)-4]...)),
	}
	for name, b := range cases {
		err := cs.User.UnmarshalBinary(b)
		if !errors.Is(err, ErrBadState) {
			t.Errorf("%s: %v, want ErrBadState", name, err)
		}
		var se *StateError
		if !errors.As(err, &se) {
			t.Errorf("%s: not a *StateError", name)
		}
	}
	// Well-framed payload that breaks an invariant: a record of wrong size.
	st := cs.User.st.clone()
	st.file(3).Records[0] = []byte{1, 2, 3}
	if err := cs.User.UnmarshalBinary(frame(t, st)); !errors.Is(err, ErrBadState) {
		t.Errorf("bad record size: %v", err)
	}
	after, _ := cs.User.MarshalBinary()
	if !bytes.Equal(before, after) {
		t.Fatal("failed loads changed the card")
	}
	// Another profile.
	if _, err := Load(saved, Options{Profile: TestProfileDoNotShip("other")}); !errors.Is(err, ErrProfileMismatch) {
		t.Fatalf("other profile: %v", err)
	}
	other, _ := Issue(IssueOptions{Options: Options{Profile: TestProfileDoNotShip("other")}})
	if err := other.User.UnmarshalBinary(saved); !errors.Is(err, ErrProfileMismatch) {
		t.Fatalf("other profile: %v", err)
	}
}

func mustMarshal(t *testing.T, c *Card) []byte {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frame(t *testing.T, st *state) []byte {
	t.Helper()
	c := newCard(st, Options{Profile: testProfile()})
	return mustMarshal(t, c)
}

func withCRC(b []byte) []byte { return appendCRC(b) }

func TestFaultPull(t *testing.T) {
	ctx := context.Background()
	for _, apply := range []bool{false, true} {
		cs, _ := initSet(t, func(o *IssueOptions) { o.Options.T1 = true })
		f := cs.Fiscal
		before := readBinary(t, f, 3, 76)
		f.InjectFault(Fault{At: 1, Pull: true, Apply: apply})
		cmd, _ := prop(card.INSIssueInvoice, invoice(d(2026, 11, 26), 1, 1, line{1, 5}), 8).Bytes()
		if _, err := f.Transmit(ctx, cmd); !errors.Is(err, ErrCardRemoved) {
			t.Fatalf("apply=%v: %v, want ErrCardRemoved", apply, err)
		}
		if _, err := f.Transmit(ctx, cmd); !errors.Is(err, ErrCardRemoved) {
			t.Fatalf("still removed: %v", err)
		}
		f.Reset()
		selectApp(t, f)
		after := readBinary(t, f, 3, 76)
		if changed := !bytes.Equal(before, after); changed != apply {
			t.Fatalf("apply=%v but EF03 changed=%v", apply, changed)
		}
		if apply && u32(after[64:]) != 1 {
			t.Fatalf("EF03 previous invoice %d", u32(after[64:]))
		}
	}
}

func TestFaultSWAndCount(t *testing.T) {
	cs, _ := initSet(t, nil)
	f := cs.Fiscal
	before := readBinary(t, f, 3, 76)
	f.InjectFault(Fault{At: 2, SW: card.SWEEPROMError})
	_, sw := issue(t, f, invoice(d(2026, 11, 26), 1, 1, line{1, 5}))
	// The first command (ISSUE_INVOICE, 61 08) passed; the second (GET RESPONSE) got 6581.
	wantSW(t, "forced SW on GET RESPONSE", sw, card.SWEEPROMError)
	f.InjectFault(Fault{}) // zero Fault: 6581 on the next command
	_, sw = issue(t, f, invoice(d(2026, 11, 26), 1, 2, line{1, 5}))
	wantSW(t, "forced SW", sw, card.SWEEPROMError)
	ef03 := readBinary(t, f, 3, 76)
	if u32(ef03[64:]) != 1 || bytes.Equal(ef03, before) {
		t.Fatalf("EF03 previous invoice %d: only the first invoice should count", u32(ef03[64:]))
	}
	n := f.Commands()
	readBinary(t, f, 3, 76)
	if f.Commands() != n+2 {
		t.Fatalf("Commands %d → %d, want +2", n, f.Commands())
	}
}

func TestPowerAndContext(t *testing.T) {
	cs := newSet(t, nil)
	f := cs.Fiscal
	if atr := f.ATR(); atr[0] != 0x3B || atr[1] != 0x7A || len(atr) != 15 {
		t.Fatalf("ATR % X", atr)
	}
	f.PowerOff()
	if _, err := f.Transmit(context.Background(), []byte{0, 0xA4, 4, 0}); !errors.Is(err, ErrPoweredOff) {
		t.Fatalf("powered off: %v", err)
	}
	f.PowerOn()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Transmit(ctx, []byte{0, 0xA4, 4, 0}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if f.Kind() != KindFiscal || cs.User.Kind() != KindUser || cs.Check.Kind().String() != "check" {
		t.Fatal("kinds")
	}
}

func TestConcurrentUse(t *testing.T) {
	cs, _ := initSet(t, func(o *IssueOptions) { o.Options.T1 = true })
	f := cs.Fiscal
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan string, 256)
	wg.Add(1)
	go func() { // one issuer
		defer wg.Done()
		for no := uint32(1); no <= 50; no++ {
			cmd, _ := prop(card.INSIssueInvoice, invoice(d(2026, 11, 26), 1, no, line{1, 1}), 8).Bytes()
			resp, err := f.Transmit(ctx, cmd)
			if err != nil || len(resp) != 10 || resp[8] != 0x90 {
				errs <- fmt.Sprintf("issue %d: % X %v", no, resp, err)
			}
		}
	}()
	for range 4 { // readers and savers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				resp, err := f.Transmit(ctx, []byte{0x00, 0xB0, 0x83, 0x00, 0x4C})
				if err != nil || len(resp) != 78 {
					errs <- fmt.Sprintf("read: % X %v", resp, err)
				}
				if _, err := f.MarshalBinary(); err != nil {
					errs <- err.Error()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := u32(readBinary(t, f, 3, 76)[64:]); got != 50 {
		t.Fatalf("previous invoice %d, want 50", got)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cs := newSet(t, func(o *IssueOptions) { o.Options.Logger = l })
	selectApp(t, cs.Fiscal)
	if s := buf.String(); !strings.Contains(s, "card=fiscal") || !strings.Contains(s, "ins=A4") || !strings.Contains(s, "sw=9000") {
		t.Fatalf("log: %q", s)
	}
}

// The cards of a set share one random source; using them from different
// goroutines must not race on it.
func TestSharedRandAcrossCards(t *testing.T) {
	cs := newSet(t, func(o *IssueOptions) { o.Options.T1 = true })
	var wg sync.WaitGroup
	for _, c := range []*Card{cs.Fiscal, cs.User, cs.Check} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				resp, err := c.Transmit(context.Background(), []byte{0x00, 0x84, 0x00, 0x00, 0x08})
				if err != nil || len(resp) != 10 {
					t.Errorf("GET CHALLENGE: % X %v", resp, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSaveDirLoadCardSet(t *testing.T) {
	cs, pin := initSet(t, func(o *IssueOptions) { o.ControlKeyID = 2 })
	dir := t.TempDir()
	if err := cs.SaveDir(dir); err != nil {
		t.Fatal(err)
	}
	ls, err := LoadCardSet(dir, Options{Profile: testProfile()})
	if err != nil {
		t.Fatal(err)
	}
	if ls.Options.FiscalCardNo != cs.Options.FiscalCardNo || ls.Options.TaxpayerNo != cs.Options.TaxpayerNo || ls.Options.ControlKeyID != 2 {
		t.Fatalf("recovered options %+v", ls.Options)
	}
	selectApp(t, ls.Fiscal)
	verifyPIN(t, ls.Fiscal, pin)
	_, sw := issue(t, ls.Fiscal, invoice(d(2026, 11, 26), 1, 1, line{1, 1}))
	wantSW(t, "issue on loaded set", sw, card.SWOK)
	if _, err := ls.ProcessDeclarations(cs.Options.Controls); err != nil {
		t.Fatal(err)
	}
	// Swapped files are refused.
	os.Rename(filepath.Join(dir, UserCardFile), filepath.Join(dir, "tmp"))
	os.Rename(filepath.Join(dir, CheckCardFile), filepath.Join(dir, UserCardFile))
	if _, err := LoadCardSet(dir, Options{Profile: testProfile()}); !errors.Is(err, ErrBadState) {
		t.Fatalf("swapped files: %v", err)
	}
}

func TestProcessDeclarationsOnHandBuiltSet(t *testing.T) {
	cs, pin := initSet(t, func(o *IssueOptions) { o.ControlKeyID = 2 })
	hand := &CardSet{Fiscal: cs.Fiscal, User: cs.User, Profile: cs.Profile}
	next := cs.Options.Controls
	next.SingleLimit = 7
	if _, err := hand.ProcessDeclarations(next); err != nil {
		t.Fatal(err)
	}
	rec, sw := do(t, cs.User, card.Command{INS: card.INSReadRecord, P1: 1, P2: 1<<3 | 4, Ne: 37})
	wantSW(t, "READ RECORD", sw, card.SWOK)
	if len(cs.User.st.file(1).Records) != 1 || rec[8] != 2 {
		t.Fatalf("EF01 records %d, key id %d", len(cs.User.st.file(1).Records), rec[8])
	}
	_ = pin
	_, sw = do(t, cs.Fiscal, prop(card.INSUpdateControls, rec[8:], 0))
	wantSW(t, "UPDATE_CONTROLS", sw, card.SWOK)
	if got := u32(readBinary(t, cs.Fiscal, 1, 23)[4:]); got != 7 {
		t.Fatalf("single limit %d", got)
	}
}

// faultyFS is the real file system with one failing step.
type faultyFS struct {
	osFS
	fail string // "create", "write", "sync", "close", "rename", "syncdir"
}

var errInjected = errors.New("injected failure")

type faultyFile struct {
	*os.File
	fail string
}

func (f faultyFile) Write(b []byte) (int, error) {
	if f.fail == "write" {
		n, _ := f.File.Write(b[:len(b)/2]) // a torn write
		return n, errInjected
	}
	return f.File.Write(b)
}

func (f faultyFile) Sync() error {
	if f.fail == "sync" {
		return errInjected
	}
	return f.File.Sync()
}

func (f faultyFile) Close() error {
	err := f.File.Close()
	if f.fail == "close" {
		return errInjected
	}
	return err
}

func (f faultyFS) CreateTemp(dir, pattern string) (saveFile, error) {
	if f.fail == "create" {
		return nil, errInjected
	}
	tf, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return faultyFile{File: tf, fail: f.fail}, nil
}

func (f faultyFS) Rename(oldpath, newpath string) error {
	if f.fail == "rename" {
		return errInjected
	}
	return f.osFS.Rename(oldpath, newpath)
}

func (f faultyFS) SyncDir(dir string) error {
	if f.fail == "syncdir" {
		return errInjected
	}
	return f.osFS.SyncDir(dir)
}

// TestSaveFileFailures: a save that fails at any step leaves the previous
// file intact and no temporary file behind.
func TestSaveFileFailures(t *testing.T) {
	cs, _ := initSet(t, nil)
	old, err := cs.Fiscal.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	newer, err := cs.User.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"create", "write", "sync", "close", "rename", "syncdir"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "card.state")
			if err := writeAtomic(osFS{}, path, old); err != nil {
				t.Fatal(err)
			}
			err := writeAtomic(faultyFS{fail: step}, path, newer)
			if !errors.Is(err, errInjected) {
				t.Fatalf("err = %v, want the injected failure", err)
			}
			got, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			want := old
			if step == "syncdir" {
				want = newer // renamed into place; only its durability is in doubt
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("after a failed %s the file holds %d bytes, want the %s state", step, len(got), map[bool]string{true: "new", false: "old"}[step == "syncdir"])
			}
			if _, err := LoadFile(path, cs.Options.Options); err != nil {
				t.Fatalf("file unreadable after a failed %s: %v", step, err)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Fatalf("%d entries left in the directory after a failed %s", len(ents), step)
			}
		})
	}
}

// TestSaveFileRealFailures uses failures of the real file system: a parent
// that is a file, and a target that is a directory.
func TestSaveFileRealFailures(t *testing.T) {
	cs := newSet(t, nil)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cs.Fiscal.SaveFile(filepath.Join(notDir, "card.state")); err == nil {
		t.Fatal("saved below a regular file")
	}
	target := filepath.Join(dir, "taken")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cs.Fiscal.SaveFile(target); err == nil {
		t.Fatal("saved over a non-empty directory")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		names := []string{}
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v after failed saves, want only plain and taken", names)
	}
	if b, err := os.ReadFile(filepath.Join(target, "keep")); err != nil || string(b) != "keep" {
		t.Fatalf("a failed save touched the directory it could not replace: %q %v", b, err)
	}
}

// clone returns a deep copy of st (through its JSON form).
func (st *state) clone() *state {
	b, err := json.Marshal(st)
	if err != nil {
		panic("emulator: state does not marshal: " + err.Error())
	}
	var out state
	if err := json.Unmarshal(b, &out); err != nil {
		panic("emulator: state does not unmarshal: " + err.Error())
	}
	return &out
}
