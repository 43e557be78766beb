package memory

import (
	"errors"
	"sync"
)

// ErrPowerCut is returned by every operation of a FaultFS after its power
// has been cut.
var ErrPowerCut = errors.New("memory: power cut (fault injection)")

// FaultFS wraps an FS and cuts the power at a chosen mutating operation, so
// that tests can enumerate every crash point of an operation.
//
// Mutating operations are File.Write, FS.Create, FS.Rename and FS.Truncate,
// counted from 1 in the order they are called. The CutAt-th of them is the
// one hit by the power cut: a Write lands only its first Keep bytes (0 means
// the write is lost, Keep >= len(p) means it lands whole and the power goes
// right after it); any other operation is lost. From then on every call,
// reads included, fails with ErrPowerCut; reopen the wrapped FS to model the
// restart. Writes are modelled as reaching storage in the order they were
// issued, which is what the sync discipline of the store guarantees for the
// writes that matter.
//
// Set the fields before first use; a FaultFS must not be copied after use.
type FaultFS struct {
	// FS is the wrapped storage.
	FS FS
	// CutAt is the 1-based number of the mutating operation at which the
	// power goes; 0 means never.
	CutAt int
	// Keep is how many bytes of the cut write still reach storage.
	Keep int

	mu     sync.Mutex
	ops    int
	cut    bool
	cutLen int
}

// CutWriteLen returns the length of the write the power cut hit (0 if the
// cut hit another operation or has not happened). Tests use it to enumerate
// every tear point K of that write.
func (f *FaultFS) CutWriteLen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cutLen
}

// Ops returns the number of mutating operations seen so far (the cut one
// included).
func (f *FaultFS) Ops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}

// IsCut reports whether the power has been cut.
func (f *FaultFS) IsCut() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut
}

// step counts one mutating operation and reports whether it is the one the
// power cut hits. It returns ErrPowerCut if the power is already off.
func (f *FaultFS) step() (hit bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut {
		return false, ErrPowerCut
	}
	f.ops++
	if f.CutAt > 0 && f.ops == f.CutAt {
		f.cut = true
		return true, nil
	}
	return false, nil
}

func (f *FaultFS) alive() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut {
		return ErrPowerCut
	}
	return nil
}

// List implements FS.
func (f *FaultFS) List() ([]string, error) {
	if err := f.alive(); err != nil {
		return nil, err
	}
	return f.FS.List()
}

// Create implements FS.
func (f *FaultFS) Create(name string) (File, error) {
	hit, err := f.step()
	if err != nil {
		return nil, err
	}
	if hit {
		return nil, ErrPowerCut
	}
	w, err := f.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{fs: f, f: w}, nil
}

// OpenAppend implements FS.
func (f *FaultFS) OpenAppend(name string) (File, error) {
	if err := f.alive(); err != nil {
		return nil, err
	}
	w, err := f.FS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{fs: f, f: w}, nil
}

// Open implements FS.
func (f *FaultFS) Open(name string) (Reader, error) {
	if err := f.alive(); err != nil {
		return nil, err
	}
	r, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultReader{fs: f, r: r}, nil
}

// Rename implements FS.
func (f *FaultFS) Rename(oldname, newname string) error {
	hit, err := f.step()
	if err != nil {
		return err
	}
	if hit {
		return ErrPowerCut
	}
	return f.FS.Rename(oldname, newname)
}

// Truncate implements FS.
func (f *FaultFS) Truncate(name string, size int64) error {
	hit, err := f.step()
	if err != nil {
		return err
	}
	if hit {
		return ErrPowerCut
	}
	return f.FS.Truncate(name, size)
}

// SyncDir implements FS.
func (f *FaultFS) SyncDir() error {
	if err := f.alive(); err != nil {
		return err
	}
	return f.FS.SyncDir()
}

type faultFile struct {
	fs *FaultFS
	f  File
}

func (w *faultFile) Write(p []byte) (int, error) {
	hit, err := w.fs.step()
	if err != nil {
		return 0, err
	}
	if !hit {
		return w.f.Write(p)
	}
	w.fs.mu.Lock()
	w.fs.cutLen = len(p)
	w.fs.mu.Unlock()
	keep := min(max(w.fs.Keep, 0), len(p))
	if keep > 0 {
		if _, err := w.f.Write(p[:keep]); err != nil {
			return 0, err
		}
	}
	return keep, ErrPowerCut
}

func (w *faultFile) Sync() error {
	if err := w.fs.alive(); err != nil {
		return err
	}
	return w.f.Sync()
}

func (w *faultFile) Close() error { return w.f.Close() }

type faultReader struct {
	fs *FaultFS
	r  Reader
}

func (r *faultReader) ReadAt(p []byte, off int64) (int, error) {
	if err := r.fs.alive(); err != nil {
		return 0, err
	}
	return r.r.ReadAt(p, off)
}
func (r *faultReader) Size() int64  { return r.r.Size() }
func (r *faultReader) Close() error { return r.r.Close() }
