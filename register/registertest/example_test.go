package registertest_test

import (
	"context"
	"net"
	"testing"

	"github.com/fiscalkit/gb18240/register/link"
	"github.com/fiscalkit/gb18240/register/link/linktest"
	"github.com/fiscalkit/gb18240/register/registertest"
)

// The suite against the in-process server over net.Pipe. A test of another
// register calls Run the same way with a client on that register's line.
func TestRunInProcess(t *testing.T) {
	host, device := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go link.NewServer(linktest.NewRegister(nil), nil).Serve(ctx, device)
	defer host.Close()
	registertest.Run(t, link.NewClient(host, nil), nil)
}
