//go:build pcsc

package pcsc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fiscalkit/gb18240/adapters/pcsc"
	"github.com/fiscalkit/gb18240/adapters/vpcd"
	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
)

// Read a fiscal card's application information through PC/SC. Here the
// card is the emulator served to vpcd's first reader (vpcd.DefaultAddr,
// Debian's "Virtual PCD 00 00"), whose name vpcd.Locate finds, so the
// example runs wherever pcscd runs with the vsmartcard-vpcd driver; with a
// real card, skip the vpcd part and name the real reader.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pc, err := pcsc.Open(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pc.Close()

	// Which reader does vpcd.DefaultAddr feed?
	readers, err := vpcd.Locate(ctx, []string{vpcd.DefaultAddr}, func(ctx context.Context) (map[string][]byte, error) {
		names, err := pc.Readers(ctx)
		if err != nil {
			return nil, err
		}
		atrs := make(map[string][]byte)
		for _, r := range names {
			if st, err := pc.Status(ctx, r); err == nil && st.Present {
				atrs[r] = st.ATR
			}
		}
		return atrs, nil
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}

	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	vctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- vpcd.Run(vctx, set.Fiscal, nil) }() // on vpcd.DefaultAddr
	defer func() { stop(); <-done }()

	st, err := pc.WaitForCard(ctx, readers[vpcd.DefaultAddr])
	if err != nil {
		fmt.Println(err)
		return
	}
	k, err := pc.Connect(ctx, st.Reader, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Close()
	fmt.Printf("ATR % X, %v\n", k.ATR(), k.Protocol())

	err = k.Transaction(ctx, func(ctx context.Context) error {
		fc, err := card.OpenFiscalCard(ctx, k, nil)
		if err != nil {
			return err
		}
		info, err := fc.ReadAppInfo(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("fiscal card %v of machine %v, registered: %v\n", info.CardNumber, info.MachineNumber, info.Registered)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// ATR 3B 7A 13 00 00 47 42 31 38 32 34 30 00 00 00, T=0
	// fiscal card 1100000000000001 of machine 2200000000000001, registered: false
}
