package main

import (
	"context"
	"net"
	"testing"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
)

// The POS against an in-process register on TCP, with and without faults.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reg := linktest.NewRegister(&linktest.RegisterOptions{RollSize: 25})
	srv := link.NewServer(reg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer conn.Close(); srv.Serve(ctx, conn) }()
		}
	}()
	if err := run(ln.Addr().String(), "", 0, 30, 10, "", 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := run(ln.Addr().String(), "", 0, 30, 3, "drop=0.05,dup=0.05,corrupt=0.05", 1, 0); err != nil {
		t.Fatal(err)
	}
	if got := len(reg.Issued()); got != 60 {
		t.Fatalf("register issued %d invoices, want 60", got)
	}
	if err := run("", "", 0, 1, 1, "", 0, 0); err == nil {
		t.Fatal("no -addr and no -port accepted")
	}
}
