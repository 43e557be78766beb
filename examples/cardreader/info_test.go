package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/fiscalkit/gb18240/card"
	"github.com/fiscalkit/gb18240/card/emulator"
)

func TestDescribeEmulatedCards(t *testing.T) {
	set, err := emulator.Issue(emulator.IssueOptions{TaxpayerName: "测试商店"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		c    card.Transmitter
		want []string
	}{
		{"fiscal", set.Fiscal, []string{"fiscal card (税控卡) 1100000000000001", "not yet registered", "machine number      2200000000000001", "测试商店", "2026-01-01 .. 2031-12-31"}},
		{"user", set.User, []string{"user card (用户卡) for 1 machine(s)", "测试商店", "no. 3300000000000001"}},
		{"check", set.Check, []string{"check card (稽查卡) for taxpayer no. 3300000000000001"}},
		{"not GB 18240", card.TransmitterFunc(func(context.Context, []byte) ([]byte, error) { return []byte{0x6A, 0x82}, nil }),
			[]string{"not a GB 18240 card"}},
	} {
		var out bytes.Buffer
		if err := describe(context.Background(), tt.c, &out); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.name, w, out.String())
			}
		}
	}
}

func TestDescribeRegisteredFiscalCard(t *testing.T) {
	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Initialise(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := describe(context.Background(), set.Fiscal, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), ", registered") {
		t.Errorf("an initialised fiscal card is not shown registered:\n%s", out.String())
	}
}

func TestDescribeTransportError(t *testing.T) {
	set, err := emulator.Issue(emulator.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set.Fiscal.PowerOff()
	if err := describe(context.Background(), set.Fiscal, &bytes.Buffer{}); err == nil {
		t.Error("a powered-off card described without error")
	}
}
