//go:build !linux

package serial

import (
	"errors"
	"os"
)

// OpenPTY is only implemented on Linux.
func OpenPTY() (master *os.File, slavePath string, closeSlave func() error, err error) {
	return nil, "", nil, errors.New("serial: OpenPTY is only implemented on Linux")
}
