package vpcd_test

import (
	"context"
	"fmt"
	"net"

	"github.com/fiscalkit/gb18240/adapters/vpcd"
	"github.com/fiscalkit/gb18240/card"
)

// The card side of vpcd, with a listener on a loopback port playing the
// part of pcscd's vpcd driver. Against a real pcscd, leave Options.Addr
// empty (DefaultAddr, the reader "Virtual PCD 00 00").
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	// A card that answers every command with 90 00.
	ok := card.TransmitterFunc(func(ctx context.Context, apdu []byte) ([]byte, error) {
		return []byte{0x90, 0x00}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- vpcd.Run(ctx, ok, &vpcd.Options{Addr: ln.Addr().String()}) }()

	// What vpcd does once the card has connected: ask for the ATR, then
	// send an APDU (SELECT by DF name "TSAM01").
	conn, err := ln.Accept()
	if err != nil {
		fmt.Println(err)
		return
	}
	ask := func(payload ...byte) []byte {
		msg, _ := vpcd.AppendMessage(nil, payload)
		conn.Write(msg)
		answer, _ := vpcd.ReadMessage(conn, nil)
		return answer
	}
	fmt.Printf("ATR: % X\n", ask(vpcd.CtrlGetATR))
	fmt.Printf("SELECT: % X\n", ask(0x00, 0xA4, 0x04, 0x00, 0x06, 'T', 'S', 'A', 'M', '0', '1'))

	cancel()
	fmt.Println(<-done)
	// Output:
	// ATR: 3B 7A 11 00 00 46 4B 2D 47 42 31 38 32 34 30
	// SELECT: 90 00
	// context canceled
}
