package register

import (
	"errors"
	"fmt"
)

// Sentinel errors of the register. Every refusal of a Device is a *Error that
// carries the 税控器 error code (reference §5.3; codes marked "project" are
// this package's choice where no source gives one) and unwraps to one of
// these sentinels, and to the underlying card or memory error if there is one.
var (
	// ErrNoUserCard means the operation needs the user card and none is
	// configured or it does not answer (code 0x04, 无用户卡).
	ErrNoUserCard = errors.New("register: no user card")
	// ErrNoFiscalCard means the fiscal card does not answer (code 0x05,
	// 无税控卡).
	ErrNoFiscalCard = errors.New("register: no fiscal card")
	// ErrFiscalCardRead means reading the fiscal card failed (code 0x07).
	ErrFiscalCardRead = errors.New("register: reading the fiscal card failed")
	// ErrUserCardRead means reading the user card failed (code 0x08).
	ErrUserCardRead = errors.New("register: reading the user card failed")
	// ErrFiscalCardWrite means a fiscal-card command failed (code 0x0A).
	ErrFiscalCardWrite = errors.New("register: fiscal card command failed")
	// ErrUserCardWrite means a user-card command failed (code 0x0B).
	ErrUserCardWrite = errors.New("register: user card command failed")
	// ErrIllegalFiscalCard means the fiscal card's content is not usable:
	// wrong card type, malformed files (code 0x0D).
	ErrIllegalFiscalCard = errors.New("register: illegal fiscal card")
	// ErrIllegalUserCard means the user card does not belong with this
	// machine and fiscal card, or its content is not usable (code 0x0E).
	ErrIllegalUserCard = errors.New("register: illegal user card")
	// ErrNotInitialised means no fiscal initialisation has been done: no
	// fiscal operation is allowed (code 0x10, 未初始化; usage rule U1).
	ErrNotInitialised = errors.New("register: not initialised")
	// ErrDeadlinePassed means today is after 开票截止日期 (code 0x11).
	ErrDeadlinePassed = errors.New("register: invoicing deadline passed")
	// ErrSingleLimit means the invoice total exceeds 单张开票限额 (code 0x12);
	// the fiscal card enforces it (SW 9401).
	ErrSingleLimit = errors.New("register: single-invoice limit exceeded")
	// ErrCumulativeLimit means the period's normal total would exceed
	// 开票累计限额 (code 0x13).
	ErrCumulativeLimit = errors.New("register: cumulative invoicing limit exceeded")
	// ErrReturnLimit means the period's return total would exceed 退票累计限额
	// (code 0x14).
	ErrReturnLimit = errors.New("register: cumulative return limit exceeded")
	// ErrWrongFiscalCard means the fiscal card is not this machine's (code
	// 0x15, 非本机税控卡).
	ErrWrongFiscalCard = errors.New("register: fiscal card is not this machine's")
	// ErrPIN means the fiscal card rejected the fiscal PIN (code 0x18,
	// 口令错误). The register never retries it: see ErrPINOutOfStep.
	ErrPIN = errors.New("register: fiscal PIN rejected")
	// ErrPINOutOfStep means the rolling fiscal PIN held in fiscal memory no
	// longer matches the card, typically after power was lost between
	// VERIFY_FISCAL_PIN and the PIN reaching fiscal memory. The device stops
	// sending the PIN (each try costs one of the card's few retries); only
	// the tax office can resolve it. It also matches ErrPIN (code 0x18).
	ErrPINOutOfStep = errors.New("register: fiscal PIN out of step with the fiscal card")
	// ErrMemory means the fiscal memory failed or is corrupt (code 0x25,
	// 税控存储器异常).
	ErrMemory = errors.New("register: fiscal memory failure")
	// ErrRollNotUsedUp means a roll cannot be loaded while the current one
	// still has invoices (code 0x4A, 当前发票卷未使用完).
	ErrRollNotUsedUp = errors.New("register: current invoice roll not used up")
	// ErrTooManyLines means an invoice has more than ten lines or more tax
	// items than the machine has (code 0x4E).
	ErrTooManyLines = errors.New("register: too many invoice lines")
	// ErrRollStoreFull means 20 distributed rolls are already waiting
	// (code 0x58, 分发发票存储区已满).
	ErrRollStoreFull = errors.New("register: distributed roll store full")
	// ErrMemoryFull means fiscal memory has no room for the records of the
	// operation; nothing was sent to any card (code 0x59).
	ErrMemoryFull = errors.New("register: fiscal memory full")
	// ErrNoInvoices means no invoice roll is loaded or the loaded roll is
	// used up (project code 0x80).
	ErrNoInvoices = errors.New("register: no invoices left")
	// ErrLocked means the machine passed its five-year lock date (project
	// code 0x81).
	ErrLocked = errors.New("register: machine locked")
	// ErrAlreadyInitialised means fiscal initialisation or the factory
	// identity was already done (project code 0x82).
	ErrAlreadyInitialised = errors.New("register: already initialised")
	// ErrClockBackwards means the clock shows a date before the last fiscal
	// record (project code 0x83).
	ErrClockBackwards = errors.New("register: clock is before the last fiscal record")
	// ErrBadRequest means the caller's request is malformed: empty invoice,
	// negative amount, unknown tax item, bad range (project code 0x84).
	ErrBadRequest = errors.New("register: invalid request")
	// ErrNotFound means an invoice or record asked for does not exist
	// (project code 0x85).
	ErrNotFound = errors.New("register: not found")
	// ErrNotReturnable means the original of a return is not a normal
	// invoice of the current declaration period, or was already returned
	// (project code 0x86).
	ErrNotReturnable = errors.New("register: invoice cannot be returned")
	// ErrNoFactoryData means the machine identity has not been written
	// (project code 0x87).
	ErrNoFactoryData = errors.New("register: machine identity not written")
	// ErrRecoveryPending means an interrupted operation could not be
	// completed yet (for example the user card is needed); fiscal operations
	// wait until it is (project code 0x88).
	ErrRecoveryPending = errors.New("register: interrupted operation not yet recovered")
	// ErrClosed means the Device was closed (project code 0x89).
	ErrClosed = errors.New("register: device closed")
)

// ErrDeclarationPending means the user card still holds a declaration of
// this fiscal card that the tax office has not processed: a new
// declaration and a control update wait for it (code 0x45, [TT]: 该卡已经
// 申报完毕，请至税务局完税后再尝试更新).
var ErrDeclarationPending = errors.New("register: the user card holds an unprocessed declaration")

// ErrNothingToDeclare means the declaration period would be empty (its end
// is before its start) (project code 0x8A).
var ErrNothingToDeclare = errors.New("register: nothing to declare")

// ErrStopped means today lies inside a declared period (after a stop
// declaration, 停机申报): the fiscal card codes no invoice dated on or
// before a declared end (project code 0x8B).
var ErrStopped = errors.New("register: today is inside a declared period")

// ErrIllegalCheckCard means the check card is not usable: not a check
// card, expired, for another taxpayer, or it failed the authentication
// exchange with the fiscal card (project code 0x8C).
var ErrIllegalCheckCard = errors.New("register: illegal check card")

var codes = map[error]byte{
	ErrNoUserCard: 0x04, ErrNoFiscalCard: 0x05, ErrFiscalCardRead: 0x07, ErrUserCardRead: 0x08,
	ErrFiscalCardWrite: 0x0A, ErrUserCardWrite: 0x0B, ErrIllegalFiscalCard: 0x0D, ErrIllegalUserCard: 0x0E,
	ErrNotInitialised: 0x10, ErrDeadlinePassed: 0x11, ErrSingleLimit: 0x12, ErrCumulativeLimit: 0x13,
	ErrReturnLimit: 0x14, ErrWrongFiscalCard: 0x15, ErrPIN: 0x18, ErrPINOutOfStep: 0x18, ErrMemory: 0x25,
	ErrRollNotUsedUp: 0x4A, ErrTooManyLines: 0x4E, ErrRollStoreFull: 0x58, ErrMemoryFull: 0x59,
	ErrNoInvoices: 0x80, ErrLocked: 0x81, ErrAlreadyInitialised: 0x82, ErrClockBackwards: 0x83,
	ErrBadRequest: 0x84, ErrNotFound: 0x85, ErrNotReturnable: 0x86, ErrNoFactoryData: 0x87,
	ErrRecoveryPending: 0x88, ErrClosed: 0x89, ErrDeclarationPending: 0x45, ErrNothingToDeclare: 0x8A,
	ErrStopped: 0x8B, ErrIllegalCheckCard: 0x8C,
}

// Code returns the 税控器 error code of a sentinel of this package, or 0xFF
// for any other error.
func Code(sentinel error) byte {
	if c, ok := codes[sentinel]; ok {
		return c
	}
	return 0xFF
}

// Error is a refusal or failure of a Device operation.
type Error struct {
	// Code is the 税控器 error code (reference §5.3, or a project code).
	Code byte
	// Op is the operation, e.g. "issue".
	Op string
	// Err is the package sentinel.
	Err error
	// Cause is the underlying error (a *card.StatusError, a memory error,
	// ...) or nil.
	Cause error
	// Detail is extra human-readable context, or "".
	Detail string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s (code 0x%02X)", e.Err.Error(), e.Code)
	if e.Op != "" {
		s = "register: " + e.Op + ": " + trimPrefix(s)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel (plus ErrPIN for ErrPINOutOfStep) and the cause.
func (e *Error) Unwrap() []error {
	out := []error{e.Err}
	if e.Err == ErrPINOutOfStep {
		out = append(out, ErrPIN)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

func trimPrefix(s string) string {
	const p = "register: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// newErr builds a *Error for sentinel.
func newErr(op string, sentinel, cause error, detail string, args ...any) *Error {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &Error{Code: Code(sentinel), Op: op, Err: sentinel, Cause: cause, Detail: detail}
}

// ErrorCode returns the 税控器 error code carried by err (a *Error anywhere in
// its chain), or false.
func ErrorCode(err error) (byte, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}
