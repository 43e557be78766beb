package vpcd_test

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/fiscalkit/gb18240/adapters/vpcd"
)

// BenchmarkServeLoopback measures one APDU round trip between a fake
// vpcd and Slot over loopback TCP. The fake writes like vpcd does: the
// length and the payload in two writes, with Nagle's algorithm on.
func BenchmarkServeLoopback(b *testing.B) {
	f := newFakeVPCD(b)
	s := vpcd.NewSlot(&vpcd.Options{Addr: f.addr()})
	s.Insert(&toyCard{name: 1})
	startSlot(b, s)
	conn := f.accept()
	if tc, ok := conn.c.(*net.TCPConn); ok {
		tc.SetNoDelay(false)
	}
	apdu := []byte{0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'}
	hdr := binary.BigEndian.AppendUint16(nil, uint16(len(apdu)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := conn.c.Write(hdr); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.c.Write(apdu); err != nil {
			b.Fatal(err)
		}
		conn.recv()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "APDUs/s")
}
