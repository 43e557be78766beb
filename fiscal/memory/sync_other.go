//go:build !linux

package memory

import "os"

// datasync flushes f to stable storage with fsync where fdatasync is not
// available.
func datasync(f *os.File) error { return f.Sync() }
