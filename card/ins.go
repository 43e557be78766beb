package card

// Class bytes.
const (
	// CLAISO is the class of the ISO/IEC 7816-4 interindustry commands.
	CLAISO byte = 0x00
	// CLAProprietary is the class of every GB 18240.2 fiscal- and
	// user-card command (reference §2.1).
	CLAProprietary byte = 0xC0
)

// ISO/IEC 7816-4 instruction bytes used by GB 18240.2 cards (reference §2.4).
const (
	INSSelect       byte = 0xA4
	INSReadBinary   byte = 0xB0
	INSUpdateBinary byte = 0xD6
	INSReadRecord   byte = 0xB2
	INSUpdateRecord byte = 0xDC
	INSAppendRecord byte = 0xE2
	INSVerify       byte = 0x20
	INSGetChallenge byte = 0x84
	INSInternalAuth byte = 0x88
	INSExternalAuth byte = 0x82
	INSGetResponse  byte = 0xC0
)

// Fiscal-card (税控卡) proprietary instruction bytes, CLA C0 (reference §2.2).
const (
	INSGetRegisterNB    byte = 0xF0
	INSTerminalRegister byte = 0xF1
	INSIssueInvoice     byte = 0xF2
	INSDeclareDuty      byte = 0xF4
	INSUpdateControls   byte = 0xF6
	INSInputInvoiceNB   byte = 0xF7
	INSVerifyFiscalPIN  byte = 0xF9
	INSDailyCollectSign byte = 0xFB
)

// PIN unblock (税控卡解锁) of the fiscal card, the tax office's command
// (reference §2.2, seen in [PB] only): 84 24 01 01 0C new PIN[8] ‖ MAC[4],
// Le 08. The class is 84, not C0.
const (
	CLAUnblock    byte = 0x84
	INSUnblockPIN byte = 0x24
	P1UnblockPIN  byte = 0x01
	P2UnblockPIN  byte = 0x01
)

// User-card (用户卡) proprietary instruction bytes, CLA C0 (reference §2.3).
const (
	INSRegisterSign        byte = 0xE4
	INSDataCollect         byte = 0xE6
	INSDistributeInvoiceNB byte = 0xE9
)

// Application DF names, selected with SELECT by name (reference §2.5).
const (
	DFNameFiscal = "TSAM01"
	DFNameUser   = "TID01"
	DFNameCheck  = "CHECK01"
)

// FID returns the file identifier of a GB 18240.2 elementary file: the
// file's name read as hex, so FID(0x03) is 0xEF03 (EF03) and FID(0x11) is
// 0xEF11 (EF11).
func FID(n byte) uint16 { return 0xEF00 | uint16(n) }

// SFI returns the short file identifier of a file: its low byte, so EF03
// has SFI 3. Valid SFIs are 1..30.
func SFI(fid uint16) byte { return byte(fid) & 0x1F }

// InsName returns the command name of an instruction byte under a class,
// e.g. "ISSUE_INVOICE" for C0 F2, "SELECT" for 00 A4. It returns
// "INS xx" for unknown codes.
func InsName(cla, ins byte) string {
	if cla == CLAUnblock && ins == INSUnblockPIN {
		return "PIN_UNBLOCK"
	}
	if cla&0xF0 == CLAProprietary&0xF0 && cla != CLAISO {
		switch ins {
		case INSGetRegisterNB:
			return "GET_REGISTER_NB"
		case INSTerminalRegister:
			return "TERMINAL_REGISTER"
		case INSIssueInvoice:
			return "ISSUE_INVOICE"
		case INSDeclareDuty:
			return "DECLARE_DUTY"
		case INSUpdateControls:
			return "UPDATE_CONTROLS"
		case INSInputInvoiceNB:
			return "INPUT_INVOICE_NB"
		case INSVerifyFiscalPIN:
			return "VERIFY_FISCAL_PIN"
		case INSDailyCollectSign:
			return "DAILY_COLLECT_SIGN"
		case INSRegisterSign:
			return "REGISTER_SIGN"
		case INSDataCollect:
			return "DATA_COLLECT"
		case INSDistributeInvoiceNB:
			return "DISTRIBUTE_INVOICE_NB"
		}
	}
	switch ins {
	case INSSelect:
		return "SELECT"
	case INSReadBinary:
		return "READ BINARY"
	case INSUpdateBinary:
		return "UPDATE BINARY"
	case INSReadRecord:
		return "READ RECORD"
	case INSUpdateRecord:
		return "UPDATE RECORD"
	case INSAppendRecord:
		return "APPEND RECORD"
	case INSVerify:
		return "VERIFY"
	case INSGetChallenge:
		return "GET CHALLENGE"
	case INSInternalAuth:
		return "INTERNAL AUTHENTICATE"
	case INSExternalAuth:
		return "EXTERNAL AUTHENTICATE"
	case INSGetResponse:
		return "GET RESPONSE"
	}
	return "INS " + hex2(ins)
}

func hex2(b byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&0xF]})
}
