package link

// CRC16 returns the CRC-16/BUYPASS of p: polynomial 0x8005, initial value 0,
// no reflection of input or output, no final XOR. The check value for the
// ASCII string "123456789" is 0xFEE8. On the wire the CRC is sent high byte
// first.
func CRC16(p []byte) uint16 {
	return crc16Update(0, p)
}

func crc16Update(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x8005
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
