package memory

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// FS is the storage seam: a flat directory of files that the fiscal memory
// keeps its segment files in. DirFS is the operating-system implementation,
// MemFS keeps everything in memory and FaultFS wraps either one to cut power
// at a chosen write.
//
// Names are plain file names without a directory part.
type FS interface {
	// List returns the names of all files in the directory, sorted.
	List() ([]string, error)
	// Create creates the named file, truncating it if it exists, and opens
	// it for appending.
	Create(name string) (File, error)
	// OpenAppend opens an existing file for appending at its end.
	OpenAppend(name string) (File, error)
	// Open opens an existing file for reading.
	Open(name string) (Reader, error)
	// Rename renames a file, replacing newname if it exists.
	Rename(oldname, newname string) error
	// Truncate cuts the named file to size bytes.
	Truncate(name string, size int64) error
	// SyncDir makes the directory's entries (creations, renames) durable.
	SyncDir() error
}

// File is a file open for appending.
type File interface {
	// Write appends p to the file.
	Write(p []byte) (int, error)
	// Sync makes everything written so far durable (fdatasync).
	Sync() error
	Close() error
}

// Reader is a file open for reading.
type Reader interface {
	io.ReaderAt
	// Size is the length of the file when it was opened.
	Size() int64
	Close() error
}

// DirFS is an FS over a directory of the operating system. Sync uses
// fdatasync where the platform has it and fsync elsewhere.
type DirFS struct {
	Dir string
}

// NewDirFS returns the DirFS for dir, creating the directory if it does not
// exist.
func NewDirFS(dir string) (*DirFS, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &DirFS{Dir: dir}, nil
}

func (d *DirFS) path(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("memory: invalid file name %q", name)
	}
	return filepath.Join(d.Dir, name), nil
}

// List implements FS.
func (d *DirFS) List() ([]string, error) {
	ents, err := os.ReadDir(d.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Create implements FS.
func (d *DirFS) Create(name string) (File, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// OpenAppend implements FS.
func (d *DirFS) OpenAppend(name string) (File, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Open implements FS.
func (d *DirFS) Open(name string) (Reader, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return osReader{f, st.Size()}, nil
}

// Rename implements FS.
func (d *DirFS) Rename(oldname, newname string) error {
	o, err := d.path(oldname)
	if err != nil {
		return err
	}
	n, err := d.path(newname)
	if err != nil {
		return err
	}
	return os.Rename(o, n)
}

// Truncate implements FS. The truncation is synced before it returns.
func (d *DirFS) Truncate(name string, size int64) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SyncDir implements FS.
func (d *DirFS) SyncDir() error {
	f, err := os.Open(d.Dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type osFile struct{ f *os.File }

func (o osFile) Write(p []byte) (int, error) { return o.f.Write(p) }
func (o osFile) Sync() error                 { return datasync(o.f) }
func (o osFile) Close() error                { return o.f.Close() }

type osReader struct {
	f    *os.File
	size int64
}

func (o osReader) ReadAt(p []byte, off int64) (int, error) { return o.f.ReadAt(p, off) }
func (o osReader) Size() int64                             { return o.size }
func (o osReader) Close() error                            { return o.f.Close() }

// MemFS is an FS held in memory, for tests and emulators. Its zero value is
// an empty directory ready for use. Writes are visible (and count as stored)
// at once; wrap it in a FaultFS to model power cuts.
type MemFS struct {
	mu    sync.Mutex
	files map[string][]byte
}

// NewMemFS returns an empty MemFS.
func NewMemFS() *MemFS { return &MemFS{} }

// Bytes returns a copy of the named file's content, or nil if it does not
// exist. Tests use it to corrupt or inspect files.
func (m *MemFS) Bytes(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil
	}
	return slices.Clone(b)
}

// SetBytes replaces the named file's content (creating it). Tests use it to
// corrupt files on purpose.
func (m *MemFS) SetBytes(name string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[name] = slices.Clone(b)
}

// Clone returns an independent copy of the whole directory.
func (m *MemFS) Clone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &MemFS{files: make(map[string][]byte, len(m.files))}
	for k, v := range m.files {
		c.files[k] = slices.Clone(v)
	}
	return c
}

// List implements FS.
func (m *MemFS) List() ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.files))
	for k := range m.files {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[name] = nil
	return &memFile{fs: m, name: name}, nil
}

// OpenAppend implements FS.
func (m *MemFS) OpenAppend(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{fs: m, name: name}, nil
}

// Open implements FS. The reader sees the file as it was when opened.
func (m *MemFS) Open(name string) (Reader, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memReader{b: b[:len(b):len(b)]}, nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[oldname]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	delete(m.files, oldname)
	m.files[newname] = b
	return nil
}

// Truncate implements FS.
func (m *MemFS) Truncate(name string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return &fs.PathError{Op: "truncate", Path: name, Err: fs.ErrNotExist}
	}
	if size < 0 || size > int64(len(b)) {
		return &fs.PathError{Op: "truncate", Path: name, Err: errors.New("size out of range")}
	}
	m.files[name] = slices.Clone(b[:size])
	return nil
}

// SyncDir implements FS.
func (m *MemFS) SyncDir() error { return nil }

type memFile struct {
	fs     *MemFS
	name   string
	closed bool
}

func (f *memFile) Write(p []byte) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	b, ok := f.fs.files[f.name]
	if !ok {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrNotExist}
	}
	// Readers hold slices capped at their length, so appending in place
	// never changes what they see.
	f.fs.files[f.name] = append(b, p...)
	return len(p), nil
}

func (f *memFile) Sync() error {
	if f.closed {
		return fs.ErrClosed
	}
	return nil
}

func (f *memFile) Close() error {
	f.closed = true
	return nil
}

type memReader struct{ b []byte }

func (r *memReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("memory: negative offset")
	}
	if off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (r *memReader) Size() int64  { return int64(len(r.b)) }
func (r *memReader) Close() error { return nil }
