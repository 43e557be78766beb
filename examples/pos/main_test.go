package main

import (
	"context"
	"errors"
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

// TestUsageErrors: bad flag values are usage errors (exit 2), found before
// connecting: the address here has nothing listening, so an attempt to
// connect would give a different error.
func TestUsageErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, c := range []struct {
		name       string
		addr, port string
		n, lines   int
		faults     string
		seed       uint64
	}{
		{"no transport", "", "", 10, 3, "", 0},
		{"both transports", addr, "/dev/null", 10, 3, "", 0},
		{"no invoices", addr, "", 0, 3, "", 0},
		{"negative invoices", addr, "", -3, 3, "", 0},
		{"too many lines", addr, "", 10, 11, "", 0},
		{"bad fault", addr, "", 10, 3, "drop=2", 0},
		{"seed without faults", addr, "", 10, 3, "", 7},
	} {
		err := run(c.addr, c.port, 0, c.n, c.lines, c.faults, c.seed, 0)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%s: err %v, want a usage error", c.name, err)
		}
	}
	// A good command line to a closed port is not a usage error.
	err = run(addr, "", 0, 1, 1, "", 0, 0)
	var u usageError
	if err == nil || errors.As(err, &u) {
		t.Errorf("closed port: err %v, want a connection error", err)
	}
}
