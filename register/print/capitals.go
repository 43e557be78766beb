package print

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fiscalkit/gb18240/fiscal"
)

// ErrCapitalsRange is returned by Capitals for a negative amount or one of a
// trillion yuan (万亿) or more.
var ErrCapitalsRange = errors.New("print: amount cannot be written in capitals")

var (
	capDigits = []rune("零壹贰叁肆伍陆柒捌玖")
	capUnits  = []string{"", "拾", "佰", "仟"}
	capGroups = []string{"", "万", "亿"}
)

// Capitals writes an amount in Chinese financial capitals (大写金额), as printed
// on invoices next to the figure:
//
//	1005.00     壹仟零伍元整
//	100000.10   壹拾万元零壹角
//	0.05        伍分
//	1680.32     壹仟陆佰捌拾元零叁角贰分
//
// The rules followed are the usual ones for payment documents: one 零 stands
// for any run of zeros between non-zero digits, also across an empty 万 group;
// zeros at the end of a group are silent; 拾 is always written with its digit
// (壹拾, not 拾); 整 follows 元 when there are no 角 and 分; a zero units digit
// or a zero 角 before a non-zero smaller unit is written as 零; amounts under one
// yuan are written without 元; 0.00 is 零元整.
func Capitals(a fiscal.Amount) (string, error) {
	if a < 0 || a >= 1_000_000_000_000*100 {
		return "", fmt.Errorf("%w: %s", ErrCapitalsRange, a)
	}
	yuan, jiao, fen := int64(a/100), int(a/10%10), int(a%10)
	var b strings.Builder
	if yuan > 0 {
		writeYuan(&b, yuan)
		b.WriteString("元")
	}
	switch {
	case jiao == 0 && fen == 0:
		if yuan == 0 {
			return "零元整", nil
		}
		b.WriteString("整")
		return b.String(), nil
	case yuan > 0 && (yuan%10 == 0 || jiao == 0):
		b.WriteRune(capDigits[0])
	}
	if jiao > 0 {
		b.WriteRune(capDigits[jiao])
		b.WriteString("角")
	}
	if fen > 0 {
		b.WriteRune(capDigits[fen])
		b.WriteString("分")
	}
	return b.String(), nil
}

// writeYuan writes 1 ≤ n < 10^12 in capitals, without 元.
func writeYuan(b *strings.Builder, n int64) {
	var digits []int
	for v := n; v > 0; v /= 10 {
		digits = append(digits, int(v%10))
	}
	pendingZero, groupHasDigit := false, false
	for pos := len(digits) - 1; pos >= 0; pos-- {
		d := digits[pos]
		if d == 0 {
			pendingZero = b.Len() > 0
		} else {
			if pendingZero {
				b.WriteRune(capDigits[0])
				pendingZero = false
			}
			b.WriteRune(capDigits[d])
			b.WriteString(capUnits[pos%4])
			groupHasDigit = true
		}
		if pos%4 == 0 {
			if groupHasDigit && pos > 0 {
				b.WriteString(capGroups[pos/4])
				// Zeros that end a group are silent: 壹拾万壹仟, not 壹拾万零壹仟.
				pendingZero = false
			}
			groupHasDigit = false
		}
	}
}
