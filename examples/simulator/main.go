// Command simulator serves an emulated fiscal cash register over the host
// link, so that POS software can be pointed at it: the register engine
// (package register) on emulated fiscal and user cards (card/emulator) and
// an on-disk fiscal memory (fiscal/memory) under -data.
//
//	go run ./examples/simulator -listen 127.0.0.1:0     # TCP
//	go run ./examples/simulator -pty                    # a pseudo-terminal
//
// The first line on stdout is the address or the device path to connect
// to (for example 127.0.0.1:40123 or /dev/pts/3); logs go to stderr. The
// register keeps its card state in -data and its fiscal memory in
// -data/memory between runs (`go run ./examples/fmtool report DIR/memory`). With
// -service it also serves the card commands 59/5A/5B (power on, power off,
// read-only ISO APDUs) for a lab harness; the self-tests 5C-5F and the
// inspection 45 (with the issued check card, not kept in -data) are always
// served.
//
// Exit status: 0 stopped by SIGINT or SIGTERM; 1 the register or the
// transport failed; 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fiscalkit/gb18240/adapters/serial"
	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
)

// errTransport is the usage error of giving neither or both of -listen and
// -pty.
var errTransport = errors.New("give exactly one of -listen HOST:PORT and -pty")

func main() {
	listen := flag.String("listen", "", "serve on this TCP address (HOST:PORT; port 0 picks one)")
	pty := flag.Bool("pty", false, "serve on a new pseudo-terminal (Linux)")
	data := flag.String("data", "data/simulator", "directory of the emulated cards' state and, in DIR/memory, the fiscal memory (inspect with: go run ./examples/fmtool report DIR/memory)")
	seed := flag.String("seed", "simulator", "name of the emulator's TEST crypto profile; reopening a -data directory needs the name it was made with")
	rolls := flag.Int("rolls", 100, "rolls of 1000 invoices on the user card of a new -data directory (ignored when reopening one)")
	verbose := flag.Bool("v", false, "log link and device events to stderr")
	service := flag.Bool("service", false, "service mode: serve the card commands 59/5A/5B (read-only ISO APDUs only)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "simulator: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if (*listen == "") == !*pty {
		fmt.Fprintln(os.Stderr, "simulator:", errTransport)
		os.Exit(2)
	}
	// The program's own events (serving, connections) are logged at INFO;
	// the link and the device log only their warnings and errors unless -v.
	level, libLevel := slog.LevelInfo, slog.LevelWarn
	if *verbose {
		level, libLevel = slog.LevelDebug, slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	libLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: libLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, *listen, *pty, *data, *seed, *rolls, *service, log, libLog)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulator:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. It writes the address or device path as the
// first line of stdout; log takes the program's own events, libLog the
// link's and the device's.
func run(ctx context.Context, stdout io.Writer, listen string, pty bool, data, seed string, rolls int, service bool, log, libLog *slog.Logger) error {
	if (listen == "") == !pty {
		return errTransport
	}
	dev, err := linktest.NewDevice(ctx, &linktest.DeviceOptions{Dir: data, Seed: seed, Rolls: rolls, Logger: libLog, ServiceMode: service})
	if err != nil {
		return err
	}
	defer func() {
		if err := dev.Close(); err != nil {
			log.Error("closing the device", "err", err)
		}
	}()
	st := dev.Dev.Status()
	srv := link.NewServer(dev.Handler(), &link.ServerOptions{Logger: libLog})

	if pty {
		master, path, closeSlave, err := serial.OpenPTY()
		if err != nil {
			return err
		}
		defer closeSlave()
		defer master.Close()
		fmt.Fprintln(stdout, path)
		log.Info("serving", "device", path, "machine", st.Machine.String(), "next invoice", st.Next, "data", data)
		for ctx.Err() == nil {
			if err := srv.Serve(ctx, master); err != nil && ctx.Err() == nil {
				log.Warn("pty", "err", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
		return nil
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, ln.Addr())
	log.Info("serving", "addr", ln.Addr(), "machine", st.Machine.String(), "next invoice", st.Next, "data", data)
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer conn.Close()
			log.Info("connection", "from", conn.RemoteAddr())
			if err := srv.Serve(ctx, conn); err != nil && ctx.Err() == nil {
				log.Info("connection ended", "from", conn.RemoteAddr(), "err", err)
			}
		}()
	}
}
