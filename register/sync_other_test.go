//go:build !linux

package register_test

import "os"

func datasync(f *os.File) error { return f.Sync() }
