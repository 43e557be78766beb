package print

import (
	"errors"
	"testing"

	"github.com/fiscalkit/gb18240/fiscal"
)

func TestCapitals(t *testing.T) {
	tests := []struct {
		fen  fiscal.Amount
		want string
	}{
		// whole yuan, 整
		{100, "壹元整"},
		{1000, "壹拾元整"},
		{100500, "壹仟零伍元整"},
		{1000000, "壹万元整"},
		// jiao and fen, amounts under one yuan
		{5, "伍分"},
		{50, "伍角"},
		{55, "伍角伍分"},
		{0, "零元整"},
		{105, "壹元零伍分"},
		{150, "壹元伍角"},
		{1005, "壹拾元零伍分"},
		{168032, "壹仟陆佰捌拾元零叁角贰分"},
		{10000010, "壹拾万元零壹角"},
		// inner zeros: one 零 for a run
		{10010000, "壹拾万零壹佰元整"},
		{10100000, "壹拾万壹仟元整"},
		{100100, "壹仟零壹元整"},
		{100010000, "壹佰万零壹佰元整"},
		{1010100, "壹万零壹佰零壹元整"},
		// 万 and 亿 boundaries
		{10000000000, "壹亿元整"},
		{10000000100, "壹亿零壹元整"},
		{10001000000, "壹亿零壹万元整"},
		{10000100000, "壹亿零壹仟元整"},
		{11000000000, "壹亿壹仟万元整"},
		{100000000000, "壹拾亿元整"},
		{123456789012, "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元零壹角贰分"},
		{fiscal.MaxCardAmount, "肆仟贰佰玖拾肆万玖仟陆佰柒拾贰元玖角伍分"},
		{99999999999999, "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"},
	}
	for _, tt := range tests {
		got, err := Capitals(tt.fen)
		if err != nil || got != tt.want {
			t.Errorf("Capitals(%s) = %q, %v; want %q", tt.fen, got, err, tt.want)
		}
	}
	for _, bad := range []fiscal.Amount{-1, 100000000000000} {
		if _, err := Capitals(bad); !errors.Is(err, ErrCapitalsRange) {
			t.Errorf("Capitals(%s) err = %v, want ErrCapitalsRange", bad, err)
		}
	}
}

func FuzzCapitals(f *testing.F) {
	f.Add(int64(100500))
	f.Fuzz(func(t *testing.T, n int64) {
		s, err := Capitals(fiscal.Amount(n))
		if err != nil {
			return
		}
		if s == "" {
			t.Fatalf("Capitals(%d) is empty", n)
		}
		for _, bad := range []string{"零零", "零元", "零万", "零亿", "零整"} {
			if n != 0 && containsStr(s, bad) {
				t.Fatalf("Capitals(%d) = %q contains %q", n, s, bad)
			}
		}
	})
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
