//go:build !linux

package vpcd

import "net"

// quickAck is a Linux-only latency fix (see quickack_linux.go).
func quickAck(net.Conn) {}
