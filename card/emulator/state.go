package emulator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
)

// PINLen is the length of every PIN: the rolling fiscal PIN and the user
// and check card PINs.
const PINLen = 8

// file is the content of one EF.
type file struct {
	Data    []byte   `json:"data,omitempty"`    // binary EF
	Records [][]byte `json:"records,omitempty"` // record EF
}

// dayTotal is what the fiscal card remembers of one day not yet declared
// on which it coded at least one invoice.
type dayTotal struct {
	Date   []byte `json:"date"`   // BCD CCYYMMDD
	Normal uint64 `json:"normal"` // sum of normal invoice totals, fen
	Return uint64 `json:"return"` // sum of return invoice totals, fen
	// Record is the day's 64-byte accumulation (EF03 without the previous
	// invoice fields) as it stood when the next day began; nil while the
	// day is EF03's day (and in state saved before records were kept).
	Record []byte `json:"record,omitempty"`
}

// state is everything a card keeps across power sessions.
type state struct {
	Kind     Kind             `json:"kind"`
	Profile  string           `json:"profile"`
	Locked   bool             `json:"locked,omitempty"`
	Files    map[string]*file `json:"files"` // key "EF01"...
	PIN      []byte           `json:"pin,omitempty"`
	PINTries int              `json:"pin_tries"`
	PINMax   int              `json:"pin_max"`
	// Check card: tries left for EXTERNAL AUTHENTICATE.
	AuthTries int `json:"auth_tries,omitempty"`
	// Fiscal card: last invoice number used in the loaded roll (0 = none),
	// and per-day totals of invoices not yet declared.
	RollLast uint32     `json:"roll_last,omitempty"`
	Days     []dayTotal `json:"days,omitempty"`
	// Fiscal card: update counter of the control record last applied by
	// UPDATE_CONTROLS (0 = none yet).
	ControlsCounter int `json:"controls_counter,omitempty"`
	// Fiscal card: every roll loaded so far (18 bytes each, oldest first,
	// at most maxLoadedRolls), so a used roll cannot be loaded again.
	LoadedRolls [][]byte `json:"loaded_rolls,omitempty"`
}

// maxLoadedRolls bounds the fiscal card's roll history.
const maxLoadedRolls = 1000

func newState(k Kind, profile string, tries int) *state {
	st := &state{Kind: k, Profile: profile, Files: map[string]*file{}, PINTries: tries, PINMax: tries}
	if k == KindCheck {
		st.AuthTries = tries
	}
	for _, s := range specsOf(k) {
		f := &file{}
		if !s.isRecord() {
			f.Data = make([]byte, s.size)
		}
		st.Files[s.name()] = f
	}
	return st
}

func (st *state) file(n byte) *file {
	return st.Files[fmt.Sprintf("EF%02X", n)]
}

// validate checks a decoded state for the invariants the card code relies on.
func (st *state) validate() error {
	if !st.Kind.valid() {
		return fmt.Errorf("unknown card kind %d", st.Kind)
	}
	if len(st.Files) != len(specsOf(st.Kind)) {
		return fmt.Errorf("%d files, want %d", len(st.Files), len(specsOf(st.Kind)))
	}
	for _, s := range specsOf(st.Kind) {
		f := st.Files[s.name()]
		if f == nil {
			return fmt.Errorf("file %s missing", s.name())
		}
		if s.isRecord() {
			if len(f.Data) != 0 {
				return fmt.Errorf("record file %s has binary data", s.name())
			}
			if len(f.Records) > s.maxRec {
				return fmt.Errorf("file %s has %d records, capacity %d", s.name(), len(f.Records), s.maxRec)
			}
			for i, r := range f.Records {
				if len(r) != s.recLen {
					return fmt.Errorf("file %s record %d is %d bytes, want %d", s.name(), i+1, len(r), s.recLen)
				}
			}
		} else {
			if len(f.Data) != s.size || len(f.Records) != 0 {
				return fmt.Errorf("file %s is %d bytes, want %d", s.name(), len(f.Data), s.size)
			}
		}
	}
	if st.PINMax < 1 || st.PINMax > 15 || st.PINTries < 0 || st.PINTries > st.PINMax {
		return fmt.Errorf("PIN tries %d of %d", st.PINTries, st.PINMax)
	}
	if st.AuthTries < 0 || st.AuthTries > st.PINMax {
		return fmt.Errorf("authentication tries %d of %d", st.AuthTries, st.PINMax)
	}
	if len(st.PIN) != 0 && len(st.PIN) != PINLen {
		return fmt.Errorf("PIN of %d bytes", len(st.PIN))
	}
	if st.Kind != KindFiscal && len(st.PIN) != PINLen {
		return errors.New("user and check cards need a PIN")
	}
	if st.ControlsCounter < 0 || st.ControlsCounter > 0xFF {
		return fmt.Errorf("controls counter %d outside 0..255", st.ControlsCounter)
	}
	if len(st.LoadedRolls) > maxLoadedRolls {
		return fmt.Errorf("%d loaded rolls, at most %d", len(st.LoadedRolls), maxLoadedRolls)
	}
	for i, r := range st.LoadedRolls {
		if len(r) != RollLen {
			return fmt.Errorf("loaded roll %d is %d bytes", i, len(r))
		}
	}
	for i, d := range st.Days {
		if !validDate(d.Date) {
			return fmt.Errorf("day total %d has an invalid date", i)
		}
		if i > 0 && bytes.Compare(st.Days[i-1].Date, d.Date) >= 0 {
			return errors.New("day totals not in date order")
		}
		if d.Record != nil && (len(d.Record) != DailyRecordLen || !bytes.Equal(d.Record[:4], d.Date)) {
			return fmt.Errorf("day total %d: record of %d bytes for another date", i, len(d.Record))
		}
	}
	return nil
}

// addDay adds an invoice total to the per-day totals, keeping them sorted.
func (st *state) addDay(date []byte, normal, ret uint64) {
	i := sort.Search(len(st.Days), func(i int) bool { return bytes.Compare(st.Days[i].Date, date) >= 0 })
	if i == len(st.Days) || !bytes.Equal(st.Days[i].Date, date) {
		st.Days = append(st.Days, dayTotal{})
		copy(st.Days[i+1:], st.Days[i:])
		st.Days[i] = dayTotal{Date: append([]byte(nil), date...)}
	}
	st.Days[i].Normal += normal
	st.Days[i].Return += ret
}

// day returns the remembered day of date, or nil.
func (st *state) day(date []byte) *dayTotal {
	i := sort.Search(len(st.Days), func(i int) bool { return bytes.Compare(st.Days[i].Date, date) >= 0 })
	if i < len(st.Days) && bytes.Equal(st.Days[i].Date, date) {
		return &st.Days[i]
	}
	return nil
}

// State file format. See doc.go.
const (
	stateMagic   = "GB18240E"
	stateVersion = 1
	stateHeader  = 8 + 2 + 1 + 1 + 4 // magic, version, kind, reserved, payload length
	maxPayload   = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrBadState means saved card state is malformed, corrupted or from
// another card kind; the card it was to be loaded into is unchanged.
var ErrBadState = errors.New("emulator: bad saved card state")

// ErrProfileMismatch means saved card state was made under another crypto
// profile than the one the card is loaded with.
var ErrProfileMismatch = errors.New("emulator: saved state belongs to another crypto profile")

// StateError says what is wrong with saved state; it unwraps to ErrBadState
// or ErrProfileMismatch.
type StateError struct {
	Reason string
	Err    error
}

func (e *StateError) Error() string { return "emulator: card state: " + e.Reason }

// Unwrap returns ErrBadState or ErrProfileMismatch.
func (e *StateError) Unwrap() error { return e.Err }

func badState(format string, args ...any) error {
	return &StateError{Reason: fmt.Sprintf(format, args...), Err: ErrBadState}
}

// MarshalBinary returns the card's persistent state in the state file format
// (doc.go). The power session (selected application, verified PINs) is not
// part of it.
func (c *Card) MarshalBinary() ([]byte, error) {
	c.mu.Lock()
	payload, err := json.Marshal(c.st)
	kind := c.st.Kind
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, stateHeader+len(payload)+4)
	b = append(b, stateMagic...)
	b = binary.BigEndian.AppendUint16(b, stateVersion)
	b = append(b, byte(kind), 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return appendCRC(b), nil
}

// decodeState parses the state file format. It never panics.
func decodeState(b []byte) (*state, error) {
	if len(b) < stateHeader+4 {
		return nil, badState("%d bytes, shorter than header and CRC", len(b))
	}
	if string(b[:8]) != stateMagic {
		return nil, badState("bad magic %q", b[:8])
	}
	if v := binary.BigEndian.Uint16(b[8:10]); v != stateVersion {
		return nil, badState("version %d, want %d", v, stateVersion)
	}
	n := binary.BigEndian.Uint32(b[12:16])
	if n > maxPayload || int(n) != len(b)-stateHeader-4 {
		return nil, badState("payload length %d does not match %d bytes", n, len(b))
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(b[len(b)-4:]); got != want {
		return nil, badState("CRC32-C %08X, stored %08X", got, want)
	}
	var st state
	dec := json.NewDecoder(bytes.NewReader(b[stateHeader : len(b)-4]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, badState("payload: %v", err)
	}
	if Kind(b[10]) != st.Kind {
		return nil, badState("header kind %d, payload kind %d", b[10], st.Kind)
	}
	if err := st.validate(); err != nil {
		return nil, badState("%v", err)
	}
	return &st, nil
}

// UnmarshalBinary replaces the card's state with saved state of the same
// card kind and crypto profile, and starts a new power session. On error
// the card is unchanged.
func (c *Card) UnmarshalBinary(b []byte) error {
	st, err := decodeState(b)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.Kind != c.st.Kind {
		return badState("saved %s card, this is a %s card", st.Kind, c.st.Kind)
	}
	if st.Profile != c.opts.Profile.Name() {
		return &StateError{Reason: fmt.Sprintf("saved under %q, card uses %q", st.Profile, c.opts.Profile.Name()), Err: ErrProfileMismatch}
	}
	c.st = st
	c.ses = session{}
	return nil
}

// Load returns a card restored from saved state (MarshalBinary or
// SaveFile); opts.Profile must be the profile the state was made under.
func Load(b []byte, opts Options) (*Card, error) {
	st, err := decodeState(b)
	if err != nil {
		return nil, err
	}
	c := newCard(st, opts)
	if st.Profile != c.opts.Profile.Name() {
		return nil, &StateError{Reason: fmt.Sprintf("saved under %q, options give %q", st.Profile, c.opts.Profile.Name()), Err: ErrProfileMismatch}
	}
	return c, nil
}

// LoadFile reads a state file written by SaveFile.
func LoadFile(path string, opts Options) (*Card, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(b, opts)
}

// SaveFile writes the card's state to path atomically: into a temporary
// file in the same directory, synced, then renamed over path, and the
// directory synced. A crash or a failed step leaves either the old file
// or the new one, never a mix, and a failure before the rename removes
// the temporary file. An error from the final directory sync is returned
// too: the new file is then in place but may not survive a power cut.
func (c *Card) SaveFile(path string) error {
	b, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	return writeAtomic(osFS{}, path, b)
}

// saveFS is what writeAtomic needs from the file system; tests inject
// failures through it.
type saveFS interface {
	CreateTemp(dir, pattern string) (saveFile, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	SyncDir(dir string) error
}

// saveFile is the temporary file of writeAtomic.
type saveFile interface {
	Name() string
	Write(b []byte) (int, error)
	Sync() error
	Close() error
}

// osFS is saveFS on the real file system.
type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (saveFile, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(oldpath, newpath string) error             { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                         { return os.Remove(name) }
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeAtomic writes b to path through a synced temporary file renamed
// over path, then syncs the directory.
func writeAtomic(fsys saveFS, path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := fsys.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("emulator: save %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			fsys.Remove(tmp.Name())
		}
	}()
	fail := func(step string, err error) error {
		return fmt.Errorf("emulator: save %s: %s: %w", path, step, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fail("write", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fail("sync", err)
	}
	if err := tmp.Close(); err != nil {
		return fail("close", err)
	}
	if err := fsys.Rename(tmp.Name(), path); err != nil {
		return fail("rename", err)
	}
	renamed = true
	if err := fsys.SyncDir(dir); err != nil {
		return fail("directory sync (the new file is in place)", err)
	}
	return nil
}

// appendCRC appends the CRC32-C of b to b.
func appendCRC(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}
