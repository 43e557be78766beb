package link

import (
	"errors"
	"fmt"
)

// Sentinel errors of the framing layer and the link.
var (
	// ErrShortFrame reports a frame that ends before its header, its declared
	// length or its CRC.
	ErrShortFrame = errors.New("link: short frame")
	// ErrBadSync reports a frame that does not start with 1B 10 (request) or
	// one of the reply markers OK, ER, WT, NP (response).
	ErrBadSync = errors.New("link: bad frame start")
	// ErrBadLength reports a length byte outside the valid range, or a frame
	// whose size does not match its length byte.
	ErrBadLength = errors.New("link: bad frame length")
	// ErrBadCRC reports a frame whose CRC-16 does not match its contents.
	ErrBadCRC = errors.New("link: CRC mismatch")
	// ErrPacketTooLong reports packet data longer than MaxPacketData bytes.
	ErrPacketTooLong = errors.New("link: packet data too long")
	// ErrTransferTooLarge reports a multi-packet transfer longer than the
	// limit (MaxTransfer, or a smaller limit set in the options).
	ErrTransferTooLarge = errors.New("link: transfer too large")
	// ErrTimeout reports that a frame did not arrive before its deadline.
	ErrTimeout = errors.New("link: timeout")
	// ErrProtocol reports a reply that is well framed but out of place: a
	// wrong packet number, an NP where none was due, an unexpected marker.
	ErrProtocol = errors.New("link: protocol violation")
	// ErrMalformed reports command or reply data that does not decode into
	// its typed struct (wrong size, bad BCD, a field out of range).
	ErrMalformed = errors.New("link: malformed data")
	// ErrOutcomeUnknown reports an issuing command whose outcome could not be
	// established because the register stayed unreachable. Calling the same
	// method again with the same request (same RequestID) is safe.
	ErrOutcomeUnknown = errors.New("link: outcome unknown")
	// ErrUnsupported is returned by a Handler for a command it does not
	// implement; the server replies ER with CodeUnknownCommand.
	ErrUnsupported = errors.New("link: command not supported by this register")
	// ErrClosed reports use of a client or server after Close.
	ErrClosed = errors.New("link: closed")
)

// ErrorCode is a register error code carried in an ER reply (GB 18240.3
// 税控器 codes as listed in reference §5.3, plus the framing codes of §5.1).
type ErrorCode uint8

// Error codes with known meaning. Codes not listed here still travel
// unchanged in a DeviceError.
const (
	CodeFiscalCardPower   ErrorCode = 0x01 // 税控卡上电错误
	CodeUserCardPower     ErrorCode = 0x02 // 用户卡上电错误
	CodeNoUserCard        ErrorCode = 0x04 // 无用户卡
	CodeNoFiscalCard      ErrorCode = 0x05 // 无税控卡
	CodeFiscalCardRead    ErrorCode = 0x07 // 读税控卡错误
	CodeUserCardRead      ErrorCode = 0x08 // 读用户卡错误
	CodeFiscalCardWrite   ErrorCode = 0x0A // 写税控卡错误
	CodeUserCardWrite     ErrorCode = 0x0B // 写用户卡错误
	CodeIllegalFiscalCard ErrorCode = 0x0D // 非法税控卡
	CodeIllegalUserCard   ErrorCode = 0x0E // 非法用户卡
	CodeNotInitialised    ErrorCode = 0x10 // 未初始化
	CodeDeadlinePassed    ErrorCode = 0x11 // 已过开票截止日期
	CodeSingleLimit       ErrorCode = 0x12 // 单张限额
	CodeCumulativeLimit   ErrorCode = 0x13 // 开票累计限额
	CodeReturnLimit       ErrorCode = 0x14 // 退票累计限额
	CodeForeignCard       ErrorCode = 0x15 // 非本机税控卡
	CodePIN               ErrorCode = 0x18 // 口令错误
	CodeBadCRC            ErrorCode = 0x1F // 校验位不正确 (framing)
	CodeUnknownCommand    ErrorCode = 0x20 // 命令类型错误 (framing)
	CodeBadLength         ErrorCode = 0x22 // 命令长度错误 (framing)
	CodeMemoryFault       ErrorCode = 0x25 // 税控存储器异常
	CodeRollNotUsedUp     ErrorCode = 0x4A // 当前发票卷未使用完, 无法装载
	CodeTooManyItems      ErrorCode = 0x4E // 商品行过多
	CodeRollStoreFull     ErrorCode = 0x58 // 分发发票存储区已满
	CodeMemoryFull        ErrorCode = 0x59 // 日交易存储区已满
	// Codes 0x80-0x89 are the project's own, shared with package register
	// (no source gives a code for these conditions).
	CodeNoInvoices         ErrorCode = 0x80 // no invoice number left (no roll, or used up)
	CodeLocked             ErrorCode = 0x81 // five-year lock date reached
	CodeAlreadyInitialised ErrorCode = 0x82
	CodeClockBackwards     ErrorCode = 0x83 // clock before the last fiscal record
	CodeBadRequest         ErrorCode = 0x84 // request data framed correctly but invalid
	CodeNotFound           ErrorCode = 0x85 // a referenced record does not exist
	CodeNotReturnable      ErrorCode = 0x86 // original not returnable (type, period, already returned)
	CodeNoFactoryData      ErrorCode = 0x87
	CodeRecoveryPending    ErrorCode = 0x88 // an interrupted operation waits for a card
	CodeClosed             ErrorCode = 0x89
	CodeDeclarePending     ErrorCode = 0x45 // 该卡已经申报完毕 (user card holds an unprocessed declaration)
	CodeNothingToDeclare   ErrorCode = 0x8A
	CodeStopped            ErrorCode = 0x8B // today lies inside a declared period
	CodeIllegalCheckCard   ErrorCode = 0x8C // check card not usable (type, expiry, taxpayer, authentication)
	// CodeCardCommandRefused is this package's own code: a pass-through APDU
	// (5B) that AllowedAPDU refuses; nothing was sent to the card.
	CodeCardCommandRefused ErrorCode = 0xA0
	// CodeDeviceFailure is a failure inside the register without a more
	// specific code (project choice, as in package register).
	CodeDeviceFailure ErrorCode = 0xFF
)

var codeText = map[ErrorCode]string{
	CodeFiscalCardPower: "fiscal card power-on error", CodeUserCardPower: "user card power-on error",
	CodeNoUserCard: "no user card", CodeNoFiscalCard: "no fiscal card",
	CodeFiscalCardRead: "fiscal card read error", CodeUserCardRead: "user card read error",
	CodeFiscalCardWrite: "fiscal card write error", CodeUserCardWrite: "user card write error",
	CodeIllegalFiscalCard: "illegal fiscal card", CodeIllegalUserCard: "illegal user card",
	CodeNotInitialised: "register not initialised", CodeDeadlinePassed: "issuing deadline passed",
	CodeSingleLimit: "single invoice limit exceeded", CodeCumulativeLimit: "cumulative limit exceeded",
	CodeReturnLimit: "return cumulative limit exceeded", CodeForeignCard: "fiscal card of another machine",
	CodePIN: "PIN error", CodeBadCRC: "frame CRC error", CodeUnknownCommand: "unknown command",
	CodeBadLength: "bad command length", CodeMemoryFault: "fiscal memory fault",
	CodeRollNotUsedUp: "current roll not used up", CodeTooManyItems: "too many items",
	CodeRollStoreFull: "distributed roll store full", CodeMemoryFull: "fiscal memory full",
	CodeNoInvoices: "no invoice number left", CodeLocked: "machine locked",
	CodeAlreadyInitialised: "already initialised", CodeClockBackwards: "clock before last fiscal record",
	CodeBadRequest: "bad request data", CodeNotFound: "record not found",
	CodeNotReturnable: "invoice cannot be returned", CodeNoFactoryData: "no factory data",
	CodeRecoveryPending: "recovery pending", CodeClosed: "device closed", CodeDeviceFailure: "device failure",
	CodeDeclarePending: "declaration pending on the user card", CodeNothingToDeclare: "nothing to declare",
	CodeStopped: "inside a declared period", CodeIllegalCheckCard: "illegal check card",
	CodeCardCommandRefused: "card command refused",
}

// String returns a short English description of the code.
func (c ErrorCode) String() string {
	if s, ok := codeText[c]; ok {
		return s
	}
	return fmt.Sprintf("error 0x%02X", uint8(c))
}

// Sentinels for the device error codes a POS most often has to act on.
// A *DeviceError with the matching code satisfies errors.Is.
var (
	// ErrNotInitialised: the register has not been initialised (0x10).
	ErrNotInitialised = errors.New("link: register not initialised")
	// ErrDeadlinePassed: the issuing deadline 开票截止日期 has passed (0x11).
	ErrDeadlinePassed = errors.New("link: issuing deadline passed")
	// ErrSingleLimit: the invoice exceeds the single-invoice limit (0x12).
	ErrSingleLimit = errors.New("link: single invoice limit exceeded")
	// ErrCumulativeLimit: the period's cumulative limit is reached (0x13).
	ErrCumulativeLimit = errors.New("link: cumulative limit exceeded")
	// ErrReturnLimit: the period's return limit is reached (0x14).
	ErrReturnLimit = errors.New("link: return cumulative limit exceeded")
	// ErrPIN: the fiscal card rejected the PIN (0x18).
	ErrPIN = errors.New("link: PIN error")
	// ErrNoInvoices: no invoice number is left to issue (0x80).
	ErrNoInvoices = errors.New("link: no invoice number left")
	// ErrRejectedFrame: the register rejected a frame (CRC, unknown
	// command or length: 0x1F, 0x20, 0x22).
	ErrRejectedFrame = errors.New("link: frame rejected by register")
	// ErrCardCommandRefused: a pass-through APDU is not one of the
	// read-only ISO commands AllowedAPDU accepts; it was not sent to the
	// card (0xA0).
	ErrCardCommandRefused = errors.New("link: card command refused")
	// ErrIllegalCheckCard: the check card of an inspection is not usable
	// (0x8C).
	ErrIllegalCheckCard = errors.New("link: illegal check card")
)

var codeSentinel = map[ErrorCode]error{
	CodeNotInitialised: ErrNotInitialised, CodeDeadlinePassed: ErrDeadlinePassed,
	CodeSingleLimit: ErrSingleLimit, CodeCumulativeLimit: ErrCumulativeLimit,
	CodeReturnLimit: ErrReturnLimit, CodePIN: ErrPIN, CodeNoInvoices: ErrNoInvoices,
	CodeBadCRC: ErrRejectedFrame, CodeUnknownCommand: ErrRejectedFrame, CodeBadLength: ErrRejectedFrame,
	CodeBadRequest: ErrMalformed, CodeCardCommandRefused: ErrCardCommandRefused, CodeIllegalCheckCard: ErrIllegalCheckCard,
}

// DeviceError is an ER reply from the register. Code is the raw error code;
// Command is the command it answered (when known).
type DeviceError struct {
	Command Command
	Code    ErrorCode
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("link: register refused %v: %v (0x%02X)", e.Command, e.Code, uint8(e.Code))
}

// Is reports whether target is the sentinel for e.Code.
func (e *DeviceError) Is(target error) bool {
	s, ok := codeSentinel[e.Code]
	return ok && s == target
}

// DeviceCode returns the register error code carried by err, if any.
func DeviceCode(err error) (ErrorCode, bool) {
	var de *DeviceError
	if errors.As(err, &de) {
		return de.Code, true
	}
	return 0, false
}

// FrameError describes a frame that could not be decoded. Offset is the
// position in the frame where decoding failed; Err is one of the framing
// sentinels.
type FrameError struct {
	Offset int
	Err    error
}

func (e *FrameError) Error() string { return fmt.Sprintf("%v at byte %d", e.Err, e.Offset) }

// Unwrap returns the framing sentinel.
func (e *FrameError) Unwrap() error { return e.Err }

// DataError describes command or reply data that does not decode. Command
// is the command whose data it is; Field names the offending field.
type DataError struct {
	Command Command
	Field   string
	Reason  string
}

func (e *DataError) Error() string {
	return fmt.Sprintf("link: malformed %v data: %s: %s", e.Command, e.Field, e.Reason)
}

// Unwrap returns ErrMalformed.
func (e *DataError) Unwrap() error { return ErrMalformed }
