package emulator

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
)

// TestGoldenTranscript pins a whole T=0 exchange of a default card set with
// the default TEST profile and a deterministic random source, byte for
// byte: a change in framing, file layouts or the TEST profile shows here.
func TestGoldenTranscript(t *testing.T) {
	cs, err := Issue(IssueOptions{Options: Options{Rand: &seqReader{}}})
	if err != nil {
		t.Fatal(err)
	}
	f, u := cs.Fiscal, cs.User
	steps := []struct {
		c         *Card
		cmd, resp string
	}{
		{f, "00A4040006 5453414D3031", "9000"},
		{u, "00A4040005 5449443031", "9000"},
		{f, "C0F0000010", "6110"},
		{f, "00C0000010", "01020304 1100000000000001 %MAC1% 9000"},
		{u, "C0E4000010 01020304 1100000000000001 %MAC1% 04", "6104"},
		{u, "00C0000004", "%MAC2% 9000"},
		{f, "C0F1000004 %MAC2% 08", "6108"},
		{f, "00C0000008", "05060708090A0B0C 9000"},
		{f, "C0F9000008 05060708090A0B0C 08", "6108"},
		{f, "00C0000008", "0D0E0F1011121314 9000"},
		{f, "00B0810017", "6117"},
		{f, "00C0000017", "0000000000000000000000000000000000000000000000 9000"},
	}
	vars := map[string]string{}
	p := cs.Profile
	mac1, _ := p.RegistrationMAC1(cs.Options.FiscalCardNo[:], []byte{1, 2, 3, 4})
	mac2, _ := p.RegistrationMAC2(cs.Options.FiscalCardNo[:], []byte{1, 2, 3, 4})
	vars["%MAC1%"] = hex.EncodeToString(mac1)
	vars["%MAC2%"] = hex.EncodeToString(mac2)
	if vars["%MAC1%"] != "ac04eade" || vars["%MAC2%"] != "34aacc7d" {
		t.Fatalf("TEST profile MACs changed: %v", vars)
	}
	for i, s := range steps {
		cmd, want := s.cmd, s.resp
		for k, v := range vars {
			cmd, want = strings.ReplaceAll(cmd, k, v), strings.ReplaceAll(want, k, v)
		}
		got, err := s.c.Transmit(context.Background(), unhex(t, cmd))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, unhex(t, want)) {
			t.Fatalf("step %d %s:\n got % X\nwant %s", i, cmd, got, want)
		}
	}
}
