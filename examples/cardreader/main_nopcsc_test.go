//go:build !pcsc

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runTool(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestEmulateWithoutPCSC: -emulate prints the three emulated cards in
// process; without it the program says how to build the PC/SC version.
func TestEmulateWithoutPCSC(t *testing.T) {
	code, out, errOut := runTool("-emulate")
	if code != 0 || errOut != "" {
		t.Fatalf("-emulate: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"emulated fiscal card", "fiscal card (税控卡)", "emulated user card", "user card (用户卡)", "emulated check card", "check card (稽查卡)", "ATR 3B"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runTool()
	if code != 2 || out != "" || !strings.Contains(errOut, "-tags pcsc") {
		t.Errorf("no flags: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut = runTool("-h"); code != 0 || !strings.Contains(errOut, "-emulate") {
		t.Errorf("-h: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{"-bogus"}, {"-emulate", "extra"}} {
		if code, _, _ := runTool(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
