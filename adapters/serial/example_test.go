package serial_test

import (
	"context"
	"fmt"

	"github.com/fiscalkit/gb18240/adapters/serial"
	"github.com/fiscalkit/gb18240/register/link"
)

// Talk to a register on a USB serial adapter at the default 9600 8N1.
// (Not run: it needs the hardware.)
func ExampleOpen() {
	port, err := serial.Open("/dev/ttyUSB0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer port.Close()
	c := link.NewClient(port, nil)
	cur, err := c.CurrentInvoice(context.Background())
	fmt.Println(cur.Next, err)
}
