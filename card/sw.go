package card

import "fmt"

// SW is a status word, SW1<<8 | SW2 (ISO/IEC 7816-4 §5.1.3).
type SW uint16

// SW1 returns the first status byte.
func (s SW) SW1() byte { return byte(s >> 8) }

// SW2 returns the second status byte.
func (s SW) SW2() byte { return byte(s) }

// String formats s as four hex digits, e.g. "6A82".
func (s SW) String() string { return fmt.Sprintf("%04X", uint16(s)) }

// OK reports whether s is 9000.
func (s SW) OK() bool { return s == SWOK }

// BytesAvailable reports, for a 61xx status, how many response bytes the
// card holds for GET RESPONSE (61 00 means 256).
func (s SW) BytesAvailable() (n int, ok bool) {
	if s.SW1() != 0x61 {
		return 0, false
	}
	if s.SW2() == 0 {
		return 256, true
	}
	return int(s.SW2()), true
}

// WrongLe reports, for a 6Cxx status, the Le the card wants (6C 00 means 256).
func (s SW) WrongLe() (n int, ok bool) {
	if s.SW1() != 0x6C {
		return 0, false
	}
	if s.SW2() == 0 {
		return 256, true
	}
	return int(s.SW2()), true
}

// RetriesLeft reports, for a 63Cx status, the verification tries left.
func (s SW) RetriesLeft() (n int, ok bool) {
	if s&0xFFF0 != 0x63C0 {
		return 0, false
	}
	return int(s & 0x000F), true
}

// Status words of GB 18240.2 cards. The generic meanings follow ISO/IEC
// 7816-4 and the vendor table of GB 18240 status words (reference §2.4);
// the command-specific ones are from the command tables (§2.2, §2.3).
// Several codes mean different things for different commands; see
// StatusError for how the package resolves them.
const (
	// SWOK: normal processing.
	SWOK SW = 0x9000
	// SWEEPROMError: memory failure (6581), e.g. DECLARE_DUTY could not write.
	SWEEPROMError SW = 0x6581
	// SWWrongLength: Lc or Le wrong (6700).
	SWWrongLength SW = 0x6700
	// SWStatusInvalid: state of the application forbids the command (6901):
	// already registered (GET_REGISTER_NB, TERMINAL_REGISTER), not yet
	// registered (ISSUE_INVOICE), already collected (DATA_COLLECT).
	SWStatusInvalid SW = 0x6901
	// SWFileTypeError: command incompatible with the file structure (6981);
	// on VERIFY / authentication it means key type error.
	SWFileTypeError SW = 0x6981
	// SWSecurityStatus: security status not satisfied (6982), e.g. PIN not verified.
	SWSecurityStatus SW = 0x6982
	// SWAuthBlocked: authentication method blocked (6983), the PIN is blocked.
	SWAuthBlocked SW = 0x6983
	// SWConditionsNotSatisfied: conditions of use not satisfied (6985);
	// for INPUT_INVOICE_NB "invoice storage full".
	SWConditionsNotSatisfied SW = 0x6985
	// SWNoCurrentEF: command not allowed, no current EF (6986).
	SWNoCurrentEF SW = 0x6986
	// SWSMDataError: secure messaging data objects incorrect (6988).
	SWSMDataError SW = 0x6988
	// SWIncorrectData: incorrect parameters in the data field (6A80),
	// including a wrong XOR trailer.
	SWIncorrectData SW = 0x6A80
	// SWFuncNotSupported: function not supported (6A81).
	SWFuncNotSupported SW = 0x6A81
	// SWFileNotFound: file or application not found (6A82).
	SWFileNotFound SW = 0x6A82
	// SWRecordNotFound: record not found (6A83).
	SWRecordNotFound SW = 0x6A83
	// SWNotEnoughSpace: not enough memory space in the file (6A84).
	SWNotEnoughSpace SW = 0x6A84
	// SWWrongP1P2: incorrect parameters P1-P2 (6A86).
	SWWrongP1P2 SW = 0x6A86
	// SWRefDataNotFound: referenced data (key, PIN) not found (6A88).
	SWRefDataNotFound SW = 0x6A88
	// SWOffsetOutOfRange: wrong parameters P1-P2, offset outside the EF (6B00).
	SWOffsetOutOfRange SW = 0x6B00
	// SWInsNotSupported: instruction code not supported (6D00).
	SWInsNotSupported SW = 0x6D00
	// SWClaNotSupported: class not supported (6E00).
	SWClaNotSupported SW = 0x6E00
	// SWNoData: no precise diagnosis (6F00).
	SWNoData SW = 0x6F00
	// SWMACError: MAC verification failed (9302).
	SWMACError SW = 0x9302
	// SWAppLocked: application permanently locked (9303).
	SWAppLocked SW = 0x9303
	// SWLimitOrNoInvoice: on ISSUE_INVOICE the amount is over the limit,
	// on DISTRIBUTE_INVOICE_NB there is no invoice roll to distribute (9401).
	SWLimitOrNoInvoice SW = 0x9401
	// SWKeyVersion: key version not supported (9403).
	SWKeyVersion SW = 0x9403
)

// SWBytesAvailable returns 61nn: n response bytes wait for GET RESPONSE
// (n = 256 gives 6100). n is taken modulo 256.
func SWBytesAvailable(n int) SW { return 0x6100 | SW(n&0xFF) }

// SWWrongLe returns 6Cnn: the Le was wrong, n is the right one (256 gives 6C00).
func SWWrongLe(n int) SW { return 0x6C00 | SW(n&0xFF) }

// SWRetriesLeft returns 63Cn: verification failed, n tries left (0..15).
func SWRetriesLeft(n int) SW { return 0x63C0 | SW(n&0x0F) }
