//go:build linux

package serial

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenPTY creates a pseudo-terminal pair through /dev/ptmx. It returns the
// master side, whose reads honour deadlines (it is pollable), and the path
// of the slave side (/dev/pts/N), which serial software opens like any
// serial port. The slave is put in raw mode (no echo, no line editing) and
// kept open by the returned closer so that the master does not see a
// hang-up between clients; call closeSlave when done.
func OpenPTY() (master *os.File, slavePath string, closeSlave func() error, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, "", nil, fmt.Errorf("serial: open /dev/ptmx: %w", err)
	}
	fail := func(e error) (*os.File, string, func() error, error) {
		m.Close()
		return nil, "", nil, e
	}
	rc, err := m.SyscallConn()
	if err != nil {
		return fail(err)
	}
	var n int
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	}); err != nil {
		return fail(err)
	}
	if ioErr != nil {
		return fail(fmt.Errorf("serial: pty ioctl: %w", ioErr))
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fail(fmt.Errorf("serial: open %s: %w", path, err))
	}
	sc, err := s.SyscallConn()
	if err == nil {
		err = sc.Control(func(fd uintptr) {
			t, e := unix.IoctlGetTermios(int(fd), unix.TCGETS)
			if e != nil {
				ioErr = e
				return
			}
			// cfmakeraw
			t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
			t.Oflag &^= unix.OPOST
			t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
			t.Cflag &^= unix.CSIZE | unix.PARENB
			t.Cflag |= unix.CS8
			t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
			ioErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
		})
	}
	if err == nil {
		err = ioErr
	}
	if err != nil {
		s.Close()
		return fail(fmt.Errorf("serial: raw mode on %s: %w", path, err))
	}
	return m, path, s.Close, nil
}
