package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fiscalkit/gb18240/card"
)

// describe finds out which GB 18240.2 card t is (by selecting the three
// applications in turn) and prints its information file. It needs no
// PIN: the information files are readable by anyone.
func describe(ctx context.Context, t card.Transmitter, w io.Writer) error {
	ch := card.NewChannel(t, nil)
	for _, app := range []struct {
		df    string
		print func(context.Context, *card.Channel, io.Writer) error
	}{
		{card.DFNameFiscal, printFiscal},
		{card.DFNameUser, printUser},
		{card.DFNameCheck, printCheck},
	} {
		_, err := ch.SelectName(ctx, app.df)
		if err == nil {
			return app.print(ctx, ch, w)
		}
		if !errors.Is(err, card.ErrFileNotFound) && !errors.Is(err, card.ErrFuncNotSupported) {
			return fmt.Errorf("SELECT %s: %w", app.df, err)
		}
	}
	fmt.Fprintln(w, "  not a GB 18240 card (no TSAM01, TID01 or CHECK01 application)")
	return nil
}

func readEF(ctx context.Context, ch *card.Channel, fid uint16, n int) ([]byte, error) {
	if _, err := ch.SelectFID(ctx, fid); err != nil {
		return nil, fmt.Errorf("SELECT %04X: %w", fid, err)
	}
	b, err := ch.ReadBinary(ctx, 0, n)
	if err != nil {
		return nil, fmt.Errorf("READ BINARY %04X: %w", fid, err)
	}
	return b, nil
}

func printFiscal(ctx context.Context, ch *card.Channel, w io.Writer) error {
	b, err := readEF(ctx, ch, card.FID(2), card.AppInfoLen)
	if err != nil {
		return err
	}
	var a card.AppInfo
	if err := a.UnmarshalBinary(b); err != nil {
		return err
	}
	reg := "not yet registered to a machine"
	if a.Registered {
		reg = "registered"
	}
	fmt.Fprintf(w, "  fiscal card (税控卡) %v, %s\n", a.CardNumber, reg)
	fmt.Fprintf(w, "  machine number      %v\n", a.MachineNumber)
	fmt.Fprintf(w, "  taxpayer            %s, ID %s, no. %v\n", a.TaxpayerName, a.TaxpayerID, a.TaxpayerNo)
	fmt.Fprintf(w, "  application         %v .. %v, type %d, version %d\n", a.Start, a.Valid, a.AppType, a.AppVersion)
	fmt.Fprintf(w, "  tax office          % X, declaration mode %d\n", a.OfficeCode, a.DeclareMode)
	return nil
}

func printUser(ctx context.Context, ch *card.Channel, w io.Writer) error {
	b, err := readEF(ctx, ch, card.FID(2), card.UserInfoLen)
	if err != nil {
		return err
	}
	var u card.UserInfo
	if err := u.UnmarshalBinary(b); err != nil {
		return err
	}
	fmt.Fprintf(w, "  user card (用户卡) for %d machine(s)\n", u.Machines)
	fmt.Fprintf(w, "  taxpayer            %s, ID %s, no. %v\n", u.TaxpayerName, u.TaxpayerID, u.TaxpayerNo)
	fmt.Fprintf(w, "  application         %v .. %v, type %d, version %d\n", u.Start, u.Valid, u.AppType, u.AppVersion)
	fmt.Fprintf(w, "  tax office          % X, declaration mode %d\n", u.OfficeCode, u.DeclareMode)
	return nil
}

func printCheck(ctx context.Context, ch *card.Channel, w io.Writer) error {
	b, err := readEF(ctx, ch, card.FID(1), card.CheckInfoLen)
	if err != nil {
		return err
	}
	var c card.CheckInfo
	if err := c.UnmarshalBinary(b); err != nil {
		return err
	}
	fmt.Fprintf(w, "  check card (稽查卡) for taxpayer no. %v, check type %d, key id %d\n", c.TaxpayerNo, c.Type, c.KeyID)
	return nil
}
