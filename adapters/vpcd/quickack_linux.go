package vpcd

import (
	"net"
	"syscall"
)

// quickAck turns on TCP_QUICKACK for the next segments received on conn.
//
// vpcd writes each message as two send() calls (the 2-byte length, then
// the payload) on a socket with Nagle's algorithm on: the payload waits
// until the length is acknowledged. With Linux's delayed ACK that costs
// about 40 ms per APDU. Acknowledging at once removes the wait. The kernel
// clears the flag by itself, so it is set again before every read.
func quickAck(conn net.Conn) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
